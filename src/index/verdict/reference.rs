//! Running the reference parser (oxc) on one text without letting it hurt
//! the run: it recurses once per nesting level, so ordinary text is parsed
//! on the caller's thread, deeply nested text on a thread of its own with a
//! large stack and a time budget, and text nested deeper than that stack
//! is sized for not at all; panics are caught either way.

use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::Duration;

use oxc_allocator::Allocator;
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType};

use super::construct::{NamedConstruct, name_constructs};
use super::line_column;
use crate::index::panics::capture;

/// The reference parser, as reports name it.
pub const REFERENCE_PARSER: &str = "oxc_parser 0.146";

/// Nesting the reference parser is run on at most. It needs about 2 KiB
/// of stack per level; real code stays far below a hundred.
pub const MAX_NESTING: usize = 5_000;
/// Stack of the reference parser's thread: room for `MAX_NESTING` levels
/// several times over. Only touched pages cost memory.
const REFERENCE_STACK: usize = 64 * 1024 * 1024;
/// Nesting parsed on the caller's thread: at most half a MiB of stack,
/// which any thread has. Real code stays far below (tree-sitter depth 66
/// at most on the benchmark packages). Starting a thread with a large
/// stack costs milliseconds, more than the parse itself.
pub const INLINE_NESTING: usize = 256;

/// How the reference parser reads a file, from its name: TypeScript or
/// JavaScript, JSX or not, a declaration file, module or script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceKind(SourceType);

impl SourceKind {
    /// `.d.ts` (and `.d.mts`, `.d.cts`) as declaration files; `.tsx` and
    /// `.jsx` with JSX, and `.js` too (React code often is `.js`); `.ts
    /// .mts .cts .mjs .cjs` without; `.mjs`/`.mts` as modules, `.cjs`/`.cts`
    /// as CommonJS, the rest decided by their content.
    pub fn for_path(rel_path: &str) -> SourceKind {
        let name = rel_path
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(rel_path)
            .to_ascii_lowercase();
        let source_type = match SourceType::from_path(&name) {
            Ok(t) if name.ends_with(".js") => t.with_jsx(true),
            Ok(t) => t,
            Err(_) => SourceType::unambiguous().with_jsx(true),
        };
        SourceKind(source_type)
    }

    pub fn source_type(self) -> SourceType {
        self.0
    }
}

/// The reference parser's first complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub line: u32,
    pub column: u32,
    /// The byte it points at.
    pub offset: usize,
}

/// What the reference parser made of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// It parses: the construct at each error site asked about, and where
    /// the text's top-level statements are (bytes).
    Accepted {
        constructs: Vec<NamedConstruct>,
        statements: Vec<Range<usize>>,
    },
    Rejected(Diagnostic),
    /// It could not decide, and why.
    Undecided(String),
}

/// Parses `text` with the reference parser, guarded; `sites` are
/// tree-sitter's error sites (bytes) whose constructs to name if it
/// accepts the text, `tree_depth` how deep tree-sitter's tree nests.
/// `budget` bounds the wait for deeply nested text; ordinary text is parsed
/// in place, in time linear in its length.
pub fn check(
    text: &str,
    kind: SourceKind,
    sites: &[Range<usize>],
    tree_depth: usize,
    budget: Duration,
) -> Judgement {
    let depth = tree_depth.max(bracket_depth(text));
    if depth > MAX_NESTING {
        return Judgement::Undecided(format!(
            "the text nests {depth} levels deep; the reference parser is run on at most {MAX_NESTING}"
        ));
    }
    if depth <= INLINE_NESTING {
        return capture(|| parse(text, kind.source_type(), sites)).unwrap_or_else(|panic| {
            Judgement::Undecided(format!("the reference parser crashed: {}", panic.message))
        });
    }
    let text: Arc<str> = Arc::from(text);
    let sites = sites.to_vec();
    let (sender, receiver) = sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("snag-reference".into())
        .stack_size(REFERENCE_STACK)
        .spawn(move || {
            let judgement = capture(|| parse(&text, kind.source_type(), &sites));
            // The receiver is gone when the budget ran out: nobody waits.
            let _ = sender.send(judgement);
        });
    if let Err(e) = spawned {
        return Judgement::Undecided(format!("cannot start the reference parser: {e}"));
    }
    match receiver.recv_timeout(budget) {
        Ok(Ok(judgement)) => judgement,
        Ok(Err(panic)) => {
            Judgement::Undecided(format!("the reference parser crashed: {}", panic.message))
        }
        Err(RecvTimeoutError::Timeout) => Judgement::Undecided(format!(
            "the reference parser took longer than {:.1} s (--parse-timeout)",
            budget.as_secs_f64()
        )),
        Err(RecvTimeoutError::Disconnected) => {
            Judgement::Undecided("the reference parser stopped without an answer".to_owned())
        }
    }
}

