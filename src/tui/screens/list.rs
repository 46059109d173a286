//! The error list and the group list of a run: filters, paging around the
//! selection, and the `/` filter each view keeps for itself.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::step;
use crate::index::outcome::{ErrorType, Verdict};
use crate::keymap::Action;
use crate::store::groups::{GroupQuery, GroupRecord, GroupStatus};
use crate::store::{Count, ErrorFacets, ErrorQuery, ErrorRecord, ErrorSort};
use crate::tui::command::{Command, Counting, GroupSet, RequestKind, Requests};

/// Rows fetched around the selection; the list never loads everything.
pub const PAGE_ROWS: i64 = 200;
/// Reload when the selection comes this close to the edge of what is loaded.
const PAGE_MARGIN: i64 = 20;

/// Which groups the group list shows, by triage status. By default the
/// ones that still need someone: open and regressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Unresolved,
    Regressed,
    Resolved,
    Ignored,
    All,
}

impl StatusFilter {
    const CYCLE: [StatusFilter; 5] = [
        StatusFilter::Unresolved,
        StatusFilter::Regressed,
        StatusFilter::Resolved,
        StatusFilter::Ignored,
        StatusFilter::All,
    ];

    fn next(self) -> StatusFilter {
        let at = Self::CYCLE.iter().position(|s| *s == self).unwrap_or(0);
        Self::CYCLE[(at + 1) % Self::CYCLE.len()]
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Unresolved => "unresolved",
            StatusFilter::Regressed => "regressed",
            StatusFilter::Resolved => "resolved",
            StatusFilter::Ignored => "ignored",
            StatusFilter::All => "all",
        }
    }

    fn statuses(self) -> Vec<GroupStatus> {
        match self {
            StatusFilter::Unresolved => vec![GroupStatus::Open, GroupStatus::Regressed],
            StatusFilter::Regressed => vec![GroupStatus::Regressed],
            StatusFilter::Resolved => vec![GroupStatus::Resolved],
            StatusFilter::Ignored => vec![GroupStatus::Ignored],
            StatusFilter::All => Vec::new(),
        }
    }
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
    /// The group list's status filter, and whether it shows only groups
    /// new in the run.
    pub status_filter: StatusFilter,
    pub new_only: bool,
    /// The run's errors by type and by verdict, for the filter bar.
    pub facets: ErrorFacets,
    pub grouped: bool,
    pub total: i64,
    /// False when counting stopped at `total`: at least that many match.
    pub total_exact: bool,
    /// G was pressed before every match was counted: the end is shown once
    /// the count is in.
    bottom_pending: bool,
    /// Absolute index of `rows[0]`.
    pub window_offset: i64,
    pub rows: Vec<ErrorRecord>,
    pub selected: i64,
    pub groups: Vec<GroupRecord>,
    pub group_total: i64,
    pub group_selected: usize,
    pub loading: bool,
    /// The run is still writing errors: every page counts them again.
    pub growing: bool,
    /// Rows marked for bulk triage, per view: groups by id (with their
    /// title), errors by id (with their group's fingerprint).
    pub marked_groups: BTreeMap<i64, String>,
    pub marked_errors: BTreeMap<i64, String>,
    /// Rows the table showed at the last draw, for paging.
    pub visible_rows: Cell<u16>,
}

impl ListState {
    /// The lists of a run, unfiltered.
    pub fn of_run(repository: &str, run_id: i64) -> Self {
        ListState {
            repository: repository.to_owned(),
            run_id: Some(run_id),
            total_exact: true,
            ..Default::default()
        }
    }

    /// The request for the filter bar's counts (a run's lists have them).
    pub fn load_facets(&self) -> Option<Command> {
        Some(Command::LoadFacets {
            repository: self.repository.clone(),
            run_id: self.run_id?,
        })
    }

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
            statuses: self.status_filter.statuses(),
            text: Some(self.group_text.clone()).filter(|t| !t.is_empty()),
            first_seen_run: self.run_id.filter(|_| self.new_only),
            last_seen_run: None,
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

    /// Rows a page key moves by.
    pub fn page(&self) -> i64 {
        i64::from(self.visible_rows.get().max(2)) - 1
    }

