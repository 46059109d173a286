//! The triage UI without a terminal: snapshots of every view drawn on fixed
//! data with ratatui's TestBackend, and key handling through the keymap.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use snag::index::details::ErrorDetails;
use snag::index::outcome::{ErrorType, Outcome, Verdict};
use snag::index::process::FileReport;
use snag::index::progress::{RunProgress, RunStatus};
use snag::keymap::Keymap;
use snag::report::diff::{DiffRun, RunDiff};
use snag::store::diff::{DiffCounts, FileProblem, FileSides};
use snag::store::files::{FailureSplit, FilesSince, RunDashboard, RunGroup};
use snag::store::groups::{GroupChanges, GroupRecord, GroupStatus};
use snag::store::runs::RunRecord;
use snag::store::{Count, ErrorFacets, ErrorRecord, ErrorSort};
use snag::tui::app::App;
use snag::tui::command::{Command, Counting, FileText, Loaded, RequestKind, Triage};
use snag::tui::highlight::highlight_window;
use snag::tui::overlays::Overlay;
use snag::tui::screens::Screen;
use snag::tui::theme::Theme;
use snag::tui::views;
use tokio_util::sync::CancellationToken;

fn run(run_id: i64, repository: &str, status: RunStatus) -> RunRecord {
    let started = Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 0).unwrap();
    RunRecord {
        run_id,
        repository: repository.into(),
        root: "/src/web".into(),
        status,
        status_message: None,
        files_total: 245,
        files_discovered: Some(245),
        files_indexed: 230,
        files_partial: 5,
        files_failed: 3,
        files_skipped: 7,
        files_reused: 0,
        errors_total: 9,
        chunks_total: 1234,
        bytes_total: 1_000_000,
        parsed_bytes: 990_000,
        error_bytes: 4_125,
        missing_nodes: 3,
        options: serde_json::json!({}),
        started_at: started,
        finished_at: (status != RunStatus::Running)
            .then(|| started + chrono::Duration::milliseconds(3200)),
        tool_version: "0.1.0".into(),
        grammar_versions: serde_json::json!({}),
        passed_over: Some(
            serde_json::json!({"test_files": 91, "other_extensions": 71, "ignored": 3, "excluded_folders": 2}),
        ),
    }
}

fn error(
    error_id: i64,
    error_type: ErrorType,
    path: &str,
    line: i32,
    message: &str,
) -> ErrorRecord {
    ErrorRecord {
        error_id,
        repository: "web".into(),
        file_path: path.into(),
        error_type,
        error_message: message.into(),
        error_traceback: Some(format!(
            "SyntaxError: 1 syntax error in {path} (typescript)\n  --> {path}:{line}:21"
        )),
        chunk_type: None,
        language: Some("typescript".into()),
        occurred_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 1).unwrap(),
        run_id: Some(7),
        line: Some(line),
        column: Some(21),
        end_line: Some(line),
        end_column: Some(22),
        fingerprint: Some(format!("fp{}", error_id % 2)),
        verdict: (error_type == ErrorType::ParsingError).then_some(if error_id % 2 == 0 {
            Verdict::GrammarGap
        } else {
            Verdict::InvalidSource
        }),
        details: ErrorDetails::from_stored(serde_json::json!({
            "construct": "formal_parameters",
            "verdict": if error_id % 2 == 0 { "grammar_gap" } else { "invalid_source" },
            "reference": if error_id % 2 == 0 {
                serde_json::json!({"parser": "oxc_parser 0.146", "construct": "variance annotation on a type parameter",
                    "node": "TSTypeParameter", "node_span": {"line": line, "column": 18, "end_line": line, "end_column": 23},
                    "duration_us": 120})
            } else {
                serde_json::json!({"parser": "oxc_parser 0.146", "message": "Expected `,` but found `{`",
                    "line": line, "column": 21, "duration_us": 95})
            },
            "total_sites": 2,
            "sites": [
                {"kind": "unexpected", "line": line, "column": 21, "end_line": line, "end_column": 22,
                 "context": ["formal_parameters", "function_declaration"], "tokens": ["{"]},
                {"kind": "missing", "line": line + 2, "column": 1, "end_line": line + 2, "end_column": 2,
                 "context": ["statement_block"], "tokens": ["}"]}
            ]
        })),
    }
}

fn group(group_id: i64, status: GroupStatus, files: i32, title: &str) -> GroupRecord {
    GroupRecord {
        group_id,
        repository: "web".into(),
        fingerprint: format!("fp{group_id}"),
        error_type: ErrorType::ParsingError,
        title: title.into(),
        status,
        note: None,
        first_seen_run: Some(1),
        first_seen_at: Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap(),
        last_seen_run: Some(7),
        last_seen_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 1).unwrap(),
        occurrences: i64::from(files) * 3,
        last_run_files: files,
    }
}

fn app() -> App {
    let mut app = App::new(Keymap::default(), Theme::load("dark", None).unwrap());
    app.cwd = "/src".into();
    app
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn press(app: &mut App, code: KeyCode) -> Vec<Command> {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| views::draw(frame, app)).unwrap();
    terminal
}

/// An app showing the errors of run 7 of `web`, as loaded from the store.
fn app_with_errors() -> App {
    let mut app = app();
    app.on_loaded(Loaded::Runs(vec![
        run(7, "web", RunStatus::Completed),
        run(6, "web", RunStatus::Cancelled),
    ]));
    app.on_action(snag::keymap::Action::ShowErrors);
    let rows = vec![
        error(
            11,
            ErrorType::ParsingError,
            "src/api/client.ts",
            3,
            "3:21 unexpected `{` in formal_parameters; 1 more syntax error",
        ),
        error(
            10,
            ErrorType::ParsingError,
            "src/legacy/widget.tsx",
            40,
            "40:5 missing `}` in class_body",
        ),
        error(
            9,
            ErrorType::EncodingError,
            "src/i18n/fr.ts",
            1,
            "1:17 invalid UTF-8 at byte 16 (0xE9)",
        ),
    ];
    let commands = app.on_action(snag::keymap::Action::Refresh);
    let Some(&Command::LoadErrors { generation, .. }) = commands
        .iter()
        .find(|c| matches!(c, Command::LoadErrors { .. }))
    else {
        panic!("the list loads errors: {commands:?}");
    };
    app.on_loaded(Loaded::Errors {
        generation,
        offset: 0,
        rows,
        total: Count::exact(3),
    });
    app
}

#[test]
fn runs_view() {
    let mut app = app();
    app.on_loaded(Loaded::Runs(vec![
        run(7, "web", RunStatus::Completed),
        run(6, "api-gateway", RunStatus::Failed),
        run(5, "web", RunStatus::Cancelled),
    ]));
    insta::assert_snapshot!(render(&app, 90, 10).backend());
}

