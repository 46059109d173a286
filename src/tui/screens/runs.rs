//! The runs screen: every run, newest first.

use super::step;
use crate::store::runs::RunRecord;

#[derive(Debug, Default)]
pub struct RunsState {
    pub runs: Vec<RunRecord>,
    pub selected: usize,
}

impl RunsState {
    pub fn selected_run(&self) -> Option<&RunRecord> {
        self.runs.get(self.selected)
    }

    pub fn move_by(&mut self, delta: i64) {
        self.selected = step(self.selected, delta, self.runs.len());
    }

    pub fn on_runs(&mut self, runs: Vec<RunRecord>) {
        self.selected = self.selected.min(runs.len().saturating_sub(1));
        self.runs = runs;
    }
}