    /// The actions that belong to the lists; `None` for the others.
    pub fn on_action(
        &mut self,
        action: Action,
        requests: &mut Requests,
        status: &mut Option<String>,
    ) -> Option<Vec<Command>> {
        let commands = match action {
            Action::ToggleGrouping => {
                self.grouped = !self.grouped;
                self.reload(requests)
            }
            Action::AllTypes => {
                self.types.clear();
                self.reload(requests)
            }
            Action::Search => {
                self.editing_text = true;
                Vec::new()
            }
            Action::ToggleMark => {
                self.toggle_mark();
                self.move_by(1, requests)
            }
            // Groups have one order (files affected); sorts are the list's.
            Action::CycleSort if self.grouped => {
                *status = Some("groups are ordered by files affected".to_owned());
                Vec::new()
            }
            Action::CycleSort => {
                self.sort = self.sort.next();
                self.reload(requests)
            }
            Action::CycleVerdict => {
                // All, then each verdict in turn, then all again.
                self.verdict = match self.verdict {
                    None => Some(Verdict::ALL[0]),
                    Some(v) => Verdict::ALL
                        .iter()
                        .position(|x| *x == v)
                        .and_then(|i| Verdict::ALL.get(i + 1))
                        .copied(),
                };
                self.grouped = false;
                self.reload(requests)
            }
            // Status and novelty are the groups': they show the groups.
            Action::CycleStatusFilter => {
                self.status_filter = self.status_filter.next();
                self.grouped = true;
                self.reload(requests)
            }
            Action::ToggleNewInRun => {
                self.new_only = !self.new_only;
                self.grouped = true;
                self.reload(requests)
            }
            toggle => {
                let error_type = toggle.toggled_type()?;
                if !self.types.remove(&error_type) {
                    self.types.insert(error_type);
                }
                self.reload(requests)
            }
        };
        Some(commands)
    }

    /// Marks the selected row, or unmarks it.
    fn toggle_mark(&mut self) {
        if self.grouped {
            if let Some(group) = self.selected_group() {
                let (id, title) = (group.group_id, group.title.clone());
                if self.marked_groups.remove(&id).is_none() {
                    self.marked_groups.insert(id, title);
                }
            }
        } else if let Some(error) = self.selected_error() {
            let id = error.error_id;
            let fingerprint = error.fingerprint.clone().unwrap_or_default();
            if self.marked_errors.remove(&id).is_none() && !fingerprint.is_empty() {
                self.marked_errors.insert(id, fingerprint);
            }
        }
    }

    /// The rows marked in the view shown.
    pub fn marks(&self) -> usize {
        if self.grouped {
            self.marked_groups.len()
        } else {
            self.marked_errors.len()
        }
    }

    /// Whether a row of the view shown is marked.
    pub fn is_marked_group(&self, group_id: i64) -> bool {
        self.marked_groups.contains_key(&group_id)
    }

    pub fn is_marked_error(&self, error_id: i64) -> bool {
        self.marked_errors.contains_key(&error_id)
    }

    /// The groups of the marked rows of the view shown; `None` when none
    /// is marked.
    pub fn marked(&self) -> Option<GroupSet> {
        let mut groups = GroupSet {
            repository: self.repository.clone(),
            ..GroupSet::default()
        };
        if self.grouped {
            groups.ids = self.marked_groups.keys().copied().collect();
        } else {
            let fingerprints: BTreeSet<&String> = self.marked_errors.values().collect();
            groups.fingerprints = fingerprints.into_iter().cloned().collect();
        }
        (!groups.is_empty()).then_some(groups)
    }

    /// Forgets the marks of the view shown; whether there were any.
    pub fn clear_marks(&mut self) -> bool {
        let had = self.marks() > 0;
        if self.grouped {
            self.marked_groups.clear();
        } else {
            self.marked_errors.clear();
        }
        had
    }

    /// The selected row's group: by id in the group list, by fingerprint
    /// in the error list.
    pub fn selected_groups(&self) -> Option<GroupSet> {
        let mut groups = GroupSet {
            repository: self.repository.clone(),
            ..GroupSet::default()
        };
        if self.grouped {
            groups.ids.push(self.selected_group()?.group_id);
        } else {
            groups
                .fingerprints
                .push(self.selected_error()?.fingerprint.clone()?);
        }
        Some(groups)
    }

    /// A key while the `/` filter is typed.
    pub fn on_search_key(&mut self, key: KeyEvent, requests: &mut Requests) -> Vec<Command> {
        match key.code {
            KeyCode::Enter => self.editing_text = false,
            KeyCode::Esc => {
                self.editing_text = false;
                self.search_mut().clear();
                return self.reload(requests);
            }
            KeyCode::Backspace => {
                self.search_mut().pop();
                return self.reload(requests);
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.search_mut().clear();
                return self.reload(requests);
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.search_mut().push(c);
                return self.reload(requests);
            }
            _ => {}
        }
        Vec::new()
    }

