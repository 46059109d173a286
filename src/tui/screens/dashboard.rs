//! The dashboard of one run: progress, errors by type, top groups.

use std::collections::BTreeMap;

use crate::index::outcome::ErrorType;
use crate::store::files::{FailureSplit, FilesSince, RunDashboard, RunGroup};
use crate::store::groups::GroupChanges;
use crate::store::runs::RunRecord;
use crate::tui::command::Command;

#[derive(Debug, Default)]
pub struct DashboardState {
    pub run_id: Option<i64>,
    pub run: Option<RunRecord>,
    pub counts: BTreeMap<ErrorType, i64>,
    /// Failing files by kind of failure.
    pub split: FailureSplit,
    pub groups: Vec<RunGroup>,
    /// Groups the run brought back or saw first.
    pub changes: GroupChanges,
    /// What changed file by file since the run before (a run that ended).
    pub since: Option<FilesSince>,
}

impl DashboardState {
    /// The dashboard of `run_id`: kept when it already shows that run, so
    /// reloading it does not blank the screen.
    pub fn show(&mut self, run_id: i64) {
        if self.run_id != Some(run_id) {
            *self = DashboardState {
                run_id: Some(run_id),
                ..Default::default()
            };
        }
    }

    /// The request for the shown run's figures.
    pub fn load(&self) -> Option<Command> {
        self.run_id.map(|run_id| Command::LoadDashboard { run_id })
    }

    /// Figures loaded for a run; dropped when another run is shown now.
    pub fn on_loaded(&mut self, loaded: RunDashboard) {
        if self.run_id == Some(loaded.run.run_id) {
            self.run = Some(loaded.run);
            self.counts = loaded.counts;
            self.split = loaded.split;
            self.groups = loaded.groups;
            self.changes = loaded.changes;
            self.since = loaded.since;
        }
    }
}