#[test]
fn dashboard_after_a_run() {
    let mut app = app();
    app.on_loaded(Loaded::Runs(vec![run(7, "web", RunStatus::Completed)]));
    app.on_action(snag::keymap::Action::Open);
    assert_eq!(app.screen, Screen::Dashboard);
    app.on_loaded(Loaded::Dashboard(Box::new(RunDashboard {
        run: run(7, "web", RunStatus::Completed),
        counts: BTreeMap::from([(ErrorType::ParsingError, 8), (ErrorType::EncodingError, 1)]),
        split: FailureSplit {
            grammar_gaps: 5,
            invalid_source: 3,
            other: 1,
        },
        groups: vec![RunGroup {
            fingerprint: "fp1".into(),
            error_type: ErrorType::ParsingError,
            title: "unexpected `{` in formal_parameters".into(),
            files: 5,
            example_path: "src/api/client.ts".into(),
            example_line: Some(3),
        }],
        changes: GroupChanges {
            regressed: vec![group(
                2,
                GroupStatus::Regressed,
                2,
                "missing `}` in class_body",
            )],
            regressed_total: 1,
            new: vec![
                group(4, GroupStatus::Open, 1, "grammar gap: satisfies"),
                group(5, GroupStatus::Open, 1, "invalid UTF-8 at byte N (N)"),
            ],
            new_total: 2,
        },
        since: Some(FilesSince {
            run_id: 6,
            counts: DiffCounts {
                newly_failing: 3,
                fixed: 1,
                gone: 0,
                another_problem: 1,
                another_verdict: 2,
                still_failing: 4,
            },
        }),
    })));
    let terminal = render(&app, 90, 18);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("regressed      1 missing `}` in class_body"),
        "{screen}"
    );
    assert!(
        screen.contains("new groups     2 grammar gap: satisfies · invalid UTF-8"),
        "{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn dashboard_during_a_run() {
    let mut app = app();
    let progress = Arc::new(RunProgress::default());
    progress.discovered(40, true);
    for (i, outcome) in [
        Outcome::Indexed,
        Outcome::Indexed,
        Outcome::Partial,
        Outcome::Skipped,
    ]
    .iter()
    .enumerate()
    {
        let mut report = FileReport {
            rel_path: format!("src/f{i}.ts"),
            language: Some(snag::index::language::Language::TypeScript),
            outcome: *outcome,
            skip_reason: None,
            bytes: 100,
            chunks: Vec::new(),
            source_key: None,
            result_key: None,
            reused: None,
            errors: Vec::new(),
            health: None,
            duration: Duration::ZERO,
        };
        if *outcome == Outcome::Partial {
            report.errors.push(snag::index::outcome::FileError::new(
                ErrorType::ParsingError,
                "program",
                "1:1 x",
            ));
        }
        progress.record(&report);
    }
    progress.working_on("src/components/Table.tsx");
    app.on_loaded(Loaded::RunStarted {
        run_id: 8,
        repository: "web".into(),
        root: "/src/web".into(),
        progress,
        cancel: CancellationToken::new(),
    });
    assert!(app.is_animating());
    let terminal = render(&app, 90, 14);
    insta::with_settings!({filters => vec![(r"\d+ files/s, \d+\.\d MB/s(, ETA [\d.]+ \w+( \d+ \w+)?)?", "[rate]")]}, {
        insta::assert_snapshot!(terminal.backend());
    });
}

#[test]
fn list_with_a_type_filter_active() {
    let mut app = app_with_errors();
    let commands = app.on_key(key('1'));
    let Some(Command::LoadErrors { query, offset, .. }) = commands.first() else {
        panic!("a filter reloads at once: {commands:?}");
    };
    assert_eq!(
        (query.error_types.as_slice(), *offset),
        ([ErrorType::ParsingError].as_slice(), 0)
    );
    let Some(Command::LoadErrors { generation, .. }) = commands.first() else {
        unreachable!()
    };
    let rows = vec![
        error(
            11,
            ErrorType::ParsingError,
            "src/api/client.ts",
            3,
            "3:21 unexpected `{` in formal_parameters; 1 more syntax error",
        ),
        error(
            10,
            ErrorType::ParsingError,
            "src/legacy/widget.tsx",
            40,
            "40:5 missing `}` in class_body",
        ),
    ];
    app.on_loaded(Loaded::Errors {
        generation: *generation,
        offset: 0,
        rows,
        total: Count::exact(2),
    });
    insta::assert_snapshot!(render(&app, 100, 10).backend());
}

#[test]
fn grouped_list() {
    let mut app = app_with_errors();
    let Some(Command::LoadGroups { generation, .. }) = press(&mut app, KeyCode::Tab).pop() else {
        panic!("tab loads groups");
    };
    app.on_loaded(Loaded::Groups {
        generation,
        groups: vec![
            group(
                1,
                GroupStatus::Open,
                5,
                "unexpected `{` in formal_parameters",
            ),
            group(2, GroupStatus::Resolved, 2, "missing `}` in class_body"),
            group(3, GroupStatus::Regressed, 1, "invalid UTF-8 at byte N (N)"),
        ],
        total: 3,
    });
    insta::assert_snapshot!(render(&app, 100, 9).backend());
}

fn open_detail(app: &mut App) {
    let commands = press(app, KeyCode::Enter);
    let Some(Command::LoadDetail { generation, error }) = commands.first() else {
        panic!("enter opens the error: {commands:?}");
    };
    assert_eq!(app.screen, Screen::Detail);
    let lines: Vec<String> = [
        "import { get } from './http';",
        "",
        "export function fetchUser(id: string {",
        "  return get(`/users/${id}`);",
        "",
        "export const retries = 3;",
    ]
    .map(String::from)
    .to_vec();
    let file = FileText {
        path: format!("/src/web/{}", error.file_path).into(),
        extension: "ts".into(),
        lines,
        notice: None,
    };
    let generation = *generation;
    app.on_loaded(Loaded::Detail {
        generation,
        file,
        group: Some(Box::new(group(1, GroupStatus::Open, 5, "t"))),
        root: None,
    });
}

#[test]
fn drill_down_marks_the_error_line() {
    let mut app = app_with_errors();
    open_detail(&mut app);
    let terminal = render(&app, 110, 16);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("3 ▶ export function fetchUser(id: string {"),
        "{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_lists_every_binding() {
    let mut app = app();
    app.on_key(key('?'));
    assert!(matches!(app.overlay, Some(Overlay::Help(_))));
    let terminal = render(&app, 80, 80);
    let screen = terminal.backend().to_string();
    for text in [
        "filter: toggle parsing_error",
        "copy path:line",
        "start a new indexing run",
        "ctrl-c",
    ] {
        assert!(screen.contains(text), "{text} missing");
    }
    insta::assert_snapshot!(terminal.backend());
    app.on_key(key('?'));
    assert!(app.overlay.is_none());
}

#[test]
fn every_view_survives_any_size() {
    let mut app = app_with_errors();
    let mut screens = vec![render(&app, 40, 12)];
    open_detail(&mut app);
    for (w, h) in [(40, 12), (1, 1), (0, 0), (12, 3), (300, 80)] {
        screens.push(render(&app, w, h));
    }
    app.on_key(key('?'));
    screens.push(render(&app, 40, 12));
    app.on_key(key('?'));
    app.on_key(key('e'));
    screens.push(render(&app, 40, 12));
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);
    app.on_key(key('n'));
    screens.push(render(&app, 40, 12));
    screens.push(render(&app, 2, 2));
    assert_eq!(screens.len(), 10);
}

#[test]
fn filters_and_search_reload_from_the_first_row() {
    let mut app = app_with_errors();
    press(&mut app, KeyCode::Down);
    assert_eq!(app.list.selected, 1);
    app.on_key(key('2'));
    app.on_key(key('1'));
    assert_eq!(app.list.types.len(), 2);
    assert_eq!(app.list.selected, 0);
    app.on_key(key('0'));
    assert!(app.list.types.is_empty());
    app.on_key(key('/'));
    assert!(app.list.editing_text);
    // While typing, keys are text, not actions: `q` does not quit.
    for c in ['c', 'q'] {
        let commands = app.on_key(key(c));
        assert!(
            matches!(commands.as_slice(), [Command::LoadErrors { query, .. }] if query.text.is_some())
        );
    }
    assert!(!app.quit);
    assert_eq!(app.list.text, "cq");
    press(&mut app, KeyCode::Esc);
    assert!(!app.list.editing_text && app.list.text.is_empty());
    app.on_key(key('o'));
    assert_eq!(app.list.sort, ErrorSort::Path);
}