    /// New filters: back to the first row, and ask for it.
    pub fn reload(&mut self, requests: &mut Requests) -> Vec<Command> {
        let generation = requests.next(RequestKind::List);
        self.loading = true;
        if self.grouped {
            self.group_selected = 0;
            vec![Command::LoadGroups {
                generation,
                repository: self.repository.clone(),
                query: self.group_query(),
            }]
        } else {
            self.selected = 0;
            self.bottom_pending = false;
            vec![Command::LoadErrors {
                generation,
                query: self.error_query(),
                offset: 0,
                total: Counting::UpTo,
            }]
        }
    }

    pub fn move_by(&mut self, delta: i64, requests: &mut Requests) -> Vec<Command> {
        if self.grouped {
            self.group_selected = step(self.group_selected, delta, self.groups.len());
            return Vec::new();
        }
        if delta >= i64::MAX / 4 && !self.total_exact {
            self.bottom_pending = true;
        }
        let last = (self.total - 1).max(0);
        self.selected = self.selected.saturating_add(delta).clamp(0, last);
        self.page_if_needed(requests)
    }

    /// Loads the rows around the selection when it nears what is loaded,
    /// or the end of what was counted.
    fn page_if_needed(&mut self, requests: &mut Requests) -> Vec<Command> {
        let loaded_end = self.window_offset + self.rows.len() as i64;
        let near_start = self.selected < self.window_offset + PAGE_MARGIN && self.window_offset > 0;
        let near_end = self.selected >= loaded_end - PAGE_MARGIN
            && (loaded_end < self.total || !self.total_exact);
        let near_counted_end = !self.total_exact && self.selected >= self.total - PAGE_MARGIN;
        if !(near_start || near_end || self.bottom_pending) || self.loading {
            return Vec::new();
        }
        let offset = (self.selected - PAGE_ROWS / 2).max(0);
        // Same filters, same total: counting a text filter's matches again
        // would read every error it matches, for each page. A run still
        // writing errors is counted again; the end of a count that stopped
        // short is counted in full.
        let total = if near_counted_end || self.bottom_pending {
            Counting::Exact
        } else if self.growing {
            Counting::UpTo
        } else {
            Counting::Known(Count {
                n: self.total,
                exact: self.total_exact,
            })
        };
        self.loading = true;
        vec![Command::LoadErrors {
            generation: requests.next(RequestKind::List),
            query: self.error_query(),
            offset,
            total,
        }]
    }

    /// Enter on a group: its errors, with the group's title as the filter.
    /// `None` in the error list, where Enter opens the error.
    pub fn open_group(&mut self, requests: &mut Requests) -> Option<Vec<Command>> {
        if !self.grouped {
            return None;
        }
        let Some(group) = self.selected_group() else {
            return Some(Vec::new());
        };
        let (fingerprint, title) = (group.fingerprint.clone(), group.title.clone());
        self.fingerprint = Some(fingerprint);
        self.group_title = Some(title);
        self.text.clear();
        self.grouped = false;
        Some(self.reload(requests))
    }

    /// Back from a group's errors to the groups, whose own filter is as it
    /// was; the group's filter goes with it. `None` when not in a group.
    pub fn leave_group(&mut self, requests: &mut Requests) -> Option<Vec<Command>> {
        self.fingerprint.as_ref()?;
        self.fingerprint = None;
        self.group_title = None;
        self.text.clear();
        self.grouped = true;
        Some(self.reload(requests))
    }

    /// A page of errors. Keys held while it loaded may have moved the
    /// selection past it: then the selection's page is asked for at once.
    pub fn on_errors(
        &mut self,
        offset: i64,
        rows: Vec<ErrorRecord>,
        total: Count,
        requests: &mut Requests,
    ) -> Vec<Command> {
        self.loading = false;
        self.window_offset = offset;
        self.rows = rows;
        self.total = total.n;
        self.total_exact = total.exact;
        if self.bottom_pending && total.exact {
            self.bottom_pending = false;
            self.selected = total.n - 1;
        }
        self.selected = self.selected.clamp(0, (total.n - 1).max(0));
        self.page_if_needed(requests)
    }

    pub fn on_groups(&mut self, groups: Vec<GroupRecord>, total: i64) {
        self.loading = false;
        self.groups = groups;
        self.group_total = total;
        self.group_selected = self.group_selected.min(self.groups.len().saturating_sub(1));
    }

    /// A group's new status or note, in place; its marks are done.
    pub fn on_group(&mut self, group: &GroupRecord) {
        if let Some(g) = self
            .groups
            .iter_mut()
            .find(|g| g.group_id == group.group_id)
        {
            *g = group.clone();
        }
        self.marked_groups.remove(&group.group_id);
        self.marked_errors.retain(|_, fp| *fp != group.fingerprint);
    }
}
