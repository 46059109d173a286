//! A run's dashboard: progress, outcomes, the error-type chart, the top
//! groups and the file being processed. Live from the engine while the run
//! goes on here, from the database afterwards.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Gauge, List, ListItem, Paragraph};

use super::{clip, status_style};
use crate::index::discover::PassedOver;
use crate::index::outcome::ErrorType;
use crate::index::progress::{RunFigures, RunHealth, RunStatus, percent};
use crate::sanitize;
use crate::tui::app::App;
use crate::words::{count, duration, noun};

/// What the dashboard shows, whichever source it came from: the engine's
/// counters for a run going on here, the run's row for one going on in
/// another process (it grows batch by batch) or one that has ended.
struct Figures {
    run: RunFigures,
    /// Failing files: grammar gaps, invalid source, other.
    split: (u64, u64, u64),
    errors: BTreeMap<ErrorType, u64>,
    health: RunHealth,
    current: String,
    passed_over: Option<PassedOver>,
}

fn figures(app: &App) -> Option<Figures> {
    let run_id = app.dashboard.run_id?;
    if let Some(live) = app.live.get(&run_id) {
        let p = live.progress.snapshot();
        let with_syntax_errors = p.errors_by_type.get(&ErrorType::ParsingError);
        return Some(Figures {
            run: p.figures(),
            split: (p.grammar_gaps, p.invalid_source, p.other_failures),
            current: p.current_file.clone(),
            passed_over: p.passed_over,
            health: RunHealth::new(
                with_syntax_errors.copied().unwrap_or(0),
                p.parsed_bytes,
                p.error_bytes,
                p.missing_nodes,
            ),
            errors: p.errors_by_type,
        });
    }
    let run = app.dashboard.run.as_ref()?;
    let s = &app.dashboard.split;
    let n = |x: i64| x.max(0) as u64;
    let with_syntax_errors = app.dashboard.counts.get(&ErrorType::ParsingError);
    Some(Figures {
        health: run.health(n(with_syntax_errors.copied().unwrap_or(0))),
        passed_over: run.passed_over(),
        run: run.figures(chrono::Utc::now()),
        split: (n(s.grammar_gaps), n(s.invalid_source), n(s.other)),
        errors: app
            .dashboard
            .counts
            .iter()
            .map(|(t, n)| (*t, (*n).max(0) as u64))
            .collect(),
        current: String::new(),
    })
}

/// The progress bar's words: how far, how fast, how long.
fn gauge_label(f: &RunFigures) -> String {
    let rate = format!("{:.0} files/s", f.files_per_sec());
    match (f.status, f.total) {
        (RunStatus::Running, None) => format!("discovering files… {rate}"),
        (RunStatus::Running, Some(total)) => {
            let eta = f
                .eta()
                .map(|d| format!(", ETA {}", duration(d)))
                .unwrap_or_default();
            format!(
                "{}/{} · {rate}, {:.1} MB/s{eta}",
                f.done,
                count(total, "file"),
                f.mb_per_sec()
            )
        }
        (RunStatus::Completed, _) => format!(
            "{} in {} · {rate}",
            count(f.done, "file"),
            duration(f.elapsed)
        ),
        // Cancelled or failed: what it got to before it stopped.
        (status, Some(total)) => format!(
            "{} of {} before it {status} after {}",
            f.done,
            count(total, "file"),
            duration(f.elapsed)
        ),
        (status, None) => format!(
            "{} before it {status} after {}",
            count(f.done, "file"),
            duration(f.elapsed)
        ),
    }
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
            Span::styled(
                format!("{} ", f.run.status),
                status_style(app, f.run.status.as_str()),
            ),
        ]))
        .title_bottom(health_line(app, &f.health));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [gauge, outcomes, kinds, changes, middle, current] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(inner);

    // A run that stopped early shows how far it got, not a full bar.
    let ratio = match (f.run.status, f.run.fraction()) {
        (RunStatus::Completed, _) => 1.0,
        (_, Some(fraction)) => fraction,
        (_, None) => 0.0,
    };
    frame.render_widget(
        Gauge::default()
            .gauge_style(app.theme.accent)
            .ratio(ratio.clamp(0.0, 1.0))
            .label(gauge_label(&f.run)),
        gauge,
    );

    let considered = f.run.done.saturating_sub(f.run.skipped);
    let (gaps, invalid, other) = f.split;
    let success = percent(f.run.indexed, considered);
    let success_without_gaps = percent(f.run.indexed, considered.saturating_sub(gaps));
    let counted = |label: &str, n: u64, style| {
        vec![
            Span::styled(format!("{n} "), style),
            Span::styled(format!("{label}   "), app.theme.muted),
        ]
    };
    let mut spans = Vec::new();
    spans.extend(counted("indexed", f.run.indexed, app.theme.success));
    spans.extend(counted("partial", f.run.partial, app.theme.warning));
    spans.extend(counted("failed", f.run.failed, app.theme.error));
    spans.extend(counted("skipped", f.run.skipped, app.theme.skipped));
    if f.run.reused > 0 {
        // Carried over unchanged from an earlier run, not parsed again.
        spans.extend(counted("reused", f.run.reused, app.theme.muted));
    }
    spans.push(Span::styled(
        format!("success {success:.1}%"),
        app.theme.text,
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), outcomes);

    // Grammar gaps are valid code: never to be confused with broken source.
    let mut failing = vec![Span::styled("failing: ", app.theme.muted)];
    failing.extend(counted(&noun(gaps, "grammar gap"), gaps, app.theme.warning));
    failing.extend(counted("invalid source", invalid, app.theme.error));
    failing.extend(counted("other", other, app.theme.error));
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

    // The file being processed while the run goes on; then what it left
    // out, with the flags that would take it in.
    let left_out = f.passed_over.map(|p| p.brief()).unwrap_or_default();
    let current_text = if !f.current.is_empty() {
        format!("processing {}", sanitize::line(&f.current))
    } else if !left_out.is_empty() {
        format!("left out {left_out}")
    } else {
        String::new()
    };
    frame.render_widget(Paragraph::new(current_text).style(app.theme.muted), current);
}

