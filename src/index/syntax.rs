//! A parse within a time budget, and the syntax errors in a parsed tree:
//! every ERROR and MISSING node, where it is and what surrounds it, turned
//! into a compiler-style message, a traceback with excerpts and carets, and
//! JSON details.

use std::time::{Duration, Instant};

use serde::Serialize;
use tree_sitter::{Node, ParseOptions, Parser, Tree};

use super::details::ErrorDetails;
use super::lines::LineIndex;
use super::outcome::{ErrorType, FileError, Span};
use super::problems::SiteInput;

/// Sites kept in `details` and the traceback; the message counts them all.
pub const MAX_SITES: usize = 50;
/// Unexpected tokens shown per site.
const MAX_TOKENS: usize = 3;
const MAX_TOKEN_CHARS: usize = 40;
/// Excerpts of longer lines (minified code) are cut to a window around the
/// error so a 200,000-character line does not end up in the database.
const EXCERPT_BEFORE: usize = 40;
const EXCERPT_AFTER: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// An ERROR node: tokens the grammar could not place.
    Unexpected,
    /// A MISSING node: a token the parser had to invent.
    Missing,
}

/// One place where the grammar gave up.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SyntaxErrorSite {
    pub kind: SiteKind,
    #[serde(flatten)]
    pub span: Span,
    /// Kinds of the enclosing nodes, innermost first.
    #[serde(default)]
    pub context: Vec<String>,
    /// The unexpected tokens, or the kind of the missing one.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Whether the ERROR node holds more tokens than `tokens` shows.
    #[serde(default)]
    pub more_tokens: bool,
    /// The source line, cut to a window around the error when long.
    #[serde(default)]
    pub excerpt: String,
    /// 1-based character position of the error within `excerpt`.
    #[serde(default)]
    pub excerpt_column: u32,
}

impl SyntaxErrorSite {
    /// "unexpected `+` in lexical_declaration", "missing `}` in class_body",
    /// or, when the grammar gave up on a run of tokens, "cannot parse
    /// `class Foo { …` in program" (tree-sitter does not say which token of
    /// the run was the culprit).
    pub fn describe(&self) -> String {
        let what = match (self.kind, self.tokens.as_slice()) {
            (SiteKind::Missing, tokens) => format!("missing `{}`", tokens.join(" ")),
            (SiteKind::Unexpected, []) => "unexpected end of input".to_owned(),
            (SiteKind::Unexpected, [token]) if !self.more_tokens => format!("unexpected `{token}`"),
            (SiteKind::Unexpected, tokens) => {
                let ellipsis = if self.more_tokens { " …" } else { "" };
                format!("cannot parse `{}{ellipsis}`", tokens.join(" "))
            }
        };
        match self.context.first() {
            Some(parent) => format!("{what} in {parent}"),
            None => what,
        }
    }

    /// The construct a group of such errors is about.
    pub fn construct(&self) -> &str {
        self.context.first().map_or("program", String::as_str)
    }
}

/// Collects up to [`MAX_SITES`] sites in source order, and how many exist.
pub fn collect_sites(tree: &Tree, source: &str) -> (Vec<SyntaxErrorSite>, usize) {
    let mut sites = Vec::new();
    let mut total = 0;
    let lines = LineIndex::new(source);
    walk_sites(tree, |node| {
        total += 1;
        if sites.len() < MAX_SITES {
            sites.push(site(node, source, &lines));
        }
        true
    });
    (sites, total)
}

/// Every error site of the tree, as problems are made from them: its bytes,
/// the construct tree-sitter was in and its words for it.
pub fn site_inputs(tree: &Tree, source: &str) -> Vec<SiteInput> {
    let mut inputs = Vec::new();
    walk_sites(tree, |node| {
        // What the words need, without the location and excerpt.
        let (kind, (tokens, more_tokens)) = if node.is_missing() {
            (SiteKind::Missing, (vec![node.kind().to_owned()], false))
        } else {
            (SiteKind::Unexpected, leading_tokens(node, source))
        };
        let site = SyntaxErrorSite {
            kind,
            span: Span::default(),
            context: enclosing_kinds(node).into_iter().take(1).collect(),
            tokens,
            more_tokens,
            excerpt: String::new(),
            excerpt_column: 0,
        };
        let missing = (node.is_missing() && !node.is_named()).then(|| node.kind().to_owned());
        inputs.push(SiteInput {
            missing,
            bytes: node.byte_range(),
            construct: site.construct().to_owned(),
            description: site.describe(),
        });
        true
    });
    inputs
}

