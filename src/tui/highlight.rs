//! Syntax highlighting with syntect and bat's syntaxes (two-face): syntect's
//! own set has no TypeScript. Only a window of lines is highlighted, from a
//! little above it, so a 2 MiB file opens at once; lines longer than
//! [`MAX_HIGHLIGHT_CHARS`] (minified code) are left plain.

use std::sync::LazyLock;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme as SyntaxTheme};
use syntect::parsing::SyntaxSet;
use two_face::theme::EmbeddedLazyThemeSet;

use crate::sanitize;

/// Longer lines are shown plain, and clipped by the view.
pub const MAX_HIGHLIGHT_CHARS: usize = 400;
/// Lines highlighted above the window, so that comments and template
/// strings that start above it mostly come out right.
pub const LEAD_IN: usize = 50;

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);
static THEMES: LazyLock<EmbeddedLazyThemeSet> = LazyLock::new(two_face::theme::extra);

/// A syntax theme bundled with bat, by its name ("Monokai Extended").
pub fn syntax_theme(name: &str) -> Option<&'static SyntaxTheme> {
    EmbeddedLazyThemeSet::theme_names()
        .iter()
        .find(|t| t.as_name().eq_ignore_ascii_case(name))
        .map(|t| THEMES.get(*t))
}

/// Highlighted lines `first..first + lines.len()` of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct HighlightedWindow {
    pub first: usize,
    pub lines: Vec<Line<'static>>,
}

/// Highlights `lines[start..end]` (0-based) of a file with the given
/// extension. Without a theme, or for unknown extensions, lines are plain.
pub fn highlight_window(
    lines: &[String],
    extension: &str,
    theme_name: Option<&str>,
    start: usize,
    end: usize,
) -> HighlightedWindow {
    let end = end.min(lines.len());
    let start = start.min(end);
    let syntax = SYNTAXES
        .find_syntax_by_extension(syntax_extension(extension))
        .or_else(|| SYNTAXES.find_syntax_by_extension("js"));
    let theme = theme_name.and_then(syntax_theme);
    let (Some(syntax), Some(theme)) = (syntax, theme) else {
        return HighlightedWindow {
            first: start,
            lines: lines[start..end].iter().map(|l| plain_line(l)).collect(),
        };
    };
    let mut highlighter = HighlightLines::new(syntax, theme);
    let mut out = Vec::with_capacity(end - start);
    for (index, line) in lines
        .iter()
        .enumerate()
        .take(end)
        .skip(start.saturating_sub(LEAD_IN))
    {
        if line.chars().count() > MAX_HIGHLIGHT_CHARS {
            // Minified code: plain, and the highlighter starts afresh after it.
            highlighter = HighlightLines::new(syntax, theme);
            if index >= start {
                out.push(plain_line(line));
            }
            continue;
        }
        let with_newline = format!("{line}\n");
        let styled = highlighter.highlight_line(&with_newline, &SYNTAXES);
        if index < start {
            continue;
        }
        out.push(match styled {
            Ok(regions) => Line::from(
                regions
                    .into_iter()
                    .map(|(style, text)| Span::styled(clean(text), convert(style)))
                    .filter(|span| !span.content.is_empty())
                    .collect::<Vec<_>>(),
            ),
            Err(_) => plain_line(line),
        });
    }
    HighlightedWindow {
        first: start,
        lines: out,
    }
}

/// Each bundled grammar answers to these extensions.
fn syntax_extension(extension: &str) -> &str {
    match extension {
        "mts" | "cts" => "ts",
        "mjs" | "cjs" => "js",
        other => other,
    }
}

/// A source line made safe for the terminal, without highlighting.
pub fn plain_line(line: &str) -> Line<'static> {
    Line::from(clean(line))
}

fn clean(text: &str) -> String {
    sanitize::block(text.trim_end_matches(['\n', '\r'])).into_owned()
}

fn convert(style: syntect::highlighting::Style) -> Style {
    let fg = style.foreground;
    let mut out = Style::default().fg(Color::Rgb(fg.r, fg.g, fg.b));
    if style.font_style.contains(FontStyle::BOLD) {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.font_style.contains(FontStyle::ITALIC) {
        out = out.add_modifier(Modifier::ITALIC);
    }
    out
}

/// Display column (0-based) of a 1-based character column in a raw line,
/// after tabs became four spaces.
pub fn display_column(raw: &str, column: usize) -> usize {
    let before = column.saturating_sub(1);
    let tabs = raw.chars().take(before).filter(|c| *c == '\t').count();
    before + tabs * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn typescript_is_highlighted_in_colour() {
        let file = lines("export function add(a: number): number {\n  return a + 1;\n}");
        let window = highlight_window(&file, "ts", Some("Monokai Extended"), 0, 3);
        assert_eq!(window.lines.len(), 3);
        let colours: std::collections::HashSet<_> = window.lines[0]
            .spans
            .iter()
            .filter_map(|s| s.style.fg)
            .collect();
        assert!(colours.len() >= 2, "{:?}", window.lines[0]);
        assert_eq!(window.lines[1].to_string(), "  return a + 1;");
    }

    #[test]
    fn components_are_highlighted_as_vue_and_svelte() {
        for extension in ["vue", "svelte"] {
            let file = lines(
                "<template>\n  <p>{{ n }}</p>\n</template>\n<script lang=\"ts\">\nexport const n: number = 1;\n</script>",
            );
            let window = highlight_window(&file, extension, Some("Monokai Extended"), 0, 6);
            assert_eq!(window.lines.len(), 6);
            for line in [0, 4] {
                let colours: std::collections::HashSet<_> = window.lines[line]
                    .spans
                    .iter()
                    .filter_map(|s| s.style.fg)
                    .collect();
                assert!(colours.len() >= 2, "{extension}: {:?}", window.lines[line]);
            }
            assert!(
                SYNTAXES.find_syntax_by_extension(extension).is_some(),
                "{extension}"
            );
        }
    }

    #[test]
    fn only_the_window_is_returned() {
        let file: Vec<String> = (0..1000).map(|i| format!("const v{i} = {i};")).collect();
        let window = highlight_window(&file, "tsx", Some("TwoDark"), 500, 520);
        assert_eq!((window.first, window.lines.len()), (500, 20));
        assert_eq!(window.lines[0].to_string(), "const v500 = 500;");
    }

    #[test]
    fn long_lines_and_no_theme_are_plain_and_escapes_are_inert() {
        let long = format!("var a=0;{}", "a=a+1;".repeat(200));
        let file = vec![long.clone(), "let s = '\x1b[2J';".to_owned()];
        let window = highlight_window(&file, "js", Some("Monokai Extended"), 0, 2);
        assert_eq!(window.lines[0].spans.len(), 1);
        assert!(!window.lines[1].to_string().contains('\x1b'));
        let plain = highlight_window(&file, "js", None, 0, 2);
        assert!(
            plain
                .lines
                .iter()
                .all(|l| l.spans.iter().all(|s| s.style.fg.is_none()))
        );
    }

    #[test]
    fn columns_account_for_tabs() {
        assert_eq!(display_column("\tfoo", 2), 4);
        assert_eq!(display_column("foo", 3), 2);
    }
}
