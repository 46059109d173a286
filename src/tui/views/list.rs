//! The error list and the grouped list, with the active filters always in
//! view. Only the loaded window of rows is drawn.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{clip, draw_list, elide_middle, status_style};
use crate::index::outcome::{ErrorType, Verdict};
use crate::sanitize;
use crate::tui::app::App;
use crate::tui::screens::list::StatusFilter;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let [filters, table] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
    draw_filters(frame, app, filters);
    if app.list.grouped {
        draw_groups(frame, app, table);
    } else {
        draw_errors(frame, app, table);
    }
}

fn draw_filters(frame: &mut Frame, app: &App, area: Rect) {
    let list = &app.list;
    let mut types = vec![Span::styled("type ", app.theme.muted)];
    for (n, t) in ErrorType::ALL.iter().enumerate() {
        let name = t.as_str().trim_end_matches("_error");
        // The run's count beside each type; types without errors are dim.
        let count = list.facets.types.get(t).copied().unwrap_or(0);
        let label = if count > 0 {
            format!("{}:{name} {count}", n + 1)
        } else {
            format!("{}:{name}", n + 1)
        };
        // Brackets keep the active filter visible without colour too.
        if list.types.contains(t) {
            types.push(Span::styled(format!("[{label}]"), app.theme.selection));
        } else if count > 0 {
            types.push(Span::styled(label, app.theme.text));
        } else {
            types.push(Span::styled(label, app.theme.muted));
        }
        types.push(Span::raw(" "));
    }
    if list.types.is_empty() {
        types.push(Span::styled("(all)", app.theme.accent));
    }
    let search = if list.editing_text {
        Span::styled(
            format!("/{}▏", sanitize::line(list.search())),
            app.theme.accent,
        )
    } else if list.search().is_empty() {
        Span::styled("/ to search", app.theme.muted)
    } else {
        Span::styled(
            format!("/{}", sanitize::line(list.search())),
            app.theme.warning,
        )
    };
    let mut second = vec![search];
    // Groups have one order and no verdict filter; errors no status.
    if list.grouped {
        second.push(Span::styled("   status ", app.theme.muted));
        let style = if list.status_filter == StatusFilter::Unresolved {
            app.theme.accent
        } else {
            app.theme.selection
        };
        second.push(Span::styled(
            format!("[{}]", list.status_filter.label()),
            style,
        ));
        if list.new_only {
            second.push(Span::styled("   [new in this run]", app.theme.selection));
        } else {
            second.push(Span::styled("   n: new in this run", app.theme.muted));
        }
    } else {
        second.push(Span::styled(
            format!("   sort: {}", list.sort.label()),
            app.theme.muted,
        ));
        second.push(Span::styled("   verdict ", app.theme.muted));
        match list.verdict {
            Some(v) => second.push(Span::styled(format!("[{v}]"), app.theme.selection)),
            None => second.push(Span::styled("(all)", app.theme.muted)),
        }
        for verdict in Verdict::ALL {
            if let Some(n) = list.facets.verdicts.get(&verdict) {
                let style = match verdict {
                    Verdict::GrammarGap => app.theme.warning,
                    Verdict::InvalidSource => app.theme.error,
                    Verdict::Unknown => app.theme.muted,
                };
                second.push(Span::styled(
                    format!(" {} {n}", short_verdict(verdict)),
                    style,
                ));
            }
        }
    }
    if let Some(fingerprint) = &list.fingerprint {
        let title = list.group_title.as_deref().unwrap_or(fingerprint);
        second.push(Span::styled(
            format!("   group: {}", clip(&sanitize::line(title), 60)),
            app.theme.warning,
        ));
    }
    if list.loading {
        second.push(Span::styled("   loading…", app.theme.muted));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(types), Line::from(second)]),
        area,
    );
}