/// Byte range of the first error site, if the tree has one.
pub fn first_site_bytes(tree: &Tree) -> Option<std::ops::Range<usize>> {
    let mut first = None;
    walk_sites(tree, |node| {
        first = Some(node.byte_range());
        false
    });
    first
}

/// How much of a file tree-sitter could not parse: what tells a one-token
/// slip from a file the grammar could not enter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ParseHealth {
    /// Bytes inside ERROR nodes (an ERROR nested in another counted once).
    pub error_bytes: u64,
    /// MISSING nodes: tokens the parser had to assume.
    pub missing_nodes: u64,
}

/// The parse health of a tree.
pub fn parse_health(tree: &Tree) -> ParseHealth {
    let mut health = ParseHealth::default();
    // The walk visits outermost ERROR nodes only, and ERROR nodes nest or
    // are disjoint: their lengths add up to their union.
    walk_sites(tree, |node| {
        if node.is_missing() {
            health.missing_nodes += 1;
        } else {
            health.error_bytes += node.byte_range().len() as u64;
        }
        true
    });
    health
}

/// tree-sitter's tree around the first error, as an indented
/// S-expression: the whole tree when it is short (a reduced example's is),
/// else the largest subtree holding the error that is.
pub fn tree_around_first_error(tree: &Tree, max_chars: usize) -> String {
    let root = tree.root_node();
    let mut node = first_site_bytes(tree)
        .and_then(|bytes| root.descendant_for_byte_range(bytes.start, bytes.end))
        .unwrap_or(root);
    let mut shown = node.to_sexp();
    while let Some(parent) = node.parent() {
        let wider = parent.to_sexp();
        if wider.len() > max_chars {
            break;
        }
        (node, shown) = (parent, wider);
    }
    indent_sexp(&shown)
}

/// One node per line, children indented under their parent; a field's
/// name stays on its node's line.
fn indent_sexp(sexp: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut after_field = false;
    for token in sexp.split(' ') {
        let opens = token.starts_with('(');
        if (opens || token.ends_with(':')) && !after_field && !out.is_empty() {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        } else if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
        after_field = token.ends_with(':');
        depth += token.matches('(').count();
        depth = depth.saturating_sub(token.matches(')').count());
    }
    out
}

/// Visits every ERROR and MISSING node in source order until `visit`
/// returns false. The walk is iterative and only enters subtrees that
/// contain an error, so 20,000-deep nesting neither overflows the stack
/// nor costs much.
fn walk_sites(tree: &Tree, mut visit: impl FnMut(Node) -> bool) {
    let root = tree.root_node();
    if !root.has_error() {
        return;
    }
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        let is_site = node.is_error() || node.is_missing();
        if is_site && !visit(node) {
            return;
        }
        // Descend only where an error hides; an ERROR's inside is one site.
        if !is_site && node.has_error() && cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// How deep the tree nests (the root is depth 1), exactly when that is
/// more than `floor`; otherwise some number no larger than `floor`.
/// Subtrees with too few nodes to reach past `floor` are not entered, so an
/// ordinary tree costs a few steps. Walked iteratively.
pub fn tree_depth_beyond(tree: &Tree, floor: usize) -> usize {
    let mut cursor = tree.walk();
    let (mut depth, mut deepest) = (1usize, 1usize);
    loop {
        // A subtree of n nodes nests at most n deep.
        let can_pass_floor = depth + cursor.node().descendant_count() > floor + 1;
        if can_pass_floor && cursor.goto_first_child() {
            depth += 1;
            deepest = deepest.max(depth);
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return deepest;
            }
            depth -= 1;
        }
    }
}

