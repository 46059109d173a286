//! The drill-down of one error: its file, highlighted around the sites,
//! next to the traceback and the group.

use std::cell::Cell;
use std::sync::Arc;

use super::step;
use crate::index::outcome::primary_problem;
use crate::keymap::Action;
use crate::store::ErrorRecord;
use crate::store::groups::GroupRecord;
use crate::tui::command::{Command, FileText, RequestKind, Requests};
use crate::tui::highlight::HighlightedWindow;

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
    /// The drill-down of `error`, at the problem the error is known by, and
    /// the request for its file.
    pub fn open(error: ErrorRecord, requests: &mut Requests) -> (DetailState, Command) {
        let scroll = error.line.map_or(0, |l| (l as usize).saturating_sub(6));
        let primary = primary_problem(&error.details.problems);
        let site = error
            .details
            .problems
            .iter()
            .position(|p| Some(p) == primary)
            .unwrap_or(0);
        let load = Command::LoadDetail {
            generation: requests.next(RequestKind::Detail),
            error: Box::new(error.clone()),
        };
        let detail = DetailState {
            error,
            file: None,
            group: None,
            site,
            scroll,
            highlighted: None,
            visible_lines: Cell::new(20),
        };
        (detail, load)
    }

    /// Asks for the file again.
    pub fn reload(&self, requests: &mut Requests) -> Command {
        Command::LoadDetail {
            generation: requests.next(RequestKind::Detail),
            error: Box::new(self.error.clone()),
        }
    }

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

    /// The line of the current site, else the error's.
    pub fn current_line(&self) -> u32 {
        self.sites()
            .get(self.site)
            .map(|s| s.0)
            .or(self.error.line.map(|l| l as u32))
            .unwrap_or(1)
    }

    /// Lines a page key moves by.
    pub fn page(&self) -> i64 {
        i64::from(self.visible_lines.get().max(2)) - 1
    }

    /// The actions that belong to the drill-down; `None` for the others.
    pub fn on_action(
        &mut self,
        action: Action,
        theme: Option<&str>,
        requests: &mut Requests,
    ) -> Option<Vec<Command>> {
        match action {
            Action::NextSite => Some(self.jump_site(1, theme, requests)),
            Action::PreviousSite => Some(self.jump_site(-1, theme, requests)),
            _ => None,
        }
    }

    pub fn move_by(
        &mut self,
        delta: i64,
        theme: Option<&str>,
        requests: &mut Requests,
    ) -> Vec<Command> {
        let lines = self.file.as_ref().map_or(0, |f| f.lines.len());
        self.scroll = step(self.scroll, delta, lines);
        self.highlight_if_needed(theme, requests)
    }

    fn jump_site(
        &mut self,
        delta: i64,
        theme: Option<&str>,
        requests: &mut Requests,
    ) -> Vec<Command> {
        let sites = self.sites();
        if sites.is_empty() {
            return Vec::new();
        }
        self.site = step(self.site, delta, sites.len());
        let line = sites[self.site].0 as usize;
        let half = usize::from(self.visible_lines.get() / 2);
        self.scroll = line.saturating_sub(half.max(1));
        self.highlight_if_needed(theme, requests)
    }

    /// Asks for highlighting when the visible lines are not highlighted yet.
    pub fn highlight_if_needed(
        &self,
        theme: Option<&str>,
        requests: &mut Requests,
    ) -> Vec<Command> {
        let (Some(file), Some(theme)) = (&self.file, theme) else {
            return Vec::new();
        };
        let visible = usize::from(self.visible_lines.get().max(1));
        let covered = self.highlighted.as_ref().is_some_and(|h| {
            let end = h.first + h.lines.len();
            h.first <= self.scroll && (self.scroll + visible <= end || end >= file.lines.len())
        });
        if covered {
            return Vec::new();
        }
        let start = self.scroll.saturating_sub(visible);
        let end = (self.scroll + visible * 2).min(file.lines.len());
        vec![Command::Highlight {
            generation: requests.next(RequestKind::Highlight),
            file: Arc::clone(file),
            theme: Some(theme.to_owned()),
            start,
            end,
        }]
    }

    /// The file arrived: show it and highlight what is visible.
    pub fn on_file(
        &mut self,
        file: FileText,
        group: Option<GroupRecord>,
        theme: Option<&str>,
        requests: &mut Requests,
    ) -> Vec<Command> {
        self.file = Some(Arc::new(file));
        self.group = group;
        self.highlight_if_needed(theme, requests)
    }

    /// The file could not be loaded: say why where the source would be.
    pub fn on_file_failed(&mut self, message: &str) {
        if self.file.is_none() {
            self.file = Some(Arc::new(FileText {
                notice: Some(format!("cannot load the file: {message}")),
                ..FileText::default()
            }));
        }
    }

    /// A group's new status or note, when it is this error's group.
    pub fn on_group(&mut self, group: &GroupRecord) {
        if self
            .group
            .as_ref()
            .is_some_and(|g| g.group_id == group.group_id)
        {
            self.group = Some(group.clone());
        }
    }
}
