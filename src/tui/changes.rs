//! What changed between two runs, as a list to walk: the files new in the
//! later run (newly failing, or failing with a problem they did not have),
//! those fixed in it (fixed or gone), or every change, each under its
//! problem group. Enter opens the file's errors in the run that has them.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::report::diff::RunDiff;

/// Which changes the list shows; tab goes to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeFilter {
    NewInRun,
    FixedInRun,
    All,
}

impl ChangeFilter {
    pub const ALL: [ChangeFilter; 3] = [
        ChangeFilter::NewInRun,
        ChangeFilter::FixedInRun,
        ChangeFilter::All,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ChangeFilter::NewInRun => "new in this run",
            ChangeFilter::FixedInRun => "fixed in this run",
            ChangeFilter::All => "all changes",
        }
    }

    fn next(self) -> ChangeFilter {
        match self {
            ChangeFilter::NewInRun => ChangeFilter::FixedInRun,
            ChangeFilter::FixedInRun => ChangeFilter::All,
            ChangeFilter::All => ChangeFilter::NewInRun,
        }
    }

    fn shows(self, row: &ChangeRow) -> bool {
        match self {
            ChangeFilter::NewInRun => row.mark == '+' || row.is_new_problem,
            ChangeFilter::FixedInRun => row.mark == '-',
            ChangeFilter::All => true,
        }
    }
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    /// `+` newly failing, `-` fixed or gone, `~` another problem or verdict.
    pub mark: char,
    pub file_path: String,
    /// What happened to it.
    pub change: &'static str,
    /// The title of the group it counts in.
    pub group: String,
    /// The run whose errors show it: the later run, or the earlier one for
    /// a file that no longer fails.
    pub run_id: i64,
    is_new_problem: bool,
}

/// The list of changes, open over the screen.
#[derive(Debug)]
pub struct ChangesView {
    pub repository: String,
    pub from: i64,
    pub to: i64,
    /// Both runs' grammars and parse health, in a line each.
    pub context: [String; 2],
    rows: Vec<ChangeRow>,
    pub filter: ChangeFilter,
    /// The rows the filter lets through, by index, and how many each
    /// filter lets through: worked out when the filter changes, not per
    /// frame.
    shown: Vec<usize>,
    counts: [usize; ChangeFilter::ALL.len()],
    /// Index into [`ChangesView::shown`].
    pub selected: usize,
}

/// What a key in the list asks for.
pub enum ChangesKey {
    Stay,
    Close,
    /// The errors of `file_path` in run `run_id`.
    Open {
        run_id: i64,
        file_path: String,
    },
}

impl ChangesView {
    pub fn new(diff: &RunDiff) -> Self {
        let (from, to) = (diff.from.run_id, diff.to.run_id);
        let mut rows = Vec::new();
        for group in &diff.groups {
            let mut push = |mark, path: &str, change, run_id, is_new_problem| {
                rows.push(ChangeRow {
                    mark,
                    file_path: path.to_owned(),
                    change,
                    group: group.title.clone(),
                    run_id,
                    is_new_problem,
                });
            };
            for path in &group.newly_failing {
                push('+', path, "newly failing", to, false);
            }
            for change in &group.another_problem {
                push('~', &change.file_path, "another problem", to, true);
            }
            for change in &group.another_verdict {
                push('~', &change.file_path, "another verdict", to, false);
            }
            for path in &group.fixed {
                push('-', path, "fixed", from, false);
            }
            for path in &group.gone {
                push('-', path, "gone", from, false);
            }
        }
        let counts = ChangeFilter::ALL.map(|f| rows.iter().filter(|r| f.shows(r)).count());
        let mut view = ChangesView {
            repository: diff.repository.clone(),
            from,
            to,
            context: [
                format!("grammars: {}", diff.grammars_line()),
                format!("health: {}", diff.health_line()),
            ],
            rows,
            filter: ChangeFilter::NewInRun,
            shown: Vec::new(),
            counts,
            selected: 0,
        };
        view.filter_by(ChangeFilter::NewInRun);
        view
    }

    fn filter_by(&mut self, filter: ChangeFilter) {
        self.filter = filter;
        self.selected = 0;
        self.shown = (0..self.rows.len())
            .filter(|&i| filter.shows(&self.rows[i]))
            .collect();
    }

    /// The rows the filter lets through.
    pub fn shown(&self) -> impl ExactSizeIterator<Item = &ChangeRow> {
        self.shown.iter().map(|&i| &self.rows[i])
    }

    /// How many rows `filter` lets through.
    pub fn count(&self, filter: ChangeFilter) -> usize {
        let index = ChangeFilter::ALL.iter().position(|f| *f == filter);
        index.map_or(0, |i| self.counts[i])
    }

    pub fn on_key(&mut self, key: KeyEvent) -> ChangesKey {
        let shown = self.shown.len();
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return ChangesKey::Close,
            KeyCode::Tab => self.filter_by(self.filter.next()),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(shown.saturating_sub(1));
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = shown.saturating_sub(1),
            KeyCode::Enter => {
                if let Some(row) = self.shown().nth(self.selected) {
                    return ChangesKey::Open {
                        run_id: row.run_id,
                        file_path: row.file_path.clone(),
                    };
                }
            }
            _ => {}
        }
        ChangesKey::Stay
    }
}
