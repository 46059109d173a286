//! Cuts a parsed file into chunks: one per declaration worth finding on its
//! own (functions, classes and their methods, types, namespaces, exported
//! constants), plus one `module` chunk for the top-level code left over, so a
//! valid file never ends up with "no chunks".
//!
//! Every walk over the tree is iterative: real files nest thousands of levels
//! deep and Rust recursion would overflow the stack on them.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Point, Tree};

/// At most this many distinct callees are kept per chunk: enough to say what
/// a chunk depends on without letting a generated file bloat every row.
pub const MAX_CALLS: usize = 200;

/// Longer callee texts are chains or inline functions (`(function () {...})()`),
/// not names anyone searches for.
const MAX_CALLEE_BYTES: usize = 128;

/// Namespaces nested deeper than this stay whole inside their ancestor's chunk:
/// each level's chunk repeats the text of everything inside it, so splitting
/// pathological nesting would cost memory quadratic in the depth.
const MAX_NAMESPACE_DEPTH: usize = 16;

/// What a chunk is. The names are stored in `code_chunks.chunk_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkType {
    Function,
    Generator,
    Class,
    Method,
    Interface,
    TypeAlias,
    Enum,
    Namespace,
    ArrowFunction,
    FunctionExpression,
    Constant,
    Module,
}

impl ChunkType {
    pub const ALL: [ChunkType; 12] = [
        ChunkType::Function,
        ChunkType::Generator,
        ChunkType::Class,
        ChunkType::Method,
        ChunkType::Interface,
        ChunkType::TypeAlias,
        ChunkType::Enum,
        ChunkType::Namespace,
        ChunkType::ArrowFunction,
        ChunkType::FunctionExpression,
        ChunkType::Constant,
        ChunkType::Module,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChunkType::Function => "function",
            ChunkType::Generator => "generator",
            ChunkType::Class => "class",
            ChunkType::Method => "method",
            ChunkType::Interface => "interface",
            ChunkType::TypeAlias => "type_alias",
            ChunkType::Enum => "enum",
            ChunkType::Namespace => "namespace",
            ChunkType::ArrowFunction => "arrow_function",
            ChunkType::FunctionExpression => "function_expression",
            ChunkType::Constant => "constant",
            ChunkType::Module => "module",
        }
    }
}

impl fmt::Display for ChunkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One searchable piece of a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chunk {
    pub chunk_type: ChunkType,
    /// The declaration's own name (`render`, not `Widget.render`); `default`
    /// for anonymous default exports, `module` for the module chunk.
    pub name: String,
    /// The name with its enclosing classes and namespaces: `Outer.Inner.render`.
    pub qualified_name: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    /// 1-based, inclusive.
    pub end_line: u32,
    pub start_byte: usize,
    pub end_byte: usize,
    /// The chunk's exact text; for the module chunk, its statements' texts
    /// joined by "\n".
    pub source: String,
    pub metadata: ChunkMetadata,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChunkMetadata {
    /// Reachable through an `export`: the declaration carries `export` itself,
    /// or (for methods) its class does; the module chunk when it holds an
    /// export statement (`export * from ...`).
    pub exported: bool,
    /// Top-level imports this chunk refers to by their local name, in order
    /// of first use.
    pub imports: Vec<ImportRef>,
    /// Callees of the calls and `new` expressions inside this chunk, in order
    /// of first appearance, at most [`MAX_CALLS`].
    pub calls: Vec<String>,
}

/// One imported binding: `import { a as b } from "m"` is `{ name: "b", source: "m" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRef {
    pub name: String,
    pub source: String,
}

/// The tree and the text do not belong together: chunks cannot be cut.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error(
        "`{kind}` node spans bytes {start}..{end}, which is not a valid range of the \
         {len}-byte source text (outside it or not on a character boundary)"
    )]
    InvalidByteRange {
        kind: &'static str,
        start: usize,
        end: usize,
        len: usize,
    },
}

/// Chunks of one parsed file. `source` is the exact text that was parsed.
///
/// The module chunk, if any, comes first; the others follow in source order.
/// Chunks whose text contains a syntax error are left out; the caller decides
/// what that means for the file.
pub fn chunk_file(tree: &Tree, source: &str) -> Result<Vec<Chunk>, ChunkError> {
    let root = tree.root_node();
    let text = SourceText(source);
    let ids = GrammarIds::new(&tree.language());
    let imports = Imports::collect(root, text)?;
    let walker = MetadataWalker {
        text,
        ids: &ids,
        imports: &imports,
    };

    let mut finder = Finder::new(text);
    let top_level = finder.scan(root)?;
    let mut chunks = Vec::with_capacity(finder.found.len() + 1);
    let nothing_else = finder.found.is_empty() && !root.has_error();
    if let Some(module) = module_chunk(&top_level, nothing_else, &walker)? {
        chunks.push(module);
    }
    for candidate in finder.found {
        chunks.push(candidate.into_chunk(&walker)?);
    }
    Ok(chunks)
}

/// The parsed text; every slice goes through here so a tree that does not
/// match its text is an error, never a panic.
#[derive(Clone, Copy)]
struct SourceText<'s>(&'s str);

impl<'s> SourceText<'s> {
    fn of(self, node: Node) -> Result<&'s str, ChunkError> {
        self.range(node, node.start_byte(), node.end_byte())
    }

    /// `node` only names the culprit in the error: asking for its kind costs
    /// a string conversion, so it is not done on the hot path.
    fn range(self, node: Node, start: usize, end: usize) -> Result<&'s str, ChunkError> {
        self.0
            .get(start..end)
            .ok_or_else(|| ChunkError::InvalidByteRange {
                kind: node.kind(),
                start,
                end,
                len: self.0.len(),
            })
    }

    /// A name as written, without the quotes of `declare module 'x'` or
    /// `'quoted'() {}`.
    fn name(self, node: Node) -> Result<&'s str, ChunkError> {
        let text = self.of(node)?;
        Ok(if node.kind() == "string" {
            unquote(text)
        } else {
            text
        })
    }
}

fn unquote(text: &str) -> &str {
    let quoted = text.len() >= 2 && matches!(text.as_bytes()[0], b'\'' | b'"' | b'`');
    if quoted {
        text.get(1..text.len() - 1).unwrap_or(text)
    } else {
        text
    }
}

/// Node kinds and fields the metadata walk looks at, as numbers: it visits
/// every node of every chunk, and comparing kind names would cost a string
/// conversion per node. Ids differ between grammars, so they are looked up
/// per tree.
struct GrammarIds {
    call_expression: Option<u16>,
    new_expression: Option<u16>,
    identifier: Option<u16>,
    type_identifier: Option<u16>,
    shorthand_property_identifier: Option<u16>,
    shorthand_property_identifier_pattern: Option<u16>,
    function_field: Option<u16>,
    constructor_field: Option<u16>,
}

impl GrammarIds {
    fn new(language: &tree_sitter::Language) -> Self {
        // Id 0 is the end-of-input symbol: it means "no such kind here" (as
        // `type_identifier` in the JavaScript grammar) and never labels a node.
        let kind = |name: &str| Some(language.id_for_node_kind(name, true)).filter(|&id| id != 0);
        let field = |name: &str| language.field_id_for_name(name).map(|id| id.get());
        GrammarIds {
            call_expression: kind("call_expression"),
            new_expression: kind("new_expression"),
            identifier: kind("identifier"),
            type_identifier: kind("type_identifier"),
            shorthand_property_identifier: kind("shorthand_property_identifier"),
            shorthand_property_identifier_pattern: kind("shorthand_property_identifier_pattern"),
            function_field: field("function"),
            constructor_field: field("constructor"),
        }
    }