/// The unguarded parse: call only on a thread sized for the text.
fn parse(text: &str, source_type: SourceType, sites: &[Range<usize>]) -> Judgement {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, text, source_type).parse();
    if parsed.is_flow_language {
        return Judgement::Undecided(
            "the file is Flow, which the reference parser does not read as TypeScript".to_owned(),
        );
    }
    // The first complaint made (later ones are its recovery's).
    match parsed.diagnostics.errors().next() {
        Some(diagnostic) => {
            let offset = locate(diagnostic, text);
            let (line, column) = line_column(text, offset);
            Judgement::Rejected(Diagnostic {
                message: diagnostic.message.to_string(),
                line,
                column,
                offset,
            })
        }
        None if parsed.panicked => {
            Judgement::Undecided("the reference parser gave up without a diagnostic".to_owned())
        }
        None => Judgement::Accepted {
            constructs: name_constructs(&parsed.program, text, sites),
            statements: parsed
                .program
                .body
                .iter()
                .map(|statement| {
                    let span = statement.span();
                    span.start as usize..span.end as usize
                })
                .collect(),
        },
    }
}

/// Where a complaint is, in the words a person would use: where its
/// primary label points, except that a bracket never closed is where it
/// was opened, and a complaint about a closing bracket (or the end) that
/// starts its line belongs right after the code before it (the end of the
/// line that lacks something): the parser only noticed at the bracket.
fn locate(diagnostic: &oxc_diagnostics::OxcDiagnostic, text: &str) -> usize {
    let labels = &diagnostic.labels;
    let primary = labels.iter().find(|l| l.primary()).or(labels.first());
    let offset = primary.map_or(0, |l| l.offset() as usize).min(text.len());
    if diagnostic.message.ends_with("but found `EOF`")
        && let Some(opened) = labels.iter().find(|l| l.label() == Some("Opened here"))
    {
        return (opened.offset() as usize).min(text.len());
    }
    // A closing bracket (or the end) that starts its line: what is
    // missing belongs before it, at the end of the code before.
    let closing = text[offset..]
        .trim_start()
        .chars()
        .next()
        .is_none_or(|c| matches!(c, '}' | ')' | ']'));
    let line_start = text[..offset].rfind('\n').map_or(0, |at| at + 1);
    if !closing || line_start == 0 || !text[line_start..offset].trim().is_empty() {
        return offset;
    }
    after_previous_token(text, line_start).unwrap_or(offset)
}

/// The byte after the last token before `line_start` (a line's start),
/// passing over blank lines and lines that are only a comment.
fn after_previous_token(text: &str, line_start: usize) -> Option<usize> {
    let mut end = line_start;
    while end > 0 {
        let start = text[..end - 1].rfind('\n').map_or(0, |at| at + 1);
        let line = &text[start..end];
        let code = line.trim_end();
        let trimmed = code.trim_start();
        let comment_only =
            trimmed.starts_with("//") || trimmed.starts_with("/*") || trimmed.starts_with('*');
        if !trimmed.is_empty() && !comment_only {
            // A comment after the code on the same line is passed over too.
            let code = match code.find("//") {
                Some(at) if !code[..at].contains(['"', '\'', '`']) => code[..at].trim_end(),
                _ => code,
            };
            return Some(start + code.len());
        }
        end = start;
    }
    None
}