/// How much of the parsed code the grammar could not read, and which
/// grammars read it (a one-token slip and a file the grammar could not
/// enter look alike in file counts), on the frame's bottom edge.
fn health_line(app: &App, health: &RunHealth) -> Line<'static> {
    let grammar = app
        .dashboard
        .run
        .as_ref()
        .map(|run| run.grammar_label())
        .unwrap_or_default();
    let mut spans = vec![Span::styled(" health: ", app.theme.muted)];
    if health.parsed_bytes > 0 {
        spans.push(Span::styled(
            format!("{}% ", health.error_byte_percent),
            if health.error_bytes > 0 {
                app.theme.warning
            } else {
                app.theme.success
            },
        ));
        spans.push(Span::styled(
            format!(
                "of {} in ERROR nodes, {}   ",
                crate::words::bytes(health.parsed_bytes),
                count(health.missing_nodes, "MISSING node")
            ),
            app.theme.muted,
        ));
    } else {
        spans.push(Span::styled("nothing parsed yet   ", app.theme.muted));
    }
    if !grammar.is_empty() {
        spans.push(Span::styled("grammars: ", app.theme.muted));
        spans.push(Span::styled(
            format!("{} ", sanitize::line(&grammar)),
            app.theme.text,
        ));
    }
    Line::from(spans)
}

/// What the run changed: file by file since the run before (once it has
/// ended), and in the repository's groups: those it brought back after they
/// were resolved, and those it saw first, named by title.
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
    let files = match &app.dashboard.since {
        Some(since) => {
            let c = &since.counts;
            Line::from(vec![
                Span::styled(format!("{:<12}", "files"), app.theme.muted),
                Span::styled(format!("{:>4} ", c.newly_failing), app.theme.error),
                Span::styled(
                    clip(
                        &format!(
                            "newly failing · {} fixed · {} gone · {} failing otherwise · vs run {} (D)",
                            c.fixed,
                            c.gone,
                            c.another_problem + c.another_verdict,
                            since.run_id
                        ),
                        usize::from(area.width).saturating_sub(17),
                    ),
                    app.theme.text,
                ),
            ])
        }
        None => Line::from(Span::styled(format!("{:<12}", "files"), app.theme.muted)),
    };
    let lines = vec![
        files,
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
    draw_bars(frame, block, &bars, area);
}

/// Labelled bars, one row each, in a block.
fn draw_bars(frame: &mut Frame, block: Block<'_>, bars: &[Bar<'_>], area: Rect) {
    let chart = BarChart::default()
        .block(block)
        .direction(ratatui::layout::Direction::Horizontal)
        .bar_width(1)
        .bar_gap(0)
        .data(BarGroup::default().bars(bars));
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
    draw_bars(frame, block, &bars, area);
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