fn site(node: Node, source: &str, lines: &LineIndex) -> SyntaxErrorSite {
    let kind = if node.is_missing() {
        SiteKind::Missing
    } else {
        SiteKind::Unexpected
    };
    let (tokens, more_tokens) = match kind {
        SiteKind::Missing => (vec![node.kind().to_owned()], false),
        SiteKind::Unexpected => leading_tokens(node, source),
    };
    // Zero-width (missing) nodes still get a caret.
    let span = lines.span(source, node.start_byte(), node.end_byte());
    let (excerpt, excerpt_column) = excerpt(source, lines, node.start_byte());
    SyntaxErrorSite {
        kind,
        span,
        context: enclosing_kinds(node),
        tokens,
        more_tokens,
        excerpt,
        excerpt_column,
    }
}

/// The first few leaf tokens of an ERROR node, in order, and whether there
/// are more.
fn leading_tokens(node: Node, source: &str) -> (Vec<String>, bool) {
    let mut tokens = Vec::new();
    let mut cursor = node.walk();
    'walk: loop {
        let current = cursor.node();
        if current.child_count() == 0 {
            let text = source.get(current.byte_range()).unwrap_or("").trim();
            if !text.is_empty() {
                if tokens.len() == MAX_TOKENS {
                    return (tokens, true);
                }
                tokens.push(clip(text, MAX_TOKEN_CHARS));
            }
        } else if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() || cursor.node() == node {
                break 'walk;
            }
        }
    }
    (tokens, false)
}

fn enclosing_kinds(node: Node) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut current = node.parent();
    while let Some(parent) = current {
        if !parent.is_error() {
            kinds.push(parent.kind().to_owned());
            if kinds.len() == 3 {
                break;
            }
        }
        current = parent.parent();
    }
    kinds
}

/// The line holding `byte`, cut to a window around it when long, and the
/// 1-based character position of `byte` in what is returned.
fn excerpt(source: &str, lines: &LineIndex, byte: usize) -> (String, u32) {
    let (start, line) = lines.line_at(source, byte);
    let byte = byte.clamp(start, start + line.len());
    let byte = (start..=byte)
        .rev()
        .find(|b| source.is_char_boundary(*b))
        .unwrap_or(start);
    let column = source[start..byte].chars().count();
    if line.chars().count() <= EXCERPT_BEFORE + EXCERPT_AFTER {
        return (line.to_owned(), column as u32 + 1);
    }
    let skip = column.saturating_sub(EXCERPT_BEFORE);
    let mut window: String = line
        .chars()
        .skip(skip)
        .take(EXCERPT_BEFORE + EXCERPT_AFTER)
        .collect();
    let mut caret = column - skip + 1;
    if skip > 0 {
        window.insert(0, '…');
        caret += 1;
    }
    if skip + EXCERPT_BEFORE + EXCERPT_AFTER < line.chars().count() {
        window.push('…');
    }
    (window, caret as u32)
}

fn clip(text: &str, max_chars: usize) -> String {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() <= max_chars && first_line.len() == text.len() {
        return text.to_owned();
    }
    let mut clipped: String = first_line.chars().take(max_chars).collect();
    clipped.push('…');
    clipped
}

/// A parse stopped at its time budget, after this many bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfTime {
    pub reached: usize,
}

/// `text` parsed within `budget` (tree-sitter's progress callback stops
/// it), or how far it got; the parser is reset then, ready for the next.
pub fn parse_within(parser: &mut Parser, text: &str, budget: Duration) -> Result<Tree, OutOfTime> {
    let started = Instant::now();
    let mut reached = 0;
    let mut over_budget = |state: &tree_sitter::ParseState| {
        reached = state.current_byte_offset();
        started.elapsed() > budget
    };
    let bytes = text.as_bytes();
    let tree = parser.parse_with_options(
        &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
        None,
        Some(ParseOptions::new().progress_callback(&mut over_budget)),
    );
    tree.ok_or_else(|| {
        parser.reset();
        OutOfTime { reached }
    })
}

