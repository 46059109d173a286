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
use crate::tui::highlight::{HighlightedWindow, display_column};

/// The drill-down's two panes; keys scroll the focused one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Source,
    Info,
}

/// Columns a sideways scroll moves by.
const SIDEWAYS: usize = 16;

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
    pub focus: Pane,
    /// Display columns of source scrolled past on the left.
    pub column: usize,
    /// Columns of code the source pane showed at the last draw.
    pub code_width: Cell<u16>,
    /// First row of the error pane shown; the draw keeps it in range.
    pub info_scroll: Cell<usize>,
    /// Rows the error pane showed, and had, at the last draw.
    pub info_rows: Cell<u16>,
    pub info_total: Cell<usize>,
    /// `n`/`N` moved: the next draw brings the current problem into view
    /// in the error pane.
    pub follow_site: Cell<bool>,
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
        // Highlighting still on its way is the error shown before's.
        requests.next(RequestKind::Highlight);
        let detail = DetailState {
            error,
            file: None,
            group: None,
            site,
            scroll,
            highlighted: None,
            visible_lines: Cell::new(20),
            focus: Pane::Source,
            column: 0,
            code_width: Cell::new(80),
            info_scroll: Cell::new(0),
            info_rows: Cell::new(20),
            info_total: Cell::new(0),
            // Opened at the top: the message first, the sites below it.
            follow_site: Cell::new(false),
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

    /// The line and column of the current site, else the error's.
    pub fn current_position(&self) -> (u32, u32) {
        match self.sites().get(self.site) {
            Some(&(line, column, ..)) => (line.max(1), column.max(1)),
            None => (
                self.error.line.map_or(1, |l| l.max(1) as u32),
                self.error.column.map_or(1, |c| c.max(1) as u32),
            ),
        }
    }

    /// Lines a page key moves by, in the focused pane.
    pub fn page(&self) -> i64 {
        let rows = match self.focus {
            Pane::Source => self.visible_lines.get(),
            Pane::Info => self.info_rows.get(),
        };
        i64::from(rows.max(2)) - 1
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
            Action::FocusNextPane => {
                self.focus = match self.focus {
                    Pane::Source => Pane::Info,
                    Pane::Info => Pane::Source,
                };
                Some(Vec::new())
            }
            Action::FocusLeftPane => {
                self.focus = Pane::Source;
                Some(Vec::new())
            }
            Action::FocusRightPane => {
                self.focus = Pane::Info;
                Some(Vec::new())
            }
            Action::ScrollLeft => {
                self.column = self.column.saturating_sub(SIDEWAYS);
                Some(Vec::new())
            }
            Action::ScrollRight => {
                // No further than the widest line on screen shows its end.
                let widest = self.widest_visible_line();
                let width = usize::from(self.code_width.get());
                let limit = widest.saturating_sub(width / 2);
                self.column = (self.column + SIDEWAYS).min(limit.max(self.column));
                Some(Vec::new())
            }
            _ => None,
        }
    }

    /// Up, down and paging: they scroll the focused pane.
    pub fn move_by(
        &mut self,
        delta: i64,
        theme: Option<&str>,
        requests: &mut Requests,
    ) -> Vec<Command> {
        if self.focus == Pane::Info {
            let last = self
                .info_total
                .get()
                .saturating_sub(usize::from(self.info_rows.get()));
            let scroll = step(self.info_scroll.get(), delta, last + 1);
            self.info_scroll.set(scroll);
            self.follow_site.set(false);
            return Vec::new();
        }
        let lines = self.file.as_ref().map_or(0, |f| f.lines.len());
        self.scroll = step(self.scroll, delta, lines);
        self.highlight_if_needed(theme, requests)
    }

    /// Display width of the longest source line on screen.
    fn widest_visible_line(&self) -> usize {
        let Some(file) = &self.file else {
            return 0;
        };
        let visible = usize::from(self.visible_lines.get());
        file.lines
            .iter()
            .skip(self.scroll)
            .take(visible)
            .map(|line| display_column(line, line.chars().count() + 1))
            .max()
            .unwrap_or(0)
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
        let (line, column, ..) = sites[self.site];
        let half = usize::from(self.visible_lines.get() / 2);
        self.scroll = (line as usize).saturating_sub(half.max(1));
        self.reveal_column(line, column);
        self.follow_site.set(true);
        self.highlight_if_needed(theme, requests)
    }

    /// Scrolls sideways when a long line puts `column` off screen.
    fn reveal_column(&mut self, line: u32, column: u32) {
        let Some(raw) = self
            .file
            .as_ref()
            .and_then(|f| f.lines.get((line as usize).saturating_sub(1)))
        else {
            return;
        };
        let at = display_column(raw, column as usize);
        let width = usize::from(self.code_width.get()).max(8);
        if at < self.column || at >= self.column + width.saturating_sub(4) {
            self.column = at.saturating_sub(width / 4);
        }
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
        // Lines highlighted before this file arrived are another file's (a
        // late answer for the error shown before): never this one's.
        self.highlighted = None;
        self.group = group;
        if let Some((line, column, ..)) = self.sites().get(self.site).copied() {
            self.reveal_column(line, column);
        }
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