#[test]
fn the_verdict_key_cycles_the_filter_and_shows_it() {
    let mut app = app_with_errors();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let commands = app.on_key(key('v'));
        let [Command::LoadErrors { query, offset, .. }] = commands.as_slice() else {
            panic!("v reloads the list: {commands:?}");
        };
        assert_eq!(*offset, 0);
        assert_eq!(query.verdict, app.list.verdict);
        seen.push(app.list.verdict);
    }
    assert_eq!(
        seen,
        [
            Some(Verdict::GrammarGap),
            Some(Verdict::InvalidSource),
            Some(Verdict::Unknown),
            None
        ]
    );
    app.on_key(key('v'));
    let screen = render(&app, 100, 8).backend().to_string();
    assert!(screen.contains("verdict [grammar_gap]"), "{screen}");
}

#[test]
fn drill_down_shows_the_reference_parser_beside_the_sites() {
    let mut app = app_with_errors();
    press(&mut app, KeyCode::Down);
    open_detail(&mut app);
    let screen = render(&app, 140, 24).backend().to_string();
    for text in [
        "grammar gap",
        "oxc_parser 0.146 accepts the file",
        "TSTypeParameter at 40:18",
        "sites (2)",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
}

#[test]
fn stale_results_are_dropped() {
    let mut app = app_with_errors();
    let Some(Command::LoadErrors {
        generation: old, ..
    }) = app.on_key(key('1')).pop()
    else {
        panic!()
    };
    let Some(Command::LoadErrors {
        generation: new, ..
    }) = app.on_key(key('2')).pop()
    else {
        panic!()
    };
    app.on_loaded(Loaded::Errors {
        generation: new,
        offset: 0,
        rows: Vec::new(),
        total: Count::exact(0),
    });
    app.on_loaded(Loaded::Errors {
        generation: old,
        offset: 0,
        rows: vec![error(1, ErrorType::ParsingError, "a.ts", 1, "m")],
        total: Count::exact(1),
    });
    assert_eq!(app.list.total, 0, "the older answer arrived last but lost");
}

#[test]
fn scrolling_pages_from_the_database() {
    let mut app = app_with_a_long_list();
    let mut requested = None;
    for _ in 0..10 {
        for command in press(&mut app, KeyCode::PageDown) {
            if let Command::LoadErrors { offset, .. } = command {
                requested = Some(offset);
            }
        }
    }
    assert_eq!(app.list.selected, 290);
    assert!(
        requested.is_some_and(|o| o > 0 && o <= 290),
        "{requested:?}"
    );
    let commands = press(&mut app, KeyCode::End);
    assert_eq!(app.list.selected, 99_999);
    assert!(commands.is_empty() || matches!(commands[0], Command::LoadErrors { .. }));
}

#[test]
fn sites_jump_and_triage_keys_act_on_the_group() {
    let mut app = app_with_errors();
    open_detail(&mut app);
    let detail = app.detail.as_ref().unwrap();
    assert_eq!(detail.sites().len(), 2);
    app.on_key(key('n'));
    assert_eq!(app.detail.as_ref().unwrap().site, 1);
    app.on_key(key('N'));
    assert_eq!(app.detail.as_ref().unwrap().site, 0);
    let commands = app.on_key(key('i'));
    assert!(
        matches!(
            commands.as_slice(),
            [Command::Triage {
                groups,
                change: Triage::Status(GroupStatus::Ignored)
            }] if groups.ids == [1]
        ),
        "{commands:?}"
    );
    let commands = app.on_key(key('R'));
    assert!(matches!(
        commands.as_slice(),
        [Command::Triage {
            change: Triage::Status(GroupStatus::Resolved),
            ..
        }]
    ));
    let commands = app.on_key(key('y'));
    assert!(
        matches!(commands.as_slice(), [Command::Copy(text)] if text == "/src/web/src/api/client.ts:3"),
        "{commands:?}"
    );
    let commands = app.on_key(key('E'));
    assert!(matches!(
        commands.as_slice(),
        [Command::OpenInEditor {
            line: 3,
            column: 21,
            ..
        }]
    ));
    // A note: typed into the editor, saved with ctrl-s.
    app.on_key(key('e'));
    for c in "see #12".chars() {
        app.on_key(key(c));
    }
    let commands = app.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert!(
        matches!(commands.as_slice(), [Command::Triage { groups, change: Triage::Note(note) }]
            if groups.ids == [1] && note == "see #12")
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen, Screen::List);
}

#[test]
fn quitting_with_a_run_going_asks_first_and_cancels_it() {
    let mut app = app();
    let cancel = CancellationToken::new();
    app.on_loaded(Loaded::RunStarted {
        run_id: 3,
        repository: "web".into(),
        root: "/src/web".into(),
        progress: Arc::new(RunProgress::default()),
        cancel: cancel.clone(),
    });
    app.on_key(key('q'));
    assert!(!app.quit && matches!(app.overlay, Some(Overlay::ConfirmQuit)));
    app.on_key(key('n'));
    assert!(!app.quit && app.overlay.is_none());
    app.on_key(key('q'));
    app.on_key(key('y'));
    assert!(app.quit && cancel.is_cancelled());
}

#[test]
fn new_run_form_validates_and_starts() {
    let mut app = app();
    app.on_key(key('n'));
    assert!(matches!(app.overlay, Some(Overlay::NewRun(_))));
    // The path field starts with the current directory; replace it.
    for _ in 0..10 {
        press(&mut app, KeyCode::Backspace);
    }
    for c in "/nonexistent".chars() {
        app.on_key(key(c));
    }
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    let dir = tempfile::tempdir().unwrap();
    let Some(Overlay::NewRun(form)) = &mut app.overlay else {
        panic!()
    };
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("not a directory"))
    );
    form.fields[0] = ratatui_textarea::TextArea::from([dir.path().display().to_string()]);
    press(&mut app, KeyCode::Tab);
    for c in "my-repo".chars() {
        app.on_key(key(c));
    }
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    app.on_key(key(' '));
    let commands = press(&mut app, KeyCode::Enter);
    let [Command::StartRun(run)] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    assert_eq!(run.repository, "my-repo");
    assert!(run.include_tests);
    assert!(!run.full, "runs are incremental unless asked");
}

#[test]
fn highlighting_is_applied_to_the_visible_window() {
    let mut app = app_with_errors();
    open_detail(&mut app);
    let file = app.detail.as_ref().unwrap().file.clone().unwrap();
    let window = highlight_window(
        &file.lines,
        "ts",
        Some("Monokai Extended"),
        0,
        file.lines.len(),
    );
    let generation = {
        // The view asks for highlighting once the file is there.
        let commands = app.highlight_if_needed();
        match commands.as_slice() {
            [Command::Highlight { generation, .. }] => *generation,
            [] => panic!("highlighting was requested already"),
            other => panic!("{other:?}"),
        }
    };
    app.on_loaded(Loaded::Highlighted { generation, window });
    let terminal = render(&app, 110, 12);
    let styled = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| matches!(c.fg, ratatui::style::Color::Rgb(..)))
        .count();
    assert!(styled > 20, "{styled} highlighted cells");
}

