//! Everything a key can do, as data: keys map to an [`Action`] per context,
//! and the config file can change the map. The UI reads it; so can the
//! config, without depending on the UI.

use std::collections::BTreeMap;
use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use crate::index::outcome::ErrorType;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Quit,
    Help,
    Back,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Refresh,
    NewRun,
    CancelRun,
    ShowErrors,
    ShowGroups,
    ShowDashboard,
    ToggleGrouping,
    /// Toggle one error type in the filter (1..=8 in `ErrorType::ALL` order).
    ToggleType1,
    ToggleType2,
    ToggleType3,
    ToggleType4,
    ToggleType5,
    ToggleType6,
    ToggleType7,
    ToggleType8,
    AllTypes,
    Search,
    CycleSort,
    CycleVerdict,
    NextSite,
    PreviousSite,
    MarkIgnored,
    MarkResolved,
    MarkOpen,
    EditNote,
    OpenInEditor,
    CopyLocation,
    /// The drill-down's panes: focus the next, the left or the right one.
    FocusNextPane,
    FocusLeftPane,
    FocusRightPane,
    /// Scroll the source sideways.
    ScrollLeft,
    ScrollRight,
    /// Mark or unmark the selected row for bulk triage.
    ToggleMark,
    /// The group list's status filter: unresolved, regressed, resolved,
    /// ignored, all.
    CycleStatusFilter,
    /// Only the groups new in the run, or all.
    ToggleNewInRun,
    /// The `:` command line.
    CommandLine,
    /// Index the run's directory again, with the run's options.
    Rerun,
    MarkRun,
    CompareRuns,
}

impl Action {
    /// The line `?` shows for it.
    pub fn description(self) -> &'static str {
        match self {
            Action::Quit => "quit (asks first while runs are going)",
            Action::Help => "show or hide this help",
            Action::Back => "go back / close",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "go to the top",
            Action::Bottom => "go to the bottom",
            Action::Open => "open the selected item",
            Action::Refresh => "reload from the database",
            Action::NewRun => "start a new indexing run",
            Action::CancelRun => "cancel the selected running run",
            Action::ShowErrors => "list the run's errors",
            Action::ShowGroups => "list the run's error groups",
            Action::ShowDashboard => "show the run's dashboard",
            Action::ToggleGrouping => "switch between errors and groups",
            Action::ToggleType1 => "filter: toggle parsing_error",
            Action::ToggleType2 => "filter: toggle encoding_error",
            Action::ToggleType3 => "filter: toggle chunking_error",
            Action::ToggleType4 => "filter: toggle embedding_error",
            Action::ToggleType5 => "filter: toggle persistence_error",
            Action::ToggleType6 => "filter: toggle io_error",
            Action::ToggleType7 => "filter: toggle timeout_error",
            Action::ToggleType8 => "filter: toggle unexpected_error",
            Action::AllTypes => "filter: show every error type",
            Action::Search => "filter by text in path or message",
            Action::CycleSort => "change the sort order",
            Action::CycleVerdict => "filter by verdict: gap, invalid, unknown, all",
            Action::NextSite => "jump to the next error site",
            Action::PreviousSite => "jump to the previous error site",
            Action::MarkIgnored => "mark the group ignored",
            Action::MarkResolved => "mark the group resolved",
            Action::MarkOpen => "mark the group open",
            Action::EditNote => "write a note on the group",
            Action::OpenInEditor => "open the file in $EDITOR at the error",
            Action::CopyLocation => "copy path:line to the clipboard",
            Action::FocusNextPane => "focus the other pane (keys scroll the focused one)",
            Action::FocusLeftPane => "focus the source pane",
            Action::FocusRightPane => "focus the error pane",
            Action::ScrollLeft => "scroll the source left",
            Action::ScrollRight => "scroll the source right",
            Action::ToggleMark => "mark the row: i/R/O/e then act on every marked row",
            Action::CycleStatusFilter => {
                "groups by status: unresolved, regressed, resolved, ignored, all"
            }
            Action::ToggleNewInRun => "groups new in this run only, or all",
            Action::CommandLine => "command line: run PATH, rerun, repro, copy issue, theme, q",
            Action::Rerun => "index the run's directory again, with the same options",
            Action::MarkRun => "mark the run to compare with (D), or unmark it",
            Action::CompareRuns => "new/fixed files vs the marked run, or the one before",
        }
    }

    /// The error type a ToggleTypeN action stands for.
    pub fn toggled_type(self) -> Option<ErrorType> {
        let index = match self {
            Action::ToggleType1 => 0,
            Action::ToggleType2 => 1,
            Action::ToggleType3 => 2,
            Action::ToggleType4 => 3,
            Action::ToggleType5 => 4,
            Action::ToggleType6 => 5,
            Action::ToggleType7 => 6,
            Action::ToggleType8 => 7,
            _ => return None,
        };
        Some(ErrorType::ALL[index])
    }
}

/// Where a key is pressed: each screen has its own bindings on top of the
/// global ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    Global,
    Runs,
    Dashboard,
    List,
    Detail,
}

