//! Pop-ups over the screen: help, the new-run form, the note editor, the
//! quit confirmation and the changes between two runs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::changes::{ChangeFilter, ChangesView};
use crate::tui::overlays::{NewRunForm, Overlay, ScrollView};
use crate::tui::prompt::{COMMANDS, Prompt};

pub fn draw(frame: &mut Frame, app: &App) {
    match &app.overlay {
        None => {}
        Some(Overlay::Help(help)) => draw_help(frame, app, help),
        Some(Overlay::ConfirmQuit) => {
            let area = popup(frame.area(), 62, 6);
            let runs = match app.live.len() {
                1 => "1 run is still going.".to_owned(),
                n => format!("{n} runs are still going."),
            };
            let text = vec![
                Line::from(runs),
                Line::from("Quit and cancel them? (their finished files are kept)"),
                Line::from(Span::styled(
                    "y: quit   any other key: stay",
                    app.theme.accent,
                )),
            ];
            frame.render_widget(Clear, area);
            // Wrapped, so a narrow terminal cuts no sentence.
            frame.render_widget(
                Paragraph::new(text)
                    .wrap(Wrap { trim: true })
                    .block(bordered(app, " quit? ")),
                area,
            );
        }
        Some(Overlay::Confirm { question, .. }) => {
            // One line over the footer: the screen stays in view.
            let full = frame.area();
            let area = Rect {
                y: full.bottom().saturating_sub(1),
                height: full.height.min(1),
                ..full
            };
            let line = Line::from(vec![
                Span::styled(
                    format!(" {} ", crate::sanitize::line(question)),
                    app.theme.warning,
                ),
                Span::styled("y", app.theme.accent),
                Span::styled(" confirms, any other key cancels", app.theme.muted),
            ]);
            frame.render_widget(Clear, area);
            frame.render_widget(Paragraph::new(line), area);
        }
        Some(Overlay::Note { editor, label, .. }) => {
            let area = popup(frame.area(), 70, 12);
            frame.render_widget(Clear, area);
            let title = format!(
                " note on {} — ctrl-s saves, esc cancels ",
                crate::sanitize::line(label)
            );
            let block = bordered(app, &title);
            let inner = block.inner(area);
            frame.render_widget(block, area);
            frame.render_widget(&**editor, inner);
        }
        Some(Overlay::NewRun(form)) => draw_form(frame, app, form),
        Some(Overlay::Changes(view)) => draw_changes(frame, app, view),
        Some(Overlay::Prompt(prompt)) => draw_prompt(frame, app, prompt),
        Some(Overlay::Text { title, lines, view }) => {
            let lines: Vec<Line> = lines
                .iter()
                .map(|l| Line::from(Span::styled(l.clone(), app.theme.text)))
                .collect();
            draw_scrolled(frame, app, &crate::sanitize::line(title), lines, view, 100);
        }
    }
}

/// The `:` line over the footer, its completions above it.
fn draw_prompt(frame: &mut Frame, app: &App, prompt: &Prompt) {
    let full = frame.area();
    let line_area = Rect {
        y: full.bottom().saturating_sub(1),
        height: full.height.min(1),
        ..full
    };
    let mut spans = vec![
        Span::styled(":", app.theme.accent),
        Span::styled(
            crate::sanitize::line(&prompt.input).into_owned(),
            app.theme.text,
        ),
        Span::styled("▏", app.theme.accent),
    ];
    if let Some(error) = &prompt.error {
        spans.push(Span::styled(
            format!("   {}", crate::sanitize::line(error)),
            app.theme.warning,
        ));
    }
    frame.render_widget(Clear, line_area);
    frame.render_widget(Paragraph::new(Line::from(spans)), line_area);
    // What Tab offers, or every command while nothing is typed.
    let offers: Vec<Line> = if prompt.candidates.is_empty() && prompt.input.is_empty() {
        COMMANDS
            .iter()
            .filter(|(name, _)| *name != "q")
            .map(|(name, help)| {
                Line::from(vec![
                    Span::styled(format!(" {name:<7}"), app.theme.accent),
                    Span::styled(*help, app.theme.muted),
                ])
            })
            .collect()
    } else {
        prompt
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let style = if prompt.chosen() == Some(i) {
                    app.theme.selection
                } else {
                    app.theme.text
                };
                Line::from(Span::styled(
                    format!(" {}", crate::sanitize::line(c)),
                    style,
                ))
            })
            .collect()
    };
    if offers.is_empty() {
        return;
    }
    let height = (offers.len() as u16).min(full.height.saturating_sub(2) / 2);
    let area = Rect {
        y: line_area.y.saturating_sub(height),
        height,
        ..full
    };
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(offers), area);
}

fn bordered<'a>(app: &App, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.accent)
        .title(title)
}