/// Highlighting asked for one file that arrives after another file was
/// opened must not stand in for the new file's (a late answer under load).
#[test]
fn a_late_highlight_of_the_previous_file_is_not_shown() {
    let mut app = app_with_errors();
    open_detail(&mut app);
    let first = app.highlight_if_needed();
    let [Command::Highlight { generation, .. }] = first.as_slice() else {
        panic!("the first file is highlighted")
    };
    let stale = *generation;
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Down);
    let commands = press(&mut app, KeyCode::Enter);
    let Some(Command::LoadDetail { generation, error }) = commands.first() else {
        panic!("enter opens the second error: {commands:?}");
    };
    let (generation, path) = (*generation, error.file_path.clone());
    // The first file's highlighting arrives now, before the second file.
    let window = snag::tui::highlight::HighlightedWindow {
        first: 0,
        lines: vec![ratatui::text::Line::from("STALE LINE"); 60],
    };
    app.on_loaded(Loaded::Highlighted {
        generation: stale,
        window,
    });
    app.on_loaded(Loaded::Detail {
        generation,
        file: FileText {
            path: format!("/src/web/{path}").into(),
            extension: "ts".into(),
            lines: (1..=50).map(|n| format!("second file line {n}")).collect(),
            notice: None,
        },
        group: None,
        root: None,
    });
    let screen = render(&app, 110, 12).backend().to_string();
    assert!(!screen.contains("STALE LINE"), "{screen}");
    assert!(screen.contains("second file line 40"), "{screen}");
    assert!(
        !app.highlight_if_needed().is_empty(),
        "the second file is highlighted in its turn"
    );
}

#[test]
fn the_drill_down_lists_a_files_problems_and_jumps_between_them() {
    let mut app = app_with_errors();
    {
        // The first row: a gap, its mistake (the primary problem) and a gap.
        let error = app.list.selected_error().cloned().unwrap();
        let problem = |verdict: &str, line: u32, construct: &str, message: &str| {
            serde_json::json!({"verdict": verdict, "construct": construct, "message": message,
                "line": line, "column": 3, "end_line": line, "end_column": 8, "sites": 1,
                "fingerprint": format!("fp-{line}"), "title": format!("{verdict}: {construct}")})
        };
        let mut details = serde_json::to_value(&error.details).unwrap();
        details["problems"] = serde_json::json!([
            problem(
                "grammar_gap",
                1,
                "variance annotation on a type parameter",
                "variance annotation on a type parameter"
            ),
            problem(
                "invalid_source",
                3,
                "formal_parameters",
                "Expected `,` or `)` but found `{`"
            ),
            problem(
                "grammar_gap",
                5,
                "generic call signature in an interface",
                "generic call signature in an interface"
            ),
        ]);
        let mut with_problems = error.clone();
        with_problems.details = ErrorDetails::from_stored(details);
        assert_eq!(with_problems.details.problems.len(), 3);
        app.list.rows[0] = with_problems;
    }
    open_detail(&mut app);
    assert_eq!(
        app.detail.as_ref().unwrap().site,
        1,
        "opened at the mistake"
    );
    let screen = render(&app, 240, 40).backend().to_string();
    for text in [
        "problems (2/3) — n/N to jump",
        "1:3 gap     variance annotation on a type parameter",
        "3:3 invalid Expected `,` or `)` but found `{` (formal_parameters)",
        "tree-sitter sites (2)",
    ] {
        assert!(screen.contains(text), "{text} missing:\n{screen}");
    }
    app.on_key(key('n'));
    assert_eq!(app.detail.as_ref().unwrap().site, 2);
    let commands = app.on_key(key('y'));
    assert!(
        matches!(commands.as_slice(), [Command::Copy(text)] if text.ends_with(":5")),
        "{commands:?}"
    );
    app.on_key(key('n'));
    assert_eq!(app.detail.as_ref().unwrap().site, 2, "stays at the last");
    app.on_key(key('N'));
    app.on_key(key('N'));
    assert_eq!(app.detail.as_ref().unwrap().site, 0);
}

/// A list of 100,000 errors with its first 200 rows loaded.
fn app_with_a_long_list() -> App {
    let mut app = app_with_errors();
    let rows: Vec<ErrorRecord> = (0..200)
        .map(|i| error(1000 - i, ErrorType::ParsingError, "a.ts", 1, "m"))
        .collect();
    let Some(Command::LoadErrors { generation, .. }) =
        app.on_action(snag::keymap::Action::Refresh).pop()
    else {
        panic!("the list loads errors")
    };
    app.on_loaded(Loaded::Errors {
        generation,
        offset: 0,
        rows,
        total: Count::exact(100_000),
    });
    app.list.visible_rows.set(30);
    app
}

/// PageDown until a page is asked for; its generation and offset.
fn page_down_until_a_page_is_asked(app: &mut App) -> (u64, i64) {
    for _ in 0..20 {
        for command in press(app, KeyCode::PageDown) {
            if let Command::LoadErrors {
                generation, offset, ..
            } = command
            {
                return (generation, offset);
            }
        }
    }
    panic!("no page was asked for");
}

fn rows_from(offset: i64) -> Vec<ErrorRecord> {
    (0..200)
        .map(|i| {
            error(
                100_000 - offset - i,
                ErrorType::ParsingError,
                "a.ts",
                1,
                "m",
            )
        })
        .collect()
}

#[test]
fn an_error_opened_while_a_page_loads_does_not_lose_the_page() {
    let mut app = app_with_a_long_list();
    let (generation, offset) = page_down_until_a_page_is_asked(&mut app);
    assert!(app.list.loading);
    // Back onto a loaded row, and Enter while the page loads: a detail
    // request of its own.
    for _ in 0..10 {
        assert!(press(&mut app, KeyCode::Up).is_empty());
    }
    let commands = press(&mut app, KeyCode::Enter);
    assert!(matches!(commands.as_slice(), [Command::LoadDetail { .. }]));
    press(&mut app, KeyCode::Esc);
    app.on_loaded(Loaded::Errors {
        generation,
        offset,
        rows: rows_from(offset),
        total: Count::exact(100_000),
    });
    assert!(!app.list.loading, "the page's answer still counts");
    assert_eq!(app.list.window_offset, offset);
    assert!(app.list.selected_error().is_some());
}

#[test]
fn a_failed_page_clears_its_loading_state_and_says_why() {
    let mut app = app_with_a_long_list();
    let (generation, _) = page_down_until_a_page_is_asked(&mut app);
    app.on_loaded(Loaded::Failed {
        kind: RequestKind::List,
        generation,
        message: "the database went away".into(),
    });
    assert!(!app.list.loading);
    assert_eq!(app.status.as_deref(), Some("the database went away"));
    // The next key asks again.
    let (_, offset) = page_down_until_a_page_is_asked(&mut app);
    assert!(offset > 0);
}

#[test]
fn a_burst_of_page_downs_ends_on_the_selections_page() {
    let mut app = app_with_a_long_list();
    let (generation, offset) = page_down_until_a_page_is_asked(&mut app);
    // Held down: thirty more while the page loads ask for nothing more.
    for _ in 0..30 {
        assert!(press(&mut app, KeyCode::PageDown).is_empty());
    }
    let selected = app.list.selected;
    // The page arrives for where the selection was: the selection's own
    // page is asked for at once, without another key.
    let commands = app.on_loaded(Loaded::Errors {
        generation,
        offset,
        rows: rows_from(offset),
        total: Count::exact(100_000),
    });
    let [
        Command::LoadErrors {
            generation: next,
            offset: next_offset,
            ..
        },
    ] = commands.as_slice()
    else {
        panic!("the selection's page is asked for: {commands:?}");
    };
    assert!(
        (*next_offset..*next_offset + 200).contains(&selected),
        "{next_offset} for {selected}"
    );
    let commands = app.on_loaded(Loaded::Errors {
        generation: *next,
        offset: *next_offset,
        rows: rows_from(*next_offset),
        total: Count::exact(100_000),
    });
    assert!(commands.is_empty());
    assert!(!app.list.loading);
    assert!(
        app.list.selected_error().is_some(),
        "the selection has its row"
    );
}

