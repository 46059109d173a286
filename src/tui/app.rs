//! The TUI's state and how actions and loaded data change it. Nothing here
//! touches the terminal or the database: side effects leave as [`Command`]s
//! and their results come back as [`Loaded`] values, so every key can be
//! tested without either.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;
use tokio_util::sync::CancellationToken;

use super::action::{Action, Context, Keymap};
use super::highlight::HighlightedWindow;
use super::theme::Theme;
use crate::index::outcome::{ErrorType, Verdict, primary_problem};
use crate::index::progress::{RunProgress, RunStatus};
use crate::store::files::{FailureSplit, RunGroup};
use crate::store::groups::{GroupQuery, GroupRecord, GroupStatus};
use crate::store::runs::RunRecord;
use crate::store::{ErrorQuery, ErrorRecord, ErrorSort};

/// Rows fetched around the selection; the list never loads everything.
pub const PAGE_ROWS: i64 = 200;
/// Reload when the selection comes this close to the edge of what is loaded.
const PAGE_MARGIN: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Runs,
    Dashboard,
    List,
    Detail,
}

impl Screen {
    pub fn context(self) -> Context {
        match self {
            Screen::Runs => Context::Runs,
            Screen::Dashboard => Context::Dashboard,
            Screen::List => Context::List,
            Screen::Detail => Context::Detail,
        }
    }
}

/// Side effects the runtime carries out.
#[derive(Debug, Clone)]
pub enum Command {
    LoadRuns,
    LoadDashboard {
        run_id: i64,
    },
    LoadErrors {
        generation: u64,
        query: ErrorQuery,
        offset: i64,
    },
    LoadGroups {
        generation: u64,
        repository: String,
        query: GroupQuery,
    },
    LoadDetail {
        generation: u64,
        error: Box<ErrorRecord>,
    },
    Highlight {
        generation: u64,
        file: Arc<FileText>,
        theme: Option<String>,
        start: usize,
        end: usize,
    },
    StartRun(NewRun),
    CancelRun {
        run_id: i64,
    },
    SetGroupStatus {
        group_id: i64,
        status: GroupStatus,
    },
    SaveNote {
        group_id: i64,
        note: String,
    },
    OpenInEditor {
        path: PathBuf,
        line: u32,
    },
    Copy(String),
}

/// What the new-run form asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub path: String,
    pub repository: String,
    pub include_tests: bool,
    pub extensions: Vec<String>,
}

/// A file shown in the drill-down.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileText {
    pub path: PathBuf,
    pub extension: String,
    pub lines: Vec<String>,
    /// Said above the source: the file changed or is gone since the run.
    pub notice: Option<String>,
}

/// Results of commands, back to the state.
#[derive(Debug)]
pub enum Loaded {
    Runs(Vec<RunRecord>),
    Dashboard {
        run: RunRecord,
        counts: BTreeMap<ErrorType, i64>,
        split: FailureSplit,
        groups: Vec<RunGroup>,
    },
    Errors {
        generation: u64,
        offset: i64,
        rows: Vec<ErrorRecord>,
        total: i64,
    },
    Groups {
        generation: u64,
        groups: Vec<GroupRecord>,
        total: i64,
    },
    Detail {
        generation: u64,
        file: FileText,
        group: Option<GroupRecord>,
        root: Option<PathBuf>,
    },
    Highlighted {
        generation: u64,
        window: HighlightedWindow,
    },
    Group(GroupRecord),
    RunStarted {
        run_id: i64,
        repository: String,
        progress: Arc<RunProgress>,
        cancel: CancellationToken,
    },
    RunEnded {
        run_id: i64,
    },
    Message(String),
    /// A request of `kind` failed: it clears its own loading state.
    Failed {
        kind: RequestKind,
        generation: u64,
        message: String,
    },
}

/// The kinds of request whose answers can arrive late: for each, the last
/// one asked wins, and an answer to an older one is dropped. Kinds do not
/// cancel each other (opening an error while a page loads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A page of errors or the group list.
    List,
    Detail,
    Highlight,
}

