//! The editors that take over keys while they are open: help, the quit
//! question, the new-run form, the note editor and the list of changes
//! between two runs.

use std::cell::Cell;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::changes::{ChangesKey, ChangesView};
use super::command::{Command, GroupSet, NewRun, Triage};
use super::prompt::Prompt;

pub enum Overlay {
    Help(ScrollView),
    /// The `:` command line.
    Prompt(Prompt),
    /// Text to read, scrolled: a reduced example.
    Text {
        title: String,
        lines: Vec<String>,
        view: ScrollView,
    },
    ConfirmQuit,
    NewRun(Box<NewRunForm>),
    /// What changed between two runs, file by file.
    Changes(Box<ChangesView>),
    Note {
        groups: GroupSet,
        /// What the note is on, for the title: a group's title, or "3 groups".
        label: String,
        editor: Box<TextArea<'static>>,
    },
    /// One line at the bottom: `y` carries out the commands.
    Confirm {
        question: String,
        commands: Vec<Command>,
    },
}

/// What a key in an overlay asks of the app.
pub enum Reply {
    Commands(Vec<Command>),
    /// Quit, cancelling the runs going on.
    Quit,
    /// The question was turned down: nothing changed, and the user is told.
    Cancelled,
    /// The errors of one file in one run.
    OpenErrors {
        repository: String,
        run_id: i64,
        file_path: String,
    },
}

impl Overlay {
    /// The note editor, holding `note`.
    pub fn note(groups: GroupSet, label: String, note: &str) -> Overlay {
        let lines: Vec<String> = note.lines().map(str::to_owned).collect();
        let mut editor = if lines.is_empty() {
            TextArea::default()
        } else {
            TextArea::new(lines)
        };
        editor.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
        Overlay::Note {
            groups,
            label,
            editor: Box::new(editor),
        }
    }

    /// A key: the overlay as it is after it (`None` when it closed), and
    /// what it asks for.
    pub fn on_key(self, key: KeyEvent) -> (Option<Overlay>, Reply) {
        let none = || Reply::Commands(Vec::new());
        match self {
            Overlay::Help(help) => {
                let close = matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
                );
                if close {
                    return (None, none());
                }
                help.on_key(key);
                (Some(Overlay::Help(help)), none())
            }
            Overlay::Text { title, lines, view } => {
                if matches!(key.code, KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter) {
                    return (None, none());
                }
                view.on_key(key);
                (Some(Overlay::Text { title, lines, view }), none())
            }
            // Keys of the command line are the app's: it knows the themes.
            Overlay::Prompt(prompt) => (Some(Overlay::Prompt(prompt)), none()),
            Overlay::ConfirmQuit => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => (None, Reply::Quit),
                _ => (None, none()),
            },
            Overlay::Confirm { commands, .. } => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    (None, Reply::Commands(commands))
                }
                _ => (None, Reply::Cancelled),
            },
            Overlay::Note {
                groups,
                label,
                mut editor,
            } => {
                let save =
                    key.code == KeyCode::Char('s') && key.modifiers.contains(KeyModifiers::CONTROL);
                if save {
                    let note = editor.lines().join("\n");
                    let change = Triage::Note(note);
                    (
                        None,
                        Reply::Commands(vec![Command::Triage { groups, change }]),
                    )
                } else if key.code == KeyCode::Esc {
                    (None, Reply::Cancelled)
                } else {
                    editor.input(key);
                    let note = Overlay::Note {
                        groups,
                        label,
                        editor,
                    };
                    (Some(note), none())
                }
            }
            Overlay::NewRun(form) => form.on_key(key),
            Overlay::Changes(mut view) => match view.on_key(key) {
                ChangesKey::Stay => (Some(Overlay::Changes(view)), none()),
                ChangesKey::Close => (None, none()),
                ChangesKey::Open { run_id, file_path } => (
                    None,
                    Reply::OpenErrors {
                        repository: view.repository.clone(),
                        run_id,
                        file_path,
                    },
                ),
            },
        }
    }
}

/// Text in a box, scrolled (the key list, a reduced example); the draw
/// says how far it can scroll.
#[derive(Debug, Default)]
pub struct ScrollView {
    pub scroll: Cell<usize>,
    /// The last scroll position and the rows shown, at the last draw.
    pub last: Cell<usize>,
    pub rows: Cell<usize>,
}

impl ScrollView {
    fn on_key(&self, key: KeyEvent) {
        let page = self.rows.get().saturating_sub(1).max(1) as i64;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let delta = match key.code {
            KeyCode::Down | KeyCode::Char('j') => 1,
            KeyCode::Up | KeyCode::Char('k') => -1,
            KeyCode::Char('d') if ctrl => page,
            KeyCode::Char('u') if ctrl => -page,
            KeyCode::PageDown | KeyCode::Char(' ') => page,
            KeyCode::PageUp => -page,
            KeyCode::Home | KeyCode::Char('g') => i64::MIN / 2,
            KeyCode::End | KeyCode::Char('G') => i64::MAX / 2,
            _ => 0,
        };
        let scroll = (self.scroll.get() as i64).saturating_add(delta);
        self.scroll
            .set(scroll.clamp(0, self.last.get() as i64) as usize);
    }
}

pub struct NewRunForm {
    pub fields: [TextArea<'static>; 3],
    pub include_tests: bool,
    /// Parse every file (nothing carried over from earlier runs).
    pub full: bool,
    /// 0..=2 the text fields, 3 and 4 the checkboxes.
    pub focus: usize,
    pub error: Option<String>,
}

impl NewRunForm {
    pub const LABELS: [&'static str; 3] = [
        "path",
        "repository (default: the directory's name)",
        "extensions (default: all)",
    ];

    pub fn new(path: &str) -> Self {
        let field = |text: &str| {
            let mut area = TextArea::from([text.to_owned()]);
            area.move_cursor(ratatui_textarea::CursorMove::End);
            area
        };
        NewRunForm {
            fields: [field(path), field(""), field("")],
            include_tests: false,
            full: false,
            focus: 0,
            error: None,
        }
    }

    fn value(&self, index: usize) -> String {
        self.fields[index].lines().join("").trim().to_owned()
    }

    fn on_key(mut self: Box<Self>, key: KeyEvent) -> (Option<Overlay>, Reply) {
        match key.code {
            KeyCode::Esc => return (None, Reply::Commands(Vec::new())),
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % 5,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + 4) % 5,
            KeyCode::Char(' ') if self.focus == 3 => self.include_tests = !self.include_tests,
            KeyCode::Char(' ') if self.focus == 4 => self.full = !self.full,
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                if let Some(field) = self.fields.get_mut(self.focus) {
                    *field = TextArea::default();
                }
            }
            KeyCode::Enter => match self.submit() {
                Ok(run) => return (None, Reply::Commands(vec![Command::StartRun(run)])),
                Err(error) => self.error = Some(error),
            },
            _ if self.focus < 3 => {
                self.fields[self.focus].input(key);
            }
            _ => {}
        }
        (Some(Overlay::NewRun(self)), Reply::Commands(Vec::new()))
    }

    fn submit(&self) -> Result<NewRun, String> {
        let path = self.value(0);
        if path.is_empty() || !std::path::Path::new(&path).is_dir() {
            return Err(format!("`{path}` is not a directory"));
        }
        let repository = Some(self.value(1))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| crate::runner::default_repository_name(std::path::Path::new(&path)));
        let extensions = self
            .value(2)
            .split([',', ' '])
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
        Ok(NewRun {
            path,
            repository,
            include_tests: self.include_tests,
            extensions,
            full: self.full,
        })
    }
}
