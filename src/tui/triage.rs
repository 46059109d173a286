//! Triage from the keyboard: which groups a key acts on (the marked rows,
//! else the selection or the open error), the confirmation many of them
//! ask for, and the message that says what changed.

use super::app::App;
use super::command::{Command, GroupSet, Triage};
use super::overlays::Overlay;
use super::screens::Screen;
use crate::store::groups::{GroupRecord, GroupStatus};
use crate::words::count;

impl App {
    /// The groups a triage key acts on: the marked rows of the list, else
    /// the selected row's group or the open error's; with a label for
    /// messages, and whether they are marks (which ask first).
    pub(super) fn triage_targets(&self) -> Option<(GroupSet, String, bool)> {
        match self.screen {
            Screen::List => {
                if let Some(groups) = self.list.marked() {
                    let label = match (self.list.grouped, self.list.marks()) {
                        (true, n) => count(n, "marked group"),
                        (false, n) => format!("the groups of {}", count(n, "marked error")),
                    };
                    return Some((groups, label, true));
                }
                let groups = self.list.selected_groups()?;
                let label = match (self.list.grouped, self.list.selected_group()) {
                    (true, Some(group)) => group_label(&group.title),
                    _ => "the error's group".to_owned(),
                };
                Some((groups, label, false))
            }
            Screen::Detail => {
                let detail = self.detail.as_ref()?;
                let mut groups = GroupSet {
                    repository: detail.error.repository.clone(),
                    ..GroupSet::default()
                };
                let label = match &detail.group {
                    Some(group) => {
                        groups.ids.push(group.group_id);
                        group_label(&group.title)
                    }
                    None => {
                        groups.fingerprints.push(detail.error.fingerprint.clone()?);
                        "the error's group".to_owned()
                    }
                };
                Some((groups, label, false))
            }
            Screen::Runs | Screen::Dashboard => None,
        }
    }

    pub(super) fn set_status(&mut self, status: GroupStatus) -> Vec<Command> {
        let Some((groups, label, marked)) = self.triage_targets() else {
            self.status = Some("select a group or an error first".to_owned());
            return Vec::new();
        };
        let command = Command::Triage {
            groups,
            change: Triage::Status(status),
        };
        if marked {
            // Many at once: one line asks first.
            self.overlay = Some(Overlay::Confirm {
                question: format!("mark {label} {status}?"),
                commands: vec![command],
            });
            return Vec::new();
        }
        vec![command]
    }

    pub(super) fn edit_note(&mut self) -> Vec<Command> {
        let Some((groups, label, marked)) = self.triage_targets() else {
            self.status = Some("select a group or an error first".to_owned());
            return Vec::new();
        };
        let note = match (marked, self.screen) {
            (true, _) => None,
            (false, Screen::Detail) => self
                .detail
                .as_ref()
                .and_then(|d| d.group.as_ref()?.note.clone()),
            (false, _) if self.list.grouped => {
                self.list.selected_group().and_then(|g| g.note.clone())
            }
            (false, _) => None,
        };
        // Notes can come from the API too: nothing raw reaches the terminal.
        let note = note
            .map(|n| crate::sanitize::block(&n).into_owned())
            .unwrap_or_default();
        self.overlay = Some(Overlay::note(groups, label, &note));
        Vec::new()
    }
}

/// A group named in a message: by its title, cut short.
fn group_label(title: &str) -> String {
    let title = crate::sanitize::line(title);
    let short: String = title.chars().take(48).collect();
    let ellipsis = if title.chars().count() > 48 {
        "…"
    } else {
        ""
    };
    format!("group “{short}{ellipsis}”")
}

/// The status line after a triage change.
pub(super) fn triaged_message(groups: &[GroupRecord], change: &Triage) -> String {
    let what = match groups {
        [] => return "no group matched: nothing changed".to_owned(),
        [group] => group_label(&group.title),
        many => count(many.len(), "group"),
    };
    match change {
        Triage::Status(status) if groups.len() == 1 => format!("{what} is now {status}"),
        Triage::Status(status) => format!("{what} are now {status}"),
        Triage::Note(note) if note.trim().is_empty() => format!("note removed from {what}"),
        Triage::Note(_) => format!("note saved on {what}"),
    }
}
