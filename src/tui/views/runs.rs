//! The runs view: every run, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};

use super::{clip, draw_list, status_style};
use crate::sanitize;
use crate::tui::app::App;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let header = Row::new([
        "ID",
        "REPOSITORY",
        "STARTED",
        "STATUS",
        "FILES",
        "SUCCESS",
        "DURATION",
    ])
    .style(app.theme.title);
    let rows = app.runs.runs.iter().map(|run| {
        let status = app.run_status(run);
        let (files, success) = match app.live.get(&run.run_id) {
            Some(live) => {
                let p = live.progress.snapshot();
                let considered = p.done().saturating_sub(p.skipped);
                (
                    format!("{}/{}", p.done(), p.discovered),
                    percent(p.indexed, considered),
                )
            }
            None => {
                let considered = (run.files_total - run.files_skipped).max(0) as u64;
                (
                    run.files_total.to_string(),
                    percent(run.files_indexed as u64, considered),
                )
            }
        };
        let duration = match run.finished_at {
            Some(end) => format!(
                "{:.1} s",
                (end - run.started_at).num_milliseconds() as f64 / 1000.0
            ),
            None => "…".to_owned(),
        };
        Row::new(vec![
            Cell::from(run.run_id.to_string()),
            Cell::from(clip(&sanitize::line(&run.repository), 24)),
            Cell::from(run.started_at.format("%Y-%m-%d %H:%M").to_string()),
            Cell::from(status.as_str()).style(status_style(app, status.as_str())),
            Cell::from(files),
            Cell::from(success),
            Cell::from(duration),
        ])
    });
    let widths = [
        Constraint::Length(5),
        Constraint::Min(10),
        Constraint::Length(16),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Length(7),
        Constraint::Length(9),
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

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}