#[test]
fn a_failed_detail_says_so_instead_of_loading_forever() {
    let mut app = app_with_errors();
    let commands = press(&mut app, KeyCode::Enter);
    let [Command::LoadDetail { generation, .. }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    app.on_loaded(Loaded::Failed {
        kind: RequestKind::Detail,
        generation: *generation,
        message: "no such run".into(),
    });
    let screen = render(&app, 120, 20).backend().to_string();
    assert!(
        screen.contains("cannot load the file: no such run"),
        "{screen}"
    );
}

#[test]
fn filters_belong_to_their_view_and_a_group_shows_its_title() {
    let mut app = app_with_errors();
    let type_text = |app: &mut App, text: &str| {
        press(app, KeyCode::Char('/'));
        for c in text.chars() {
            app.on_key(key(c));
        }
        press(app, KeyCode::Enter);
    };
    let Some(Command::LoadGroups { generation, .. }) = press(&mut app, KeyCode::Tab).pop() else {
        panic!("tab loads groups");
    };
    let groups = vec![group(
        1,
        GroupStatus::Open,
        5,
        "grammar gap: variance annotation",
    )];
    app.on_loaded(Loaded::Groups {
        generation,
        groups: groups.clone(),
        total: 1,
    });
    type_text(&mut app, "gap");
    assert_eq!(app.list.group_text, "gap");
    // `o` has nothing to sort in the groups view.
    assert!(press(&mut app, KeyCode::Char('o')).is_empty());
    assert_eq!(
        app.status.as_deref(),
        Some("groups are ordered by files affected")
    );
    let Some(Command::LoadGroups {
        generation, query, ..
    }) = app.on_action(snag::keymap::Action::Refresh).pop()
    else {
        panic!("the groups reload");
    };
    assert_eq!(query.text.as_deref(), Some("gap"));
    app.on_loaded(Loaded::Groups {
        generation,
        groups,
        total: 1,
    });

    // Into the group: its errors, unfiltered, under the group's title.
    let commands = press(&mut app, KeyCode::Enter);
    let [Command::LoadErrors { query, .. }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(query.text, None);
    assert_eq!(query.fingerprint.as_deref(), Some("fp1"));
    let screen = render(&app, 140, 10).backend().to_string();
    assert!(
        screen.contains("group: grammar gap: variance annotation"),
        "{screen}"
    );
    type_text(&mut app, "widget");
    assert_eq!(app.list.text, "widget");

    // Back to the groups: their own filter, not the group's.
    let commands = press(&mut app, KeyCode::Esc);
    let [Command::LoadGroups { query, .. }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(query.text.as_deref(), Some("gap"));
    assert!(app.list.text.is_empty());
    let screen = render(&app, 140, 10).backend().to_string();
    assert!(
        screen.contains("/gap") && !screen.contains("widget"),
        "{screen}"
    );
    assert!(!screen.contains("sort:"), "{screen}");
}

/// The first row's error with `count` problems, one per line from line 1,
/// each at column 100 of a long line.
fn app_with_many_problems(count: u32) -> App {
    let mut app = app_with_errors();
    let error = app.list.selected_error().cloned().unwrap();
    let problems: Vec<serde_json::Value> = (1..=count)
        .map(|line| {
            serde_json::json!({"verdict": "grammar_gap", "construct": format!("construct {line}"),
                "message": "m", "line": line, "column": 100, "end_line": line, "end_column": 104,
                "sites": 1, "fingerprint": format!("fp-{line}"), "title": format!("gap {line}")})
        })
        .collect();
    let mut details = serde_json::to_value(&error.details).unwrap();
    details["problems"] = serde_json::Value::Array(problems);
    app.list.rows[0].details = ErrorDetails::from_stored(details);
    let commands = press(&mut app, KeyCode::Enter);
    let Some(Command::LoadDetail { generation, .. }) = commands.first() else {
        panic!("enter opens the error: {commands:?}");
    };
    let lines = (1..=count + 10)
        .map(|n| format!("{}HERE{n}", "x".repeat(99)))
        .collect();
    app.on_loaded(Loaded::Detail {
        generation: *generation,
        file: FileText {
            path: "/src/web/src/api/client.ts".into(),
            extension: "ts".into(),
            lines,
            notice: None,
        },
        group: None,
        root: None,
    });
    app
}

#[test]
fn the_drill_down_panes_scroll_and_count_their_position() {
    let mut app = app_with_many_problems(40);
    // Drawn once so the panes know their size, as the real loop does.
    render(&app, 100, 20);
    let screen = render(&app, 100, 20).backend().to_string();
    assert!(screen.contains("site 1/40"), "{screen}");
    assert!(
        screen.contains("HERE1"),
        "the site at column 100 is scrolled into view:\n{screen}"
    );
    for _ in 0..25 {
        app.on_key(key('n'));
        render(&app, 100, 20);
    }
    let screen = render(&app, 100, 20).backend().to_string();
    assert!(screen.contains("site 26/40"), "{screen}");
    assert!(
        screen.contains("26:100 gap     construct 26"),
        "the error pane follows the current problem:\n{screen}"
    );
    assert!(!screen.contains("traceback"), "{screen}");
    // Tab focuses the error pane; G scrolls it to its end.
    press(&mut app, KeyCode::Tab);
    app.on_key(key('G'));
    let terminal = render(&app, 100, 20);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("traceback"),
        "the traceback is reachable:\n{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
    // h back to the source: keys scroll it again, and it scrolls sideways.
    app.on_key(key('h'));
    let scroll = app.detail.as_ref().unwrap().scroll;
    app.on_key(key('j'));
    assert_eq!(app.detail.as_ref().unwrap().scroll, scroll + 1);
    let column = app.detail.as_ref().unwrap().column;
    press(&mut app, KeyCode::Left);
    assert!(app.detail.as_ref().unwrap().column < column);
    app.on_key(key('L'));
    assert_eq!(app.detail.as_ref().unwrap().column, column);
}

#[test]
fn help_scrolls_when_it_does_not_fit() {
    let mut app = app();
    app.on_key(key('?'));
    let screen = render(&app, 90, 20).backend().to_string();
    assert!(screen.contains("j/k scroll"), "{screen}");
    assert!(!screen.contains("Keys can be changed"), "{screen}");
    app.on_key(key('G'));
    let screen = render(&app, 90, 20).backend().to_string();
    assert!(
        screen.contains("Keys can be changed"),
        "the end is reachable:\n{screen}"
    );
    app.on_key(key('g'));
    let screen = render(&app, 90, 20).backend().to_string();
    assert!(screen.contains("everywhere"), "{screen}");
    app.on_key(key('q'));
    assert!(app.overlay.is_none());
}

/// The grouped list of `app_with_errors`, three groups loaded.
fn app_with_groups() -> App {
    let mut app = app_with_errors();
    let Some(Command::LoadGroups { generation, .. }) = press(&mut app, KeyCode::Tab).pop() else {
        panic!("tab loads groups");
    };
    app.on_loaded(Loaded::Groups {
        generation,
        groups: vec![
            group(
                1,
                GroupStatus::Open,
                5,
                "unexpected `{` in formal_parameters",
            ),
            group(2, GroupStatus::Regressed, 2, "missing `}` in class_body"),
            group(3, GroupStatus::Open, 1, "invalid UTF-8 at byte N (N)"),
        ],
        total: 3,
    });
    app
}

#[test]
fn marked_rows_are_triaged_together_after_one_question() {
    let mut app = app_with_groups();
    // Space marks the row and moves on: groups 1 and 2.
    app.on_key(key(' '));
    app.on_key(key(' '));
    assert_eq!(app.list.group_selected, 2);
    assert!(app.on_key(key('R')).is_empty(), "asks first");
    let terminal = render(&app, 100, 9);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("mark 2 marked groups resolved? y confirms, any other key cancels"),
        "{screen}"
    );
    assert!(screen.contains("groups 3/3 · 2 marked"), "{screen}");
    insta::assert_snapshot!(terminal.backend());
    // Turned down: nothing changes, the marks stay.
    assert!(app.on_key(key('n')).is_empty());
    assert_eq!(app.status.as_deref(), Some("cancelled: nothing changed"));
    assert_eq!(app.list.marks(), 2);
    app.on_key(key('R'));
    let commands = app.on_key(key('y'));
    let [Command::Triage { groups, change }] = commands.as_slice() else {
        panic!("y carries it out: {commands:?}");
    };
    assert_eq!(groups.ids, [1, 2]);
    assert_eq!(*change, Triage::Status(GroupStatus::Resolved));
    let resolved = [1, 2].map(|id| {
        let mut g = group(id, GroupStatus::Resolved, 1, "t");
        g.fingerprint = format!("fp{id}");
        g
    });
    app.on_loaded(Loaded::Triaged {
        groups: resolved.to_vec(),
        change: change.clone(),
    });
    assert_eq!(app.status.as_deref(), Some("2 groups are now resolved"));
    assert_eq!(app.list.marks(), 0, "done marks go");
    assert_eq!(app.list.groups[1].status, GroupStatus::Resolved);
    // A note on marked rows: one editor, saved on each.
    app.on_key(key('k'));
    app.on_key(key(' '));
    app.on_key(key('e'));
    let terminal = render(&app, 100, 16);
    assert!(
        terminal
            .backend()
            .to_string()
            .contains("note on 1 marked group"),
        "{}",
        terminal.backend()
    );
    insta::assert_snapshot!("note_on_marked_groups", terminal.backend());
    for c in "upstream".chars() {
        app.on_key(key(c));
    }
    let commands = app.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert!(
        matches!(commands.as_slice(), [Command::Triage { groups, change: Triage::Note(note) }]
            if groups.ids == [2] && note == "upstream"),
        "{commands:?}"
    );
    // Esc clears marks before it leaves the list.
    app.on_key(key(' '));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.list.marks(), 0);
    assert_eq!(app.screen, Screen::List);
}

#[test]
fn marked_errors_triage_their_groups_by_fingerprint() {
    let mut app = app_with_errors();
    app.on_key(key(' '));
    app.on_key(key(' '));
    app.on_key(key('i'));
    let commands = app.on_key(key('y'));
    let [Command::Triage { groups, change }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(groups.repository, "web");
    assert_eq!(groups.fingerprints, ["fp0", "fp1"]);
    assert_eq!(*change, Triage::Status(GroupStatus::Ignored));
    let ignored = [0, 1].map(|n| {
        let mut g = group(n + 5, GroupStatus::Ignored, 1, "t");
        g.fingerprint = format!("fp{n}");
        g
    });
    app.on_loaded(Loaded::Triaged {
        groups: ignored.to_vec(),
        change: change.clone(),
    });
    assert_eq!(app.list.marks(), 0);
    // Unmarked, a triage key acts on the selected error's group at once.
    let commands = app.on_key(key('O'));
    assert!(
        matches!(commands.as_slice(), [Command::Triage { groups, .. }] if groups.fingerprints == ["fp1"]),
        "{commands:?}"
    );
    app.on_loaded(Loaded::Triaged {
        groups: vec![group(
            4,
            GroupStatus::Open,
            1,
            "unexpected `{` in formal_parameters",
        )],
        change: Triage::Status(GroupStatus::Open),
    });
    assert_eq!(
        app.status.as_deref(),
        Some("group “unexpected `{` in formal_parameters” is now open")
    );
}

#[test]
fn groups_hide_resolved_and_ignored_by_default_and_the_bar_counts() {
    let mut app = app_with_errors();
    app.on_loaded(Loaded::Facets {
        run_id: 7,
        facets: ErrorFacets {
            types: BTreeMap::from([
                (ErrorType::ParsingError, 412),
                (ErrorType::EncodingError, 3),
            ]),
            verdicts: BTreeMap::from([(Verdict::GrammarGap, 300), (Verdict::InvalidSource, 112)]),
        },
    });
    let screen = render(&app, 120, 10).backend().to_string();
    assert!(
        screen.contains("1:parsing 412 2:encoding 3 3:chunking"),
        "{screen}"
    );
    assert!(
        screen.contains("verdict (all) gap 300 invalid 112"),
        "{screen}"
    );
    // The group list asks for open and regressed groups first.
    let commands = press(&mut app, KeyCode::Tab);
    let [Command::LoadGroups { query, .. }] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert_eq!(
        query.statuses,
        [GroupStatus::Open, GroupStatus::Regressed],
        "unresolved by default"
    );
    assert_eq!(query.first_seen_run, None);
    // f cycles the status; n keeps only the groups new in the run.
    let commands = app.on_key(key('f'));
    assert!(
        matches!(commands.as_slice(), [Command::LoadGroups { query, .. }] if query.statuses == [GroupStatus::Regressed]),
        "{commands:?}"
    );
    let commands = app.on_key(key('n'));
    let [
        Command::LoadGroups {
            generation, query, ..
        },
    ] = commands.as_slice()
    else {
        panic!("{commands:?}");
    };
    assert_eq!(query.first_seen_run, Some(7));
    app.on_loaded(Loaded::Groups {
        generation: *generation,
        groups: Vec::new(),
        total: 0,
    });
    let terminal = render(&app, 120, 10);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("status [regressed]   [new in this run]"),
        "{screen}"
    );
    assert!(
        screen.contains("no regressed groups match (f shows other statuses)"),
        "{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
    // The status keys, pressed in the error list, show the groups.
    app.on_key(key('v'));
    assert!(!app.list.grouped);
    app.on_key(key('f'));
    assert!(app.list.grouped);
}

#[test]
fn an_empty_list_says_whether_filters_hide_rows() {
    let mut app = app_with_errors();
    let commands = app.on_action(snag::keymap::Action::Refresh);
    let Some(Command::LoadErrors { generation, .. }) = commands.last() else {
        panic!("{commands:?}");
    };
    app.on_loaded(Loaded::Errors {
        generation: *generation,
        offset: 0,
        rows: Vec::new(),
        total: Count::exact(0),
    });
    let screen = render(&app, 120, 10).backend().to_string();
    assert!(screen.contains("no errors in this run"), "{screen}");
    let Some(Command::LoadErrors { generation, .. }) = app.on_key(key('1')).pop() else {
        panic!("a type filter reloads");
    };
    app.on_loaded(Loaded::Errors {
        generation,
        offset: 0,
        rows: Vec::new(),
        total: Count::exact(0),
    });
    let screen = render(&app, 120, 10).backend().to_string();
    assert!(screen.contains("no errors match the filters"), "{screen}");
}

fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    let mut commands = Vec::new();
    for c in text.chars() {
        commands.extend(app.on_key(key(c)));
    }
    commands
}

#[test]
fn the_command_line_completes_and_runs_commands() {
    let mut app = app();
    app.on_loaded(Loaded::Runs(vec![run(7, "web", RunStatus::Completed)]));
    // r re-runs the selected run; so does :rerun, completed with Tab.
    assert!(matches!(
        app.on_key(key('r')).as_slice(),
        [Command::Rerun { run_id: 7 }]
    ));
    app.on_key(key(':'));
    let terminal = render(&app, 90, 14);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("rerun  index the run's directory again"),
        "{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
    type_text(&mut app, "re");
    press(&mut app, KeyCode::Tab);
    let screen = render(&app, 90, 14).backend().to_string();
    assert!(
        screen.contains(" rerun") && screen.contains(" repro"),
        "{screen}"
    );
    press(&mut app, KeyCode::Tab);
    assert!(matches!(
        press(&mut app, KeyCode::Enter).as_slice(),
        [Command::Rerun { run_id: 7 }]
    ));
    assert!(app.overlay.is_none());
    // A mistake keeps the line open and says why.
    app.on_key(key(':'));
    type_text(&mut app, "explode");
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    let screen = render(&app, 90, 14).backend().to_string();
    assert!(screen.contains("unknown command `explode`"), "{screen}");
    app.on_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "run /no/such/dir");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.status.as_deref(),
        Some("`/no/such/dir` is not a directory")
    );
    // :theme switches the colours at once.
    app.on_key(key(':'));
    type_text(&mut app, "theme light");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.theme.name, "light");
    app.on_key(key(':'));
    type_text(&mut app, "q");
    press(&mut app, KeyCode::Enter);
    assert!(app.quit);
}

