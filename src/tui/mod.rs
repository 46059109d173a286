//! The triage terminal UI. `App` holds the state and turns keys into
//! commands; this module owns the terminal and carries the commands out
//! against the store and the engine, feeding results back as events.

pub mod app;
pub mod changes;
pub mod command;
pub mod editor;
pub mod highlight;
pub mod loader;
pub mod overlays;
pub mod prompt;
pub mod screens;
pub mod theme;
pub mod triage;
pub mod views;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use app::App;
use command::{Command, Counting, Loaded, NewRun, RequestKind, Triage};
use screens::list::PAGE_ROWS;
use theme::Theme;

use crate::config::Config;
use crate::report::diff;
use crate::repro;
use crate::runner::{self, RunRequest};
use crate::store::groups::GroupRecord;
use crate::store::{Count, Store, StoreError};

/// How often the screen refreshes while a run is going on it.
const FRAME: Duration = Duration::from_millis(100);
/// Groups listed at most; groups are few even when errors are many.
const MAX_GROUPS: i64 = 1000;

/// What `snag` / `snag tui` was asked for.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    pub theme: Option<String>,
    /// A run to start at once (`snag tui PATH`).
    pub start: Option<RunRequest>,
}

/// Resolves the theme: NO_COLOR wins, then `--theme`, then the config file.
pub fn resolve_theme(requested: Option<&str>, config: &Config) -> anyhow::Result<Theme> {
    if Theme::no_color_requested() {
        return Ok(Theme::monochrome());
    }
    let name = requested.or(config.theme.as_deref()).unwrap_or("dark");
    Ok(Theme::load(name, crate::config::config_dir().as_deref())?)
}

pub async fn run(store: Store, options: TuiOptions) -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    let theme = resolve_theme(options.theme.as_deref(), &config)?;
    let keymap = crate::keymap::Keymap::with_overrides(&config.keys)
        .map_err(|e| anyhow::anyhow!("config file [keys]: {e}"))?;
    let mut app = App::new(keymap, theme);
    let (tx, rx) = mpsc::unbounded_channel();
    let mut runtime = Runtime {
        store,
        tx,
        runs: Vec::new(),
    };
    runtime.execute(Command::LoadRuns, &mut app);
    if let Some(request) = options.start {
        runtime.start_run(async move { Ok(request) });
    }
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, &mut runtime, rx).await;
    ratatui::restore();
    result?;
    runtime.finish().await;
    Ok(ExitCode::SUCCESS)
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    runtime: &mut Runtime,
    mut loaded: mpsc::UnboundedReceiver<Loaded>,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut frames = 0u32;
    loop {
        terminal.draw(|frame| views::draw(frame, app))?;
        let commands = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    app.status = None;
                    app.on_key(key)
                }
                Some(Ok(_)) => Vec::new(),
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(result) = loaded.recv() => app.on_loaded(result),
            _ = tokio::time::sleep(FRAME), if app.is_animating() => {
                frames += 1;
                app.on_frame(frames)
            }
        };
        for command in commands {
            match command {
                // These take the terminal for a moment.
                Command::OpenInEditor { path, line, column } => {
                    drop(events);
                    let outcome = open_in_editor(terminal, &path, line, column);
                    events = EventStream::new();
                    app.status = Some(outcome);
                }
                Command::Copy(text) => copy_to_clipboard(&text),
                other => runtime.execute(other, app),
            }
        }
        if app.quit {
            return Ok(());
        }
    }
}

/// Carries out commands in background tasks; results arrive on `tx`.
struct Runtime {
    store: Store,
    tx: mpsc::UnboundedSender<Loaded>,
    /// Tasks of the runs started here.
    runs: Vec<JoinHandle<()>>,
}

