//! The TUI's state and where keys and loaded data go. Each screen owns its
//! state and handling (`screens/`); this module routes between them, owns
//! what they share (the requests in flight, runs going on here, the status
//! line) and the overlays. Triage keys (`triage.rs`) and `:` commands
//! (`prompt.rs`) act across screens from their own modules. Nothing here
//! touches the terminal or the database: see [`super::command`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::crossterm::event::KeyEvent;
use tokio_util::sync::CancellationToken;

use super::changes::ChangesView;
use super::command::{Command, Loaded, RequestKind, Requests};
use super::overlays::{NewRunForm, Overlay, Reply, ScrollView};
use super::prompt::{Prompt, PromptStep};
use super::screens::Screen;
use super::screens::dashboard::DashboardState;
use super::screens::detail::DetailState;
use super::screens::list::ListState;
use super::screens::runs::RunsState;
use super::theme::Theme;
use crate::index::progress::{RunFigures, RunProgress, RunStatus};
use crate::keymap::{Action, Keymap};
use crate::store::groups::GroupStatus;
use crate::store::runs::RunRecord;

/// Frames between reloads of figures from the database (a frame is
/// 100 ms).
const FRAMES_PER_RELOAD: u32 = 10;

/// A run started from this UI.
#[derive(Debug, Clone)]
pub struct LiveRun {
    pub repository: String,
    pub progress: Arc<RunProgress>,
    pub cancel: CancellationToken,
}

pub struct App {
    pub screen: Screen,
    pub overlay: Option<Overlay>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub runs: RunsState,
    pub dashboard: DashboardState,
    pub list: ListState,
    pub detail: Option<DetailState>,
    pub live: BTreeMap<i64, LiveRun>,
    pub status: Option<String>,
    pub quit: bool,
    requests: Requests,
    /// Where `snag tui` was started, the new-run form's last default path.
    pub cwd: String,
    /// The directory of the last run started here.
    pub last_run_path: Option<String>,
}

impl App {
    pub fn new(keymap: Keymap, theme: Theme) -> Self {
        App {
            screen: Screen::Runs,
            overlay: None,
            keymap,
            theme,
            runs: RunsState::default(),
            dashboard: DashboardState::default(),
            list: ListState::default(),
            detail: None,
            live: BTreeMap::new(),
            status: None,
            quit: false,
            requests: Requests::default(),
            last_run_path: None,
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        }
    }

    /// Whether the screen changes by itself: a run is going on it, here
    /// or in another process.
    pub fn is_animating(&self) -> bool {
        match self.screen {
            Screen::Runs => self.running() > 0,
            Screen::Dashboard => {
                self.dashboard
                    .run_id
                    .is_some_and(|id| self.live.contains_key(&id))
                    || self
                        .dashboard
                        .run
                        .as_ref()
                        .is_some_and(|r| r.status == RunStatus::Running)
            }
            Screen::List | Screen::Detail => false,
        }
    }