    fn is_reference(&self, kind: u16) -> bool {
        let kind = Some(kind);
        kind == self.identifier
            || kind == self.type_identifier
            || kind == self.shorthand_property_identifier
            || kind == self.shorthand_property_identifier_pattern
    }
}

/// Top-level nodes that are not code: they only make a module chunk when the
/// file has nothing else.
fn is_trivia(node: Node) -> bool {
    matches!(
        node.kind(),
        "comment" | "hash_bang_line" | "empty_statement"
    )
}

/// Where a declaration sits: the qualified-name prefix of its enclosing
/// namespaces, and whether it is ambient (`declare ...`), where a `const`
/// without `export` still declares an API.
#[derive(Clone, Default)]
struct Scope {
    prefix: String,
    depth: usize,
    ambient: bool,
}

impl Scope {
    fn qualify(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    fn ambient(&self) -> Scope {
        Scope {
            ambient: true,
            ..self.clone()
        }
    }

    fn inside(&self, qualified_name: String) -> Scope {
        Scope {
            prefix: qualified_name,
            depth: self.depth + 1,
            ambient: self.ambient,
        }
    }
}

/// The sibling nodes a chunk covers: one node, or a method with the
/// decorators the TypeScript grammar places before it in the class body.
#[derive(Clone, Copy)]
struct Span<'t> {
    first: Node<'t>,
    last: Node<'t>,
}

impl<'t> Span<'t> {
    fn of(node: Node<'t>) -> Self {
        Span {
            first: node,
            last: node,
        }
    }

    fn nodes(self) -> impl Iterator<Item = Node<'t>> {
        let last = self.last.id();
        let mut next = Some(self.first);
        std::iter::from_fn(move || {
            let node = next?;
            next = if node.id() == last {
                None
            } else {
                node.next_sibling()
            };
            Some(node)
        })
    }

    fn has_error(self) -> bool {
        self.nodes().any(|node| node.has_error())
    }
}

/// A chunk found by the scan, turned into a [`Chunk`] once all are known.
struct Candidate<'t> {
    chunk_type: ChunkType,
    name: String,
    qualified_name: String,
    span: Span<'t>,
    exported: bool,
}

impl Candidate<'_> {
    fn into_chunk(self, walker: &MetadataWalker) -> Result<Chunk, ChunkError> {
        let (first, last) = (self.span.first, self.span.last);
        let (start_byte, end_byte) = (first.start_byte(), last.end_byte());
        let source = walker.text.range(first, start_byte, end_byte)?;
        let (start_line, end_line) = line_span(first.start_position(), last.end_position());
        Ok(Chunk {
            chunk_type: self.chunk_type,
            name: self.name,
            qualified_name: self.qualified_name,
            start_line,
            end_line,
            start_byte,
            end_byte,
            source: source.to_owned(),
            metadata: walker.collect(self.span.nodes(), self.exported)?,
        })
    }
}

/// 1-based inclusive lines. A node that ends right after a newline ends on
/// the line before: the newline belongs to that line.
fn line_span(start: Point, end: Point) -> (u32, u32) {
    let end_row = if end.column == 0 && end.row > start.row {
        end.row - 1
    } else {
        end.row
    };
    (line_number(start.row), line_number(end_row))
}

fn line_number(row: usize) -> u32 {
    u32::try_from(row).map_or(u32::MAX, |row| row.saturating_add(1))
}

/// The top-level nodes no chunk covers.
#[derive(Default)]
struct TopLevel<'t> {
    statements: Vec<Node<'t>>,
    trivia: Vec<Node<'t>>,
}

