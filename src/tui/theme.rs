//! UI themes: TOML files naming the colours and the syntax theme. The dark
//! and light themes are built in (from `themes/`); others are read from
//! `themes/NAME.toml` under snag's config directory.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

const BUILT_IN: [(&str, &str); 2] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "unknown theme `{0}`: use dark, light, or a file themes/{0}.toml in the config directory"
    )]
    Unknown(String),
    #[error("theme `{name}` is invalid: {message}")]
    Invalid { name: String, message: String },
}

#[derive(Debug, Deserialize)]
struct ThemeFile {
    name: String,
    syntax_theme: String,
    colors: Colors,
}

#[derive(Debug, Clone, Deserialize)]
struct Colors {
    text: String,
    muted: String,
    accent: String,
    border: String,
    title: String,
    selection_fg: String,
    selection_bg: String,
    error: String,
    warning: String,
    success: String,
    skipped: String,
    error_line_bg: String,
    line_number: String,
}

/// Resolved styles for every part of the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// `None` when colour is off (NO_COLOR): source is shown plain.
    pub syntax_theme: Option<String>,
    pub text: Style,
    pub muted: Style,
    pub accent: Style,
    pub border: Style,
    pub title: Style,
    pub selection: Style,
    pub error: Style,
    pub warning: Style,
    pub success: Style,
    pub skipped: Style,
    pub error_line: Style,
    pub line_number: Style,
}

impl Theme {
    /// A built-in theme by name, or a user theme from `config_dir/themes`.
    pub fn load(name: &str, config_dir: Option<&std::path::Path>) -> Result<Theme, ThemeError> {
        if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name) {
            return Theme::parse(name, text);
        }
        let path = config_dir.map(|dir| dir.join("themes").join(format!("{name}.toml")));
        match path.and_then(|p| std::fs::read_to_string(p).ok()) {
            Some(text) => Theme::parse(name, &text),
            None => Err(ThemeError::Unknown(name.to_owned())),
        }
    }

    /// The built-in themes' names and those of `config_dir/themes/*.toml`.
    pub fn names(config_dir: Option<&std::path::Path>) -> Vec<String> {
        let mut names: Vec<String> = BUILT_IN.iter().map(|(n, _)| (*n).to_owned()).collect();
        let own = config_dir.and_then(|dir| std::fs::read_dir(dir.join("themes")).ok());
        for entry in own.into_iter().flatten().filter_map(Result::ok) {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && !names.iter().any(|n| n == stem)
            {
                names.push(stem.to_owned());
            }
        }
        names
    }

    pub fn parse(name: &str, text: &str) -> Result<Theme, ThemeError> {
        let invalid = |message: String| ThemeError::Invalid {
            name: name.to_owned(),
            message,
        };
        let file: ThemeFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let color = |value: &str| {
            value
                .parse::<Color>()
                .map_err(|_| invalid(format!("`{value}` is not a colour")))
        };
        let fg = |value: &str| color(value).map(|c| Style::default().fg(c));
        let c = &file.colors;
        Ok(Theme {
            name: file.name,
            syntax_theme: Some(file.syntax_theme),
            text: fg(&c.text)?,
            muted: fg(&c.muted)?,
            accent: fg(&c.accent)?,
            border: fg(&c.border)?,
            title: fg(&c.title)?.add_modifier(Modifier::BOLD),
            selection: Style::default()
                .fg(color(&c.selection_fg)?)
                .bg(color(&c.selection_bg)?)
                .add_modifier(Modifier::BOLD),
            error: fg(&c.error)?,
            warning: fg(&c.warning)?,
            success: fg(&c.success)?,
            skipped: fg(&c.skipped)?,
            error_line: Style::default().bg(color(&c.error_line_bg)?),
            line_number: fg(&c.line_number)?,
        })
    }

    /// No colour at all (NO_COLOR): emphasis by bold, underline and reverse.
    pub fn monochrome() -> Theme {
        let plain = Style::default();
        Theme {
            name: "monochrome".to_owned(),
            syntax_theme: None,
            text: plain,
            muted: plain.add_modifier(Modifier::DIM),
            accent: plain.add_modifier(Modifier::BOLD),
            border: plain,
            title: plain.add_modifier(Modifier::BOLD),
            selection: plain.add_modifier(Modifier::REVERSED),
            error: plain.add_modifier(Modifier::BOLD),
            warning: plain.add_modifier(Modifier::UNDERLINED),
            success: plain,
            skipped: plain.add_modifier(Modifier::DIM),
            error_line: plain.add_modifier(Modifier::REVERSED),
            line_number: plain.add_modifier(Modifier::DIM),
        }
    }

    /// Whether NO_COLOR asks for no colour (any non-empty value).
    pub fn no_color_requested() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_themes_load_and_name_a_known_syntax_theme() {
        for name in ["dark", "light"] {
            let theme = Theme::load(name, None).unwrap();
            assert_eq!(theme.name, name);
            let syntax = theme.syntax_theme.unwrap();
            assert!(
                crate::tui::highlight::syntax_theme(&syntax).is_some(),
                "{syntax}"
            );
        }
    }

    #[test]
    fn unknown_and_invalid_themes_are_clear_errors() {
        assert!(matches!(
            Theme::load("neon", None),
            Err(ThemeError::Unknown(_))
        ));
        let bad = include_str!("../../themes/dark.toml").replace("\"cyan\"", "\"not-a-colour\"");
        let err = Theme::parse("bad", &bad).unwrap_err().to_string();
        assert!(err.contains("not-a-colour"), "{err}");
    }

    #[test]
    fn user_themes_come_from_the_config_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("themes")).unwrap();
        let text =
            include_str!("../../themes/light.toml").replace("name = \"light\"", "name = \"mine\"");
        std::fs::write(dir.path().join("themes/mine.toml"), text).unwrap();
        assert_eq!(Theme::load("mine", Some(dir.path())).unwrap().name, "mine");
    }
}
