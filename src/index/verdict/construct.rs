//! Naming the construct behind a grammar gap: the smallest node of the
//! reference parser's tree that encloses one of tree-sitter's error sites,
//! in plain words, unless a known gap (a construct tree-sitter-typescript
//! is known not to parse) sits at or right after the site.

use std::ops::Range;

use oxc_ast::ast::{
    ImportOrExportKind, Program, TSType, TSTypeOperatorOperator, VariableDeclarationKind,
};
use oxc_ast::{AstKind, AstType};
use oxc_ast_visit::Visit;
use oxc_span::GetSpan;

use crate::index::outcome::Span;

/// The construct at a grammar gap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedConstruct {
    /// Plain words: "variance annotation on a type parameter".
    pub name: String,
    /// The reference parser's node type, e.g. `TSTypeParameter`.
    pub node: String,
    /// Where the node is (1-based; columns count characters).
    pub span: Span,
    /// Whether it is one of the constructs the grammar is known to miss
    /// (otherwise it is just the smallest enclosing node).
    pub known: bool,
}

/// Names the construct at each of `sites` (bytes, in any order) in one walk
/// of a program the reference parser accepted: each site's nearest known
/// gap within its window, else the smallest node enclosing it.
pub fn name_constructs(
    program: &Program<'_>,
    text: &str,
    sites: &[Range<usize>],
) -> Vec<NamedConstruct> {
    let sites: Vec<SiteSearch> = sites
        .iter()
        .map(|site| {
            let start = site.start.min(text.len());
            SiteSearch {
                site: start..site.end.clamp(start, text.len()),
                window: window(text, site),
                smallest: None,
                known: None,
            }
        })
        .collect();
    let mut by_start: Vec<usize> = (0..sites.len()).collect();
    by_start.sort_by_key(|i| sites[*i].site.start);
    let reach = |extent: fn(&SiteSearch) -> usize| sites.iter().map(extent).max().unwrap_or(0);
    let before = reach(|s| s.site.start - s.window.start);
    let after = reach(|s| s.window.end.saturating_sub(s.site.start));
    let mut finder = Finder {
        sites,
        by_start,
        before,
        after,
        ancestors: Vec::new(),
        top_level: Vec::new(),
    };
    // Only the statements a site's window reaches are walked: on a large
    // file with a few sites, most of the tree is never visited.
    finder.ancestors.push(AstKind::Program(program));
    for statement in &program.body {
        let span = statement.span();
        let (start, end) = (span.start as usize, span.end as usize);
        let reached = finder
            .starting_within(
                start.saturating_sub(finder.after),
                end.saturating_add(finder.before),
            )
            .any(|at| {
                let window = &finder.sites[finder.by_start[at]].window;
                start <= window.end && window.start <= end
            });
        if reached {
            finder.visit_statement(statement);
        }
    }
    let lines = crate::index::lines::LineIndex::new(text);
    let top_level = finder.top_level;
    finder
        .sites
        .into_iter()
        .map(|search| {
            let known = search.known.is_some();
            // A site between top-level statements (tree-sitter's missing
            // `;` or `}` after one) is about the statement before it.
            let smallest = match search.smallest {
                Some(found) if found.node != AstType::Program => Some(found),
                other => statement_before(&top_level, search.site.start).or(other),
            };
            let (name, node, range) = match (search.known, smallest) {
                (Some(known), _) => (
                    known.name.to_owned(),
                    format!("{:?}", known.node),
                    known.range,
                ),
                (None, Some(smallest)) => {
                    let node = format!("{:?}", smallest.node);
                    (plain_words(&node), node, smallest.range)
                }
                (None, None) => ("program".to_owned(), "Program".to_owned(), 0..text.len()),
            };
            NamedConstruct {
                name,
                node,
                span: lines.span(text, range.start, range.end),
                known,
            }
        })
        .collect()
}

/// The last of `statements` (in order) that starts at or before `at`, or
/// the first when none does (a site in the comments before it).
fn statement_before(statements: &[Found], at: usize) -> Option<Found> {
    let index = statements.partition_point(|statement| statement.range.start <= at);
    let statement = statements.get(index.saturating_sub(1))?;
    Some(Found {
        node: statement.node,
        range: statement.range.clone(),
    })
}