/// The one pass that finds chunks. Containers (export and ambient wrappers,
/// class bodies, namespace bodies) are entered; function bodies never are.
struct Finder<'t, 's> {
    text: SourceText<'s>,
    found: Vec<Candidate<'t>>,
    /// Namespace bodies still to scan: a stack, not recursion.
    pending: Vec<(Node<'t>, Scope)>,
}

impl<'t, 's> Finder<'t, 's> {
    fn new(text: SourceText<'s>) -> Self {
        Finder {
            text,
            found: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn scan(&mut self, root: Node<'t>) -> Result<TopLevel<'t>, ChunkError> {
        let mut top_level = TopLevel::default();
        let scope = Scope::default();
        let mut cursor = root.walk();
        for node in root.named_children(&mut cursor) {
            if node.has_error() {
                // Still scanned: a namespace with one broken member keeps the others.
                self.statement(node, &scope)?;
            } else if is_trivia(node) {
                top_level.trivia.push(node);
            } else if !self.statement(node, &scope)? {
                top_level.statements.push(node);
            }
        }
        while let Some((body, scope)) = self.pending.pop() {
            self.block(body, &scope)?;
        }
        // Namespace bodies were scanned after the statements that follow them.
        self.found.sort_by_key(|c| c.span.first.start_byte());
        Ok(top_level)
    }

    fn block(&mut self, block: Node<'t>, scope: &Scope) -> Result<(), ChunkError> {
        let mut cursor = block.walk();
        for node in block.named_children(&mut cursor) {
            if !is_trivia(node) {
                self.statement(node, scope)?;
            }
        }
        Ok(())
    }

    /// Finds the chunks of one statement; true if they cover all of it.
    fn statement(&mut self, node: Node<'t>, scope: &Scope) -> Result<bool, ChunkError> {
        match node.kind() {
            "export_statement" => self.export(node, scope),
            // `namespace N {}` parses as an expression statement.
            "expression_statement" => match node.named_child(0) {
                Some(inner) if inner.kind() == "internal_module" => {
                    self.declaration(inner, Span::of(node), scope, false)
                }
                _ => Ok(false),
            },
            _ => self.declaration(node, Span::of(node), scope, false),
        }
    }

    fn export(&mut self, node: Node<'t>, scope: &Scope) -> Result<bool, ChunkError> {
        if let Some(declaration) = node.child_by_field_name("declaration") {
            self.declaration(declaration, Span::of(node), scope, true)
        } else if let Some(value) = node.child_by_field_name("value") {
            self.default_export(value, Span::of(node), scope)
        } else {
            Ok(false)
        }
    }

    /// `export default <expression>`: functions and classes are chunks named
    /// `default`, so are literal values (`export default defineConfig({...})`),
    /// while re-exporting a name (`export default App`) is module code.
    fn default_export(
        &mut self,
        value: Node<'t>,
        span: Span<'t>,
        scope: &Scope,
    ) -> Result<bool, ChunkError> {
        let value = unwrap_expression(value);
        let chunk_type = match value.kind() {
            "identifier" | "member_expression" => return Ok(false),
            "class" => {
                self.class(value, "default".to_owned(), span, scope, true)?;
                return Ok(true);
            }
            _ => function_type(value).unwrap_or(ChunkType::Constant),
        };
        self.push(chunk_type, "default".to_owned(), span, scope, true);
        Ok(true)
    }

    fn declaration(
        &mut self,
        node: Node<'t>,
        span: Span<'t>,
        scope: &Scope,
        exported: bool,
    ) -> Result<bool, ChunkError> {
        let chunk_type = match node.kind() {
            "function_declaration" | "function_signature" => ChunkType::Function,
            "generator_function_declaration" => ChunkType::Generator,
            "interface_declaration" => ChunkType::Interface,
            "type_alias_declaration" => ChunkType::TypeAlias,
            "enum_declaration" => ChunkType::Enum,
            "class_declaration" | "abstract_class_declaration" => {
                let name = self.own_name(node)?;
                self.class(node, name, span, scope, exported)?;
                return Ok(true);
            }
            "internal_module" | "module" => {
                let name = self.own_name(node)?;
                let body = node.child_by_field_name("body");
                self.namespace(name, body, span, scope, exported);
                return Ok(true);
            }
            "ambient_declaration" => return self.ambient(node, span, scope, exported),
            "lexical_declaration" | "variable_declaration" => {
                return self.variables(node, span, scope, exported);
            }
            _ => return Ok(false),
        };
        let name = self.own_name(node)?;
        self.push(chunk_type, name, span, scope, exported);
        Ok(true)
    }

    /// The `name` field's text; `default` where a default export has none.
    fn own_name(&self, node: Node) -> Result<String, ChunkError> {
        match node.child_by_field_name("name") {
            Some(name) => Ok(self.text.name(name)?.to_owned()),
            None => Ok("default".to_owned()),
        }
    }

    /// `declare ...`: the wrapped declaration, or `declare global { ... }`.
    fn ambient(
        &mut self,
        node: Node<'t>,
        span: Span<'t>,
        scope: &Scope,
        exported: bool,
    ) -> Result<bool, ChunkError> {
        let scope = scope.ambient();
        let mut cursor = node.walk();
        let inner = node
            .named_children(&mut cursor)
            .find(|child| !is_trivia(*child));
        match inner {
            Some(block) if block.kind() == "statement_block" => {
                self.namespace("global".to_owned(), Some(block), span, &scope, exported);
                Ok(true)
            }
            Some(declaration) => self.declaration(declaration, span, &scope, exported),
            None => Ok(false),
        }
    }

    fn namespace(
        &mut self,
        name: String,
        body: Option<Node<'t>>,
        span: Span<'t>,
        scope: &Scope,
        exported: bool,
    ) {
        let qualified_name = scope.qualify(&name);
        if let Some(body) = body
            && scope.depth < MAX_NAMESPACE_DEPTH
        {
            self.pending
                .push((body, scope.inside(qualified_name.clone())));
        }
        self.push_qualified(ChunkType::Namespace, name, qualified_name, span, exported);
    }

    /// `const`/`let`/`var`: one chunk per declarator bound to a function or
    /// class, or holding an exported (or ambient) constant. The statement is
    /// covered only if every declarator made a chunk; otherwise it also goes
    /// to the module chunk, so no code is lost.
    fn variables(
        &mut self,
        node: Node<'t>,
        span: Span<'t>,
        scope: &Scope,
        exported: bool,
    ) -> Result<bool, ChunkError> {
        let is_const = node
            .child_by_field_name("kind")
            .is_some_and(|kind| kind.kind() == "const");
        let mut cursor = node.walk();
        let declarators = node
            .named_children(&mut cursor)
            .filter(|child| child.kind() == "variable_declarator")
            .count();
        let mut covered = declarators > 0;
        for declarator in node.named_children(&mut cursor) {
            if declarator.kind() != "variable_declarator" {
                continue;
            }
            // A lone declarator's chunk is the whole statement, `export const` included.
            let span = if declarators == 1 {
                span
            } else {
                Span::of(declarator)
            };
            let binding = Binding {
                span,
                exported,
                is_const,
            };
            covered &= self.declarator(declarator, binding, scope)?;
        }
        Ok(covered)
    }

    fn declarator(
        &mut self,
        declarator: Node<'t>,
        binding: Binding<'t>,
        scope: &Scope,
    ) -> Result<bool, ChunkError> {
        let Some(name) = declarator
            .child_by_field_name("name")
            .filter(|name| name.kind() == "identifier")
        else {
            return Ok(false);
        };
        let name = self.text.of(name)?.to_owned();
        let value = declarator
            .child_by_field_name("value")
            .map(unwrap_expression);
        let chunk_type = match value {
            Some(class) if class.kind() == "class" => {
                self.class(class, name, binding.span, scope, binding.exported)?;
                return Ok(true);
            }
            Some(value) if function_type(value).is_some() => function_type(value),
            _ if binding.is_const && (binding.exported || scope.ambient) => {
                Some(ChunkType::Constant)
            }
            _ => None,
        };
        let Some(chunk_type) = chunk_type else {
            return Ok(false);
        };
        self.push(chunk_type, name, binding.span, scope, binding.exported);
        Ok(true)
    }

    /// A class chunk, then one chunk per method (and per field bound to a
    /// function), qualified by the class name.
    fn class(
        &mut self,
        class: Node<'t>,
        name: String,
        span: Span<'t>,
        scope: &Scope,
        exported: bool,
    ) -> Result<(), ChunkError> {
        let qualified_name = scope.qualify(&name);
        let body = class.child_by_field_name("body");
        self.push_qualified(
            ChunkType::Class,
            name,
            qualified_name.clone(),
            span,
            exported,
        );
        let Some(body) = body else { return Ok(()) };

        let mut cursor = body.walk();
        let mut decorators: Option<Node<'t>> = None;
        for member in body.named_children(&mut cursor) {
            match member.kind() {
                "decorator" => {
                    decorators.get_or_insert(member);
                    continue;
                }
                "comment" => continue,
                _ => {}
            }
            let first = decorators.take().unwrap_or(member);
            let Some((chunk_type, name)) = member_chunk(member) else {
                continue;
            };
            let name = self.text.name(name)?.to_owned();
            let qualified = format!("{qualified_name}.{name}");
            let span = Span {
                first,
                last: member,
            };
            self.push_qualified(chunk_type, name, qualified, span, exported);
        }
        Ok(())
    }

    fn push(
        &mut self,
        chunk_type: ChunkType,
        name: String,
        span: Span<'t>,
        scope: &Scope,
        exported: bool,
    ) {
        let qualified_name = scope.qualify(&name);
        self.push_qualified(chunk_type, name, qualified_name, span, exported);
    }

    /// Chunks with a syntax error inside are dropped here, and only here.
    fn push_qualified(
        &mut self,
        chunk_type: ChunkType,
        name: String,
        qualified_name: String,
        span: Span<'t>,
        exported: bool,
    ) {
        if span.has_error() {
            return;
        }
        self.found.push(Candidate {
            chunk_type,
            name,
            qualified_name,
            span,
            exported,
        });
    }
}

/// How one declarator of a `const`/`let`/`var` statement is bound.
#[derive(Clone, Copy)]
struct Binding<'t> {
    span: Span<'t>,
    exported: bool,
    is_const: bool,
}

/// A class member that is a chunk, and the node holding its name.
fn member_chunk(member: Node) -> Option<(ChunkType, Node)> {
    match member.kind() {
        "method_definition" | "method_signature" | "abstract_method_signature" => {
            Some((ChunkType::Method, member.child_by_field_name("name")?))
        }
        // TypeScript names the field `name`, JavaScript `property`.
        "public_field_definition" | "field_definition" => {
            let name = member
                .child_by_field_name("name")
                .or_else(|| member.child_by_field_name("property"))?;
            let value = unwrap_expression(member.child_by_field_name("value")?);
            Some((function_type(value)?, name))
        }
        _ => None,
    }
}

fn function_type(value: Node) -> Option<ChunkType> {
    match value.kind() {
        "arrow_function" => Some(ChunkType::ArrowFunction),
        "function_expression" => Some(ChunkType::FunctionExpression),
        "generator_function" => Some(ChunkType::Generator),
        _ => None,
    }
}

/// `(() => {})`, `(x) as T`, `x satisfies T`, `x!`: the expression inside.
fn unwrap_expression(mut node: Node) -> Node {
    while matches!(
        node.kind(),
        "parenthesized_expression"
            | "as_expression"
            | "satisfies_expression"
            | "non_null_expression"
    ) {
        match node.named_child(0) {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// The module chunk: the top-level statements no other chunk covers, or the
/// file's comments when it has nothing else at all.
fn module_chunk(
    top_level: &TopLevel,
    nothing_else: bool,
    walker: &MetadataWalker,
) -> Result<Option<Chunk>, ChunkError> {
    let nodes = if !top_level.statements.is_empty() {
        &top_level.statements
    } else if nothing_else {
        &top_level.trivia
    } else {
        return Ok(None);
    };
    let (Some(first), Some(last)) = (nodes.first(), nodes.last()) else {
        return Ok(None);
    };
    let mut source = String::with_capacity(last.end_byte().saturating_sub(first.start_byte()));
    for (i, node) in nodes.iter().enumerate() {
        if i > 0 {
            source.push('\n');
        }
        source.push_str(walker.text.of(*node)?);
    }
    let exported = nodes.iter().any(|node| node.kind() == "export_statement");
    let (start_line, end_line) = line_span(first.start_position(), last.end_position());
    Ok(Some(Chunk {
        chunk_type: ChunkType::Module,
        name: "module".to_owned(),
        qualified_name: "module".to_owned(),
        start_line,
        end_line,
        start_byte: first.start_byte(),
        end_byte: last.end_byte(),
        source,
        metadata: walker.collect(nodes.iter().copied(), exported)?,
    }))
}

/// FNV-1a: import names are short and looked up once per identifier, where
/// SipHash's DoS resistance buys nothing.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The file's top-level import bindings, collected once per file.
#[derive(Default)]
struct Imports<'s> {
    refs: Vec<ImportRef>,
    by_name: HashMap<&'s str, usize, BuildHasherDefault<Fnv>>,
    /// Bit n set if some name is n bytes long (n < 64): most identifiers are
    /// rejected without hashing.
    lengths: u64,
}

impl<'s> Imports<'s> {
    fn collect(root: Node, text: SourceText<'s>) -> Result<Self, ChunkError> {
        let mut imports = Imports::default();
        let mut cursor = root.walk();
        for statement in root.named_children(&mut cursor) {
            match statement.kind() {
                "import_statement" => imports.import_statement(statement, text)?,
                "lexical_declaration" | "variable_declaration" => {
                    imports.requires(statement, text)?;
                }
                "export_statement" => {
                    if let Some(declaration) = statement.child_by_field_name("declaration") {
                        imports.requires(declaration, text)?;
                    }
                }
                _ => {}
            }
        }
        Ok(imports)
    }

    fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        if name.len() < 64 && self.lengths & (1 << name.len()) == 0 {
            return None;
        }
        self.by_name.get(name).copied()
    }

    fn add(&mut self, name: &'s str, source: &str) {
        if self.by_name.contains_key(name) {
            return;
        }
        if name.len() < 64 {
            self.lengths |= 1 << name.len();
        }
        self.by_name.insert(name, self.refs.len());
        self.refs.push(ImportRef {
            name: name.to_owned(),
            source: source.to_owned(),
        });
    }

    /// `import d, { a as b, type T } from 'm'`, `import * as ns from 'm'`,
    /// and TypeScript's `import fs = require('fs')`.
    fn import_statement(
        &mut self,
        statement: Node,
        text: SourceText<'s>,
    ) -> Result<(), ChunkError> {
        let source = match statement.child_by_field_name("source") {
            Some(source) => Some(text.name(source)?),
            None => None,
        };
        let mut cursor = statement.walk();
        for child in statement.named_children(&mut cursor) {
            match (child.kind(), source) {
                ("import_clause", Some(source)) => self.import_clause(child, source, text)?,
                ("import_require_clause", _) => {
                    let name = first_named_child_of_kind(child, "identifier");
                    let source = child.child_by_field_name("source");
                    if let (Some(name), Some(source)) = (name, source) {
                        self.add(text.of(name)?, text.name(source)?);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn import_clause(
        &mut self,
        clause: Node,
        source: &str,
        text: SourceText<'s>,
    ) -> Result<(), ChunkError> {
        let mut cursor = clause.walk();
        for child in clause.named_children(&mut cursor) {
            match child.kind() {
                "identifier" => self.add(text.of(child)?, source),
                "namespace_import" => {
                    if let Some(name) = first_named_child_of_kind(child, "identifier") {
                        self.add(text.of(name)?, source);
                    }
                }
                "named_imports" => self.named_imports(child, source, text)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn named_imports(
        &mut self,
        list: Node,
        source: &str,
        text: SourceText<'s>,
    ) -> Result<(), ChunkError> {
        let mut cursor = list.walk();
        for specifier in list.named_children(&mut cursor) {
            let local = specifier
                .child_by_field_name("alias")
                .or_else(|| specifier.child_by_field_name("name"));
            if let Some(local) = local.filter(|local| local.kind() == "identifier") {
                self.add(text.of(local)?, source);
            }
        }
        Ok(())
    }

    /// `const x = require('m')`, `const { a, b: c } = require('m')` and
    /// `const d = require('m').default`.
    fn requires(&mut self, declaration: Node, text: SourceText<'s>) -> Result<(), ChunkError> {
        let mut cursor = declaration.walk();
        for declarator in declaration.named_children(&mut cursor) {
            let Some(value) = declarator.child_by_field_name("value") else {
                continue;
            };
            let Some(source) = require_source(value, text)? else {
                continue;
            };
            let Some(pattern) = declarator.child_by_field_name("name") else {
                continue;
            };
            match pattern.kind() {
                "identifier" => self.add(text.of(pattern)?, source),
                "object_pattern" => self.destructured(pattern, source, text)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn destructured(
        &mut self,
        pattern: Node,
        source: &str,
        text: SourceText<'s>,
    ) -> Result<(), ChunkError> {
        let mut cursor = pattern.walk();
        for property in pattern.named_children(&mut cursor) {
            let local = match property.kind() {
                "shorthand_property_identifier_pattern" => Some(property),
                "pair_pattern" => property
                    .child_by_field_name("value")
                    .filter(|value| value.kind() == "identifier"),
                _ => None,
            };
            if let Some(local) = local {
                self.add(text.of(local)?, source);
            }
        }
        Ok(())
    }
}

/// The module specifier of `require('m')` or `require('m').member`.
fn require_source<'s>(value: Node, text: SourceText<'s>) -> Result<Option<&'s str>, ChunkError> {
    let call = if value.kind() == "member_expression" {
        value.child_by_field_name("object")
    } else {
        Some(value)
    };
    let Some(call) = call.filter(|call| call.kind() == "call_expression") else {
        return Ok(None);
    };
    let callee = call.child_by_field_name("function");
    let argument = call
        .child_by_field_name("arguments")
        .and_then(|arguments| arguments.named_child(0));
    match (callee, argument) {
        (Some(callee), Some(argument))
            if argument.kind() == "string" && text.of(callee)? == "require" =>
        {
            Ok(Some(text.name(argument)?))
        }
        _ => Ok(None),
    }
}

fn first_named_child_of_kind<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .find(|child| child.kind() == kind)
}

/// Computes a chunk's metadata with one walk over its own subtree.
struct MetadataWalker<'a, 's> {
    text: SourceText<'s>,
    ids: &'a GrammarIds,
    imports: &'a Imports<'s>,
}

/// What one walk has gathered so far.
struct Gathered<'s> {
    calls: Vec<Cow<'s, str>>,
    seen_calls: HashSet<Cow<'s, str>, BuildHasherDefault<Fnv>>,
    imports: Vec<usize>,
    seen_imports: Vec<bool>,
}

impl<'s> Gathered<'s> {
    fn call(&mut self, callee: Cow<'s, str>) {
        if self.calls.len() < MAX_CALLS && self.seen_calls.insert(callee.clone()) {
            self.calls.push(callee);
        }
    }

    fn import(&mut self, index: usize) {
        if let Some(seen) = self.seen_imports.get_mut(index)
            && !*seen
        {
            *seen = true;
            self.imports.push(index);
        }
    }
}

impl<'s> MetadataWalker<'_, 's> {
    fn collect<'t>(
        &self,
        nodes: impl Iterator<Item = Node<'t>>,
        exported: bool,
    ) -> Result<ChunkMetadata, ChunkError> {
        let mut gathered = Gathered {
            calls: Vec::new(),
            seen_calls: HashSet::default(),
            imports: Vec::new(),
            seen_imports: vec![false; self.imports.refs.len()],
        };
        for node in nodes {
            self.walk(node, &mut gathered)?;
        }
        Ok(ChunkMetadata {
            exported,
            imports: gathered
                .imports
                .iter()
                .filter_map(|&index| self.imports.refs.get(index).cloned())
                .collect(),
            calls: gathered.calls.into_iter().map(Cow::into_owned).collect(),
        })
    }

    /// Pre-order over the subtree of `root` with a cursor: no recursion, and
    /// the cursor never leaves `root`.
    fn walk(&self, root: Node, gathered: &mut Gathered<'s>) -> Result<(), ChunkError> {
        let mut cursor = root.walk();
        loop {
            self.visit(cursor.node(), gathered)?;
            if cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return Ok(());
                }
            }
        }
    }

    fn visit(&self, node: Node, gathered: &mut Gathered<'s>) -> Result<(), ChunkError> {
        let kind_id = node.kind_id();
        let kind = Some(kind_id);
        if kind == self.ids.call_expression {
            let callee = self
                .ids
                .function_field
                .and_then(|f| node.child_by_field_id(f));
            if let Some(callee) = callee
                && let Some(text) = callee_text(self.text.of(callee)?)
            {
                gathered.call(text);
            }
        } else if kind == self.ids.new_expression {
            let class = self
                .ids
                .constructor_field
                .and_then(|f| node.child_by_field_id(f));
            if let Some(class) = class
                && let Some(text) = callee_text(self.text.of(class)?)
            {
                gathered.call(Cow::Owned(format!("new {text}")));
            }
        } else if !self.imports.is_empty()
            && self.ids.is_reference(kind_id)
            && let Some(index) = self.imports.lookup(self.text.of(node)?)
        {
            gathered.import(index);
        }
        Ok(())
    }
}

/// A callee as written, with line breaks of a call chain (`promise\n  .then`)
/// removed so it reads as one expression.
fn callee_text(raw: &str) -> Option<Cow<'_, str>> {
    if raw.len() > MAX_CALLEE_BYTES {
        None
    } else if raw.contains('\n') {
        Some(Cow::Owned(raw.lines().map(str::trim).collect()))
    } else {
        Some(Cow::Borrowed(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::language::Language;

    fn parse(language: Language, source: &str) -> Tree {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&language.grammar()).unwrap();
        parser.parse(source, None).unwrap()
    }

    fn chunks_of(language: Language, source: &str) -> Vec<Chunk> {
        chunk_file(&parse(language, source), source).unwrap()
    }

    fn ts(source: &str) -> Vec<Chunk> {
        chunks_of(Language::TypeScript, source)
    }

    /// (type, qualified name) of every chunk, in order.
    fn outline(chunks: &[Chunk]) -> Vec<(ChunkType, &str)> {
        chunks
            .iter()
            .map(|c| (c.chunk_type, c.qualified_name.as_str()))
            .collect()
    }

    fn find<'a>(chunks: &'a [Chunk], qualified_name: &str) -> &'a Chunk {
        chunks
            .iter()
            .find(|c| c.qualified_name == qualified_name)
            .unwrap_or_else(|| panic!("no chunk {qualified_name} in {:?}", outline(chunks)))
    }

    fn import(name: &str, source: &str) -> ImportRef {
        ImportRef {
            name: name.to_owned(),
            source: source.to_owned(),
        }
    }

    use ChunkType::*;

    #[test]
    fn chunk_type_names_are_the_serde_names() {
        for chunk_type in ChunkType::ALL {
            let json = serde_json::to_string(&chunk_type).unwrap();
            assert_eq!(json, format!("\"{}\"", chunk_type.as_str()));
            let back: ChunkType = serde_json::from_str(&json).unwrap();
            assert_eq!(back, chunk_type);
        }
        assert_eq!(TypeAlias.as_str(), "type_alias");
        assert_eq!(FunctionExpression.to_string(), "function_expression");
    }

    #[test]
    fn a_function_declaration_is_one_chunk_with_its_lines_and_text() {
        let source = "import { a } from './a';\n\n/** doc */\nexport function add(x: number, y: number): number {\n  return a(x) + y;\n}\n";
        let chunks = ts(source);
        let add = find(&chunks, "add");
        assert_eq!(add.chunk_type, Function);
        assert_eq!(add.name, "add");
        assert_eq!((add.start_line, add.end_line), (4, 6));
        assert!(add.source.starts_with("export function add("));
        assert!(add.source.ends_with("}"));
        assert_eq!(&source[add.start_byte..add.end_byte], add.source);
        assert!(add.metadata.exported);
        assert_eq!(add.metadata.imports, vec![import("a", "./a")]);
        assert_eq!(add.metadata.calls, vec!["a"]);
    }

    #[test]
    fn generators_are_their_own_kind() {
        let chunks = ts(
            "function* ids() { yield 1; }\nexport async function* stream() {}\nconst more = function* () {};\n",
        );
        assert_eq!(
            outline(&chunks),
            vec![
                (Generator, "ids"),
                (Generator, "stream"),
                (Generator, "more")
            ]
        );
    }

    #[test]
    fn classes_yield_a_class_chunk_and_one_chunk_per_method() {
        let source = r#"export abstract class Shape {
  abstract area(): number;
  constructor(private name: string) {}
  get label() { return this.name; }
  set label(value: string) { this.name = value; }
  static create() { return new Circle(); }
  #secret() { return 1; }
  [Symbol.iterator]() { return [][Symbol.iterator](); }
  'quoted-name'() {}
  onClick = () => this.render();
  count = 0;
}
"#;
        let chunks = ts(source);
        assert_eq!(
            outline(&chunks),
            vec![
                (Class, "Shape"),
                (Method, "Shape.area"),
                (Method, "Shape.constructor"),
                (Method, "Shape.label"),
                (Method, "Shape.label"),
                (Method, "Shape.create"),
                (Method, "Shape.#secret"),
                (Method, "Shape.[Symbol.iterator]"),
                (Method, "Shape.quoted-name"),
                (ArrowFunction, "Shape.onClick"),
            ]
        );
        let shape = find(&chunks, "Shape");
        assert_eq!((shape.start_line, shape.end_line), (1, 12));
        assert_eq!(shape.source, source.trim_end());
        let create = find(&chunks, "Shape.create");
        assert_eq!(create.name, "create");
        assert_eq!((create.start_line, create.end_line), (6, 6));
        assert_eq!(create.source, "static create() { return new Circle(); }");
        assert!(
            create.metadata.exported,
            "members of an exported class are reachable"
        );
        assert!(chunks.iter().all(|c| !c.name.contains("anonymous")));
    }

    #[test]
    fn method_chunks_start_at_their_decorators() {
        let source = "class K {\n  @Input() name = '';\n  @HostListener('click')\n  onClick() { go(); }\n}\n";
        let chunks = ts(source);
        assert_eq!(outline(&chunks), vec![(Class, "K"), (Method, "K.onClick")]);
        let on_click = find(&chunks, "K.onClick");
        assert_eq!((on_click.start_line, on_click.end_line), (3, 4));
        assert!(on_click.source.starts_with("@HostListener('click')\n"));
        assert_eq!(on_click.metadata.calls, vec!["HostListener", "go"]);
    }

    #[test]
    fn interfaces_type_aliases_and_enums() {
        let chunks = ts(
            "export interface User { id: Id }\ntype Id = string;\nexport enum Color { Red, Green }\nexport const enum Flag { On }\n",
        );
        assert_eq!(
            outline(&chunks),
            vec![
                (Interface, "User"),
                (TypeAlias, "Id"),
                (Enum, "Color"),
                (Enum, "Flag")
            ]
        );
        assert!(find(&chunks, "User").metadata.exported);
        assert!(!find(&chunks, "Id").metadata.exported);
    }

    #[test]
    fn namespace_members_are_qualified_by_every_enclosing_name() {
        let source = r#"export namespace Outer {
  export namespace Inner {
    export class Widget { render() { return 1; } }
  }
  export function helper() {}
  const hidden = 1;
}
module Legacy { export const x = 1; }
namespace A.B { export type T = 1; }
"#;
        let chunks = ts(source);
        assert_eq!(
            outline(&chunks),
            vec![
                (Namespace, "Outer"),
                (Namespace, "Outer.Inner"),
                (Class, "Outer.Inner.Widget"),
                (Method, "Outer.Inner.Widget.render"),
                (Function, "Outer.helper"),
                (Namespace, "Legacy"),
                (Constant, "Legacy.x"),
                (Namespace, "A.B"),
                (TypeAlias, "A.B.T"),
            ]
        );
        let render = find(&chunks, "Outer.Inner.Widget.render");
        assert_eq!(render.name, "render");
        assert_eq!(render.start_line, 3);
        assert_eq!(find(&chunks, "Outer.Inner").name, "Inner");
        assert_eq!(
            (
                find(&chunks, "Outer").start_line,
                find(&chunks, "Outer").end_line
            ),
            (1, 7)
        );
    }

    #[test]
    fn declare_module_in_a_declaration_file() {
        let chunks = ts("declare module 'x' { export interface Options { depth: number } }\n");
        assert_eq!(
            outline(&chunks),
            vec![(Namespace, "x"), (Interface, "x.Options")]
        );
        let options = find(&chunks, "x.Options");
        assert_eq!(options.name, "Options");
        assert_eq!(options.source, "export interface Options { depth: number }");
    }

    #[test]
    fn ambient_declarations_and_signatures() {
        let source = r#"declare module 'y';
declare function parse(text: string): Options;
declare function parse(text: string, depth: number): Options;
declare class Parser { parse(): void; }
declare namespace Lib { function version(): string; const name: string; let mutable: number; }
declare const VERSION: string;
declare global { interface Window { lib: typeof Lib } }
export function overload(a: string): void;
export declare const flag: boolean;
"#;
        let chunks = ts(source);
        assert_eq!(
            outline(&chunks),
            vec![
                (Namespace, "y"),
                (Function, "parse"),
                (Function, "parse"),
                (Class, "Parser"),
                (Method, "Parser.parse"),
                (Namespace, "Lib"),
                (Function, "Lib.version"),
                (Constant, "Lib.name"),
                (Constant, "VERSION"),
                (Namespace, "global"),
                (Interface, "global.Window"),
                (Function, "overload"),
                (Constant, "flag"),
            ]
        );
        assert_eq!(
            find(&chunks, "VERSION").source,
            "declare const VERSION: string;"
        );
        assert!(find(&chunks, "flag").metadata.exported);
    }

    #[test]
    fn functions_bound_to_names() {
        let source = r#"const f = () => 1;
let g = function () { return 2; };
var h = async function named() {};
export const handler = async (event: Event) => { await run(event); };
const wrapped = (() => 3);
const typed = (() => 4) as Fn;
"#;
        let chunks = ts(source);
        assert_eq!(
            outline(&chunks),
            vec![
                (ArrowFunction, "f"),
                (FunctionExpression, "g"),
                (FunctionExpression, "h"),
                (ArrowFunction, "handler"),
                (ArrowFunction, "wrapped"),
                (ArrowFunction, "typed"),
            ]
        );
        let handler = find(&chunks, "handler");
        assert_eq!(
            handler.source,
            "export const handler = async (event: Event) => { await run(event); };"
        );
        assert!(handler.metadata.exported);
        assert!(!find(&chunks, "f").metadata.exported);
    }

    #[test]
    fn anonymous_default_exports_are_named_default() {
        for language in [Language::TypeScript, Language::Tsx, Language::JavaScript] {
            for (source, chunk_type) in [
                ("export default () => {};", ArrowFunction),
                ("export default function () {}", FunctionExpression),
                ("export default function* () {}", Generator),
                ("export default class { run() {} }", Class),
                ("export default defineConfig({ root: '.' });", Constant),
            ] {
                let chunks = chunks_of(language, source);
                let default = &chunks[0];
                assert_eq!(
                    (default.chunk_type, default.name.as_str()),
                    (chunk_type, "default"),
                    "{language}: {source}"
                );
                assert_eq!(default.source, source);
                assert!(default.metadata.exported);
            }
        }
        let class = ts("export default class { run() {} }");
        assert_eq!(
            outline(&class),
            vec![(Class, "default"), (Method, "default.run")]
        );
        let named = ts("export default function main() {}");
        assert_eq!(outline(&named), vec![(Function, "main")]);
    }

    #[test]
    fn re_exporting_a_name_by_default_is_module_code() {
        let chunks = ts("const App = () => 1;\nexport default App;\n");
        assert_eq!(
            outline(&chunks),
            vec![(Module, "module"), (ArrowFunction, "App")]
        );
        assert_eq!(chunks[0].source, "export default App;");
        assert!(chunks[0].metadata.exported);
    }

    #[test]
    fn exported_constants_are_chunks_and_local_ones_module_code() {
        let source = "export const RETRIES = 3;\nconst local = 4;\nexport let counter = 0;\nexport const a = 1, b = () => 2;\n";
        let chunks = ts(source);
        assert_eq!(
            outline(&chunks),
            vec![
                (Module, "module"),
                (Constant, "RETRIES"),
                (Constant, "a"),
                (ArrowFunction, "b")
            ]
        );
        assert_eq!(
            chunks[0].source,
            "const local = 4;\nexport let counter = 0;"
        );
        assert_eq!(find(&chunks, "RETRIES").source, "export const RETRIES = 3;");
        // With several declarators, each chunk is its own declarator.
        assert_eq!(find(&chunks, "a").source, "a = 1");
        assert_eq!(find(&chunks, "b").source, "b = () => 2");
    }

    #[test]
    fn class_expressions_bound_to_a_const_take_its_name() {
        let chunks = ts("export const Store = class { get() { return 1; } };\n");
        assert_eq!(
            outline(&chunks),
            vec![(Class, "Store"), (Method, "Store.get")]
        );
        assert_eq!(find(&chunks, "Store").name, "Store");
    }

    #[test]
    fn a_barrel_file_is_one_module_chunk() {
        let source = "export * from './valid';\nexport { Hello } from './component';";
        let chunks = ts(source);
        assert_eq!(chunks.len(), 1);
        let module = &chunks[0];
        assert_eq!(
            (module.chunk_type, module.name.as_str()),
            (Module, "module")
        );
        assert_eq!(module.qualified_name, "module");
        assert_eq!(module.source, source);
        assert_eq!((module.start_line, module.end_line), (1, 2));
        assert_eq!((module.start_byte, module.end_byte), (0, source.len()));
        assert!(module.metadata.exported);
    }

    #[test]
    fn type_only_and_enum_only_files_have_chunks() {
        let types = ts(
            "import type { Id } from './id';\n\nexport type User = { id: Id };\nexport interface Admin extends User { root: true }\n",
        );
        assert_eq!(
            outline(&types),
            vec![
                (Module, "module"),
                (TypeAlias, "User"),
                (Interface, "Admin")
            ]
        );
        assert_eq!(
            find(&types, "User").metadata.imports,
            vec![import("Id", "./id")]
        );
        assert!(find(&types, "Admin").metadata.imports.is_empty());

        let enums = ts("export enum Color {\n  Red,\n  Green,\n}\n");
        assert_eq!(outline(&enums), vec![(Enum, "Color")]);
        assert_eq!((enums[0].start_line, enums[0].end_line), (1, 4));
    }

    #[test]
    fn a_schema_file_knows_its_imports_and_calls() {
        let chunks =
            ts("import { z } from 'zod';\nexport const User = z.object({ id: z.string() });");
        assert_eq!(
            outline(&chunks),
            vec![(Module, "module"), (Constant, "User")]
        );
        let user = find(&chunks, "User");
        assert_eq!(user.metadata.imports, vec![import("z", "zod")]);
        assert_eq!(user.metadata.calls, vec!["z.object", "z.string"]);
        assert_eq!(user.start_line, 2);
        assert_eq!(chunks[0].source, "import { z } from 'zod';");
    }

    #[test]
    fn a_syntax_error_drops_only_the_broken_chunk() {
        let source =
            "export function ok() { return 1; }\n\nexport function bad( {\n  return 2;\n}\n";
        let tree = parse(Language::TypeScript, source);
        assert!(tree.root_node().has_error());
        let chunks = chunk_file(&tree, source).unwrap();
        assert_eq!(outline(&chunks), vec![(Function, "ok")]);
    }

    #[test]
    fn a_broken_member_keeps_its_siblings() {
        let source = "class K {\n  good() { return 1; }\n  bad() { return (; }\n  fine() {}\n}\n";
        let chunks = ts(source);
        let names: Vec<_> = outline(&chunks).into_iter().map(|(_, name)| name).collect();
        assert!(names.contains(&"K.good"), "{names:?}");
        assert!(
            !names.contains(&"K"),
            "the class holds the error: {names:?}"
        );
        assert!(!names.contains(&"K.bad"), "{names:?}");
    }

    #[test]
    fn broken_top_level_statements_stay_out_of_the_module_chunk() {
        let chunks = ts("import { a } from 'a';\nconsole.log(;\nexport function f() {}\n");
        assert_eq!(outline(&chunks), vec![(Module, "module"), (Function, "f")]);
        assert_eq!(chunks[0].source, "import { a } from 'a';");
    }

    #[test]
    fn a_long_function_is_one_chunk_and_nested_functions_are_not_chunks() {
        let mut source = String::from("export function long(input: number[]) {\n");
        source.push_str("  function inner() { return 1; }\n  const arrow = () => inner();\n");
        for i in 0..300 {
            source.push_str(&format!("  input.push({i} + arrow());\n"));
        }
        source.push_str("}\n");
        let chunks = ts(&source);
        assert_eq!(outline(&chunks), vec![(Function, "long")]);
        assert_eq!((chunks[0].start_line, chunks[0].end_line), (1, 304));
        assert_eq!(chunks[0].source, source.trim_end());
        assert_eq!(
            chunks[0].metadata.calls,
            vec!["inner", "input.push", "arrow"]
        );
    }

    #[test]
    fn multi_byte_text_is_sliced_exactly() {
        let source =
            "export const greet = () => 'こんにちは 😀';\nexport function afterété() { return 1 }";
        let chunks = ts(source);
        assert_eq!(
            outline(&chunks),
            vec![(ArrowFunction, "greet"), (Function, "afterété")]
        );
        assert_eq!(
            chunks[0].source,
            "export const greet = () => 'こんにちは 😀';"
        );
        assert_eq!(chunks[1].source, "export function afterété() { return 1 }");
        assert_eq!((chunks[1].start_line, chunks[1].end_line), (2, 2));
        for chunk in &chunks {
            assert_eq!(&source[chunk.start_byte..chunk.end_byte], chunk.source);
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow_a_small_stack() {
        let depth = 20_000;
        let source = format!(
            "export const deep = {}{};\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let tree = parse(Language::TypeScript, &source);
        let chunks = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                chunk_file(&tree, &source).map(|chunks| {
                    outline(&chunks)
                        .iter()
                        .map(|&(t, n)| (t, n.to_owned()))
                        .collect::<Vec<_>>()
                })
            })
            .unwrap()
            .join()
            .expect("chunking overflowed the stack")
            .unwrap();
        assert_eq!(chunks, vec![(Constant, "deep".to_owned())]);
    }

    #[test]
    fn the_module_chunk_joins_the_uncovered_top_level_statements() {
        let source = r#"#!/usr/bin/env node
// header comment
import { run } from './run';
const config = { retries: 3 }, start = () => run(config);

/** main */
export function main() { return run(config); }

run(config);
module.exports = { main };
"#;
        let chunks = chunks_of(Language::JavaScript, source);
        assert_eq!(
            outline(&chunks),
            vec![
                (Module, "module"),
                (ArrowFunction, "start"),
                (Function, "main")
            ]
        );
        let module = &chunks[0];
        assert_eq!(
            module.source,
            "import { run } from './run';\nconst config = { retries: 3 }, start = () => run(config);\nrun(config);\nmodule.exports = { main };"
        );
        assert_eq!((module.start_line, module.end_line), (3, 10));
        assert_eq!(&source[module.start_byte..module.start_byte + 6], "import");
        assert_eq!(&source[..module.end_byte], source.trim_end());
        assert_eq!(module.metadata.imports, vec![import("run", "./run")]);
        assert_eq!(module.metadata.calls, vec!["run"]);
        assert!(!module.metadata.exported);
    }

    #[test]
    fn comments_make_a_module_chunk_only_when_nothing_else_does() {
        let source = "// just a note\n/* and another */\n";
        let chunks = ts(source);
        assert_eq!(outline(&chunks), vec![(Module, "module")]);
        assert_eq!(chunks[0].source, "// just a note\n/* and another */");
        assert_eq!((chunks[0].start_line, chunks[0].end_line), (1, 2));

        let with_code = ts("// leading\nexport function f() {}\n// trailing\n");
        assert_eq!(outline(&with_code), vec![(Function, "f")]);

        let broken = ts("// a note\nfunction (\n");
        assert!(broken.is_empty(), "nothing usable: {:?}", outline(&broken));
    }

    #[test]
    fn calls_come_from_the_chunks_own_subtree() {
        let source = r#"export class Api {
  load() { return fetch('/a').then(parse); }
  save() { this.validate(); return new Request('/b'); }
}
"#;
        let chunks = ts(source);
        assert_eq!(
            find(&chunks, "Api.load").metadata.calls,
            vec!["fetch('/a').then", "fetch"]
        );
        assert_eq!(
            find(&chunks, "Api.save").metadata.calls,
            vec!["this.validate", "new Request"]
        );
        assert_eq!(
            find(&chunks, "Api").metadata.calls,
            vec!["fetch('/a').then", "fetch", "this.validate", "new Request"]
        );
    }

    #[test]
    fn calls_are_deduplicated_capped_and_readable() {
        let mut body: String = (0..250).map(|i| format!("f{i}(); f0();\n")).collect();
        body.push_str("promise\n  .then(a)\n  .catch(b);\n");
        body.push_str(&format!("(function () {{ {} }})();\n", "x; ".repeat(50)));
        let source = format!("function many() {{\n{body}}}\n");
        let calls = &ts(&source)[0].metadata.calls;
        assert_eq!(calls.len(), MAX_CALLS);
        assert_eq!(&calls[..3], ["f0", "f1", "f2"]);
        assert_eq!(calls.iter().collect::<HashSet<_>>().len(), calls.len());

        let chain = ts(
            "function chain() { promise\n  .then(a)\n  .catch(b); (function () { x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; })(); }",
        );
        assert_eq!(
            chain[0].metadata.calls,
            vec!["promise.then(a).catch", "promise.then"]
        );
    }

    #[test]
    fn imports_are_matched_by_local_name_in_order_of_first_use() {
        let source = r#"import React, { useState as useLocalState, type FC } from 'react';
import * as path from 'node:path';
import type { Config } from './config';
import fs = require('fs');
const { join, resolve: resolvePath } = require('path');
const lodash = require('lodash').default;
import './side-effect';

export function a(config: Config) { return path.join(useLocalState(1), resolvePath('x')); }
export const b: FC = () => lodash.noop({ fs });
"#;
        let chunks = ts(source);
        assert_eq!(
            find(&chunks, "a").metadata.imports,
            vec![
                import("Config", "./config"),
                import("path", "node:path"),
                import("useLocalState", "react"),
                import("resolvePath", "path"),
            ]
        );
        assert_eq!(
            find(&chunks, "b").metadata.imports,
            vec![
                import("FC", "react"),
                import("lodash", "lodash"),
                import("fs", "fs")
            ]
        );
        let module = &chunks[0];
        assert_eq!(module.chunk_type, Module);
        let names: Vec<_> = module
            .metadata
            .imports
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "React",
                "useLocalState",
                "FC",
                "path",
                "Config",
                "fs",
                "join",
                "resolvePath",
                "lodash"
            ]
        );
    }

    #[test]
    fn tsx_components_reference_imported_components() {
        let source = r#"import { Button } from './button';
export const App = () => <Button onClick={() => track('x')} />;
export function Page() { return <div><App /></div>; }
"#;
        let chunks = chunks_of(Language::Tsx, source);
        assert_eq!(
            outline(&chunks),
            vec![
                (Module, "module"),
                (ArrowFunction, "App"),
                (Function, "Page")
            ]
        );
        let app = find(&chunks, "App");
        assert_eq!(app.metadata.imports, vec![import("Button", "./button")]);
        assert_eq!(app.metadata.calls, vec!["track"]);
        assert!(find(&chunks, "Page").metadata.imports.is_empty());
    }

    #[test]
    fn javascript_commonjs_and_class_fields() {
        let source = r#"const express = require('express');
class Server {
  #port = 80;
  start = () => express().listen(this.#port);
  stop() {}
}
module.exports = Server;
"#;
        let chunks = chunks_of(Language::JavaScript, source);
        assert_eq!(
            outline(&chunks),
            vec![
                (Module, "module"),
                (Class, "Server"),
                (ArrowFunction, "Server.start"),
                (Method, "Server.stop")
            ]
        );
        assert_eq!(
            chunks[0].source,
            "const express = require('express');\nmodule.exports = Server;"
        );
        let start = find(&chunks, "Server.start");
        assert_eq!(start.metadata.imports, vec![import("express", "express")]);
        assert_eq!(start.metadata.calls, vec!["express().listen", "express"]);
    }

    #[test]
    fn a_node_ending_after_a_newline_ends_on_the_line_before() {
        let point = |row, column| Point { row, column };
        assert_eq!(line_span(point(1, 4), point(3, 0)), (2, 3));
        assert_eq!(line_span(point(1, 4), point(3, 1)), (2, 4));
        assert_eq!(line_span(point(2, 0), point(2, 0)), (3, 3));
    }

    #[test]
    fn a_tree_that_does_not_match_the_text_is_an_error() {
        let tree = parse(Language::TypeScript, "export const x = 1;");
        let short = chunk_file(&tree, "export").unwrap_err();
        assert!(short.to_string().contains("6-byte source text"), "{short}");

        // Long enough, but the name `x` (bytes 13..14) starts inside a character.
        let error = chunk_file(&tree, &"é".repeat(10)).unwrap_err();
        let ChunkError::InvalidByteRange {
            start, end, len, ..
        } = error;
        assert_eq!((start, end, len), (13, 14, 20));
        assert!(error.to_string().contains("character boundary"), "{error}");
    }

    #[test]
    fn pathologically_nested_namespaces_stay_whole_below_a_depth() {
        let depth = 40;
        let source = format!(
            "{}export function innermost() {{}}{}",
            "namespace N { ".repeat(depth),
            " }".repeat(depth)
        );
        let chunks = ts(&source);
        assert_eq!(chunks.len(), MAX_NAMESPACE_DEPTH + 1);
        assert!(chunks.iter().all(|c| c.chunk_type == Namespace));
        assert_eq!(chunks[2].qualified_name, "N.N.N");
    }

    #[test]
    fn valid_files_never_yield_zero_chunks() {
        let files = [
            "export * from './a';",
            "import './polyfill';",
            "export { a as b };",
            "console.log('hi');",
            "let x;",
            ";",
            "#!/usr/bin/env node\n",
            "/** only docs */",
            "export default {};",
            "module.exports = {};",
            "'use strict';",
        ];
        for language in [Language::TypeScript, Language::Tsx, Language::JavaScript] {
            for source in files {
                let tree = parse(language, source);
                assert!(!tree.root_node().has_error(), "{language}: {source}");
                let chunks = chunk_file(&tree, source).unwrap();
                assert!(!chunks.is_empty(), "{language}: {source}");
                for chunk in chunks {
                    assert!(chunk.start_line <= chunk.end_line);
                    assert!(
                        source[chunk.start_byte..chunk.end_byte]
                            .contains(chunk.source.lines().next().unwrap_or(""))
                    );
                }
            }
        }
    }
}
