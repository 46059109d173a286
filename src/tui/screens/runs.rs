//! The runs screen: every run, newest first.

use super::step;
use crate::index::grammar::{recorded_infos, short_label};
use crate::store::runs::RunRecord;

#[derive(Debug, Default)]
pub struct RunsState {
    pub runs: Vec<RunRecord>,
    /// Each run's grammars in a few words (`built-in`, `source 0.21.2`),
    /// worked out when the list arrives rather than every frame.
    pub grammars: Vec<String>,
    pub selected: usize,
    /// The run marked to compare the selected one with.
    pub marked: Option<i64>,
}

impl RunsState {
    pub fn selected_run(&self) -> Option<&RunRecord> {
        self.runs.get(self.selected)
    }

    /// Marks the selected run, or unmarks it.
    pub fn toggle_mark(&mut self) -> Option<i64> {
        let run_id = self.selected_run()?.run_id;
        self.marked = (self.marked != Some(run_id)).then_some(run_id);
        self.marked
    }

    pub fn move_by(&mut self, delta: i64) {
        self.selected = step(self.selected, delta, self.runs.len());
    }

    /// A new list: the cursor stays on the run it was on (new runs
    /// appear above it), else on the same row.
    pub fn on_runs(&mut self, runs: Vec<RunRecord>) {
        let current = self.selected_run().map(|r| r.run_id);
        self.selected = current
            .and_then(|id| runs.iter().position(|r| r.run_id == id))
            .unwrap_or(self.selected)
            .min(runs.len().saturating_sub(1));
        self.grammars = runs
            .iter()
            .map(|run| short_label(&recorded_infos(&run.grammar_versions)))
            .collect();
        self.runs = runs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::progress::RunStatus;

    #[test]
    fn each_runs_grammars_are_labelled_when_the_list_arrives() {
        let built_in = RunRecord::example(RunStatus::Completed);
        let from_source = RunRecord {
            run_id: 2,
            grammar_versions: serde_json::json!({"grammars": {"typescript": {
                "name": "typescript", "version": "0.21.2", "origin": "source",
                "hash": "0123456789abcdef", "path": "/g", "abi": 14
            }}}),
            ..RunRecord::example(RunStatus::Completed)
        };
        let mut state = RunsState::default();
        state.on_runs(vec![built_in, from_source]);
        assert_eq!(state.grammars, ["built-in", "source 0.21.2"]);
    }
}