/// How deep brackets nest, outside strings and comments: a bound on how
/// deep the reference parser will recurse where tree-sitter's tree is flat
/// (an ERROR node holds tokens, not structure). Template substitutions
/// count as nesting and their text is skipped like a string's.
pub fn bracket_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    // One entry per open bracket: whether it is a template's `${`.
    let mut open: Vec<bool> = Vec::new();
    let mut deepest = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => {
                open.push(false);
                deepest = deepest.max(open.len());
            }
            b')' | b']' => {
                open.pop();
            }
            b'}' if open.last() == Some(&true) => {
                open.pop();
                i = skip_template(bytes, i + 1, &mut open, &mut deepest);
                continue;
            }
            b'}' => {
                open.pop();
            }
            b'`' => {
                i = skip_template(bytes, i + 1, &mut open, &mut deepest);
                continue;
            }
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// Skips template text from `i` to its closing backtick (returning the
/// index after it) or to a `${` (opening a substitution, returning the
/// index after the brace).
fn skip_template(bytes: &[u8], mut i: usize, open: &mut Vec<bool>, deepest: &mut usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'`' => return i + 1,
            b'\\' => i += 2,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                open.push(true);
                *deepest = (*deepest).max(open.len());
                return i + 2;
            }
            _ => i += 1,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str, path: &str) -> Judgement {
        check(
            text,
            SourceKind::for_path(path),
            &[],
            0,
            Duration::from_secs(10),
        )
    }

    #[test]
    fn source_kinds_follow_the_extension() {
        let kind = |p: &str| SourceKind::for_path(p).source_type();
        assert!(kind("src/a.d.ts").is_typescript_definition());
        assert!(kind("a.D.TS").is_typescript_definition());
        assert!(!kind("a.ts").is_typescript_definition());
        assert!(!kind("a.ts").is_jsx());
        assert!(!kind("a.mts").is_jsx());
        assert!(kind("a.tsx").is_jsx() && kind("a.tsx").is_typescript());
        assert!(kind("a.jsx").is_jsx() && kind("a.jsx").is_javascript());
        assert!(kind("a.js").is_jsx());
        assert!(!kind("a.mjs").is_jsx() && kind("a.mjs").is_module());
        assert!(kind("a.cjs").is_commonjs());
    }

    #[test]
    fn jsx_only_where_the_extension_allows_it() {
        let jsx = "const a = <div>hi</div>;\n";
        assert!(matches!(
            check_text(jsx, "a.tsx"),
            Judgement::Accepted { .. }
        ));
        assert!(matches!(
            check_text(jsx, "a.js"),
            Judgement::Accepted { .. }
        ));
        assert!(matches!(check_text(jsx, "a.ts"), Judgement::Rejected(_)));
        // In .ts, `<T>x` is a type assertion, not JSX.
        let assertion = "const a = <string>b;\n";
        assert!(matches!(
            check_text(assertion, "a.ts"),
            Judgement::Accepted { .. }
        ));
    }

    #[test]
    fn declaration_files_are_parsed_as_such() {
        // Only a declaration file may declare a function without a body
        // outside `declare`.
        let text = "export function f(): void;\nexport const x: number;\n";
        assert!(matches!(
            check_text(text, "a.d.ts"),
            Judgement::Accepted { .. }
        ));
        assert!(matches!(check_text(text, "a.ts"), Judgement::Rejected(_)));
    }

    #[test]
    fn rejections_keep_the_first_diagnostic_and_its_position() {
        let Judgement::Rejected(d) =
            check_text("let a = 1;\nclass Foo { invalid syntax )))))", "a.ts")
        else {
            panic!("expected a rejection");
        };
        assert_eq!((d.line, d.column), (2, 21), "{d:?}");
        assert!(!d.message.is_empty());
    }

    #[test]
    fn deep_nesting_is_not_parsed() {
        let text = format!("x = {}1{};", "[".repeat(20_000), "]".repeat(20_000));
        let Judgement::Undecided(reason) = check_text(&text, "a.js") else {
            panic!("expected no decision");
        };
        assert!(reason.contains("20000 levels"), "{reason}");
        // Nesting within the limit is parsed, on the big stack.
        let text = format!("x = {}1{};", "(".repeat(4_000), ")".repeat(4_000));
        assert!(matches!(
            check_text(&text, "a.js"),
            Judgement::Accepted { .. }
        ));
    }

    #[test]
    fn flow_files_are_undecided() {
        let text = "// @flow\ntype A = {| a: number |};\n";
        assert!(matches!(check_text(text, "a.js"), Judgement::Undecided(_)));
    }

    #[test]
    fn a_zero_budget_times_out_on_its_own_thread() {
        let text = "export const a = 1;\n".repeat(50_000);
        let nested = INLINE_NESTING + 1;
        let judgement = check(
            &text,
            SourceKind::for_path("a.ts"),
            &[],
            nested,
            Duration::ZERO,
        );
        let Judgement::Undecided(reason) = judgement else {
            panic!("expected a timeout");
        };
        assert!(reason.contains("longer than"), "{reason}");
    }

    #[test]
    fn bracket_depth_skips_strings_and_comments() {
        assert_eq!(bracket_depth("f(a[1], {b: (2)})"), 3);
        assert_eq!(bracket_depth("')))' + f((1))"), 2);
        assert_eq!(bracket_depth("// ((((\n/* [[[[ */ x"), 0);
        assert_eq!(bracket_depth("`a ${b({})} c`"), 3);
        // Code after a template with a substitution is still code.
        assert_eq!(bracket_depth("`${a}` + ((1))"), 2);
        assert_eq!(bracket_depth("`${`${(1)}`}`"), 3);
    }
}