fn draw_errors(frame: &mut Frame, app: &App, area: Rect) {
    let list = &app.list;
    let visible = area.height.saturating_sub(3);
    list.visible_rows.set(visible);
    // The window of rows around the selection that fits the screen.
    let first =
        (list.selected - i64::from(visible) / 2).clamp(0, (list.total - i64::from(visible)).max(0));
    let message_width = usize::from(area.width.saturating_sub(63)).max(10);
    let rows = (first..(first + i64::from(visible)).min(list.total)).map(|index| {
        match usize::try_from(index - list.window_offset)
            .ok()
            .and_then(|i| list.rows.get(i))
        {
            Some(e) => {
                let location = match e.line {
                    Some(line) => format!("{}:{line}", crate::stored_path::display(&e.file_path)),
                    None => crate::stored_path::display(&e.file_path).into_owned(),
                };
                Row::new(vec![
                    mark_cell(app, list.is_marked_error(e.error_id)),
                    Cell::from(e.error_type.as_str().trim_end_matches("_error"))
                        .style(app.theme.error),
                    verdict_cell(app, e.verdict),
                    Cell::from(elide_middle(&sanitize::line(&location), 36)),
                    Cell::from(clip(&sanitize::line(&e.error_message), message_width)),
                ])
            }
            None => Row::new(vec![
                Cell::from(""),
                Cell::from("…"),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
            ])
            .style(app.theme.muted),
        }
    });
    let header = Row::new(["", "TYPE", "VERDICT", "FILE:LINE", "MESSAGE"]).style(app.theme.title);
    let widths = [
        Constraint::Length(1),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(36),
        Constraint::Min(10),
    ];
    let filtered = !list.types.is_empty()
        || !list.text.is_empty()
        || list.verdict.is_some()
        || list.fingerprint.is_some();
    let title = if list.total == 0 && !list.loading {
        match filtered {
            true => {
                " no errors match the filters (0 shows every type, esc leaves a group) ".to_owned()
            }
            false => " no errors in this run ".to_owned(),
        }
    } else {
        format!(
            " errors {}/{}{}{} ",
            (list.selected + 1).min(list.total),
            list.total,
            if list.total_exact { "" } else { "+" },
            marked_note(list.marked_errors.len())
        )
    };
    let selected = usize::try_from(list.selected - first)
        .ok()
        .filter(|_| list.total > 0);
    let table = Table::new(rows, widths).header(header);
    draw_list(frame, app, area, table, title, selected);
}

/// The mark of a row marked for bulk triage.
fn mark_cell(app: &App, marked: bool) -> Cell<'static> {
    if marked {
        Cell::from("●").style(app.theme.accent)
    } else {
        Cell::from("")
    }
}

/// " · 3 marked" after a list's position, when rows are marked.
fn marked_note(marked: usize) -> String {
    if marked == 0 {
        String::new()
    } else {
        format!(" · {marked} marked")
    }
}

/// A short verdict: "gap" (valid code), "invalid" (broken source), "unknown".
fn short_verdict(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::GrammarGap => "gap",
        Verdict::InvalidSource => "invalid",
        Verdict::Unknown => "unknown",
    }
}

fn verdict_cell(app: &App, verdict: Option<Verdict>) -> Cell<'static> {
    match verdict {
        Some(v @ Verdict::GrammarGap) => Cell::from(short_verdict(v)).style(app.theme.warning),
        Some(v @ Verdict::InvalidSource) => Cell::from(short_verdict(v)).style(app.theme.error),
        Some(v @ Verdict::Unknown) => Cell::from(short_verdict(v)).style(app.theme.muted),
        None => Cell::from(""),
    }
}

fn draw_groups(frame: &mut Frame, app: &App, area: Rect) {
    let list = &app.list;
    list.visible_rows.set(area.height.saturating_sub(3));
    let title_width = usize::from(area.width.saturating_sub(52)).max(10);
    let rows = list.groups.iter().map(|g| {
        Row::new(vec![
            mark_cell(app, list.is_marked_group(g.group_id)),
            Cell::from(g.last_run_files.to_string()),
            Cell::from(g.error_type.as_str().trim_end_matches("_error")).style(app.theme.error),
            Cell::from(g.status.as_str()).style(status_style(app, g.status.as_str())),
            Cell::from(clip(&sanitize::line(&g.title), title_width)),
            Cell::from(g.first_seen_at.format("%m-%d %H:%M").to_string()),
            Cell::from(g.last_seen_at.format("%m-%d %H:%M").to_string()),
        ])
    });
    let header = Row::new([
        "",
        "FILES",
        "TYPE",
        "STATUS",
        "PROBLEM",
        "FIRST SEEN",
        "LAST SEEN",
    ])
    .style(app.theme.title);
    let widths = [
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Length(11),
        Constraint::Length(9),
        Constraint::Min(10),
        Constraint::Length(11),
        Constraint::Length(11),
    ];
    let title = if list.groups.is_empty() && !list.loading {
        format!(
            " no {} groups match (f shows other statuses) ",
            list.status_filter.label()
        )
    } else {
        format!(
            " groups {}/{}{} ",
            (list.group_selected + 1).min(list.groups.len()),
            list.group_total,
            marked_note(list.marked_groups.len())
        )
    };
    let selected = (!list.groups.is_empty()).then_some(list.group_selected);
    let table = Table::new(rows, widths).header(header);
    draw_list(frame, app, area, table, title, selected);
}