/// The last request of each kind.
#[derive(Debug, Default)]
struct Latest {
    /// Every request's number, whatever its kind.
    counter: u64,
    list: u64,
    detail: u64,
    highlight: u64,
}

impl Latest {
    fn next(&mut self, kind: RequestKind) -> u64 {
        self.counter += 1;
        let slot = match kind {
            RequestKind::List => &mut self.list,
            RequestKind::Detail => &mut self.detail,
            RequestKind::Highlight => &mut self.highlight,
        };
        *slot = self.counter;
        self.counter
    }

    fn is_latest(&self, kind: RequestKind, generation: u64) -> bool {
        let latest = match kind {
            RequestKind::List => self.list,
            RequestKind::Detail => self.detail,
            RequestKind::Highlight => self.highlight,
        };
        latest == generation
    }
}

/// A run started from this UI.
#[derive(Debug, Clone)]
pub struct LiveRun {
    pub repository: String,
    pub progress: Arc<RunProgress>,
    pub cancel: CancellationToken,
}

#[derive(Debug, Default)]
pub struct RunsState {
    pub runs: Vec<RunRecord>,
    pub selected: usize,
}

#[derive(Debug, Default)]
pub struct DashboardState {
    pub run_id: Option<i64>,
    pub run: Option<RunRecord>,
    pub counts: BTreeMap<ErrorType, i64>,
    /// Failing files by kind of failure.
    pub split: FailureSplit,
    pub groups: Vec<RunGroup>,
}

#[derive(Debug, Default)]
pub struct ListState {
    pub repository: String,
    pub run_id: Option<i64>,
    pub types: BTreeSet<ErrorType>,
    /// The `/` filter of the error list.
    pub text: String,
    /// The `/` filter of the group list: each view keeps its own.
    pub group_text: String,
    /// The `/` filter is being typed.
    pub editing_text: bool,
    /// The error list shows one group's errors: its fingerprint and title.
    pub fingerprint: Option<String>,
    pub group_title: Option<String>,
    /// Only syntax errors with this verdict (the error list).
    pub verdict: Option<Verdict>,
    pub sort: ErrorSort,
    pub grouped: bool,
    pub total: i64,
    /// Absolute index of `rows[0]`.
    pub window_offset: i64,
    pub rows: Vec<ErrorRecord>,
    pub selected: i64,
    pub groups: Vec<GroupRecord>,
    pub group_total: i64,
    pub group_selected: usize,
    pub loading: bool,
    /// Rows the table showed at the last draw, for paging.
    pub visible_rows: Cell<u16>,
}

impl ListState {
    pub fn selected_error(&self) -> Option<&ErrorRecord> {
        let index = self.selected - self.window_offset;
        usize::try_from(index).ok().and_then(|i| self.rows.get(i))
    }

    pub fn selected_group(&self) -> Option<&GroupRecord> {
        self.groups.get(self.group_selected)
    }

    fn error_query(&self) -> ErrorQuery {
        ErrorQuery {
            repository: self.repository.clone(),
            run_id: self.run_id,
            error_types: self.types.iter().copied().collect(),
            fingerprint: self.fingerprint.clone(),
            text: Some(self.text.clone()).filter(|t| !t.is_empty()),
            verdict: self.verdict,
            sort: self.sort,
        }
    }

    fn group_query(&self) -> GroupQuery {
        GroupQuery {
            error_types: self.types.iter().copied().collect(),
            status: None,
            text: Some(self.group_text.clone()).filter(|t| !t.is_empty()),
        }
    }

    /// The `/` filter of the view shown (groups or errors).
    pub fn search(&self) -> &str {
        if self.grouped {
            &self.group_text
        } else {
            &self.text
        }
    }

    fn search_mut(&mut self) -> &mut String {
        if self.grouped {
            &mut self.group_text
        } else {
            &mut self.text
        }
    }
}