impl Context {
    pub const ALL: [Context; 5] = [
        Context::Global,
        Context::Runs,
        Context::Dashboard,
        Context::List,
        Context::Detail,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Context::Global => "everywhere",
            Context::Runs => "runs",
            Context::Dashboard => "dashboard",
            Context::List => "error and group lists",
            Context::Detail => "error detail",
        }
    }
}

/// A key with its modifiers, written like "ctrl-c", "G", "pagedown", "?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: KeyCodeOrd,
    ctrl: bool,
    alt: bool,
}

/// KeyCode without the variants keys never map from, ordered for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum KeyCodeOrd {
    Char(char),
    Named(u8),
    F(u8),
}

const NAMED: [(&str, KeyCode); 13] = [
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
];

impl Key {
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            other => KeyCodeOrd::Named(NAMED.iter().position(|(_, k)| *k == other)? as u8),
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }

    pub fn parse(text: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                (ctrl, rest) = (true, r);
            } else if let Some(r) = rest.strip_prefix("alt-") {
                (alt, rest) = (true, r);
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeOrd::Char(c),
            _ if rest == "space" => KeyCodeOrd::Char(' '),
            _ => match NAMED.iter().position(|(name, _)| *name == rest) {
                Some(i) => KeyCodeOrd::Named(i as u8),
                None => match rest.strip_prefix('f').and_then(|n| n.parse().ok()) {
                    Some(n) => KeyCodeOrd::F(n),
                    None => return Err(format!("unknown key `{text}`")),
                },
            },
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::Named(i) => f.write_str(NAMED[usize::from(i)].0),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
        }
    }
}

/// Keys to actions, per context.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: BTreeMap<Context, BTreeMap<Key, Action>>,
}

const DEFAULTS: &[(Context, &str, Action)] = &[
    (Context::Global, "q", Action::Quit),
    (Context::Global, "ctrl-c", Action::Quit),
    (Context::Global, "?", Action::Help),
    (Context::Global, "esc", Action::Back),
    (Context::Global, "k", Action::Up),
    (Context::Global, "up", Action::Up),
    (Context::Global, "j", Action::Down),
    (Context::Global, "down", Action::Down),
    (Context::Global, "pageup", Action::PageUp),
    (Context::Global, "ctrl-u", Action::PageUp),
    (Context::Global, "pagedown", Action::PageDown),
    (Context::Global, "ctrl-d", Action::PageDown),
    (Context::Global, "home", Action::Top),
    (Context::Global, "g", Action::Top),
    (Context::Global, "end", Action::Bottom),
    (Context::Global, "G", Action::Bottom),
    (Context::Global, "enter", Action::Open),
    (Context::Global, "ctrl-r", Action::Refresh),
    (Context::Global, ":", Action::CommandLine),
    (Context::Runs, "n", Action::NewRun),
    (Context::Runs, "c", Action::CancelRun),
    (Context::Runs, "l", Action::ShowErrors),
    (Context::Runs, "s", Action::ShowGroups),
    (Context::Runs, "r", Action::Rerun),
    (Context::Runs, "space", Action::MarkRun),
    (Context::Runs, "D", Action::CompareRuns),
    (Context::Dashboard, "l", Action::ShowErrors),
    (Context::Dashboard, "s", Action::ShowGroups),
    (Context::Dashboard, "c", Action::CancelRun),
    (Context::Dashboard, "n", Action::NewRun),
    (Context::Dashboard, "r", Action::Rerun),
    (Context::Dashboard, "D", Action::CompareRuns),
    (Context::List, "tab", Action::ToggleGrouping),
    (Context::List, "1", Action::ToggleType1),
    (Context::List, "2", Action::ToggleType2),
    (Context::List, "3", Action::ToggleType3),
    (Context::List, "4", Action::ToggleType4),
    (Context::List, "5", Action::ToggleType5),
    (Context::List, "6", Action::ToggleType6),
    (Context::List, "7", Action::ToggleType7),
    (Context::List, "8", Action::ToggleType8),
    (Context::List, "0", Action::AllTypes),
    (Context::List, "/", Action::Search),
    (Context::List, "o", Action::CycleSort),
    (Context::List, "v", Action::CycleVerdict),
    (Context::List, "d", Action::ShowDashboard),
    (Context::List, "i", Action::MarkIgnored),
    (Context::List, "R", Action::MarkResolved),
    (Context::List, "O", Action::MarkOpen),
    (Context::List, "e", Action::EditNote),
    (Context::List, "E", Action::OpenInEditor),
    (Context::List, "y", Action::CopyLocation),
    (Context::List, "space", Action::ToggleMark),
    (Context::List, "f", Action::CycleStatusFilter),
    (Context::List, "n", Action::ToggleNewInRun),
    (Context::Detail, "n", Action::NextSite),
    (Context::Detail, "N", Action::PreviousSite),
    (Context::Detail, "i", Action::MarkIgnored),
    (Context::Detail, "R", Action::MarkResolved),
    (Context::Detail, "O", Action::MarkOpen),
    (Context::Detail, "e", Action::EditNote),
    (Context::Detail, "E", Action::OpenInEditor),
    (Context::Detail, "y", Action::CopyLocation),
    (Context::Detail, "tab", Action::FocusNextPane),
    (Context::Detail, "h", Action::FocusLeftPane),
    (Context::Detail, "l", Action::FocusRightPane),
    (Context::Detail, "left", Action::ScrollLeft),
    (Context::Detail, "H", Action::ScrollLeft),
    (Context::Detail, "right", Action::ScrollRight),
    (Context::Detail, "L", Action::ScrollRight),
];

