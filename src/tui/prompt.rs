//! The `:` command line, k9s style: a few words for what has no key of its
//! own, with Tab completing command names, paths and theme names; what the
//! line reads, and what each command does to the app.

use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::App;
use super::command::{Command, NewRun};
use super::screens::Screen;
use super::theme::Theme;
use crate::keymap::Action;
use crate::report::issue;

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptCommand {
    /// Index a directory.
    Run(String),
    /// Index the current run's directory again, with its options.
    Rerun,
    /// Cut the current group's example down to a minimal file.
    Repro,
    /// Copy the open error as a Markdown issue.
    CopyIssue,
    /// Copy the open error's path:line.
    CopyLocation,
    Theme(String),
    Quit,
}

/// The commands, with what `:help`-style completion shows for them.
pub const COMMANDS: [(&str, &str); 7] = [
    ("run", "run PATH: index a directory"),
    ("rerun", "index the run's directory again, same options"),
    ("repro", "the group's example cut down to a minimal file"),
    ("copy", "copy issue | copy location"),
    ("theme", "theme NAME: dark, light or one of your own"),
    ("quit", "quit (asks first while runs are going)"),
    ("q", "quit"),
];

/// The line being typed, and what Tab last offered.
#[derive(Debug, Default)]
pub struct Prompt {
    pub input: String,
    /// Completions of the input, shown under it; Tab steps through them.
    pub candidates: Vec<String>,
    chosen: Option<usize>,
    /// Why the last Enter did nothing.
    pub error: Option<String>,
}

/// A key's effect on the prompt.
pub enum PromptStep {
    Editing,
    Closed,
    Run(PromptCommand),
}

impl Prompt {
    /// `themes`: the theme names Tab offers after `theme ` (read only when
    /// Tab is pressed).
    pub fn on_key(&mut self, key: KeyEvent, themes: impl FnOnce() -> Vec<String>) -> PromptStep {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return PromptStep::Closed,
            KeyCode::Enter => match parse(&self.input) {
                Ok(command) => return PromptStep::Run(command),
                Err(error) => self.error = Some(error),
            },
            KeyCode::Tab => self.complete(&themes()),
            KeyCode::Backspace if self.input.is_empty() => return PromptStep::Closed,
            KeyCode::Backspace => self.edit(|input| {
                input.pop();
            }),
            KeyCode::Char('u') if ctrl => self.edit(String::clear),
            KeyCode::Char('w') if ctrl => self.edit(|input| {
                let kept = input.trim_end().rfind(' ').map_or(0, |i| i + 1);
                input.truncate(kept);
            }),
            KeyCode::Char(c) if !ctrl => self.edit(|input| input.push(c)),
            _ => {}
        }
        PromptStep::Editing
    }

    fn edit(&mut self, change: impl FnOnce(&mut String)) {
        change(&mut self.input);
        self.candidates.clear();
        self.chosen = None;
        self.error = None;
    }

    /// Tab: the one completion, else the longest common start and the
    /// list; Tab again steps through the list.
    fn complete(&mut self, themes: &[String]) {
        if !self.candidates.is_empty() {
            let next = self.chosen.map_or(0, |i| (i + 1) % self.candidates.len());
            self.chosen = Some(next);
            self.input = self.candidates[next].clone();
            return;
        }
        let candidates = completions(&self.input, themes);
        match candidates.as_slice() {
            [] => self.error = Some("nothing to complete".to_owned()),
            [only] => self.input = only.clone(),
            many => {
                self.input = common_prefix(many);
                self.candidates = candidates;
            }
        }
    }

    /// The candidate Tab last chose, to highlight.
    pub fn chosen(&self) -> Option<usize> {
        self.chosen
    }
}

/// The command a line names.
pub fn parse(line: &str) -> Result<PromptCommand, String> {
    let line = line.trim();
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    let command = match (word, rest) {
        ("run", "") => return Err("run needs a directory: run PATH".to_owned()),
        ("run", path) => PromptCommand::Run(expand_home(path)),
        ("rerun", "") => PromptCommand::Rerun,
        ("repro", "") => PromptCommand::Repro,
        ("copy", "issue") => PromptCommand::CopyIssue,
        ("copy", "location" | "") => PromptCommand::CopyLocation,
        ("copy", other) => {
            return Err(format!("copy issue or copy location, not `{other}`"));
        }
        ("theme", "") => return Err("theme needs a name: theme dark".to_owned()),
        ("theme", name) => PromptCommand::Theme(name.to_owned()),
        ("q" | "quit", "") => PromptCommand::Quit,
        ("", _) => return Err("type a command: run, rerun, repro, copy, theme, q".to_owned()),
        (word, _) if COMMANDS.iter().any(|(name, _)| *name == word) => {
            return Err(format!("`{word}` takes no argument"));
        }
        (word, _) => {
            return Err(format!(
                "unknown command `{word}`: run, rerun, repro, copy, theme, q (Tab completes)"
            ));
        }
    };
    Ok(command)
}