/// A centred rectangle of at most the given size.
fn popup(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

fn draw_help(frame: &mut Frame, app: &App, help: &ScrollView) {
    let mut lines = Vec::new();
    for (context, actions) in app.keymap.all() {
        if actions.is_empty() {
            continue;
        }
        lines.push(Line::from(Span::styled(context.label(), app.theme.title)));
        for (action, keys) in actions {
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", keys.join(" ")), app.theme.accent),
                Span::styled(action.description(), app.theme.text),
            ]));
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "Keys can be changed in the config file's [keys] table (see README).",
        app.theme.muted,
    )));
    draw_scrolled(frame, app, "keys", lines, help, 72);
}

/// Lines in a centred box that scrolls, its title saying where it is.
fn draw_scrolled(
    frame: &mut Frame,
    app: &App,
    name: &str,
    lines: Vec<Line<'_>>,
    view: &ScrollView,
    width: u16,
) {
    let area = popup(frame.area(), width, 200);
    let rows = usize::from(area.height.saturating_sub(2));
    let last = lines.len().saturating_sub(rows);
    let scroll = view.scroll.get().min(last);
    view.scroll.set(scroll);
    view.last.set(last);
    view.rows.set(rows);
    let title = if last > 0 {
        format!(
            " {name} {}–{}/{} — j/k scroll, esc closes ",
            scroll + 1,
            (scroll + rows).min(lines.len()),
            lines.len()
        )
    } else {
        format!(" {name} — esc closes ")
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
            .block(bordered(app, &title)),
        area,
    );
}

/// The changed files of the filter chosen, the selected one in view.
fn draw_changes(frame: &mut Frame, app: &App, view: &ChangesView) {
    let area = popup(frame.area(), 110, 200);
    let title = format!(
        " {}: run {} → run {} — tab: new/fixed/all, enter: its errors, esc closes ",
        crate::sanitize::line(&view.repository),
        view.from,
        view.to
    );
    let block = bordered(app, &title);
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let mut tabs = Vec::new();
    for filter in ChangeFilter::ALL {
        let style = if filter == view.filter {
            app.theme.selection
        } else {
            app.theme.muted
        };
        let label = format!(" {} ({}) ", filter.label(), view.count(filter));
        tabs.push(Span::styled(label, style));
        tabs.push(Span::raw(" "));
    }
    let shown = view.shown();
    let rows = usize::from(inner.height.saturating_sub(4));
    let first = view.selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = vec![Line::from(tabs)];
    for said in &view.context {
        lines.push(Line::from(Span::styled(
            crate::sanitize::line(said).into_owned(),
            app.theme.muted,
        )));
    }
    lines.push(Line::default());
    if shown.len() == 0 {
        lines.push(Line::from(Span::styled(
            "no file changed this way",
            app.theme.muted,
        )));
    }
    for (i, row) in shown.enumerate().skip(first).take(rows) {
        let mark = match row.mark {
            '+' => app.theme.error,
            '-' => app.theme.success,
            _ => app.theme.warning,
        };
        let style = if i == view.selected {
            app.theme.selection
        } else {
            app.theme.text
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", row.mark), mark),
            Span::styled(crate::sanitize::line(&row.file_path).into_owned(), style),
            Span::styled(format!("  {}", row.change), app.theme.muted),
            Span::styled(
                format!("  {}", crate::sanitize::line(&row.group)),
                app.theme.muted,
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_form(frame: &mut Frame, app: &App, form: &NewRunForm) {
    let area = popup(frame.area(), 70, 14);
    frame.render_widget(Clear, area);
    let block = bordered(
        app,
        " new run — tab moves, space toggles, enter starts, esc cancels ",
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .split(inner);
    for (i, label) in NewRunForm::LABELS.iter().enumerate() {
        let style = if form.focus == i {
            app.theme.accent
        } else {
            app.theme.border
        };
        let field_block = Block::default()
            .borders(Borders::ALL)
            .border_style(style)
            .title(format!(" {label} "));
        let field_area = field_block.inner(rows[i]);
        frame.render_widget(field_block, rows[i]);
        frame.render_widget(&form.fields[i], field_area);
    }
    let checkboxes = [
        (form.include_tests, "include test files"),
        (
            form.full,
            "parse every file (nothing carried over from earlier runs)",
        ),
    ];
    for (i, (checked, label)) in checkboxes.into_iter().enumerate() {
        let check = if checked { "[x]" } else { "[ ]" };
        let style = if form.focus == 3 + i {
            app.theme.selection
        } else {
            app.theme.text
        };
        frame.render_widget(
            Paragraph::new(format!("{check} {label}")).style(style),
            rows[3 + i],
        );
    }
    if let Some(error) = &form.error {
        frame.render_widget(
            Paragraph::new(crate::sanitize::line(error).into_owned()).style(app.theme.error),
            rows[5],
        );
    }
}
