//! The drill-down: the failing file, highlighted, with line numbers and the
//! error marked, beside the message, every site, the context and the
//! traceback.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{elide_middle, status_style};
use crate::index::outcome::Verdict;
use crate::index::verdict::ReferenceReport;
use crate::sanitize;
use crate::tui::app::App;
use crate::tui::highlight::{display_column, plain_line};
use crate::tui::screens::detail::{DetailState, Pane};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(detail) = &app.detail else {
        return;
    };
    let [source, info] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
    draw_source(frame, app, detail, source);
    draw_info(frame, app, detail, info);
}

fn draw_source(frame: &mut Frame, app: &App, detail: &DetailState, area: Rect) {
    let sites = detail.sites();
    let lines_total = detail.file.as_ref().map_or(0, |f| f.lines.len());
    let mut position = Vec::new();
    if !sites.is_empty() {
        position.push(format!("site {}/{}", detail.site + 1, sites.len()));
    }
    if lines_total > 0 {
        position.push(format!(
            "line {}/{lines_total}",
            (detail.scroll + 1).min(lines_total)
        ));
    }
    if detail.column > 0 {
        position.push(format!("col {}+", detail.column + 1));
    }
    let position = format!(" {} ", position.join(" · "));
    // The path gives way to the position, from its middle: the file name
    // stays.
    let room = usize::from(area.width).saturating_sub(position.chars().count() + 6);
    let path = elide_middle(&sanitize::path(&detail.error.file_path), room);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(pane_border(app, detail.focus == Pane::Source))
        .title(format!(" {path} "))
        .title_top(Line::from(position).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(file) = &detail.file else {
        frame.render_widget(Paragraph::new("loading…").style(app.theme.muted), inner);
        return;
    };
    let [notice_area, code_area] = Layout::vertical([
        Constraint::Length(u16::from(file.notice.is_some())),
        Constraint::Min(0),
    ])
    .areas(inner);
    if let Some(notice) = &file.notice {
        frame.render_widget(
            Paragraph::new(sanitize::line(notice).into_owned()).style(app.theme.warning),
            notice_area,
        );
    }
    detail.visible_lines.set(code_area.height);
    let current = sites.get(detail.site).copied();
    let gutter = file.lines.len().max(1).to_string().len();
    let width = usize::from(code_area.width).saturating_sub(gutter + 3);
    detail.code_width.set(width as u16);
    let lines: Vec<Line> = (detail.scroll..file.lines.len())
        .take(usize::from(code_area.height))
        .map(|index| {
            let number = index as u32 + 1;
            let raw = &file.lines[index];
            let code = detail
                .highlighted
                .as_ref()
                .and_then(|h| h.lines.get(index.checked_sub(h.first)?))
                .cloned()
                .unwrap_or_else(|| plain_line(raw));
            let on_error = sites.iter().any(|s| (s.0..=s.2).contains(&number));
            let is_current = current.is_some_and(|s| (s.0..=s.2).contains(&number));
            let mut code = code;
            if is_current && let Some((line, column, end_line, end_column)) = current {
                let from = if number == line {
                    display_column(raw, column as usize)
                } else {
                    0
                };
                let to = if number == end_line {
                    display_column(raw, end_column as usize)
                } else {
                    usize::MAX
                };
                code = mark(
                    code,
                    from,
                    to.max(from + 1),
                    app.theme
                        .error
                        .add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
                );
            }
            let code = clip_line(skip_columns(code, detail.column), width);
            let marker = if is_current {
                "▶"
            } else if on_error {
                "•"
            } else {
                " "
            };
            let mut spans = vec![
                Span::styled(format!("{number:>gutter$} "), app.theme.line_number),
                Span::styled(format!("{marker} "), app.theme.error),
            ];
            spans.extend(code.spans);
            let line = Line::from(spans);
            if on_error {
                line.style(app.theme.error_line)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), code_area);
}

/// Drops the first `columns` characters of a line: the source scrolled
/// sideways.
fn skip_columns(line: Line<'static>, columns: usize) -> Line<'static> {
    if columns == 0 {
        return line;
    }
    let mut left = columns;
    let mut spans = Vec::new();
    for span in line.spans {
        let count = span.content.chars().count();
        if left >= count {
            left -= count;
            continue;
        }
        let text: String = span.content.chars().skip(left).collect();
        left = 0;
        spans.push(Span::styled(text, span.style));
    }
    Line::from(spans)
}

/// The border of a pane, brighter when keys scroll it.
fn pane_border(app: &App, focused: bool) -> Style {
    if focused {
        app.theme.accent
    } else {
        app.theme.border
    }
}

/// Cuts a line to `width` characters: minified code stays on one row.
fn clip_line(line: Line<'static>, width: usize) -> Line<'static> {
    let mut left = width;
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let count = span.content.chars().count();
        if count <= left {
            left -= count;
            spans.push(span);
        } else {
            let text: String = span.content.chars().take(left.saturating_sub(1)).collect();
            spans.push(Span::styled(format!("{text}…"), span.style));
            left = 0;
        }
    }
    Line::from(spans)
}

/// Restyles display columns `from..to` of a line, splitting spans as needed.
fn mark(line: Line<'static>, from: usize, to: usize, style: Style) -> Line<'static> {
    let mut column = 0;
    let mut spans = Vec::new();
    let mut touched = false;
    for span in line.spans {
        let chars: Vec<char> = span.content.chars().collect();
        let (start, end) = (column, column + chars.len());
        column = end;
        if end <= from || start >= to {
            spans.push(span);
            continue;
        }
        touched = true;
        let cut_a = from.saturating_sub(start).min(chars.len());
        let cut_b = to.saturating_sub(start).min(chars.len());
        let piece = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
        if cut_a > 0 {
            spans.push(Span::styled(piece(0, cut_a), span.style));
        }
        spans.push(Span::styled(piece(cut_a, cut_b), span.style.patch(style)));
        if cut_b < chars.len() {
            spans.push(Span::styled(piece(cut_b, chars.len()), span.style));
        }
    }
    // An error at the end of a line (a missing `}`) still gets a mark.
    if !touched {
        spans.push(Span::styled(" ", style.add_modifier(Modifier::REVERSED)));
    }
    Line::from(spans)
}

fn draw_info(frame: &mut Frame, app: &App, detail: &DetailState, area: Rect) {
    let e = &detail.error;
    let muted = app.theme.muted;
    let field = |label: &str, value: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{label:<10}"), muted),
            Span::styled(value, style),
        ])
    };
    // The row of the current problem or site, kept in view after n/N.
    let mut current_row = None;
    let mut lines = vec![
        Line::from(Span::styled(
            sanitize::line(&e.error_message).into_owned(),
            app.theme.error.add_modifier(Modifier::BOLD),
        )),
        Line::default(),
        field("type", e.error_type.to_string(), app.theme.error),
        field(
            "language",
            e.language.clone().unwrap_or_else(|| "-".into()),
            app.theme.text,
        ),
        field(
            "run",
            e.run_id.map_or("-".into(), |r| r.to_string()),
            app.theme.text,
        ),
        field(
            "when",
            e.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            app.theme.text,
        ),
    ];
    if !e.details.construct.is_empty() {
        lines.push(field(
            "construct",
            sanitize::line(&e.details.construct).into_owned(),
            app.theme.text,
        ));
    }
    if let Some(group) = &detail.group {
        lines.push(field(
            "group",
            format!(
                "{} · {}",
                group.status,
                crate::words::count(group.last_run_files, "file")
            ),
            status_style(app, group.status.as_str()),
        ));
        if let Some(note) = &group.note {
            for (i, note_line) in sanitize::block(note).lines().enumerate() {
                lines.push(field(
                    if i == 0 { "note" } else { "" },
                    note_line.to_owned(),
                    app.theme.warning,
                ));
            }
        }
    }
    if let Some(verdict) = e.verdict {
        let reference = e.details.reference.clone().unwrap_or_default();
        lines.extend(reference_lines(app, verdict, &reference));
    }
    let problems = &e.details.problems;
    if !problems.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(
                "problems ({}/{}) — n/N to jump",
                detail.site + 1,
                problems.len()
            ),
            app.theme.title,
        )));
        for (i, problem) in problems.iter().enumerate() {
            if i == detail.site {
                current_row = Some(lines.len());
            }
            let (label, style) = match problem.verdict {
                Verdict::GrammarGap => ("gap", app.theme.warning),
                Verdict::InvalidSource => ("invalid", app.theme.error),
                Verdict::Unknown => ("unknown", muted),
            };
            let style = if i == detail.site {
                app.theme.selection
            } else {
                style
            };
            let what = match problem.verdict {
                Verdict::GrammarGap => problem.construct.clone(),
                _ => format!("{} ({})", problem.message, problem.construct),
            };
            lines.push(Line::from(Span::styled(
                format!(
                    "{}:{} {label:<8}{}",
                    problem.span.line,
                    problem.span.column,
                    sanitize::line(&what)
                ),
                style,
            )));
        }
    }
    if !e.details.sites.is_empty() {
        lines.push(Line::default());
        let total = e
            .details
            .total_sites
            .unwrap_or(e.details.sites.len() as u64);
        let jump = if problems.is_empty() {
            " — n/N to jump"
        } else {
            ""
        };
        lines.push(Line::from(Span::styled(
            format!("tree-sitter sites ({total}){jump}"),
            app.theme.title,
        )));
        for (i, site) in e.details.sites.iter().enumerate() {
            if problems.is_empty() && i == detail.site {
                current_row = Some(lines.len());
            }
            let style = if problems.is_empty() && i == detail.site {
                app.theme.selection
            } else {
                app.theme.text
            };
            lines.push(Line::from(Span::styled(
                format!(
                    "{}:{} {}",
                    site.span.line,
                    site.span.column,
                    sanitize::line(&site.describe())
                ),
                style,
            )));
        }
    }
    if let Some(traceback) = &e.error_traceback {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("traceback", app.theme.title)));
        for line in sanitize::block(traceback).lines() {
            lines.push(Line::from(Span::styled(line.to_owned(), muted)));
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(pane_border(app, detail.focus == Pane::Info));
    let inner = block.inner(area);
    let width = inner.width.max(1);
    let rows = usize::from(inner.height);
    let total = Paragraph::new(lines.clone())
        .wrap(Wrap { trim: false })
        .line_count(width);
    let mut scroll = detail.info_scroll.get();
    if detail.follow_site.replace(false)
        && let Some(row) = current_row
    {
        let before = Paragraph::new(lines[..row].to_vec())
            .wrap(Wrap { trim: false })
            .line_count(width);
        if before < scroll || before >= scroll + rows {
            scroll = before.saturating_sub(rows / 3);
        }
    }
    let scroll = scroll.min(total.saturating_sub(rows));
    detail.info_scroll.set(scroll);
    detail.info_rows.set(inner.height);
    detail.info_total.set(total);
    let title = if total > rows {
        format!(
            " error · {}–{}/{total} ",
            scroll + 1,
            (scroll + rows).min(total)
        )
    } else {
        " error ".to_owned()
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
            .block(block.title(title)),
        area,
    );
}