/// Where a known gap may sit: tree-sitter often stops at the end of the
/// line before it (a missing `}` or `;`) or inside it. From the start of
/// the site's line to the end of the next line of code after the site's
/// first line (blank and comment lines in between do not count).
fn window(text: &str, site: &Range<usize>) -> Range<usize> {
    let start = site.start.min(text.len());
    // A site over many lines (tree-sitter gave up on a region) is looked
    // for from its first line: its window stays two lines long.
    let first_line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let end = site.end.clamp(start, first_line_end);
    let from = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut line_start = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = text[line_start..line_end].trim();
        let is_code = !(line.is_empty()
            || line.starts_with("//")
            || line.starts_with("/*")
            || line.starts_with('*'));
        if is_code {
            return from..line_end;
        }
        line_start = line_end + 1;
    }
    from..text.len().max(end)
}

struct Found {
    node: AstType,
    range: Range<usize>,
}

struct Known {
    name: &'static str,
    node: AstType,
    range: Range<usize>,
    /// How far from the site: 0 when it encloses the site's start.
    distance: usize,
}

/// What is known so far about one site.
struct SiteSearch {
    site: Range<usize>,
    window: Range<usize>,
    smallest: Option<Found>,
    known: Option<Known>,
}

struct Finder<'a> {
    sites: Vec<SiteSearch>,
    /// Indices of `sites` by where the site starts.
    by_start: Vec<usize>,
    /// How far before and after its site a window reaches, at most.
    before: usize,
    after: usize,
    ancestors: Vec<AstKind<'a>>,
    /// The program's statements, in order.
    top_level: Vec<Found>,
}

impl Finder<'_> {
    /// The sites that start within `from..=to`.
    fn starting_within(&self, from: usize, to: usize) -> std::ops::Range<usize> {
        let first = self
            .by_start
            .partition_point(|i| self.sites[*i].site.start < from);
        let end = self
            .by_start
            .partition_point(|i| self.sites[*i].site.start <= to);
        first..end.max(first)
    }
}

impl<'a> Visit<'a> for Finder<'a> {
    fn enter_node(&mut self, kind: AstKind<'a>) {
        let span = kind.span();
        let range = span.start as usize..span.end as usize;
        if matches!(self.ancestors.as_slice(), [AstKind::Program(_)]) {
            self.top_level.push(Found {
                node: kind.ty(),
                range: range.clone(),
            });
        }
        // Pre-order: the last enclosing node seen is a site's innermost.
        for at in self.starting_within(range.start, range.end) {
            let search = &mut self.sites[self.by_start[at]];
            if search.site.end <= range.end {
                search.smallest = Some(Found {
                    node: kind.ty(),
                    range: range.clone(),
                });
            }
        }
        if let Some(name) = known_gap(kind, &self.ancestors) {
            // A window overlapping the node belongs to a site that starts
            // at most `after` before the node or `before` after it.
            let candidates = self.starting_within(
                range.start.saturating_sub(self.after),
                range.end.saturating_add(self.before),
            );
            for at in candidates {
                let search = &mut self.sites[self.by_start[at]];
                let overlaps = range.start <= search.window.end && search.window.start <= range.end;
                if !overlaps {
                    continue;
                }
                let site = search.site.start;
                let distance = if range.start <= site && site <= range.end {
                    0
                } else {
                    range.start.abs_diff(site)
                };
                // Nearest wins; among enclosing ones, the innermost (seen last).
                if search.known.as_ref().is_none_or(|k| distance <= k.distance) {
                    search.known = Some(Known {
                        name,
                        node: kind.ty(),
                        range: range.clone(),
                        distance,
                    });
                }
            }
        }
        self.ancestors.push(kind);
    }

    fn leave_node(&mut self, _kind: AstKind<'a>) {
        self.ancestors.pop();
    }
}