#[derive(Debug)]
pub struct DetailState {
    pub error: ErrorRecord,
    pub file: Option<Arc<FileText>>,
    pub group: Option<GroupRecord>,
    /// Index into the error's sites.
    pub site: usize,
    /// First source line shown (0-based).
    pub scroll: usize,
    pub highlighted: Option<HighlightedWindow>,
    /// Source lines the view showed at the last draw.
    pub visible_lines: Cell<u16>,
}

impl DetailState {
    /// (line, column, end_line, end_column) of every place `n`/`N` go to:
    /// the error's problems when the reference parser judged it, else
    /// tree-sitter's sites, else the error's own location.
    pub fn sites(&self) -> Vec<(u32, u32, u32, u32)> {
        let problems = &self.error.details.problems;
        if !problems.is_empty() {
            return problems
                .iter()
                .map(|p| {
                    (
                        p.span.line,
                        p.span.column,
                        p.span.end_line,
                        p.span.end_column,
                    )
                })
                .collect();
        }
        let from_details: Vec<(u32, u32, u32, u32)> = self
            .error
            .details
            .sites
            .iter()
            .map(|s| {
                (
                    s.span.line,
                    s.span.column,
                    s.span.end_line,
                    s.span.end_column,
                )
            })
            .collect();
        if !from_details.is_empty() {
            return from_details;
        }
        match (self.error.line, self.error.column) {
            (Some(line), Some(column)) => {
                let end_line = self.error.end_line.unwrap_or(line);
                let end_column = self.error.end_column.unwrap_or(column + 1);
                vec![(
                    line as u32,
                    column as u32,
                    end_line as u32,
                    end_column as u32,
                )]
            }
            _ => Vec::new(),
        }
    }
}

/// The editors that take over keys while they are open.
pub enum Overlay {
    Help,
    ConfirmQuit,
    NewRun(Box<NewRunForm>),
    Note {
        group_id: i64,
        editor: Box<TextArea<'static>>,
    },
}

pub struct NewRunForm {
    pub fields: [TextArea<'static>; 3],
    pub include_tests: bool,
    /// 0..=2 the text fields, 3 the checkbox.
    pub focus: usize,
    pub error: Option<String>,
}

impl NewRunForm {
    pub const LABELS: [&'static str; 3] = [
        "path",
        "repository (default: the directory's name)",
        "extensions (default: all)",
    ];

    fn new(path: &str) -> Self {
        let field = |text: &str| {
            let mut area = TextArea::from([text.to_owned()]);
            area.move_cursor(ratatui_textarea::CursorMove::End);
            area
        };
        NewRunForm {
            fields: [field(path), field(""), field("")],
            include_tests: false,
            focus: 0,
            error: None,
        }
    }