/// The `parsing_error` for a file with syntax errors, or `None` when the
/// tree is clean.
pub fn parsing_error(
    tree: &Tree,
    source: &str,
    rel_path: &str,
    language: &str,
) -> Option<FileError> {
    let (sites, total) = collect_sites(tree, source);
    let first = sites.first()?;
    let more = match total - 1 {
        0 => String::new(),
        1 => "; 1 more syntax error".to_owned(),
        n => format!("; {n} more syntax errors"),
    };
    let message = format!(
        "{}:{} {}{more}",
        first.span.line,
        first.span.column,
        first.describe()
    );
    let mut error = FileError::new(ErrorType::ParsingError, first.construct(), message);
    error.span = Some(first.span);
    error.traceback = Some(traceback(&sites, total, rel_path, language));
    error.details = ErrorDetails {
        language: Some(language.to_owned()),
        total_sites: Some(total as u64),
        sites,
        ..Default::default()
    };
    Some(error)
}

fn traceback(sites: &[SyntaxErrorSite], total: usize, rel_path: &str, language: &str) -> String {
    let noun = if total == 1 { "error" } else { "errors" };
    let mut out = format!("SyntaxError: {total} syntax {noun} in {rel_path} ({language})\n");
    for site in sites {
        let number = site.span.line.to_string();
        let gutter = " ".repeat(number.len());
        out.push_str(&format!(
            "  --> {rel_path}:{}:{}  {}\n  {gutter} |\n  {number} | {}\n  {gutter} | {}^\n",
            site.span.line,
            site.span.column,
            site.describe(),
            site.excerpt,
            " ".repeat(site.excerpt_column as usize - 1),
        ));
    }
    if total > sites.len() {
        out.push_str(&format!("  ... and {} more\n", total - sites.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::language::Language;

    fn parse(language: Language, source: &str) -> Tree {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(crate::index::grammar::Grammars::built_in().language(language))
            .unwrap();
        parser.parse(source, None).unwrap()
    }

    fn error_for(source: &str) -> FileError {
        parsing_error(
            &parse(Language::TypeScript, source),
            source,
            "a.ts",
            "typescript",
        )
        .expect("a syntax error")
    }

    #[test]
    fn clean_tree_has_no_error() {
        let source = "export function ok() { return 1; }\n";
        assert!(
            parsing_error(
                &parse(Language::TypeScript, source),
                source,
                "a.ts",
                "typescript"
            )
            .is_none()
        );
    }

    #[test]
    fn seed_case_is_located() {
        let error = error_for("class Foo { invalid syntax )))))");
        assert_eq!(error.error_type, ErrorType::ParsingError);
        assert_eq!(error.span.unwrap().line, 1);
        assert!(error.message.starts_with("1:"), "{}", error.message);
        assert!(
            error
                .traceback
                .unwrap()
                .contains("class Foo { invalid syntax )))))")
        );
    }

    #[test]
    fn missing_brace_points_at_line_three() {
        let source =
            "export function ok() { return 1; }\n\nexport function bad( {\n  return 2;\n}\n";
        let error = error_for(source);
        let span = error.span.unwrap();
        assert_eq!(span.line, 3, "{}", error.message);
        assert!(error.message.starts_with("3:"), "{}", error.message);
        let traceback = error.traceback.unwrap();
        assert!(
            traceback.contains("3 | export function bad( {"),
            "{traceback}"
        );
        assert!(traceback.contains('^'), "{traceback}");
        assert_eq!(error.details.sites[0].span.line, 3);
    }

    #[test]
    fn message_counts_the_other_sites() {
        let error = error_for("const = ;\nlet = 2;\nvar = 3;\n");
        assert!(
            error.message.contains("more syntax error"),
            "{}",
            error.message
        );
        let total = error.details.total_sites.unwrap();
        assert!(total >= 2, "{total}");
    }

    #[test]
    fn missing_nodes_are_named() {
        let source = "function f() {\n  return 1;\n";
        let (sites, _) = collect_sites(&parse(Language::TypeScript, source), source);
        assert!(
            sites
                .iter()
                .any(|s| s.kind == SiteKind::Missing && s.tokens == ["}"]),
            "{sites:?}"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let source = "const é = 'ü'; const = ;\n";
        let error = error_for(source);
        let span = error.span.unwrap();
        let expected = source[..source.find("const =").unwrap()].chars().count() as u32 + 1;
        assert!(span.column >= expected, "{span:?} vs {expected}");
    }

    #[test]
    fn long_lines_are_excerpted_around_the_error() {
        let source = format!("export const pad = '{}'; const = ;\n", "x".repeat(200_000));
        let error = error_for(&source);
        let excerpt = &error.details.sites[0].excerpt;
        assert!(
            excerpt.chars().count() <= EXCERPT_BEFORE + EXCERPT_AFTER + 2,
            "{excerpt}"
        );
        assert!(error.traceback.unwrap().len() < 2_000);
    }

    #[test]
    fn first_site_and_depth() {
        let source = "let a = 1;\nconst = ;\n";
        let tree = parse(Language::TypeScript, source);
        let first = first_site_bytes(&tree).expect("an error site");
        assert!(first.start >= source.find("const").unwrap(), "{first:?}");
        let clean = parse(Language::TypeScript, "let a = [[[1]]];\n");
        assert!(first_site_bytes(&clean).is_none());
        assert!(tree_depth_beyond(&clean, 0) >= 6);
        assert!(tree_depth_beyond(&clean, 100) <= 100);
        let nested = format!("let a = {}1{};\n", "(".repeat(300), ")".repeat(300));
        let deep = parse(Language::TypeScript, &nested);
        let exact = tree_depth_beyond(&deep, 0);
        assert!(exact > 300, "{exact}");
        assert_eq!(tree_depth_beyond(&deep, 256), exact);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let source = format!(
            "const deep = {}{} = ;\n",
            "[".repeat(20_000),
            "]".repeat(20_000)
        );
        let tree = parse(Language::TypeScript, &source);
        let handle = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                (
                    collect_sites(&tree, &source).1,
                    tree_depth_beyond(&tree, 256),
                )
            })
            .unwrap();
        let (sites, depth) = handle.join().unwrap();
        assert!(sites >= 1);
        assert!(depth >= 20_000, "{depth}");
    }

    #[test]
    fn parse_health_counts_error_bytes_once_and_missing_tokens() {
        assert_eq!(
            parse_health(&parse(Language::TypeScript, "let a = 1;\n")),
            ParseHealth::default()
        );
        // One missing token and no ERROR node.
        let missing = parse_health(&parse(Language::TypeScript, "let a = (1;\n"));
        assert_eq!(missing.missing_nodes, 1, "{missing:?}");
        assert_eq!(missing.error_bytes, 0);
        // The bytes of the outermost ERROR nodes, never more than the file.
        let source = "let a = 1;\n@@@ ))) ((( @@@ {{{ ]]]\nlet b = 2;\n";
        let tree = parse(Language::TypeScript, source);
        let health = parse_health(&tree);
        assert!(health.error_bytes > 0, "{health:?}");
        assert!(health.error_bytes <= source.len() as u64, "{health:?}");
        let mut outermost = 0;
        walk_sites(&tree, |node| {
            if node.is_error() {
                outermost += node.byte_range().len() as u64;
            }
            true
        });
        assert_eq!(health.error_bytes, outermost);
    }

    #[test]
    fn the_tree_around_an_error_is_indented_and_bounded() {
        let source = "type A<in out T> = T;\n";
        let shown = tree_around_first_error(&parse(Language::TypeScript, source), 2000);
        assert!(shown.starts_with("(program"), "{shown}");
        assert!(shown.contains("(ERROR"), "{shown}");
        assert!(shown.lines().count() > 1, "{shown}");
        // A field name stays with its node.
        assert!(
            !shown.lines().any(|l| l.trim_end().ends_with(':')),
            "{shown}"
        );
        let long = format!("{}type A<in out T> = T;\n", "let a = 1;\n".repeat(500));
        let bounded = tree_around_first_error(&parse(Language::TypeScript, &long), 400);
        assert!(bounded.contains("ERROR"), "{bounded}");
        assert!(bounded.len() < 600, "{bounded}");
    }
}