/// The reference parser's verdict, beside tree-sitter's sites: its first
/// complaint and where, the construct of a grammar gap, or why it could
/// not decide.
fn reference_lines(app: &App, verdict: Verdict, reference: &ReferenceReport) -> Vec<Line<'static>> {
    let muted = app.theme.muted;
    let parser = Some(reference.parser.as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or("reference parser");
    let (label, style, what) = match verdict {
        Verdict::GrammarGap => (
            "grammar gap",
            app.theme.warning,
            format!("{parser} accepts the file: the code is valid, the grammar is not"),
        ),
        Verdict::InvalidSource => {
            let at = match (reference.line, reference.column) {
                (Some(line), Some(column)) => format!("{line}:{column} "),
                _ => String::new(),
            };
            (
                "invalid source",
                app.theme.error,
                format!(
                    "{parser}: {at}{}",
                    reference.message.as_deref().unwrap_or("rejects the file")
                ),
            )
        }
        Verdict::Unknown => (
            "unknown",
            muted,
            format!(
                "{parser} did not decide: {}",
                reference.reason.as_deref().unwrap_or("no reason recorded")
            ),
        ),
    };
    let mut lines = vec![
        Line::default(),
        Line::from(vec![
            Span::styled(format!("{:<10}", "verdict"), muted),
            Span::styled(label, style.add_modifier(Modifier::BOLD)),
        ]),
        Line::from(Span::styled(sanitize::line(&what).into_owned(), style)),
    ];
    if let Some(node) = &reference.node {
        let at = reference
            .node_span
            .map(|span| format!(" at {}:{}", span.line, span.column))
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10}", "node"), muted),
            Span::styled(format!("{}{at}", sanitize::line(node)), app.theme.text),
        ]));
    }
    lines
}