#[test]
fn repro_and_copy_issue_work_on_the_open_error() {
    let mut app = app_with_errors();
    open_detail(&mut app);
    app.on_key(key(':'));
    type_text(&mut app, "copy issue");
    let commands = press(&mut app, KeyCode::Enter);
    let [Command::Copy(issue)] = commands.as_slice() else {
        panic!("{commands:?}");
    };
    assert!(issue.starts_with("### "), "{issue}");
    assert!(
        issue.contains("- **Where:** src/api/client.ts:3:21"),
        "{issue}"
    );
    assert!(
        issue.contains(">    3 | export function fetchUser(id: string {"),
        "{issue}"
    );
    assert!(
        app.status
            .as_deref()
            .unwrap()
            .starts_with("copied the issue as Markdown")
    );
    app.on_key(key(':'));
    type_text(&mut app, "repro");
    let commands = press(&mut app, KeyCode::Enter);
    assert!(
        matches!(commands.as_slice(), [Command::Repro { groups }] if groups.ids == [1]),
        "{commands:?}"
    );
    // The reduced file arrives in a box that scrolls.
    let text = (1..=40).map(|n| format!("line {n}\n")).collect::<String>();
    app.on_loaded(Loaded::Text {
        title: "repro: grammar gap: satisfies".into(),
        text,
    });
    let screen = render(&app, 110, 20).backend().to_string();
    assert!(
        screen.contains("repro: grammar gap: satisfies 1–18/40"),
        "{screen}"
    );
    app.on_key(key('G'));
    let screen = render(&app, 110, 20).backend().to_string();
    assert!(screen.contains("line 40"), "{screen}");
    press(&mut app, KeyCode::Esc);
    assert!(app.overlay.is_none());
}

