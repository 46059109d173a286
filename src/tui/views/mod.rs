//! Drawing: one module per screen, plus the frame around them (title bar,
//! footer with the keys that matter, overlays).

mod dashboard;
mod detail;
mod list;
mod overlays;
mod runs;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Table, TableState};

use super::app::App;
use super::screens::Screen;
use crate::keymap::Action;
use crate::sanitize;

pub fn draw(frame: &mut Frame, app: &App) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, app, header);
    match app.screen {
        Screen::Runs => runs::draw(frame, app, body),
        Screen::Dashboard => dashboard::draw(frame, app, body),
        Screen::List => list::draw(frame, app, body),
        Screen::Detail => detail::draw(frame, app, body),
    }
    draw_footer(frame, app, footer);
    overlays::draw(frame, app);
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let place = match app.screen {
        Screen::Runs => "runs".to_owned(),
        Screen::Dashboard => format!("run {}", app.dashboard.run_id.unwrap_or_default()),
        Screen::List => {
            let what = if app.list.grouped { "groups" } else { "errors" };
            format!("{} › {what}", sanitize::line(&app.list.repository))
        }
        Screen::Detail => "error".to_owned(),
    };
    let live = match (app.running(), app.live.len()) {
        (0, _) => String::new(),
        (all, here) if all == here => format!("  ● {all} running"),
        (all, here) => format!("  ● {all} running ({here} here)"),
    };
    let line = Line::from(vec![
        Span::styled(" snag ", app.theme.selection),
        Span::styled(format!(" {place}"), app.theme.title),
        Span::styled(live, app.theme.warning),
    ]);
    frame.render_widget(Paragraph::new(line), area);
}

/// The actions worth a hint on each screen.
fn hints(screen: Screen) -> &'static [Action] {
    match screen {
        Screen::Runs => &[
            Action::Open,
            Action::NewRun,
            Action::Rerun,
            Action::ShowErrors,
            Action::CancelRun,
            Action::CommandLine,
            Action::Help,
            Action::Quit,
        ],
        Screen::Dashboard => &[
            Action::ShowErrors,
            Action::ShowGroups,
            Action::Rerun,
            Action::CancelRun,
            Action::Back,
            Action::Help,
        ],
        Screen::List => &[
            Action::Open,
            Action::ToggleType1,
            Action::AllTypes,
            Action::Search,
            Action::ToggleGrouping,
            Action::CycleSort,
            Action::MarkResolved,
            Action::Back,
            Action::Help,
        ],
        Screen::Detail => &[
            Action::NextSite,
            Action::FocusNextPane,
            Action::OpenInEditor,
            Action::CopyLocation,
            Action::MarkIgnored,
            Action::EditNote,
            Action::Back,
            Action::Help,
        ],
    }
}

fn short_label(action: Action) -> &'static str {
    match action {
        Action::Open => "open",
        Action::NewRun => "new run",
        Action::ShowErrors => "errors",
        Action::ShowGroups => "groups",
        Action::CancelRun => "cancel",
        Action::Help => "help",
        Action::Quit => "quit",
        Action::Back => "back",
        Action::ToggleType1 => "types",
        Action::AllTypes => "all",
        Action::Search => "search",
        Action::ToggleGrouping => "group",
        Action::CycleSort => "sort",
        Action::MarkResolved => "resolve",
        Action::NextSite => "next site",
        Action::FocusNextPane => "pane",
        Action::OpenInEditor => "edit",
        Action::CopyLocation => "copy",
        Action::MarkIgnored => "ignore",
        Action::EditNote => "note",
        Action::Rerun => "re-run",
        Action::CommandLine => "command",
        _ => "",
    }
}

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    let mut spans = Vec::new();
    if let Some(status) = &app.status {
        spans.push(Span::styled(
            sanitize::line(status).into_owned(),
            app.theme.warning,
        ));
        spans.push(Span::styled("  │  ", app.theme.border));
    }
    // Cancel is offered only for a run going on here.
    let live = app
        .current_run_id()
        .is_some_and(|id| app.live.contains_key(&id));
    for action in hints(app.screen) {
        if *action == Action::CancelRun && !live {
            continue;
        }
        let Some(key) = app
            .keymap
            .keys_for(app.screen.context(), *action)
            .into_iter()
            .next()
        else {
            continue;
        };
        let key = if *action == Action::ToggleType1 {
            "1-8".to_owned()
        } else {
            key.to_string()
        };
        spans.push(Span::styled(key, app.theme.accent));
        spans.push(Span::styled(
            format!(" {}  ", short_label(*action)),
            app.theme.muted,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A list as a bordered table with its selected row highlighted: the runs,
/// errors and groups lists all look alike.
pub(super) fn draw_list(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    table: Table<'_>,
    title: String,
    selected: Option<usize>,
) {
    let table = table.row_highlight_style(app.theme.selection).block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(app.theme.border)
            .title(title),
    );
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut state);
}

/// Shortens text to `width` characters by cutting its middle: a long path
/// keeps its start and its file name.
pub(super) fn elide_middle(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_owned();
    }
    if width < 2 {
        return "…".chars().take(width).collect();
    }
    let tail = (width - 1) * 2 / 3;
    let head = width - 1 - tail;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start}…{end}")
}

/// Shortens text to `width` characters with an ellipsis.
pub(super) fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The style for an outcome or status word.
pub(super) fn status_style(app: &App, word: &str) -> Style {
    match word {
        "running" | "partial" | "regressed" => app.theme.warning,
        "failed" | "cancelled" | "open" => app.theme.error,
        "completed" | "indexed" | "resolved" => app.theme.success,
        _ => app.theme.skipped,
    }
}