impl Runtime {
    fn spawn<F>(&self, work: F)
    where
        F: Future<Output = Result<Loaded, StoreError>> + Send + 'static,
    {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let message = work
                .await
                .unwrap_or_else(|e| Loaded::Message(e.to_string()));
            let _ = tx.send(message);
        });
    }

    /// [`Runtime::spawn`] for a request whose failure clears its own
    /// loading state.
    fn spawn_request<F>(&self, kind: RequestKind, generation: u64, work: F)
    where
        F: Future<Output = Result<Loaded, StoreError>> + Send + 'static,
    {
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let loaded = work.await.unwrap_or_else(|e| Loaded::Failed {
                kind,
                generation,
                message: e.to_string(),
            });
            let _ = tx.send(loaded);
        });
    }

    fn execute(&mut self, command: Command, app: &mut App) {
        let store = self.store.clone();
        match command {
            Command::LoadRuns => {
                self.spawn(async move { Ok(Loaded::Runs(store.list_runs(None, 500).await?)) })
            }
            Command::LoadDashboard { run_id } => {
                self.spawn(async move { load_dashboard(&store, run_id).await })
            }
            Command::LoadFacets { run_id, .. } => self.spawn(async move {
                let facets = store.run_error_facets(run_id).await?;
                Ok(Loaded::Facets { run_id, facets })
            }),
            Command::LoadErrors {
                generation,
                query,
                offset,
                total,
            } => self.spawn_request(RequestKind::List, generation, async move {
                let total = match total {
                    Counting::Known(total) => total,
                    Counting::UpTo => store.count_errors_up_to(&query).await?,
                    Counting::Exact => Count::exact(store.count_errors(&query).await?),
                };
                let rows = store.error_page(&query, PAGE_ROWS, offset, total).await?;
                Ok(Loaded::Errors {
                    generation,
                    offset,
                    rows,
                    total,
                })
            }),
            Command::LoadGroups {
                generation,
                repository,
                query,
            } => self.spawn_request(RequestKind::List, generation, async move {
                let (groups, total) = store
                    .list_groups(&repository, &query, MAX_GROUPS, 0)
                    .await?;
                Ok(Loaded::Groups {
                    generation,
                    groups,
                    total,
                })
            }),
            Command::LoadDetail { generation, error } => {
                self.spawn_request(RequestKind::Detail, generation, async move {
                    let run = match error.run_id {
                        Some(run_id) => store.get_run(run_id).await?,
                        None => None,
                    };
                    let root = run.as_ref().map(|r| PathBuf::from(&r.root));
                    let group = match &error.fingerprint {
                        Some(fingerprint) => {
                            store.find_group(&error.repository, fingerprint).await?
                        }
                        None => None,
                    };
                    let started = run.as_ref().map(|r| r.started_at);
                    let for_file = root.clone();
                    let file = tokio::task::spawn_blocking(move || {
                        loader::load_file(for_file.as_deref(), &error, started)
                    })
                    .await
                    .unwrap_or_default();
                    Ok(Loaded::Detail {
                        generation,
                        file,
                        group: group.map(Box::new),
                        root,
                    })
                })
            }
            Command::Highlight {
                generation,
                file,
                theme,
                start,
                end,
            } => self.spawn(async move {
                let window = tokio::task::spawn_blocking(move || {
                    highlight::highlight_window(
                        &file.lines,
                        &file.extension,
                        theme.as_deref(),
                        start,
                        end,
                    )
                })
                .await
                .unwrap_or(highlight::HighlightedWindow {
                    first: start,
                    lines: Vec::new(),
                });
                Ok(Loaded::Highlighted { generation, window })
            }),
            Command::StartRun(new_run) => {
                let request = request_for(&new_run);
                self.start_run(async move { Ok(request) })
            }
            Command::Rerun { run_id } => self.start_run(async move {
                match store.get_run(run_id).await {
                    Ok(Some(run)) => RunRequest::again_with_grammars(&run)
                        .await
                        .map_err(|e| e.to_string()),
                    Ok(None) => Err(format!("run {run_id} is gone")),
                    Err(e) => Err(e.to_string()),
                }
            }),
            Command::Diff { from, to } => self.spawn(async move {
                let found = match diff::resolve(&store, None, from, Some(to)).await {
                    Ok((from, to)) => diff::load(&store, &from, &to).await,
                    Err(e) => Err(e),
                };
                Ok(match found {
                    Ok(changes) => Loaded::Changes(Box::new(changes)),
                    Err(e) => Loaded::Message(e.to_string()),
                })
            }),
            Command::Repro { groups } => self.spawn(async move {
                let group = match (groups.ids.first(), groups.fingerprints.first()) {
                    (Some(id), _) => store.get_group(*id).await?,
                    (None, Some(fingerprint)) => {
                        store.find_group(&groups.repository, fingerprint).await?
                    }
                    (None, None) => None,
                };
                let Some(group) = group else {
                    return Ok(Loaded::Message("the group is gone".to_owned()));
                };
                Ok(
                    match repro::reduce_group(&store, &group, REPRO_BUDGET).await {
                        Ok(reduced) => repro_text(&group, &reduced),
                        Err(e) => Loaded::Message(format!("repro: {e:#}")),
                    },
                )
            }),
            Command::CancelRun { run_id } => {
                if let Some(live) = app.live.get(&run_id) {
                    live.cancel.cancel();
                }
            }
            Command::Triage { groups, change } => self.spawn(async move {
                let mut ids = groups.ids;
                if !groups.fingerprints.is_empty() {
                    let found = store
                        .groups_by_fingerprints(&groups.repository, &groups.fingerprints)
                        .await?;
                    ids.extend(found.iter().map(|g| g.group_id));
                }
                ids.sort_unstable();
                ids.dedup();
                let changed = match &change {
                    Triage::Status(status) => store.set_groups_status(&ids, *status).await?,
                    Triage::Note(note) => store.set_groups_note(&ids, note).await?,
                };
                Ok(Loaded::Triaged {
                    groups: changed,
                    change,
                })
            }),
            // Handled by the event loop, which owns the terminal.
            Command::OpenInEditor { .. } | Command::Copy(_) => {}
        }
    }

    /// Starts the run `request` resolves to (at once, or after reading
    /// the run it repeats), reporting it as it goes.
    fn start_run<F>(&mut self, request: F)
    where
        F: Future<Output = Result<RunRequest, String>> + Send + 'static,
    {
        let store = self.store.clone();
        let store_after = self.store.clone();
        let tx = self.tx.clone();
        let task = tokio::spawn(async move {
            let request = match request.await {
                Ok(request) => request,
                Err(message) => {
                    let _ = tx.send(Loaded::Message(format!("cannot start the run: {message}")));
                    return;
                }
            };
            let repository = request.repository.clone();
            let root = request.root.display().to_string();
            let handle = match runner::start(store, request).await {
                Ok(handle) => handle,
                Err(e) => {
                    let _ = tx.send(Loaded::Message(format!("cannot start the run: {e}")));
                    return;
                }
            };
            let run_id = handle.run_id;
            let _ = tx.send(Loaded::RunStarted {
                run_id,
                repository,
                root,
                progress: std::sync::Arc::clone(&handle.progress),
                cancel: handle.canceller(),
            });
            let ended = handle.wait().await;
            // The final figures land before the run stops being live, so
            // its dashboard never shows the row as it was when it started.
            if let Ok(dashboard) = load_dashboard(&store_after, run_id).await {
                let _ = tx.send(dashboard);
            }
            let message = match ended {
                Ok(summary) => format!(
                    "run {run_id} {}: {}, {} failed, {} partial",
                    summary.status.as_str(),
                    crate::words::count(summary.files.total, "file"),
                    summary.files.failed,
                    summary.files.partial
                ),
                Err(e) => format!("run {run_id} stopped: {e}"),
            };
            let _ = tx.send(Loaded::RunEnded { run_id });
            let _ = tx.send(Loaded::Message(message));
        });
        self.runs.push(task);
    }

    /// Waits for cancelled runs to store what they finished.
    async fn finish(self) {
        for task in self.runs {
            if !task.is_finished() {
                eprintln!("snag: waiting for runs to store their finished files…");
            }
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
    }
}