#[test]
fn the_runs_cursor_follows_its_run_and_an_empty_list_says_so() {
    let mut app = app();
    app.on_loaded(Loaded::Runs(vec![
        run(7, "web", RunStatus::Completed),
        run(6, "web", RunStatus::Completed),
    ]));
    app.on_key(key('j'));
    assert_eq!(app.runs.selected_run().unwrap().run_id, 6);
    // A new run appears on top: the cursor stays on run 6.
    app.on_loaded(Loaded::Runs(vec![
        run(8, "web", RunStatus::Running),
        run(7, "web", RunStatus::Completed),
        run(6, "web", RunStatus::Completed),
    ]));
    assert_eq!(app.runs.selected_run().unwrap().run_id, 6);
    // Run 6 has no errors (a later run's files do not change it).
    let commands = app.on_key(key('l'));
    let Some(Command::LoadErrors { generation, .. }) = commands.last() else {
        panic!("{commands:?}");
    };
    app.on_loaded(Loaded::Errors {
        generation: *generation,
        offset: 0,
        rows: Vec::new(),
        total: Count::exact(0),
    });
    let screen = render(&app, 120, 8).backend().to_string();
    assert!(screen.contains("no errors in this run"), "{screen}");
}

#[test]
fn long_paths_keep_their_file_name_and_line() {
    let mut app = app_with_errors();
    app.list.rows[0].file_path =
        "packages/very/deeply/nested/folder/structure/of/the/monorepo/src/client.ts".into();
    let screen = render(&app, 120, 10).backend().to_string();
    assert!(screen.contains("…"), "{screen}");
    assert!(screen.contains("src/client.ts:3"), "{screen}");
}

#[test]
fn one_error_type_charts_the_verdicts_instead() {
    let mut app = app();
    app.on_loaded(Loaded::Runs(vec![run(7, "web", RunStatus::Completed)]));
    app.on_action(snag::keymap::Action::Open);
    app.on_loaded(Loaded::Dashboard(Box::new(RunDashboard {
        run: run(7, "web", RunStatus::Completed),
        counts: BTreeMap::from([(ErrorType::ParsingError, 9)]),
        split: FailureSplit {
            grammar_gaps: 6,
            invalid_source: 2,
            other: 1,
        },
        groups: Vec::new(),
        changes: GroupChanges::default(),
        since: None,
    })));
    let terminal = render(&app, 90, 16);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("failing files by verdict"), "{screen}");
    assert!(!screen.contains("errors by type"), "{screen}");
    insta::assert_snapshot!(terminal.backend());
}

/// A run's dashboard with nothing but its row.
fn bare_dashboard(run: RunRecord) -> Loaded {
    Loaded::Dashboard(Box::new(RunDashboard {
        run,
        counts: BTreeMap::new(),
        split: FailureSplit::default(),
        groups: Vec::new(),
        changes: GroupChanges::default(),
        since: None,
    }))
}

#[test]
fn a_run_going_on_in_another_process_is_followed_from_its_row() {
    let mut app = app();
    let mut elsewhere = run(9, "web", RunStatus::Running);
    elsewhere.files_total = 120;
    elsewhere.files_indexed = 110;
    elsewhere.files_partial = 4;
    elsewhere.files_failed = 3;
    elsewhere.files_skipped = 3;
    elsewhere.files_discovered = Some(360);
    app.on_loaded(Loaded::Runs(vec![elsewhere.clone()]));
    let screen = render(&app, 100, 6).backend().to_string();
    assert!(screen.contains("● 1 running (0 here)"), "{screen}");
    assert!(screen.contains("120/360"), "{screen}");
    assert!(app.is_animating(), "its figures change by themselves");
    assert!(matches!(app.on_frame(10).as_slice(), [Command::LoadRuns]));
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    app.on_loaded(bare_dashboard(elsewhere));
    let screen = render(&app, 100, 16).backend().to_string();
    assert!(screen.contains("120/360 files"), "{screen}");
    assert!(app.is_animating());
    assert!(app.on_frame(3).is_empty(), "once a second, not every frame");
    assert!(matches!(
        app.on_frame(20).as_slice(),
        [Command::LoadDashboard { run_id: 9 }]
    ));
}

