//! The contract between the UI's state and the runtime: side effects leave
//! the state as [`Command`]s and their results come back as [`Loaded`]
//! values, so every key can be tested without a terminal or a database.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::highlight::HighlightedWindow;
use crate::index::progress::RunProgress;
use crate::store::files::RunDashboard;
use crate::store::groups::{GroupQuery, GroupRecord, GroupStatus};
use crate::store::runs::RunRecord;
use crate::store::{Count, ErrorFacets, ErrorQuery, ErrorRecord};

/// Side effects the runtime carries out.
#[derive(Debug, Clone)]
pub enum Command {
    LoadRuns,
    LoadDashboard {
        run_id: i64,
    },
    /// A run's errors by type and by verdict, for the lists' filter bar.
    LoadFacets {
        repository: String,
        run_id: i64,
    },
    LoadErrors {
        generation: u64,
        query: ErrorQuery,
        offset: i64,
        total: Counting,
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
    /// The run's directory indexed again, with the run's options.
    Rerun {
        run_id: i64,
    },
    /// A group's example reduced to a minimal file, to show.
    /// What changed from run `from` (the run before `to` when None) to `to`.
    Diff {
        from: Option<i64>,
        to: i64,
    },
    Repro {
        groups: GroupSet,
    },
    CancelRun {
        run_id: i64,
    },
    /// A status or a note for one group or many.
    Triage {
        groups: GroupSet,
        change: Triage,
    },
    /// `$VISUAL`/`$EDITOR` at a 1-based line and column.
    OpenInEditor {
        path: PathBuf,
        line: u32,
        column: u32,
    },
    Copy(String),
}

/// How a page of errors gets its total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Known and unchanged (paging under the same filters of a finished
    /// run): not counted again.
    Known(Count),
    /// Counted, but a text or group filter's matches only up to where the
    /// first pages need.
    UpTo,
    /// Every match counted (the end of the list was asked for).
    Exact,
}

/// The groups a triage key acts on: named by id (the group list, a
/// drill-down) or by fingerprint (rows of the error list).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSet {
    pub repository: String,
    pub ids: Vec<i64>,
    pub fingerprints: Vec<String>,
}

impl GroupSet {
    pub fn len(&self) -> usize {
        self.ids.len() + self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What triage changes on a group.
#[derive(Debug, Clone, PartialEq)]
pub enum Triage {
    Status(GroupStatus),
    Note(String),
}

/// What the new-run form asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub path: String,
    pub repository: String,
    pub include_tests: bool,
    pub extensions: Vec<String>,
    /// Parse every file: nothing is carried over from earlier runs.
    pub full: bool,
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
    /// What changed between two runs.
    Changes(Box<crate::report::diff::RunDiff>),
    Dashboard(Box<RunDashboard>),
    Facets {
        run_id: i64,
        facets: ErrorFacets,
    },
    Errors {
        generation: u64,
        offset: i64,
        rows: Vec<ErrorRecord>,
        total: Count,
    },
    Groups {
        generation: u64,
        groups: Vec<GroupRecord>,
        total: i64,
    },
    Detail {
        generation: u64,
        file: FileText,
        group: Option<Box<GroupRecord>>,
        root: Option<PathBuf>,
    },
    Highlighted {
        generation: u64,
        window: HighlightedWindow,
    },
    /// Groups as a triage change left them.
    Triaged {
        groups: Vec<GroupRecord>,
        change: Triage,
    },
    RunStarted {
        run_id: i64,
        repository: String,
        /// The directory it indexes.
        root: String,
        progress: Arc<RunProgress>,
        cancel: CancellationToken,
    },
    RunEnded {
        run_id: i64,
    },
    Message(String),
    /// Text to show in a box (a reduced example).
    Text {
        title: String,
        text: String,
    },
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
pub struct Requests {
    /// Every request's number, whatever its kind.
    counter: u64,
    list: u64,
    detail: u64,
    highlight: u64,
}

impl Requests {
    /// Numbers a new request of `kind`; it supersedes the earlier ones.
    pub fn next(&mut self, kind: RequestKind) -> u64 {
        self.counter += 1;
        let slot = match kind {
            RequestKind::List => &mut self.list,
            RequestKind::Detail => &mut self.detail,
            RequestKind::Highlight => &mut self.highlight,
        };
        *slot = self.counter;
        self.counter
    }

    pub fn is_latest(&self, kind: RequestKind, generation: u64) -> bool {
        let latest = match kind {
            RequestKind::List => self.list,
            RequestKind::Detail => self.detail,
            RequestKind::Highlight => self.highlight,
        };
        latest == generation
    }
}
