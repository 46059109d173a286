//! The command line that opens a file at a line and column in the user's
//! editor. Editors disagree on how to say where: each family gets the form
//! its own documentation gives, and an editor nobody recognises gets `+LINE
//! FILE`, which most terminal editors understand.

use std::ffi::OsString;
use std::path::Path;

/// How an editor is told where to put the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// vi, vim, neovim: `+call cursor(L,C) FILE`.
    VimCursor,
    /// emacs, emacsclient, and kakoune (its manual: `kak [+line[:column]]
    /// [file]`; to kakoune, `FILE:L:C` would name a new file): `+L:C FILE`.
    PlusLineColon,
    /// nano: `+L,C FILE`.
    PlusLineComma,
    /// VS Code and its forks: `--goto FILE:L:C`.
    Goto,
    /// helix, zed, sublime: `FILE:L:C`.
    Suffix,
    /// Anything else: `+L FILE`.
    PlusLine,
}

/// Which form the program takes, by its file name: `/usr/bin/nvim`,
/// `vim.basic` (Debian's alternatives) and `code.exe` are recognised too.
fn form_of(program: &str) -> Form {
    let name = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".exe").unwrap_or(&name);
    let base = name.split('.').next().unwrap_or(name);
    match base {
        "vi" | "vim" | "nvim" | "gvim" | "mvim" | "view" | "nview" | "vimdiff" => Form::VimCursor,
        "emacs" | "emacsclient" | "kak" => Form::PlusLineColon,
        "nano" => Form::PlusLineComma,
        "code" | "code-insiders" | "codium" | "vscodium" | "cursor" => Form::Goto,
        "hx" | "helix" | "zed" | "zeditor" | "subl" | "sublime_text" => Form::Suffix,
        _ => Form::PlusLine,
    }
}

/// The program and arguments that open `path` at `line` and `column`
/// (both 1-based, as editors count) with `editor`, the value of `$VISUAL`
/// or `$EDITOR`. That value may carry arguments of its own (`code -w`,
/// `emacsclient -nw`), kept before the position, and may quote a program
/// path with spaces. `None` when it names no program (empty, or a quote
/// left open).
///
/// Columns are passed as given: vim's `cursor()` counts bytes, the others
/// characters; on an ASCII line they agree.
pub fn editor_command(
    editor: &str,
    path: &Path,
    line: u32,
    column: u32,
) -> Option<(String, Vec<OsString>)> {
    let mut words = split_words(editor)?.into_iter();
    let program = words.next()?;
    let mut args: Vec<OsString> = words.map(OsString::from).collect();
    let (line, column) = (line.max(1), column.max(1));
    let file = file_argument(path);
    let at = |mut file: OsString| {
        file.push(format!(":{line}:{column}"));
        file
    };
    match form_of(&program) {
        Form::VimCursor => {
            args.push(format!("+call cursor({line},{column})").into());
            args.push(file);
        }
        Form::PlusLineColon => {
            args.push(format!("+{line}:{column}").into());
            args.push(file);
        }
        Form::PlusLineComma => {
            args.push(format!("+{line},{column}").into());
            args.push(file);
        }
        Form::Goto => {
            args.push("--goto".into());
            args.push(at(file));
        }
        Form::Suffix => args.push(at(file)),
        Form::PlusLine => {
            args.push(format!("+{line}").into());
            args.push(file);
        }
    }
    Some((program, args))
}

/// The path as an argument no editor mistakes for an option or a position:
/// a relative path starting with `-` or `+` gets a `./` in front.
fn file_argument(path: &Path) -> OsString {
    let starts_like_an_option = path
        .as_os_str()
        .as_encoded_bytes()
        .first()
        .is_some_and(|b| matches!(b, b'-' | b'+'));
    if starts_like_an_option {
        Path::new(".").join(path).into_os_string()
    } else {
        path.as_os_str().to_owned()
    }
}