/// Whole lines the input could become.
pub fn completions(input: &str, themes: &[String]) -> Vec<String> {
    let Some((word, rest)) = input.split_once(' ') else {
        return COMMANDS
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| name.starts_with(input) && *name != "q")
            .map(str::to_owned)
            .collect();
    };
    let rest = rest.trim_start();
    let with = |options: Vec<String>| {
        options
            .into_iter()
            .filter(|o| o.starts_with(rest))
            .map(|o| format!("{word} {o}"))
            .collect()
    };
    match word {
        "copy" => with(vec!["issue".to_owned(), "location".to_owned()]),
        "theme" => with(themes.to_vec()),
        "run" => directories(rest)
            .into_iter()
            .map(|d| format!("run {d}"))
            .collect(),
        _ => Vec::new(),
    }
}

/// Directories whose path starts with `typed`, each ending in `/`.
fn directories(typed: &str) -> Vec<String> {
    let expanded = expand_home(typed);
    let (parent, start) = match expanded.rfind('/') {
        Some(i) => (&expanded[..=i], &expanded[i + 1..]),
        None => ("", expanded.as_str()),
    };
    let shown_parent = &typed[..typed.rfind('/').map_or(0, |i| i + 1)];
    let Ok(entries) = std::fs::read_dir(if parent.is_empty() { "." } else { parent }) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        // Hidden folders only when asked for.
        .filter(|name| {
            name.starts_with(start) && (start.starts_with('.') || !name.starts_with('.'))
        })
        .map(|name| format!("{shown_parent}{name}/"))
        .collect();
    found.sort();
    found.truncate(50);
    found
}

/// `~/x` as the home directory's `x`.
fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest).display().to_string(),
        _ => path.to_owned(),
    }
}

fn common_prefix(lines: &[String]) -> String {
    let first = &lines[0];
    let mut end = first.len();
    for line in &lines[1..] {
        end = end.min(
            first
                .char_indices()
                .zip(line.chars())
                .find(|((_, a), b)| a != b)
                .map_or(first.len().min(line.len()), |((i, _), _)| i),
        );
    }
    first[..end].to_owned()
}

/// What the `:` commands do to the app.
impl App {
    /// A command typed on the `:` line.
    pub(super) fn on_prompt(&mut self, command: PromptCommand) -> Vec<Command> {
        match command {
            PromptCommand::Run(path) => {
                if !Path::new(&path).is_dir() {
                    self.status = Some(format!(
                        "`{}` is not a directory",
                        crate::sanitize::line(&path)
                    ));
                    return Vec::new();
                }
                let repository = crate::runner::default_repository_name(Path::new(&path));
                vec![Command::StartRun(NewRun {
                    path,
                    repository,
                    include_tests: false,
                    extensions: Vec::new(),
                    full: false,
                })]
            }
            PromptCommand::Rerun => self.rerun(),
            PromptCommand::Repro => self.repro(),
            PromptCommand::CopyIssue => self.copy_issue(),
            PromptCommand::CopyLocation => self.on_action(Action::CopyLocation),
            PromptCommand::Theme(name) => {
                if Theme::no_color_requested() {
                    self.status = Some("NO_COLOR is set: the theme stays monochrome".to_owned());
                    return Vec::new();
                }
                match Theme::load(&name, crate::config::config_dir().as_deref()) {
                    Ok(theme) => {
                        self.theme = theme;
                        self.status = Some(format!("theme {}", crate::sanitize::line(&name)));
                        if let Some(detail) = &mut self.detail {
                            detail.highlighted = None;
                        }
                        return self.highlight_if_needed();
                    }
                    Err(e) => self.status = Some(e.to_string()),
                }
                Vec::new()
            }
            PromptCommand::Quit => self.on_action(Action::Quit),
        }
    }

