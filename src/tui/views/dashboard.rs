//! A run's dashboard: progress, outcomes, the error-type chart, the top
//! groups and the file being processed. Live from the engine while the run
//! goes on here, from the database afterwards.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Gauge, List, ListItem, Paragraph};

use super::{clip, status_style};
use crate::index::outcome::ErrorType;
use crate::index::progress::percent;
use crate::sanitize;
use crate::tui::app::App;

/// What the dashboard shows, whichever source it came from.
struct Figures {
    status: String,
    done: u64,
    total: Option<u64>,
    indexed: u64,
    partial: u64,
    failed: u64,
    skipped: u64,
    /// Failing files: grammar gaps, invalid source, other.
    split: (u64, u64, u64),
    errors: BTreeMap<ErrorType, u64>,
    rate: String,
    current: String,
}

fn figures(app: &App) -> Option<Figures> {
    let run_id = app.dashboard.run_id?;
    if let Some(live) = app.live.get(&run_id) {
        let p = live.progress.snapshot();
        let eta = p
            .eta()
            .map(|d| format!(", ETA {} s", d.as_secs()))
            .unwrap_or_default();
        return Some(Figures {
            status: "running".to_owned(),
            done: p.done(),
            total: p
                .discovery_finished
                .then_some(p.discovered)
                .or(Some(p.discovered)),
            indexed: p.indexed,
            partial: p.partial,
            failed: p.failed,
            skipped: p.skipped,
            split: (p.grammar_gaps, p.invalid_source, p.other_failures),
            rate: format!(
                "{:.0} files/s, {:.1} MB/s{eta}",
                p.files_per_sec(),
                p.mb_per_sec()
            ),
            current: p.current_file.clone(),
            errors: p.errors_by_type,
        });
    }
    let run = app.dashboard.run.as_ref()?;
    let seconds = run
        .finished_at
        .map(|end| (end - run.started_at).num_milliseconds() as f64 / 1000.0)
        .unwrap_or(0.0);
    let total = run.files_total.max(0) as u64;
    Some(Figures {
        status: run.status.as_str().to_owned(),
        done: total,
        total: Some(total),
        indexed: run.files_indexed.max(0) as u64,
        partial: run.files_partial.max(0) as u64,
        failed: run.files_failed.max(0) as u64,
        skipped: run.files_skipped.max(0) as u64,
        split: {
            let s = &app.dashboard.split;
            let n = |x: i64| x.max(0) as u64;
            (n(s.grammar_gaps), n(s.invalid_source), n(s.other))
        },
        errors: app
            .dashboard
            .counts
            .iter()
            .map(|(t, n)| (*t, (*n).max(0) as u64))
            .collect(),
        rate: if seconds > 0.0 {
            format!("{:.0} files/s over {seconds:.1} s", total as f64 / seconds)
        } else {
            String::new()
        },
        current: String::new(),
    })
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(f) = figures(app) else {
        frame.render_widget(Paragraph::new("loading…").style(app.theme.muted), area);
        return;
    };
    let repository = match (
        &app.dashboard.run,
        app.dashboard.run_id.and_then(|id| app.live.get(&id)),
    ) {
        (_, Some(live)) => sanitize::line(&live.repository).into_owned(),
        (Some(run), None) => sanitize::line(&run.repository).into_owned(),
        (None, None) => String::new(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.border)
        .title(Line::from(vec![
            Span::styled(
                format!(
                    " run {} · {} · ",
                    app.dashboard.run_id.unwrap_or_default(),
                    repository
                ),
                app.theme.title,
            ),
            Span::styled(format!("{} ", f.status), status_style(app, &f.status)),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [gauge, outcomes, kinds, changes, middle, current] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);

    let total = f.total.unwrap_or(0).max(f.done);
    let ratio = if total == 0 {
        0.0
    } else {
        f.done as f64 / total as f64
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(app.theme.accent)
            .ratio(ratio.clamp(0.0, 1.0))
            .label(format!("{}/{} files  {}", f.done, total, f.rate)),
        gauge,
    );

    let considered = f.done.saturating_sub(f.skipped);
    let (gaps, invalid, other) = f.split;
    let success = percent(f.indexed, considered);
    let success_without_gaps = percent(f.indexed, considered.saturating_sub(gaps));
    let count = |label: &str, n: u64, style| {
        vec![
            Span::styled(format!("{n} "), style),
            Span::styled(format!("{label}   "), app.theme.muted),
        ]
    };
    let mut spans = Vec::new();
    spans.extend(count("indexed", f.indexed, app.theme.success));
    spans.extend(count("partial", f.partial, app.theme.warning));
    spans.extend(count("failed", f.failed, app.theme.error));
    spans.extend(count("skipped", f.skipped, app.theme.skipped));
    spans.push(Span::styled(
        format!("success {success:.1}%"),
        app.theme.text,
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), outcomes);

    // Grammar gaps are valid code: never to be confused with broken source.
    let mut failing = vec![Span::styled("failing: ", app.theme.muted)];
    failing.extend(count("grammar gaps", gaps, app.theme.warning));
    failing.extend(count("invalid source", invalid, app.theme.error));
    failing.extend(count("other", other, app.theme.error));
    failing.push(Span::styled(
        format!("success {success_without_gaps:.1}% without gaps"),
        app.theme.text,
    ));
    frame.render_widget(Paragraph::new(Line::from(failing)), kinds);
    draw_changes(frame, app, changes);

    let [chart, groups] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
    // One type says nothing as a chart: then the failing files by verdict.
    if f.errors.len() <= 1 && gaps + invalid + other > 0 {
        draw_split_chart(frame, app, f.split, chart);
    } else {
        draw_chart(frame, app, &f.errors, chart);
    }
    draw_groups(frame, app, groups);

    let current_text = if f.current.is_empty() {
        String::new()
    } else {
        format!("processing {}", sanitize::line(&f.current))
    };
    frame.render_widget(Paragraph::new(current_text).style(app.theme.muted), current);
}

/// What the run changed in the repository's groups: those it brought back
/// after they were resolved, and those it saw first, named by title.
fn draw_changes(frame: &mut Frame, app: &App, area: Rect) {
    let changes = &app.dashboard.changes;
    let width = usize::from(area.width).saturating_sub(30);
    let line = |label: &str, total: i64, titles: Vec<&str>, style| {
        let mut spans = vec![
            Span::styled(format!("{label:<12}"), app.theme.muted),
            Span::styled(format!("{total:>4} "), style),
        ];
        if total > 0 {
            let names = titles
                .iter()
                .map(|t| sanitize::line(t).into_owned())
                .collect::<Vec<_>>()
                .join(" · ");
            spans.push(Span::styled(clip(&names, width), app.theme.text));
        }
        Line::from(spans)
    };
    let lines = vec![
        line(
            "regressed",
            changes.regressed_total,
            changes.regressed.iter().map(|g| g.title.as_str()).collect(),
            app.theme.error,
        ),
        line(
            "new groups",
            changes.new_total,
            changes.new.iter().map(|g| g.title.as_str()).collect(),
            app.theme.warning,
        ),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

/// Failing files by verdict: grammar gaps, invalid source, other.
fn draw_split_chart(frame: &mut Frame, app: &App, split: (u64, u64, u64), area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.border)
        .title(" failing files by verdict ");
    let (gaps, invalid, other) = split;
    let bars: Vec<Bar> = [
        ("gap", gaps, app.theme.warning),
        ("invalid", invalid, app.theme.error),
        ("other", other, app.theme.error),
    ]
    .into_iter()
    .map(|(label, n, style)| {
        Bar::default()
            .value(n)
            .label(Line::from(label))
            .style(style)
            .value_style(app.theme.selection)
    })
    .collect();
    let chart = BarChart::default()
        .block(block)
        .direction(ratatui::layout::Direction::Horizontal)
        .bar_width(1)
        .bar_gap(0)
        .data(BarGroup::default().bars(&bars));
    frame.render_widget(chart, area);
}

/// The error-type breakdown, one bar per type with errors.
fn draw_chart(frame: &mut Frame, app: &App, errors: &BTreeMap<ErrorType, u64>, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.border)
        .title(" errors by type ");
    if errors.is_empty() {
        frame.render_widget(
            Paragraph::new("no errors")
                .style(app.theme.success)
                .block(block),
            area,
        );
        return;
    }
    let bars: Vec<Bar> = errors
        .iter()
        .map(|(t, n)| {
            Bar::default()
                .value(*n)
                .label(Line::from(t.as_str().trim_end_matches("_error").to_owned()))
                .style(app.theme.error)
                .value_style(app.theme.selection)
        })
        .collect();
    let chart = BarChart::default()
        .block(block)
        .direction(ratatui::layout::Direction::Horizontal)
        .bar_width(1)
        .bar_gap(0)
        .data(BarGroup::default().bars(&bars));
    frame.render_widget(chart, area);
}

fn draw_groups(frame: &mut Frame, app: &App, area: Rect) {
    let width = usize::from(area.width.saturating_sub(12));
    let items: Vec<ListItem> = app
        .dashboard
        .groups
        .iter()
        .map(|g| {
            ListItem::new(Line::from(vec![
                Span::styled(format!("{:>4} ", g.files), app.theme.accent),
                Span::styled(clip(&sanitize::line(&g.title), width), app.theme.text),
            ]))
        })
        .collect();
    let title = " top error groups (files) ";
    frame.render_widget(
        List::new(items).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(app.theme.border)
                .title(title),
        ),
        area,
    );
}