#[test]
fn a_cancelled_runs_bar_shows_how_far_it_got_in_words() {
    let mut app = app();
    let mut cancelled = run(5, "web", RunStatus::Cancelled);
    cancelled.files_total = 120;
    cancelled.files_indexed = 100;
    cancelled.files_partial = 10;
    cancelled.files_failed = 6;
    cancelled.files_skipped = 4;
    cancelled.files_discovered = Some(360);
    cancelled.finished_at = Some(cancelled.started_at + chrono::Duration::milliseconds(1_328_200));
    app.on_loaded(Loaded::Runs(vec![cancelled.clone()]));
    let screen = render(&app, 100, 6).backend().to_string();
    assert!(screen.contains("120/360"), "{screen}");
    assert!(screen.contains("22 min 8 s"), "{screen}");
    app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    app.on_loaded(bare_dashboard(cancelled));
    let terminal = render(&app, 100, 16);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("120 of 360 files before it cancelled after 22 min 8 s"),
        "{screen}"
    );
    assert!(!app.is_animating());
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn pages_under_the_same_filters_are_not_counted_again() {
    let mut app = app_with_a_long_list();
    let mut asked = None;
    for _ in 0..20 {
        for command in press(&mut app, KeyCode::PageDown) {
            if let Command::LoadErrors { total, offset, .. } = command {
                asked = Some((total, offset));
            }
        }
        if asked.is_some() {
            break;
        }
    }
    let (total, offset) = asked.expect("paging down asks for a page");
    assert!(offset > 0);
    assert_eq!(
        total,
        Counting::Known(Count::exact(100_000)),
        "the known total travels with the page"
    );
    // A new filter counts again.
    let commands = app.on_key(key('1'));
    assert!(
        matches!(
            commands.as_slice(),
            [Command::LoadErrors {
                total: Counting::UpTo,
                offset: 0,
                ..
            }]
        ),
        "{commands:?}"
    );
}

#[test]
fn a_count_that_stopped_short_says_so_and_the_end_counts_in_full() {
    let mut app = app_with_errors();
    app.on_key(key('/'));
    let Some(Command::LoadErrors { generation, .. }) = app.on_key(key('s')).pop() else {
        panic!("typing a filter reloads");
    };
    let rows: Vec<ErrorRecord> = (0..200)
        .map(|i| error(5000 - i, ErrorType::ParsingError, "src/a.ts", 1, "m"))
        .collect();
    app.on_loaded(Loaded::Errors {
        generation,
        offset: 0,
        rows,
        total: Count {
            n: 20_001,
            exact: false,
        },
    });
    press(&mut app, KeyCode::Enter);
    let screen = render(&app, 120, 12).backend().to_string();
    assert!(screen.contains("errors 1/20001+"), "{screen}");
    // G: every match counted first, then the end shown.
    let commands = app.on_key(key('G'));
    let [
        Command::LoadErrors {
            generation, total, ..
        },
    ] = commands.as_slice()
    else {
        panic!("{commands:?}");
    };
    assert_eq!(*total, Counting::Exact);
    app.on_loaded(Loaded::Errors {
        generation: *generation,
        offset: 19_901,
        rows: Vec::new(),
        total: Count::exact(1_000_000),
    });
    assert_eq!(app.list.selected, 999_999, "at the end once it is known");
    assert!(app.list.total_exact);
}

/// Two runs picked on the runs screen are compared, the older first; with
/// none marked, the selected run is compared with the one before it.
#[test]
fn runs_are_compared_from_the_marked_one_or_the_one_before() {
    let mut app = app();
    app.on_loaded(Loaded::Runs(vec![
        run(9, "web", RunStatus::Completed),
        run(8, "web", RunStatus::Completed),
        run(7, "web", RunStatus::Completed),
    ]));
    assert!(matches!(
        app.on_key(key('D')).as_slice(),
        [Command::Diff { from: None, to: 9 }]
    ));
    app.on_key(key(' '));
    assert!(app.status.as_deref().unwrap().contains("run 9 marked"));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    let screen = render(&app, 90, 8).backend().to_string();
    assert!(screen.contains("●9"), "{screen}");
    assert!(matches!(
        app.on_key(key('D')).as_slice(),
        [Command::Diff {
            from: Some(7),
            to: 9
        }]
    ));
    let problem = |group: &str| FileProblem {
        outcome: Outcome::Partial,
        error_type: ErrorType::ParsingError,
        fingerprint: Some(group.into()),
        title: Some(format!("title of {group}")),
        failure_kind: None,
        groups: vec![group.into()],
    };
    let file = |path: &str, before: Option<FileProblem>, after: Option<FileProblem>| FileSides {
        file_path: path.into(),
        before,
        after,
        in_before: true,
        in_after: true,
        same_result: false,
    };
    let side = |run_id| DiffRun {
        run_id,
        status: RunStatus::Completed,
        started_at: chrono::DateTime::UNIX_EPOCH,
        grammar: "built-in".into(),
        parse_health: Default::default(),
    };
    let diff = RunDiff::new(
        "web",
        side(7),
        side(9),
        vec![
            file("src/new.ts", None, Some(problem("g"))),
            file("src/worse.ts", Some(problem("g")), Some(problem("h"))),
            file("src/fixed.ts", Some(problem("g")), None),
        ],
    );
    app.on_loaded(Loaded::Changes(Box::new(diff)));
    // New in this run first: the newly failing file and the one with a new
    // problem, not the fixed one.
    let screen = render(&app, 120, 14).backend().to_string();
    assert!(screen.contains("new in this run (2)"), "{screen}");
    assert!(screen.contains("fixed in this run (1)"), "{screen}");
    assert!(
        screen.contains("src/new.ts  newly failing  title of g"),
        "{screen}"
    );
    assert!(screen.contains("src/worse.ts  another problem"), "{screen}");
    assert!(!screen.contains("src/fixed.ts"), "{screen}");
    press(&mut app, KeyCode::Tab);
    let screen = render(&app, 120, 14).backend().to_string();
    assert!(
        screen.contains("src/fixed.ts  fixed  title of g"),
        "{screen}"
    );
    assert!(!screen.contains("src/new.ts"), "{screen}");
    // Enter opens the file's errors in the run that has them: the earlier
    // run for a fixed file.
    let commands = app.on_key(KeyEvent::from(KeyCode::Enter));
    assert!(app.overlay.is_none());
    assert_eq!(app.list.run_id, Some(7));
    assert_eq!(app.list.text, "src/fixed.ts");
    assert!(
        commands
            .iter()
            .any(|c| matches!(c, Command::LoadErrors { query, .. }
                if query.run_id == Some(7) && query.text.as_deref() == Some("src/fixed.ts"))),
        "the list loads that file's errors"
    );
}

/// A run that carried files over from an earlier run says how many.
#[test]
fn the_dashboard_counts_files_carried_over() {
    let mut app = app();
    let mut again = run(8, "web", RunStatus::Completed);
    again.files_reused = 230;
    app.on_loaded(Loaded::Runs(vec![again.clone()]));
    app.on_action(snag::keymap::Action::Open);
    app.on_loaded(bare_dashboard(again));
    let screen = render(&app, 110, 14).backend().to_string();
    assert!(screen.contains("230 reused"), "{screen}");
}

/// The new-run form can ask for a full run: every file parsed again.
#[test]
fn a_new_run_can_parse_every_file() {
    let mut app = app();
    app.on_loaded(Loaded::Runs(Vec::new()));
    let dir = tempfile::tempdir().unwrap();
    app.on_key(key('n'));
    let Some(Overlay::NewRun(form)) = &mut app.overlay else {
        panic!("n opens the form")
    };
    form.fields[0] = ratatui_textarea::TextArea::from([dir.path().display().to_string()]);
    for _ in 0..4 {
        press(&mut app, KeyCode::Tab);
    }
    app.on_key(key(' '));
    let screen = render(&app, 90, 20).backend().to_string();
    assert!(screen.contains("[x] parse every file"), "{screen}");
    let commands = press(&mut app, KeyCode::Enter);
    let [Command::StartRun(run)] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    assert!(run.full && !run.include_tests);
}