    fn value(&self, index: usize) -> String {
        self.fields[index].lines().join("").trim().to_owned()
    }
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
    requests: Latest,
    /// Where `snag tui` was started, the new-run form's default path.
    pub cwd: String,
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
            requests: Latest::default(),
            cwd: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        }
    }

    /// Whether the screen changes by itself (a run is going on it).
    pub fn is_animating(&self) -> bool {
        !self.live.is_empty() && matches!(self.screen, Screen::Runs | Screen::Dashboard)
    }

    fn next_request(&mut self, kind: RequestKind) -> u64 {
        self.requests.next(kind)
    }

    /// A key press: editors get it first, then the keymap decides.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if let Some(commands) = self.on_key_in_editor(key) {
            return commands;
        }
        let context = self.screen.context();
        match self.keymap.action(context, &key) {
            Some(action) => self.on_action(action),
            None => Vec::new(),
        }
    }

    /// Keys for the overlay or the search field; `None` when neither is open.
    fn on_key_in_editor(&mut self, key: KeyEvent) -> Option<Vec<Command>> {
        if self.list.editing_text {
            return Some(self.on_search_key(key));
        }
        let overlay = self.overlay.take()?;
        let (keep, commands) = match overlay {
            Overlay::Help => {
                let close = matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
                );
                (if close { None } else { Some(Overlay::Help) }, Vec::new())
            }
            Overlay::ConfirmQuit => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    for run in self.live.values() {
                        run.cancel.cancel();
                    }
                    self.quit = true;
                    (None, Vec::new())
                }
                _ => (None, Vec::new()),
            },
            Overlay::Note {
                group_id,
                mut editor,
            } => {
                let save =
                    key.code == KeyCode::Char('s') && key.modifiers.contains(KeyModifiers::CONTROL);
                if save {
                    let note = editor.lines().join("\n");
                    (None, vec![Command::SaveNote { group_id, note }])
                } else if key.code == KeyCode::Esc {
                    (None, Vec::new())
                } else {
                    editor.input(key);
                    (Some(Overlay::Note { group_id, editor }), Vec::new())
                }
            }
            Overlay::NewRun(form) => self.on_form_key(form, key),
        };
        self.overlay = keep;
        Some(commands)
    }

    fn on_form_key(
        &mut self,
        mut form: Box<NewRunForm>,
        key: KeyEvent,
    ) -> (Option<Overlay>, Vec<Command>) {
        match key.code {
            KeyCode::Esc => return (None, Vec::new()),
            KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % 4,
            KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + 3) % 4,
            KeyCode::Char(' ') if form.focus == 3 => form.include_tests = !form.include_tests,
            KeyCode::Enter => {
                let path = form.value(0);
                if path.is_empty() || !std::path::Path::new(&path).is_dir() {
                    form.error = Some(format!("`{path}` is not a directory"));
                    return (Some(Overlay::NewRun(form)), Vec::new());
                }
                let repository = Some(form.value(1))
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| {
                        crate::runner::default_repository_name(std::path::Path::new(&path))
                    });
                let extensions = form
                    .value(2)
                    .split([',', ' '])
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect();
                let run = NewRun {
                    path,
                    repository,
                    include_tests: form.include_tests,
                    extensions,
                };
                return (None, vec![Command::StartRun(run)]);
            }
            _ if form.focus < 3 => {
                form.fields[form.focus].input(key);
            }
            _ => {}
        }
        (Some(Overlay::NewRun(form)), Vec::new())
    }

    fn on_search_key(&mut self, key: KeyEvent) -> Vec<Command> {
        match key.code {
            KeyCode::Enter => self.list.editing_text = false,
            KeyCode::Esc => {
                self.list.editing_text = false;
                self.list.search_mut().clear();
                return self.reload_list();
            }
            KeyCode::Backspace => {
                self.list.search_mut().pop();
                return self.reload_list();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.list.search_mut().push(c);
                return self.reload_list();
            }
            _ => {}
        }
        Vec::new()
    }

    pub fn on_action(&mut self, action: Action) -> Vec<Command> {
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
                self.overlay = Some(Overlay::Help);
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
                self.overlay = Some(Overlay::NewRun(Box::new(NewRunForm::new(&self.cwd))));
                Vec::new()
            }
            Action::CancelRun => self.cancel_selected_run(),
            Action::ShowErrors => self.show_list(false),
            Action::ShowGroups => self.show_list(true),
            Action::ShowDashboard => match self.current_run_id() {
                Some(run_id) => self.show_dashboard(run_id),
                None => Vec::new(),
            },
            Action::ToggleGrouping => {
                self.list.grouped = !self.list.grouped;
                self.reload_list()
            }
            Action::AllTypes => {
                self.list.types.clear();
                self.reload_list()
            }
            Action::Search => {
                self.list.editing_text = true;
                Vec::new()
            }
            // Groups have one order (files affected); sorts are the list's.
            Action::CycleSort if self.list.grouped => {
                self.status = Some("groups are ordered by files affected".to_owned());
                Vec::new()
            }
            Action::CycleSort => {
                self.list.sort = self.list.sort.next();
                self.reload_list()
            }
            Action::CycleVerdict => {
                // All, then each verdict in turn, then all again.
                self.list.verdict = match self.list.verdict {
                    None => Some(Verdict::ALL[0]),
                    Some(v) => Verdict::ALL
                        .iter()
                        .position(|x| *x == v)
                        .and_then(|i| Verdict::ALL.get(i + 1))
                        .copied(),
                };
                self.list.grouped = false;
                self.reload_list()
            }
            Action::NextSite => self.jump_site(1),
            Action::PreviousSite => self.jump_site(-1),
            Action::MarkIgnored => self.set_status(GroupStatus::Ignored),
            Action::MarkResolved => self.set_status(GroupStatus::Resolved),
            Action::MarkOpen => self.set_status(GroupStatus::Open),
            Action::EditNote => self.edit_note(),
            Action::OpenInEditor => self.location().map_or_else(Vec::new, |(path, line)| {
                vec![Command::OpenInEditor { path, line }]
            }),
            Action::CopyLocation => self.location().map_or_else(Vec::new, |(path, line)| {
                self.status = Some(format!("copied {}:{line}", path.display()));
                vec![Command::Copy(format!("{}:{line}", path.display()))]
            }),
            toggle => match toggle.toggled_type() {
                Some(error_type) => {
                    if !self.list.types.remove(&error_type) {
                        self.list.types.insert(error_type);
                    }
                    self.reload_list()
                }
                None => Vec::new(),
            },
        }
    }

    fn page(&self) -> i64 {
        let rows = match self.screen {
            Screen::Detail => self.detail.as_ref().map_or(10, |d| d.visible_lines.get()),
            _ => self.list.visible_rows.get(),
        };
        i64::from(rows.max(2)) - 1
    }

    fn back(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Runs => {}
            Screen::Dashboard => {
                self.screen = Screen::Runs;
                return vec![Command::LoadRuns];
            }
            Screen::List if self.list.fingerprint.is_some() => {
                // Back from a group's errors to the groups, whose own
                // filter is as it was; the group's filter goes with it.
                self.list.fingerprint = None;
                self.list.group_title = None;
                self.list.text.clear();
                self.list.grouped = true;
                return self.reload_list();
            }
            Screen::List => match self.list.run_id {
                Some(run_id) => return self.show_dashboard(run_id),
                None => self.screen = Screen::Runs,
            },
            Screen::Detail => {
                self.detail = None;
                self.screen = Screen::List;
            }
        }
        Vec::new()
    }

    fn move_by(&mut self, delta: i64) -> Vec<Command> {
        match self.screen {
            Screen::Runs => {
                self.runs.selected = step(self.runs.selected, delta, self.runs.runs.len());
                Vec::new()
            }
            Screen::List if self.list.grouped => {
                self.list.group_selected =
                    step(self.list.group_selected, delta, self.list.groups.len());
                Vec::new()
            }
            Screen::List => {
                let last = (self.list.total - 1).max(0);
                self.list.selected = self.list.selected.saturating_add(delta).clamp(0, last);
                self.page_if_needed()
            }
            Screen::Detail => {
                if let Some(detail) = &mut self.detail {
                    let lines = detail.file.as_ref().map_or(0, |f| f.lines.len());
                    detail.scroll = step(detail.scroll, delta, lines);
                }
                self.highlight_if_needed()
            }
            Screen::Dashboard => Vec::new(),
        }
    }

    /// Loads the rows around the selection when it nears what is loaded.
    fn page_if_needed(&mut self) -> Vec<Command> {
        let list = &self.list;
        let loaded_end = list.window_offset + list.rows.len() as i64;
        let near_start = list.selected < list.window_offset + PAGE_MARGIN && list.window_offset > 0;
        let near_end = list.selected >= loaded_end - PAGE_MARGIN && loaded_end < list.total;
        if !(near_start || near_end) || list.loading {
            return Vec::new();
        }
        let offset = (list.selected - PAGE_ROWS / 2).max(0);
        let query = list.error_query();
        self.list.loading = true;
        let generation = self.next_request(RequestKind::List);
        vec![Command::LoadErrors {
            generation,
            query,
            offset,
        }]
    }

    fn open(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Runs => match self.runs.runs.get(self.runs.selected) {
                Some(run) => self.show_dashboard(run.run_id),
                None => Vec::new(),
            },
            Screen::Dashboard => self.show_list(false),
            Screen::List if self.list.grouped => {
                let Some(group) = self.list.selected_group() else {
                    return Vec::new();
                };
                let (fingerprint, title) = (group.fingerprint.clone(), group.title.clone());
                self.list.fingerprint = Some(fingerprint);
                self.list.group_title = Some(title);
                self.list.text.clear();
                self.list.grouped = false;
                self.reload_list()
            }
            Screen::List => {
                let Some(error) = self.list.selected_error().cloned() else {
                    return Vec::new();
                };
                let generation = self.next_request(RequestKind::Detail);
                let scroll = error.line.map_or(0, |l| (l as usize).saturating_sub(6));
                // Opened at the problem the error is known by.
                let primary = primary_problem(&error.details.problems);
                let site = error
                    .details
                    .problems
                    .iter()
                    .position(|p| Some(p) == primary)
                    .unwrap_or(0);
                self.detail = Some(DetailState {
                    error: error.clone(),
                    file: None,
                    group: None,
                    site,
                    scroll,
                    highlighted: None,
                    visible_lines: Cell::new(20),
                });
                self.screen = Screen::Detail;
                vec![Command::LoadDetail {
                    generation,
                    error: Box::new(error),
                }]
            }
            Screen::Detail => Vec::new(),
        }
    }

    fn refresh(&mut self) -> Vec<Command> {
        match self.screen {
            Screen::Runs => vec![Command::LoadRuns],
            Screen::Dashboard => self
                .dashboard
                .run_id
                .map(|run_id| Command::LoadDashboard { run_id })
                .into_iter()
                .collect(),
            Screen::List => self.reload_list(),
            Screen::Detail => match &self.detail {
                Some(detail) => {
                    let error = Box::new(detail.error.clone());
                    let generation = self.next_request(RequestKind::Detail);
                    vec![Command::LoadDetail { generation, error }]
                }
                None => Vec::new(),
            },
        }
    }

    /// The run the current screen is about.
    fn current_run_id(&self) -> Option<i64> {
        match self.screen {
            Screen::Runs => self.runs.runs.get(self.runs.selected).map(|r| r.run_id),
            Screen::Dashboard => self.dashboard.run_id,
            Screen::List | Screen::Detail => self.list.run_id,
        }
    }

    fn current_run(&self) -> Option<&RunRecord> {
        let run_id = self.current_run_id()?;
        self.runs.runs.iter().find(|r| r.run_id == run_id).or(self
            .dashboard
            .run
            .as_ref()
            .filter(|r| r.run_id == run_id))
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
        if self.dashboard.run_id != Some(run_id) {
            self.dashboard = DashboardState {
                run_id: Some(run_id),
                ..Default::default()
            };
        }
        vec![Command::LoadDashboard { run_id }]
    }

    fn show_list(&mut self, grouped: bool) -> Vec<Command> {
        let Some(run) = self.current_run().cloned() else {
            return Vec::new();
        };
        if self.list.repository != run.repository || self.list.run_id != Some(run.run_id) {
            self.list = ListState {
                repository: run.repository.clone(),
                run_id: Some(run.run_id),
                ..Default::default()
            };
        }
        self.list.grouped = grouped;
        self.list.fingerprint = None;
        self.screen = Screen::List;
        self.reload_list()
    }

    /// New filters: back to the first row, and ask for it.
    fn reload_list(&mut self) -> Vec<Command> {
        let generation = self.next_request(RequestKind::List);
        self.list.loading = true;
        if self.list.grouped {
            self.list.group_selected = 0;
            vec![Command::LoadGroups {
                generation,
                repository: self.list.repository.clone(),
                query: self.list.group_query(),
            }]
        } else {
            self.list.selected = 0;
            vec![Command::LoadErrors {
                generation,
                query: self.list.error_query(),
                offset: 0,
            }]
        }
    }

    fn jump_site(&mut self, delta: i64) -> Vec<Command> {
        let Some(detail) = &mut self.detail else {
            return Vec::new();
        };
        let sites = detail.sites();
        if sites.is_empty() {
            return Vec::new();
        }
        detail.site = step(detail.site, delta, sites.len());
        let line = sites[detail.site].0 as usize;
        let half = usize::from(detail.visible_lines.get() / 2);
        detail.scroll = line.saturating_sub(half.max(1));
        self.highlight_if_needed()
    }

    /// Asks for highlighting when the visible lines are not highlighted yet.
    pub fn highlight_if_needed(&mut self) -> Vec<Command> {
        let theme = self.theme.syntax_theme.clone();
        let Some(detail) = &self.detail else {
            return Vec::new();
        };
        let Some(file) = &detail.file else {
            return Vec::new();
        };
        let visible = usize::from(detail.visible_lines.get().max(1));
        let covered = detail.highlighted.as_ref().is_some_and(|h| {
            let end = h.first + h.lines.len();
            h.first <= detail.scroll && (detail.scroll + visible <= end || end >= file.lines.len())
        });
        if covered || theme.is_none() {
            return Vec::new();
        }
        let start = detail.scroll.saturating_sub(visible);
        let end = (detail.scroll + visible * 2).min(file.lines.len());
        let file = Arc::clone(file);
        let generation = self.next_request(RequestKind::Highlight);
        vec![Command::Highlight {
            generation,
            file,
            theme,
            start,
            end,
        }]
    }

    /// The group the selection (list) or the open error (detail) belongs to.
    fn selected_group_id(&self) -> Option<i64> {
        match self.screen {
            Screen::List if self.list.grouped => self.list.selected_group().map(|g| g.group_id),
            Screen::Detail => self.detail.as_ref()?.group.as_ref().map(|g| g.group_id),
            _ => None,
        }
    }

    fn set_status(&mut self, status: GroupStatus) -> Vec<Command> {
        match self.selected_group_id() {
            Some(group_id) => vec![Command::SetGroupStatus { group_id, status }],
            None => {
                self.status =
                    Some("select a group (Tab shows groups) or open an error first".to_owned());
                Vec::new()
            }
        }
    }

    fn edit_note(&mut self) -> Vec<Command> {
        let Some(group_id) = self.selected_group_id() else {
            self.status =
                Some("select a group (Tab shows groups) or open an error first".to_owned());
            return Vec::new();
        };
        let note = match self.screen {
            Screen::Detail => self
                .detail
                .as_ref()
                .and_then(|d| d.group.as_ref()?.note.clone()),
            _ => self.list.selected_group().and_then(|g| g.note.clone()),
        };
        // Notes can come from the API too: nothing raw reaches the terminal.
        let note = note
            .map(|n| crate::sanitize::block(&n).into_owned())
            .unwrap_or_default();
        let lines: Vec<String> = note.lines().map(str::to_owned).collect();
        let editor = if lines.is_empty() {
            TextArea::default()
        } else {
            TextArea::new(lines)
        };
        self.overlay = Some(Overlay::Note {
            group_id,
            editor: Box::new(editor),
        });
        Vec::new()
    }

    /// The absolute path and line of the selected or open error.
    fn location(&self) -> Option<(PathBuf, u32)> {
        let (error, file) = match self.screen {
            Screen::Detail => {
                let detail = self.detail.as_ref()?;
                (&detail.error, detail.file.as_ref().map(|f| f.path.clone()))
            }
            Screen::List if !self.list.grouped => (self.list.selected_error()?, None),
            _ => return None,
        };
        let line = match (&self.detail, self.screen) {
            (Some(detail), Screen::Detail) => detail.sites().get(detail.site).map(|s| s.0),
            _ => None,
        }
        .or(error.line.map(|l| l as u32))
        .unwrap_or(1);
        Some((
            file.unwrap_or_else(|| crate::stored_path::to_path(Path::new(""), &error.file_path)),
            line,
        ))
    }

    /// Results coming back from commands. Stale ones (older than the
    /// latest request of their kind) are dropped: the last request wins.
    pub fn on_loaded(&mut self, loaded: Loaded) -> Vec<Command> {
        match loaded {
            Loaded::Runs(runs) => {
                self.runs.selected = self.runs.selected.min(runs.len().saturating_sub(1));
                self.runs.runs = runs;
            }
            Loaded::Dashboard {
                run,
                counts,
                split,
                groups,
            } => {
                if self.dashboard.run_id == Some(run.run_id) {
                    self.dashboard.run = Some(run);
                    self.dashboard.counts = counts;
                    self.dashboard.split = split;
                    self.dashboard.groups = groups;
                }
            }
            Loaded::Errors {
                generation,
                offset,
                rows,
                total,
            } => {
                if self.requests.is_latest(RequestKind::List, generation) {
                    self.list.loading = false;
                    self.list.window_offset = offset;
                    self.list.rows = rows;
                    self.list.total = total;
                    self.list.selected = self.list.selected.clamp(0, (total - 1).max(0));
                    // Keys held while it loaded may have moved the selection
                    // past this page: ask for the selection's.
                    return self.page_if_needed();
                }
            }
            Loaded::Groups {
                generation,
                groups,
                total,
            } => {
                if self.requests.is_latest(RequestKind::List, generation) {
                    self.list.loading = false;
                    self.list.groups = groups;
                    self.list.group_total = total;
                    self.list.group_selected = self
                        .list
                        .group_selected
                        .min(self.list.groups.len().saturating_sub(1));
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
                    detail.file = Some(Arc::new(file));
                    detail.group = group;
                    return self.highlight_if_needed();
                }
            }
            Loaded::Highlighted { generation, window } => {
                if self.requests.is_latest(RequestKind::Highlight, generation)
                    && let Some(detail) = &mut self.detail
                {
                    detail.highlighted = Some(window);
                }
            }
            Loaded::Group(group) => {
                self.status = Some(format!("group {} is now {}", group.group_id, group.status));
                if let Some(g) = self
                    .list
                    .groups
                    .iter_mut()
                    .find(|g| g.group_id == group.group_id)
                {
                    *g = group.clone();
                }
                if let Some(detail) = &mut self.detail
                    && detail
                        .group
                        .as_ref()
                        .is_some_and(|g| g.group_id == group.group_id)
                {
                    detail.group = Some(group);
                }
            }
            Loaded::RunStarted {
                run_id,
                repository,
                progress,
                cancel,
            } => {
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
                let mut commands = vec![Command::LoadRuns];
                if self.dashboard.run_id == Some(run_id) {
                    commands.push(Command::LoadDashboard { run_id });
                }
                return commands;
            }
            Loaded::Message(message) => self.status = Some(message),
            Loaded::Failed {
                kind,
                generation,
                message,
            } => {
                if self.requests.is_latest(kind, generation) {
                    match kind {
                        RequestKind::List => self.list.loading = false,
                        RequestKind::Detail => {
                            if let Some(detail) = &mut self.detail
                                && detail.file.is_none()
                            {
                                detail.file = Some(Arc::new(FileText {
                                    notice: Some(format!("cannot load the file: {message}")),
                                    ..FileText::default()
                                }));
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

    /// The run's status, live when it runs here.
    pub fn run_status(&self, run: &RunRecord) -> RunStatus {
        if self.live.contains_key(&run.run_id) {
            RunStatus::Running
        } else {
            run.status
        }
    }
}

/// Moves an index by `delta` within `0..len`.
fn step(index: usize, delta: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let moved = (index as i64)
        .saturating_add(delta)
        .clamp(0, len as i64 - 1);
    moved as usize
}