    /// Where a new run starts: the last directory indexed here, else the
    /// selected run's, else where snag was started.
    pub(super) fn new_run_path(&self) -> String {
        self.last_run_path
            .clone()
            .or_else(|| self.current_run().map(|r| r.root.clone()))
            .unwrap_or_else(|| self.cwd.clone())
    }

    /// The current run again: its directory, repository and options.
    pub(super) fn rerun(&mut self) -> Vec<Command> {
        match self.current_run_id() {
            Some(run_id) => {
                self.status = Some(format!("indexing run {run_id}'s directory again…"));
                vec![Command::Rerun { run_id }]
            }
            None => {
                self.status = Some("select a run first".to_owned());
                Vec::new()
            }
        }
    }

    /// The selected or open group's example, reduced.
    pub(super) fn repro(&mut self) -> Vec<Command> {
        match self.triage_targets() {
            Some((groups, label, false)) => {
                self.status = Some(format!("reducing the example of {label}…"));
                vec![Command::Repro { groups }]
            }
            Some((_, _, true)) => {
                self.status = Some("repro works on one group: clear the marks (esc)".to_owned());
                Vec::new()
            }
            None => {
                self.status = Some("select a group or an error first".to_owned());
                Vec::new()
            }
        }
    }

    /// The open (or selected) error as a Markdown issue, to the clipboard.
    pub(super) fn copy_issue(&mut self) -> Vec<Command> {
        let issue = match (self.screen, &self.detail) {
            (Screen::Detail, Some(detail)) => Some(issue::markdown(
                &detail.error,
                detail.file.as_deref().map(|file| issue::Snippet {
                    extension: &file.extension,
                    lines: &file.lines,
                }),
                detail.group.as_ref(),
                detail.site,
            )),
            (Screen::List, _) if !self.list.grouped => self
                .list
                .selected_error()
                .map(|error| issue::markdown(error, None, None, 0)),
            _ => None,
        };
        match issue {
            Some(text) => {
                self.status = Some(format!(
                    "copied the issue as Markdown ({})",
                    crate::words::count(text.lines().count(), "line")
                ));
                vec![Command::Copy(text)]
            }
            None => {
                self.status =
                    Some("open an error (or select one in the error list) first".to_owned());
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn lines_name_commands_or_say_what_is_wrong() {
        assert_eq!(parse("rerun"), Ok(PromptCommand::Rerun));
        assert_eq!(parse(" q "), Ok(PromptCommand::Quit));
        assert_eq!(parse("copy issue"), Ok(PromptCommand::CopyIssue));
        assert_eq!(parse("copy"), Ok(PromptCommand::CopyLocation));
        assert_eq!(
            parse("theme light"),
            Ok(PromptCommand::Theme("light".into()))
        );
        assert_eq!(
            parse("run /src/web"),
            Ok(PromptCommand::Run("/src/web".into()))
        );
        assert!(parse("run").unwrap_err().contains("run PATH"));
        assert!(
            parse("rerun now")
                .unwrap_err()
                .contains("takes no argument")
        );
        assert!(
            parse("explode")
                .unwrap_err()
                .contains("unknown command `explode`")
        );
    }

    #[test]
    fn tab_completes_commands_arguments_and_directories() {
        let themes = vec!["dark".to_owned(), "light".to_owned()];
        assert_eq!(completions("re", &themes), ["rerun", "repro"]);
        assert_eq!(completions("theme l", &themes), ["theme light"]);
        assert_eq!(
            completions("copy ", &themes),
            ["copy issue", "copy location"]
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::create_dir(dir.path().join("scripts")).unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join("setup.ts"), "").unwrap();
        let typed = format!("run {}/s", dir.path().display());
        let base = dir.path().display();
        assert_eq!(
            completions(&typed, &themes),
            [format!("run {base}/scripts/"), format!("run {base}/src/")]
        );
        // Tab: the common start, then each candidate in turn.
        let mut prompt = Prompt {
            input: "re".into(),
            ..Prompt::default()
        };
        prompt.on_key(key(KeyCode::Tab), || themes.clone());
        assert_eq!(prompt.input, "re");
        assert_eq!(prompt.candidates, ["rerun", "repro"]);
        prompt.on_key(key(KeyCode::Tab), || themes.clone());
        assert_eq!(prompt.input, "rerun");
        prompt.on_key(key(KeyCode::Tab), || themes.clone());
        assert_eq!(prompt.input, "repro");
        prompt.on_key(
            KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL),
            Vec::new,
        );
        assert_eq!(prompt.input, "");
        assert!(prompt.candidates.is_empty());
    }
}