/// Constructs tree-sitter-typescript 0.23 is known not to parse.
fn known_gap(kind: AstKind<'_>, ancestors: &[AstKind<'_>]) -> Option<&'static str> {
    match kind {
        AstKind::TSTypeParameter(p) if p.r#in || p.out => {
            Some("variance annotation on a type parameter")
        }
        AstKind::TSTypeParameter(p) if p.r#const => Some("`const` modifier on a type parameter"),
        AstKind::TSCallSignatureDeclaration(c) if c.type_parameters.is_some() => {
            match ancestors.last() {
                Some(AstKind::TSInterfaceBody(_)) => Some("generic call signature in an interface"),
                _ => Some("generic call signature in a type literal"),
            }
        }
        AstKind::TSArrayType(a) if matches!(a.element_type, TSType::TSImportType(_)) => {
            Some("`import()` type with `[]` or indexed access")
        }
        AstKind::TSIndexedAccessType(a) if matches!(a.object_type, TSType::TSImportType(_)) => {
            Some("`import()` type with `[]` or indexed access")
        }
        AstKind::TSImportType(t) if t.type_arguments.is_some() => {
            Some("`import()` type with type arguments")
        }
        AstKind::TSGlobalDeclaration(_)
            if ancestors
                .iter()
                .any(|a| matches!(a, AstKind::TSExternalModuleDeclaration(_))) =>
        {
            Some("`global` block inside `declare module`")
        }
        AstKind::ExportAllDeclaration(e) if e.export_kind == ImportOrExportKind::Type => {
            Some("`export type *` re-export")
        }
        AstKind::IdentifierReference(id) if id.name.as_str() == "using" => {
            Some("`using` as an identifier")
        }
        AstKind::BindingIdentifier(id) if id.name.as_str() == "using" => {
            Some("`using` as an identifier")
        }
        AstKind::VariableDeclaration(v)
            if matches!(
                v.kind,
                VariableDeclarationKind::Using | VariableDeclarationKind::AwaitUsing
            ) =>
        {
            Some("`using` declaration")
        }
        AstKind::TSTypeOperator(op)
            if op.operator == TSTypeOperatorOperator::Keyof
                && matches!(&op.type_annotation, TSType::TSTypeOperatorType(inner)
                    if inner.operator == TSTypeOperatorOperator::Readonly) =>
        {
            Some("`keyof` of a `readonly` array type")
        }
        AstKind::JSXText(t) if t.value.as_str().contains('&') => Some("`&` in JSX text"),
        _ => None,
    }
}

/// `TSTypeAliasDeclaration` -> "type alias declaration", `JSXOpeningElement`
/// -> "JSX opening element".
pub fn plain_words(node: &str) -> String {
    let node = node.strip_prefix("TS").unwrap_or(node);
    let mut words: Vec<String> = Vec::new();
    let chars: Vec<char> = node.chars().collect();
    let mut current = String::new();
    for (i, c) in chars.iter().enumerate() {
        let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        let prev_is_lower = i > 0 && chars[i - 1].is_lowercase();
        if c.is_uppercase() && !current.is_empty() && (prev_is_lower || next_is_lower) {
            words.push(std::mem::take(&mut current));
        }
        current.push(*c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
        .into_iter()
        .map(|w| {
            if w.chars().all(|c| c.is_uppercase()) && w.len() > 1 {
                w
            } else {
                w.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_types_read_as_words() {
        assert_eq!(
            plain_words("TSTypeAliasDeclaration"),
            "type alias declaration"
        );
        assert_eq!(plain_words("JSXOpeningElement"), "JSX opening element");
        assert_eq!(plain_words("Program"), "program");
        assert_eq!(plain_words("TSTypeParameter"), "type parameter");
    }

    #[test]
    fn the_window_spans_the_site_line_and_the_next() {
        let text = "a\nbb\ncc\ndd\n";
        assert_eq!(&text[window(text, &(2..3))], "bb\ncc");
        assert_eq!(&text[window(text, &(0..0))], "a\nbb");
        let commented = "a\n  /**\n   * doc\n   */\n\n  b\nc\n";
        assert_eq!(
            &commented[window(commented, &(0..1))],
            "a\n  /**\n   * doc\n   */\n\n  b"
        );
    }
}
