//! The runs view: every run, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};

use super::{clip, draw_list, status_style};
use crate::index::progress::RunStatus;
use crate::sanitize;
use crate::store::runs::RunRecord;
use crate::tui::app::App;
use crate::words;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    // Grammars get a column once a run used one that is not built in.
    let grammars = app.runs.grammars.iter().any(|g| g != "built-in");
    let header = Row::new([
        "ID",
        "REPOSITORY",
        "STARTED",
        "STATUS",
        "FILES",
        "SUCCESS",
        "DURATION",
        "ERR BYTES",
        if grammars { "GRAMMARS" } else { "" },
    ])
    .style(app.theme.title);
    let rows = app
        .runs
        .runs
        .iter()
        .zip(&app.runs.grammars)
        .map(|(run, grammar)| {
            let status = app.run_status(run);
            let f = app.run_figures(run);
            let considered = f.done.saturating_sub(f.skipped);
            // A run short of its total (going on, or stopped early) says how far.
            let files = match f.total {
                Some(total) if f.done < total => format!("{}/{total}", f.done),
                None if status == RunStatus::Running => format!("{}/…", f.done),
                _ => f.done.to_string(),
            };
            let success = percent(f.indexed, considered);
            let duration = match status {
                RunStatus::Running => format!("{}…", words::duration(f.elapsed)),
                _ => words::duration(f.elapsed),
            };
            let id = if app.runs.marked == Some(run.run_id) {
                format!("●{}", run.run_id)
            } else {
                run.run_id.to_string()
            };
            Row::new(vec![
                Cell::from(id),
                Cell::from(clip(&sanitize::line(&run.repository), 24)),
                Cell::from(run.started_at.format("%Y-%m-%d %H:%M").to_string()),
                Cell::from(status.as_str()).style(status_style(app, status.as_str())),
                Cell::from(files),
                Cell::from(success),
                Cell::from(duration),
                Cell::from(error_bytes(run)),
                Cell::from(if grammars {
                    clip(&sanitize::line(grammar), 18)
                } else {
                    String::new()
                }),
            ])
        });
    let widths = [
        Constraint::Length(6),
        Constraint::Min(10),
        Constraint::Length(16),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Length(7),
        Constraint::Length(11),
        Constraint::Length(9),
        Constraint::Length(if grammars { 18 } else { 0 }),
    ];
    let title = if app.runs.runs.is_empty() {
        " runs — none yet: press n to index a repository ".to_owned()
    } else {
        format!(" runs ({}) ", app.runs.runs.len())
    };
    let selected = (!app.runs.runs.is_empty()).then_some(app.runs.selected);
    let table = Table::new(rows, widths).header(header);
    draw_list(frame, app, area, table, title, selected);
}

/// The share of the parsed bytes inside ERROR nodes.
fn error_bytes(run: &RunRecord) -> String {
    if run.parsed_bytes <= 0 {
        return "-".to_owned();
    }
    format!(
        "{:.2}%",
        100.0 * run.error_bytes as f64 / run.parsed_bytes as f64
    )
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}