    /// A key press: editors get it first, then the keymap decides.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if self.list.editing_text {
            return self.list.on_search_key(key, &mut self.requests);
        }
        if let Some(Overlay::Prompt(prompt)) = &mut self.overlay {
            let themes = || Theme::names(crate::config::config_dir().as_deref());
            return match prompt.on_key(key, themes) {
                PromptStep::Editing => Vec::new(),
                PromptStep::Closed => {
                    self.overlay = None;
                    Vec::new()
                }
                PromptStep::Run(command) => {
                    self.overlay = None;
                    self.on_prompt(command)
                }
            };
        }
        if let Some(overlay) = self.overlay.take() {
            let (keep, reply) = overlay.on_key(key);
            self.overlay = keep;
            return match reply {
                Reply::Commands(commands) => commands,
                Reply::Quit => {
                    self.quit_now();
                    Vec::new()
                }
                Reply::Cancelled => {
                    self.status = Some("cancelled: nothing changed".to_owned());
                    Vec::new()
                }
                Reply::OpenErrors {
                    repository,
                    run_id,
                    file_path,
                } => self.show_file_errors(&repository, run_id, &file_path),
            };
        }
        match self.keymap.action(self.screen.context(), &key) {
            Some(action) => self.on_action(action),
            None => Vec::new(),
        }
    }

    fn quit_now(&mut self) {
        for run in self.live.values() {
            run.cancel.cancel();
        }
        self.quit = true;
    }

    pub fn on_action(&mut self, action: Action) -> Vec<Command> {
        let theme = self.theme.syntax_theme.clone();
        // The screen's own actions first.
        let own = match self.screen {
            Screen::List => self
                .list
                .on_action(action, &mut self.requests, &mut self.status),
            Screen::Detail => self
                .detail
                .as_mut()
                .and_then(|detail| detail.on_action(action, theme.as_deref(), &mut self.requests)),
            Screen::Runs | Screen::Dashboard => None,
        };
        if let Some(commands) = own {
            return commands;
        }
        match action {
            Action::Quit => {
                if self.live.is_empty() {
                    self.quit = true;
                } else {
                    self.overlay = Some(Overlay::ConfirmQuit);
                }
                Vec::new()
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help(ScrollView::default()));
                Vec::new()
            }
            Action::Back if self.screen == Screen::List && self.list.clear_marks() => {
                self.status = Some("marks cleared".to_owned());
                Vec::new()
            }
            Action::Back => self.back(),
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-self.page()),
            Action::PageDown => self.move_by(self.page()),
            Action::Top => self.move_by(i64::MIN / 2),
            Action::Bottom => self.move_by(i64::MAX / 2),
            Action::Open => self.open(),
            Action::Refresh => self.refresh(),
            Action::NewRun => {
                let path = self.new_run_path();
                self.overlay = Some(Overlay::NewRun(Box::new(NewRunForm::new(&path))));
                Vec::new()
            }
            Action::CommandLine => {
                self.overlay = Some(Overlay::Prompt(Prompt::default()));
                Vec::new()
            }
            Action::Rerun => self.rerun(),
            Action::MarkRun if self.screen == Screen::Runs => {
                self.status = Some(match self.runs.toggle_mark() {
                    Some(run_id) => {
                        format!("run {run_id} marked: D compares it with the selected run")
                    }
                    None => "unmarked".to_owned(),
                });
                Vec::new()
            }
            Action::CompareRuns => self.compare_runs(),
            Action::CancelRun => self.cancel_selected_run(),
            Action::ShowErrors => self.show_list(false),
            Action::ShowGroups => self.show_list(true),
            Action::ShowDashboard => match self.current_run_id() {
                Some(run_id) => self.show_dashboard(run_id),
                None => Vec::new(),
            },
            Action::MarkIgnored => self.set_status(GroupStatus::Ignored),
            Action::MarkResolved => self.set_status(GroupStatus::Resolved),
            Action::MarkOpen => self.set_status(GroupStatus::Open),
            Action::EditNote => self.edit_note(),
            Action::OpenInEditor => self
                .location()
                .map_or_else(Vec::new, |(path, line, column)| {
                    vec![Command::OpenInEditor { path, line, column }]
                }),
            Action::CopyLocation => self.location().map_or_else(Vec::new, |(path, line, _)| {
                self.status = Some(format!("copied {}:{line}", path.display()));
                vec![Command::Copy(format!("{}:{line}", path.display()))]
            }),
            // The lists' and the drill-down's actions, elsewhere.
            _ => Vec::new(),
        }
    }

    fn page(&self) -> i64 {
        match (self.screen, &self.detail) {
            (Screen::Detail, Some(detail)) => detail.page(),
            (Screen::Detail, None) => 9,
            _ => self.list.page(),
        }
    }

    fn move_by(&mut self, delta: i64) -> Vec<Command> {
        let theme = self.theme.syntax_theme.clone();
        match self.screen {
            Screen::Runs => {
                self.runs.move_by(delta);
                Vec::new()
            }
            Screen::List => self.list.move_by(delta, &mut self.requests),
            Screen::Detail => match &mut self.detail {
                Some(detail) => detail.move_by(delta, theme.as_deref(), &mut self.requests),
                None => Vec::new(),
            },
            Screen::Dashboard => Vec::new(),
        }
    }

    fn back(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Runs => Vec::new(),
            Screen::Dashboard => {
                self.screen = Screen::Runs;
                vec![Command::LoadRuns]
            }
            Screen::List => {
                if let Some(commands) = self.list.leave_group(&mut self.requests) {
                    return commands;
                }
                match self.list.run_id {
                    Some(run_id) => self.show_dashboard(run_id),
                    None => {
                        self.screen = Screen::Runs;
                        Vec::new()
                    }
                }
            }
            Screen::Detail => {
                self.detail = None;
                self.screen = Screen::List;
                Vec::new()
            }
        }
    }

    fn open(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Runs => match self.runs.selected_run() {
                Some(run) => self.show_dashboard(run.run_id),
                None => Vec::new(),
            },
            Screen::Dashboard => self.show_list(false),
            Screen::List => {
                if let Some(commands) = self.list.open_group(&mut self.requests) {
                    return commands;
                }
                let Some(error) = self.list.selected_error().cloned() else {
                    return Vec::new();
                };
                let (detail, load) = DetailState::open(error, &mut self.requests);
                self.detail = Some(detail);
                self.screen = Screen::Detail;
                vec![load]
            }
            Screen::Detail => Vec::new(),
        }
    }

    fn refresh(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Runs => vec![Command::LoadRuns],
            Screen::Dashboard => self.dashboard.load().into_iter().collect(),
            Screen::List => {
                let mut commands: Vec<Command> = self.list.load_facets().into_iter().collect();
                commands.extend(self.list.reload(&mut self.requests));
                commands
            }
            Screen::Detail => self
                .detail
                .as_ref()
                .map(|detail| detail.reload(&mut self.requests))
                .into_iter()
                .collect(),
        }
    }

    /// The run the current screen is about.
    pub fn current_run_id(&self) -> Option<i64> {
        match self.screen {
            Screen::Runs => self.runs.selected_run().map(|r| r.run_id),
            Screen::Dashboard => self.dashboard.run_id,
            Screen::List | Screen::Detail => self.list.run_id,
        }
    }

    pub(super) fn current_run(&self) -> Option<&RunRecord> {
        let run_id = self.current_run_id()?;
        self.runs.runs.iter().find(|r| r.run_id == run_id).or(self
            .dashboard
            .run
            .as_ref()
            .filter(|r| r.run_id == run_id))
    }

    /// What changed from the marked run (or the run before) to the
    /// current one; the older of two marked-and-selected runs comes first.
    fn compare_runs(&mut self) -> Vec<Command> {
        let Some(current) = self.current_run_id() else {
            self.status = Some("select a run first".to_owned());
            return Vec::new();
        };
        let (from, to) = match self.runs.marked.filter(|m| *m != current) {
            Some(marked) => (Some(marked.min(current)), marked.max(current)),
            None => (None, current),
        };
        self.status = Some(match from {
            Some(from) => format!("comparing run {from} with run {to}…"),
            None => format!("comparing run {to} with the run before it…"),
        });
        vec![Command::Diff { from, to }]
    }

    fn cancel_selected_run(&mut self) -> Vec<Command> {
        match self.current_run_id() {
            Some(run_id) if self.live.contains_key(&run_id) => {
                self.status = Some(format!("cancelling run {run_id}…"));
                vec![Command::CancelRun { run_id }]
            }
            Some(run_id) => {
                self.status = Some(format!("run {run_id} is not running in this window"));
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    pub fn show_dashboard(&mut self, run_id: i64) -> Vec<Command> {
        self.screen = Screen::Dashboard;
        self.dashboard.show(run_id);
        vec![Command::LoadDashboard { run_id }]
    }

    fn show_list(&mut self, grouped: bool) -> Vec<Command> {
        let Some(run) = self.current_run().cloned() else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        if self.list.repository != run.repository || self.list.run_id != Some(run.run_id) {
            self.list = ListState::of_run(&run.repository, run.run_id);
            self.list.growing =
                self.live.contains_key(&run.run_id) || run.status == RunStatus::Running;
            commands.extend(self.list.load_facets());
        }
        self.list.grouped = grouped;
        self.list.fingerprint = None;
        self.screen = Screen::List;
        commands.extend(self.list.reload(&mut self.requests));
        commands
    }

    /// The error list of run `run_id`, filtered to one file's path.
    fn show_file_errors(&mut self, repository: &str, run_id: i64, path: &str) -> Vec<Command> {
        self.list = ListState::of_run(repository, run_id);
        self.list.growing = self.live.contains_key(&run_id);
        self.list.text = path.to_owned();
        self.screen = Screen::List;
        let mut commands: Vec<Command> = self.list.load_facets().into_iter().collect();
        commands.extend(self.list.reload(&mut self.requests));
        self.status = Some(format!(
            "run {run_id}: errors of {}",
            crate::sanitize::line(path)
        ));
        commands
    }

    /// Asks for highlighting when the drill-down's visible lines are not
    /// highlighted yet (after a draw changed how many lines show).
    pub fn highlight_if_needed(&mut self) -> Vec<Command> {
        let theme = self.theme.syntax_theme.clone();
        match &self.detail {
            Some(detail) => detail.highlight_if_needed(theme.as_deref(), &mut self.requests),
            None => Vec::new(),
        }
    }

    /// The absolute path, line and column of the selected or open error.
    fn location(&self) -> Option<(PathBuf, u32, u32)> {
        match self.screen {
            Screen::Detail => {
                let detail = self.detail.as_ref()?;
                let path = match &detail.file {
                    Some(file) => file.path.clone(),
                    None => crate::stored_path::to_path(Path::new(""), &detail.error.file_path),
                };
                let (line, column) = detail.current_position();
                Some((path, line, column))
            }
            Screen::List if !self.list.grouped => {
                let error = self.list.selected_error()?;
                Some((
                    crate::stored_path::to_path(Path::new(""), &error.file_path),
                    error.line.map_or(1, |l| l.max(1) as u32),
                    error.column.map_or(1, |c| c.max(1) as u32),
                ))
            }
            _ => None,
        }
    }

    /// Results coming back from commands. Stale ones (older than the
    /// latest request of their kind) are dropped: the last request wins.
    pub fn on_loaded(&mut self, loaded: Loaded) -> Vec<Command> {
        let theme = self.theme.syntax_theme.clone();
        match loaded {
            Loaded::Runs(runs) => self.runs.on_runs(runs),
            Loaded::Dashboard(dashboard) => self.dashboard.on_loaded(*dashboard),
            Loaded::Facets { run_id, facets } => {
                if self.list.run_id == Some(run_id) {
                    self.list.facets = facets;
                }
            }
            Loaded::Errors {
                generation,
                offset,
                rows,
                total,
            } => {
                if self.requests.is_latest(RequestKind::List, generation) {
                    return self.list.on_errors(offset, rows, total, &mut self.requests);
                }
            }
            Loaded::Groups {
                generation,
                groups,
                total,
            } => {
                if self.requests.is_latest(RequestKind::List, generation) {
                    self.list.on_groups(groups, total);
                }
            }
            Loaded::Detail {
                generation,
                file,
                group,
                ..
            } => {
                if self.requests.is_latest(RequestKind::Detail, generation)
                    && let Some(detail) = &mut self.detail
                {
                    return detail.on_file(
                        file,
                        group.map(|g| *g),
                        theme.as_deref(),
                        &mut self.requests,
                    );
                }
            }
            Loaded::Highlighted { generation, window } => {
                if self.requests.is_latest(RequestKind::Highlight, generation)
                    && let Some(detail) = &mut self.detail
                {
                    detail.highlighted = Some(window);
                }
            }
            Loaded::Triaged { groups, change } => {
                self.status = Some(super::triage::triaged_message(&groups, &change));
                for group in &groups {
                    self.list.on_group(group);
                    if let Some(detail) = &mut self.detail {
                        detail.on_group(group);
                    }
                }
            }
            Loaded::RunStarted {
                run_id,
                repository,
                root,
                progress,
                cancel,
            } => {
                self.last_run_path = Some(root);
                self.status = Some(format!("run {run_id} of {repository} started"));
                self.live.insert(
                    run_id,
                    LiveRun {
                        repository,
                        progress,
                        cancel,
                    },
                );
                let mut commands = self.show_dashboard(run_id);
                commands.push(Command::LoadRuns);
                return commands;
            }
            Loaded::RunEnded { run_id } => {
                self.live.remove(&run_id);
                if self.list.run_id == Some(run_id) {
                    self.list.growing = false;
                }
                let mut commands = vec![Command::LoadRuns];
                if self.dashboard.run_id == Some(run_id) {
                    commands.push(Command::LoadDashboard { run_id });
                }
                return commands;
            }
            Loaded::Message(message) => self.status = Some(message),
            Loaded::Changes(diff) => {
                self.status = None;
                self.overlay = Some(Overlay::Changes(Box::new(ChangesView::new(&diff))));
            }
            Loaded::Text { title, text } => {
                self.status = None;
                self.overlay = Some(Overlay::Text {
                    title,
                    lines: crate::sanitize::block(&text)
                        .lines()
                        .map(str::to_owned)
                        .collect(),
                    view: ScrollView::default(),
                });
            }
            Loaded::Failed {
                kind,
                generation,
                message,
            } => {
                if self.requests.is_latest(kind, generation) {
                    match kind {
                        RequestKind::List => self.list.loading = false,
                        RequestKind::Detail => {
                            if let Some(detail) = &mut self.detail {
                                detail.on_file_failed(&message);
                            }
                        }
                        RequestKind::Highlight => {}
                    }
                }
                self.status = Some(message);
            }
        }
        Vec::new()
    }

    /// The run's figures: the engine's while it runs here, else its row's
    /// (live for a run going on in another process).
    pub fn run_figures(&self, run: &RunRecord) -> RunFigures {
        match self.live.get(&run.run_id) {
            Some(live) => live.progress.snapshot().figures(),
            None => run.figures(chrono::Utc::now()),
        }
    }

    /// Runs going on, here or in another process, as last loaded.
    pub fn running(&self) -> usize {
        let elsewhere = self
            .runs
            .runs
            .iter()
            .filter(|r| r.status == RunStatus::Running && !self.live.contains_key(&r.run_id))
            .count();
        self.live.len() + elsewhere
    }

    /// Every frame while the screen changes by itself: the figures that
    /// come from the database are read again once a second.
    pub fn on_frame(&mut self, frame: u32) -> Vec<Command> {
        if !frame.is_multiple_of(FRAMES_PER_RELOAD) {
            return Vec::new();
        }
        match self.screen {
            Screen::Dashboard => self.dashboard.load().into_iter().collect(),
            Screen::Runs if self.running() > self.live.len() => vec![Command::LoadRuns],
            _ => Vec::new(),
        }
    }

    /// The run's status, live when it runs here.
    pub fn run_status(&self, run: &RunRecord) -> RunStatus {
        if self.live.contains_key(&run.run_id) {
            RunStatus::Running
        } else {
            run.status
        }
    }
}