/// Splits the editor's value into words as a shell would for the simple
/// cases people write: blanks separate, single quotes keep everything,
/// double quotes keep everything but a backslash before `"` or `\`, and a
/// backslash outside quotes keeps the next character. `None` for a quote
/// left open.
fn split_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command line as text, for readable expectations.
    fn line_of(editor: &str, path: &str, line: u32, column: u32) -> Option<Vec<String>> {
        let (program, args) = editor_command(editor, Path::new(path), line, column)?;
        let mut words = vec![program];
        words.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
        Some(words)
    }

    fn expect(editor: &str, words: &[&str]) {
        assert_eq!(
            line_of(editor, "/src/app.ts", 12, 5).as_deref(),
            Some(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>()[..]),
            "{editor}"
        );
    }

    #[test]
    fn the_vim_family_calls_cursor() {
        for editor in ["vi", "vim", "nvim", "gvim", "mvim", "view", "/usr/bin/nvim"] {
            let program = editor.to_owned();
            expect(editor, &[&program, "+call cursor(12,5)", "/src/app.ts"]);
        }
        expect(
            "vim.basic",
            &["vim.basic", "+call cursor(12,5)", "/src/app.ts"],
        );
        expect(
            "nvim --clean",
            &["nvim", "--clean", "+call cursor(12,5)", "/src/app.ts"],
        );
    }

    #[test]
    fn emacs_takes_line_colon_column() {
        expect("emacs", &["emacs", "+12:5", "/src/app.ts"]);
        expect(
            "emacsclient -nw",
            &["emacsclient", "-nw", "+12:5", "/src/app.ts"],
        );
        expect(
            "/usr/local/bin/emacsclient -t",
            &["/usr/local/bin/emacsclient", "-t", "+12:5", "/src/app.ts"],
        );
    }

    #[test]
    fn vs_code_and_its_forks_go_to_file_line_column_keeping_their_arguments() {
        expect("code", &["code", "--goto", "/src/app.ts:12:5"]);
        expect("code -w", &["code", "-w", "--goto", "/src/app.ts:12:5"]);
        expect(
            "code-insiders --wait",
            &["code-insiders", "--wait", "--goto", "/src/app.ts:12:5"],
        );
        expect("codium -w", &["codium", "-w", "--goto", "/src/app.ts:12:5"]);
        expect("cursor -w", &["cursor", "-w", "--goto", "/src/app.ts:12:5"]);
    }

    #[test]
    fn helix_zed_and_sublime_take_file_line_column() {
        expect("hx", &["hx", "/src/app.ts:12:5"]);
        expect("helix", &["helix", "/src/app.ts:12:5"]);
        expect("zed --wait", &["zed", "--wait", "/src/app.ts:12:5"]);
        expect("subl -w", &["subl", "-w", "/src/app.ts:12:5"]);
    }

    #[test]
    fn kakoune_takes_the_position_before_the_file() {
        expect("kak", &["kak", "+12:5", "/src/app.ts"]);
        expect(
            "kak -c main",
            &["kak", "-c", "main", "+12:5", "/src/app.ts"],
        );
    }

    #[test]
    fn nano_takes_line_comma_column() {
        expect("nano", &["nano", "+12,5", "/src/app.ts"]);
    }

    #[test]
    fn any_other_editor_gets_the_line() {
        expect("micro", &["micro", "+12", "/src/app.ts"]);
        expect("ed", &["ed", "+12", "/src/app.ts"]);
        expect(
            "joe -nobackups",
            &["joe", "-nobackups", "+12", "/src/app.ts"],
        );
    }

    #[test]
    fn a_quoted_program_path_with_spaces_is_one_word() {
        expect(
            "'/Applications/Sublime Text.app/Contents/SharedSupport/bin/subl' -w",
            &[
                "/Applications/Sublime Text.app/Contents/SharedSupport/bin/subl",
                "-w",
                "/src/app.ts:12:5",
            ],
        );
        expect(
            r#""/opt/my editors/nvim" -u "init file.vim""#,
            &[
                "/opt/my editors/nvim",
                "-u",
                "init file.vim",
                "+call cursor(12,5)",
                "/src/app.ts",
            ],
        );
        expect(
            r"/opt/my\ editors/hx",
            &["/opt/my editors/hx", "/src/app.ts:12:5"],
        );
    }

    #[test]
    fn no_program_is_none() {
        assert_eq!(line_of("", "/a.ts", 1, 1), None);
        assert_eq!(line_of("   ", "/a.ts", 1, 1), None);
        assert_eq!(line_of("'vim", "/a.ts", 1, 1), None);
    }

    #[test]
    fn positions_are_at_least_one() {
        expect_at("vim", 0, 0, &["vim", "+call cursor(1,1)", "/src/app.ts"]);
        expect_at("code", 0, 0, &["code", "--goto", "/src/app.ts:1:1"]);
    }

    fn expect_at(editor: &str, line: u32, column: u32, words: &[&str]) {
        assert_eq!(
            line_of(editor, "/src/app.ts", line, column).unwrap(),
            words.iter().map(|w| w.to_string()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_path_that_looks_like_an_option_or_a_position_is_made_plain() {
        assert_eq!(
            line_of("vim", "+12.ts", 3, 1).unwrap()[2],
            "./+12.ts".to_owned()
        );
        assert_eq!(
            line_of("hx", "-rf.ts", 3, 1).unwrap()[1],
            "./-rf.ts:3:1".to_owned()
        );
    }

    #[test]
    fn a_path_that_is_not_utf8_is_passed_as_its_bytes() {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let path = Path::new(std::ffi::OsStr::from_bytes(b"/src/caf\xe9.ts"));
        let (_, args) = editor_command("hx", path, 2, 3).unwrap();
        assert_eq!(args[0].clone().into_vec(), b"/src/caf\xe9.ts:2:3".to_vec());
        let (_, args) = editor_command("vim", path, 2, 3).unwrap();
        assert_eq!(args[1].as_bytes(), b"/src/caf\xe9.ts");
    }
}