/// How long `:repro` may reduce an example.
const REPRO_BUDGET: Duration = Duration::from_secs(10);

/// A reduced example, to show.
fn repro_text(group: &GroupRecord, reduced: &repro::Reduced) -> Loaded {
    let found = &reduced.reproduction;
    let mut text = format!(
        "{}\n{} bytes cut to {} in {} parses, {:.1} s; construct: {}{}\n\n",
        reduced.shown_path,
        found.original_bytes,
        found.text.len(),
        found.tests,
        found.elapsed.as_secs_f64(),
        found.construct,
        if found.complete {
            ""
        } else {
            " (time ran out: a smaller text may exist)"
        }
    );
    text.push_str(&found.text);
    Loaded::Text {
        title: format!("repro: {}", group.title),
        text,
    }
}

/// A run's dashboard figures from the database.
async fn load_dashboard(store: &Store, run_id: i64) -> Result<Loaded, StoreError> {
    Ok(match store.run_dashboard(run_id, 10).await? {
        Some(d) => Loaded::Dashboard(Box::new(d)),
        None => Loaded::Message(format!("run {run_id} is gone")),
    })
}

fn request_for(new_run: &NewRun) -> RunRequest {
    let mut request = RunRequest::new(&new_run.path);
    request.repository = new_run.repository.clone();
    request.discovery.include_tests = new_run.include_tests;
    request.full = new_run.full;
    if !new_run.extensions.is_empty() {
        request.discovery.extensions = new_run.extensions.clone();
    }
    request
}

/// Suspends the UI, runs `$VISUAL`/`$EDITOR` (vi by default) at the line
/// and column, in the form that editor understands, and takes the terminal
/// back.
fn open_in_editor(
    terminal: &mut DefaultTerminal,
    path: &std::path::Path,
    line: u32,
    column: u32,
) -> String {
    let editor = std::env::var("VISUAL")
        .ok()
        .or_else(|| std::env::var("EDITOR").ok())
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_owned());
    let Some((program, args)) = editor::editor_command(&editor, path, line, column) else {
        return format!("cannot run the editor `{}`", crate::sanitize::line(&editor));
    };
    ratatui::restore();
    let status = std::process::Command::new(&program).args(args).status();
    *terminal = ratatui::init();
    let _ = terminal.clear();
    let program = crate::sanitize::line(&program).into_owned();
    match status {
        Ok(s) if s.success() => format!("back from {program}"),
        Ok(s) => format!("{program} exited with {s}"),
        Err(e) => format!("cannot run {program}: {e}"),
    }
}

/// OSC 52: the terminal puts the text on the clipboard, over SSH too.
fn copy_to_clipboard(text: &str) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = std::io::stdout();
    let _ = write!(out, "\x1b]52;c;{encoded}\x07");
    let _ = out.flush();
}