impl Default for Keymap {
    fn default() -> Self {
        let mut bindings: BTreeMap<Context, BTreeMap<Key, Action>> = BTreeMap::new();
        for (context, key, action) in DEFAULTS {
            let key = Key::parse(key).expect("default keys parse");
            bindings.entry(*context).or_default().insert(key, *action);
        }
        Keymap { bindings }
    }
}

/// The `[keys]` table of the config file: context -> key -> action.
pub type KeyOverrides = BTreeMap<Context, BTreeMap<String, Action>>;

impl Keymap {
    /// The defaults with the user's bindings on top.
    pub fn with_overrides(overrides: &KeyOverrides) -> Result<Keymap, String> {
        let mut keymap = Keymap::default();
        for (context, keys) in overrides {
            for (key, action) in keys {
                let key = Key::parse(key)?;
                keymap
                    .bindings
                    .entry(*context)
                    .or_default()
                    .insert(key, *action);
            }
        }
        Ok(keymap)
    }

    /// The action for a key in a context; the context's own bindings win.
    pub fn action(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(event)?;
        let lookup = |c: Context| {
            self.bindings
                .get(&c)
                .and_then(|keys| keys.get(&key))
                .copied()
        };
        lookup(context).or_else(|| lookup(Context::Global))
    }

    /// Keys bound to an action in a context (or globally), plain keys
    /// before ones with modifiers, for hints.
    pub fn keys_for(&self, context: Context, action: Action) -> Vec<Key> {
        let mut keys: Vec<Key> = [context, Context::Global]
            .iter()
            .filter_map(|c| self.bindings.get(c))
            .flat_map(|keys| keys.iter().filter(|(_, a)| **a == action).map(|(k, _)| *k))
            .collect();
        keys.sort_by_key(|k| k.ctrl || k.alt);
        keys
    }

    /// Every binding, grouped by context, for the help screen.
    pub fn all(&self) -> impl Iterator<Item = (Context, Vec<(Action, Vec<Key>)>)> + '_ {
        Context::ALL.into_iter().map(|context| {
            let mut by_action: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
            for (key, action) in self.bindings.get(&context).into_iter().flatten() {
                by_action.entry(*action).or_default().push(*key);
            }
            (context, by_action.into_iter().collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn context_bindings_win_over_global_ones() {
        let map = Keymap::default();
        let n = key(KeyCode::Char('n'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Runs, &n), Some(Action::NewRun));
        assert_eq!(map.action(Context::Detail, &n), Some(Action::NextSite));
        assert_eq!(
            map.action(Context::Detail, &key(KeyCode::Down, KeyModifiers::NONE)),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(Context::List, &key(KeyCode::Char('1'), KeyModifiers::NONE)),
            Some(Action::ToggleType1)
        );
        assert_eq!(
            map.action(
                Context::Runs,
                &key(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            Action::ToggleType1.toggled_type(),
            Some(ErrorType::ParsingError)
        );
    }

    #[test]
    fn overrides_replace_defaults() {
        let overrides: KeyOverrides =
            toml::from_str("[list]\nx = \"mark_resolved\"\n[global]\n\"ctrl-q\" = \"quit\"\n")
                .unwrap();
        let map = Keymap::with_overrides(&overrides).unwrap();
        assert_eq!(
            map.action(Context::List, &key(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Action::MarkResolved)
        );
        assert_eq!(
            map.action(
                Context::Runs,
                &key(KeyCode::Char('q'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
        let bad: KeyOverrides = toml::from_str("[list]\n\"hyper-x\" = \"quit\"\n").unwrap();
        assert!(Keymap::with_overrides(&bad).is_err());
        assert!(toml::from_str::<KeyOverrides>("[list]\nx = \"explode\"\n").is_err());
    }

    #[test]
    fn keys_round_trip_through_text() {
        for text in [
            "q",
            "ctrl-c",
            "G",
            "pagedown",
            "space",
            "f5",
            "alt-enter",
            "?",
        ] {
            assert_eq!(Key::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn every_action_has_a_default_key() {
        let map = Keymap::default();
        let bound: std::collections::BTreeSet<Action> = map
            .all()
            .flat_map(|(_, actions)| actions.into_iter().map(|(a, _)| a))
            .collect();
        assert_eq!(bound.len(), 49, "{bound:?}");
    }
}
