//! Cuts a parsed file into chunks: one per declaration worth finding on its
//! own (functions, classes and their methods, types, namespaces, exported
//! constants), plus one `module` chunk for the top-level code left over, so a
//! valid file never ends up with "no chunks".
//!
//! Two passes: one over the statements to find the chunks, then one walk per
//! outermost chunk for metadata, which also serves the chunks nested in it
//! (methods, namespace members). Every walk is iterative: real files nest
//! thousands of levels deep and Rust recursion would overflow the stack.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use tree_sitter::{Node, Point, Tree, TreeCursor};

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
    let syntax = Syntax::for_language(&tree.language());
    let read = Reader {
        syntax: &syntax,
        text: SourceText(source),
    };
    let root = tree.root_node();

    let mut finder = Finder::new(read);
    let top_level = finder.scan(root)?;
    let Finder { found, imports, .. } = finder;

    let marks = Marks::new(source, &imports);
    let walker = MetadataWalker {
        read,
        imports: &imports,
        marks: &marks,
    };
    let nothing_else = found.is_empty() && !root.has_error();
    let mut chunks = Vec::with_capacity(found.len() + 1);
    if let Some(module) = module_chunk(&top_level, nothing_else, &walker)? {
        chunks.push(module);
    }
    let metadata = walker.nested(&found)?;
    for (candidate, metadata) in found.into_iter().zip(metadata) {
        chunks.push(candidate.into_chunk(read.text, metadata)?);
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
}

fn unquote(text: &str) -> &str {
    let quoted = text.len() >= 2 && matches!(text.as_bytes()[0], b'\'' | b'"' | b'`');
    if quoted {
        text.get(1..text.len() - 1).unwrap_or(text)
    } else {
        text
    }
}

/// The node kinds the chunker tells apart. Nodes are classified through a
/// table indexed by grammar symbol: `Node::kind` converts a C string on every
/// call, which the metadata walk cannot afford on every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other,
    Comment,
    HashBangLine,
    EmptyStatement,
    ExportStatement,
    ExpressionStatement,
    ImportStatement,
    StatementBlock,
    FunctionDeclaration,
    FunctionSignature,
    GeneratorFunctionDeclaration,
    ClassDeclaration,
    InterfaceDeclaration,
    TypeAliasDeclaration,
    EnumDeclaration,
    /// `namespace N {}` (TypeScript's `internal_module`)
    InternalModule,
    /// `module M {}`, `declare module 'm' {}`
    Module,
    AmbientDeclaration,
    LexicalDeclaration,
    VariableDeclaration,
    VariableDeclarator,
    /// The anonymous `const` keyword of a lexical declaration.
    ConstKeyword,
    Decorator,
    /// Methods with a body and signatures (`declare class`, `abstract`).
    Method,
    /// Class fields: TypeScript's `public_field_definition`, JavaScript's `field_definition`.
    FieldDefinition,
    ClassExpression,
    ArrowFunction,
    FunctionExpression,
    GeneratorFunction,
    CallExpression,
    NewExpression,
    MemberExpression,
    Arguments,
    TemplateString,
    /// `(x)`, `x as T`, `x satisfies T`, `x!`: what matters is inside.
    Wrapper,
    Identifier,
    /// Other nodes that name a binding: `type_identifier`, `{ shorthand }`.
    OtherReference,
    ShorthandPropertyIdentifierPattern,
    String,
    ImportClause,
    ImportRequireClause,
    NamespaceImport,
    NamedImports,
    ObjectPattern,
    PairPattern,
}

impl Kind {
    fn of(name: &str, named: bool) -> Kind {
        if !named {
            return if name == "const" {
                Kind::ConstKeyword
            } else {
                Kind::Other
            };
        }
        match name {
            "comment" => Kind::Comment,
            "hash_bang_line" => Kind::HashBangLine,
            "empty_statement" => Kind::EmptyStatement,
            "export_statement" => Kind::ExportStatement,
            "expression_statement" => Kind::ExpressionStatement,
            "import_statement" => Kind::ImportStatement,
            "statement_block" => Kind::StatementBlock,
            "function_declaration" => Kind::FunctionDeclaration,
            "function_signature" => Kind::FunctionSignature,
            "generator_function_declaration" => Kind::GeneratorFunctionDeclaration,
            "class_declaration" | "abstract_class_declaration" => Kind::ClassDeclaration,
            "interface_declaration" => Kind::InterfaceDeclaration,
            "type_alias_declaration" => Kind::TypeAliasDeclaration,
            "enum_declaration" => Kind::EnumDeclaration,
            "internal_module" => Kind::InternalModule,
            "module" => Kind::Module,
            "ambient_declaration" => Kind::AmbientDeclaration,
            "lexical_declaration" => Kind::LexicalDeclaration,
            "variable_declaration" => Kind::VariableDeclaration,
            "variable_declarator" => Kind::VariableDeclarator,
            "decorator" => Kind::Decorator,
            "method_definition" | "method_signature" | "abstract_method_signature" => Kind::Method,
            "public_field_definition" | "field_definition" => Kind::FieldDefinition,
            "class" => Kind::ClassExpression,
            "arrow_function" => Kind::ArrowFunction,
            "function_expression" => Kind::FunctionExpression,
            "generator_function" => Kind::GeneratorFunction,
            "call_expression" => Kind::CallExpression,
            "new_expression" => Kind::NewExpression,
            "member_expression" => Kind::MemberExpression,
            "arguments" => Kind::Arguments,
            "template_string" => Kind::TemplateString,
            "parenthesized_expression"
            | "as_expression"
            | "satisfies_expression"
            | "non_null_expression" => Kind::Wrapper,
            "identifier" => Kind::Identifier,
            "type_identifier" | "shorthand_property_identifier" => Kind::OtherReference,
            "shorthand_property_identifier_pattern" => Kind::ShorthandPropertyIdentifierPattern,
            "string" => Kind::String,
            "import_clause" => Kind::ImportClause,
            "import_require_clause" => Kind::ImportRequireClause,
            "namespace_import" => Kind::NamespaceImport,
            "named_imports" => Kind::NamedImports,
            "object_pattern" => Kind::ObjectPattern,
            "pair_pattern" => Kind::PairPattern,
            _ => Kind::Other,
        }
    }

    /// Top-level nodes that are not code: they only make a module chunk when
    /// the file has nothing else.
    fn is_trivia(self) -> bool {
        matches!(
            self,
            Kind::Comment | Kind::HashBangLine | Kind::EmptyStatement
        )
    }

    /// Nodes whose text may be the local name of an import.
    fn is_reference(self) -> bool {
        matches!(
            self,
            Kind::Identifier | Kind::OtherReference | Kind::ShorthandPropertyIdentifierPattern
        )
    }

    /// The chunk type of a function value bound to a name.
    fn function_type(self) -> Option<ChunkType> {
        match self {
            Kind::ArrowFunction => Some(ChunkType::ArrowFunction),
            Kind::FunctionExpression => Some(ChunkType::FunctionExpression),
            Kind::GeneratorFunction => Some(ChunkType::Generator),
            _ => None,
        }
    }
}

/// Field names the chunker reads, resolved to ids once per grammar.
#[derive(Clone, Copy)]
enum Field {
    Name,
    Body,
    Declaration,
    Value,
    Kind,
    Source,
    Alias,
    Function,
    Constructor,
    Arguments,
    Object,
    Property,
}

const FIELD_NAMES: [&str; 12] = [
    "name",
    "body",
    "declaration",
    "value",
    "kind",
    "source",
    "alias",
    "function",
    "constructor",
    "arguments",
    "object",
    "property",
];

/// One grammar's symbol and field ids, as the chunker sees them.
struct Syntax {
    kinds: Vec<Kind>,
    fields: [Option<u16>; FIELD_NAMES.len()],
}

thread_local! {
    /// Built once per grammar and thread: a few hundred symbol names are
    /// more than the whole chunking of a small file costs.
    static SYNTAXES: RefCell<Vec<(tree_sitter::Language, Rc<Syntax>)>> =
        const { RefCell::new(Vec::new()) };
}

impl Syntax {
    fn for_language(language: &tree_sitter::Language) -> Rc<Syntax> {
        SYNTAXES.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some((_, syntax)) = cache.iter().find(|(known, _)| known == language) {
                return Rc::clone(syntax);
            }
            let syntax = Rc::new(Syntax::new(language));
            cache.push((language.clone(), Rc::clone(&syntax)));
            syntax
        })
    }

    fn new(language: &tree_sitter::Language) -> Syntax {
        let count = u16::try_from(language.node_kind_count()).unwrap_or(u16::MAX);
        let kinds = (0..count)
            .map(|id| match language.node_kind_for_id(id) {
                Some(name) => Kind::of(name, language.node_kind_is_named(id)),
                None => Kind::Other,
            })
            .collect();
        let fields = FIELD_NAMES.map(|name| language.field_id_for_name(name).map(|id| id.get()));
        Syntax { kinds, fields }
    }
}

/// Reads nodes: their kind, fields and text.
#[derive(Clone, Copy)]
struct Reader<'a, 's> {
    syntax: &'a Syntax,
    text: SourceText<'s>,
}

impl<'s> Reader<'_, 's> {
    fn kind(self, node: Node) -> Kind {
        // ERROR nodes (symbol 65535) fall outside the table: `Other`.
        let id = usize::from(node.kind_id());
        self.syntax.kinds.get(id).copied().unwrap_or(Kind::Other)
    }

    fn field<'t>(self, node: Node<'t>, field: Field) -> Option<Node<'t>> {
        node.child_by_field_id(self.syntax.fields[field as usize]?)
    }

    fn text(self, node: Node) -> Result<&'s str, ChunkError> {
        self.text.of(node)
    }

    /// A name as written, without the quotes of `declare module 'x'` or
    /// `'quoted'() {}`.
    fn name(self, node: Node) -> Result<&'s str, ChunkError> {
        let text = self.text(node)?;
        Ok(if self.kind(node) == Kind::String {
            unquote(text)
        } else {
            text
        })
    }

    /// `(() => {})`, `(x) as T`, `x satisfies T`, `x!`: the expression inside.
    fn unwrap_expression<'t>(self, mut node: Node<'t>) -> Node<'t> {
        while self.kind(node) == Kind::Wrapper {
            match node.named_child(0) {
                Some(inner) => node = inner,
                None => break,
            }
        }
        node
    }

    fn first_named_child_of_kind<'t>(self, node: Node<'t>, kind: Kind) -> Option<Node<'t>> {
        let mut cursor = node.walk();
        node.named_children(&mut cursor)
            .find(|child| self.kind(*child) == kind)
    }
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
    /// A node holding the whole span: its subtree, within the span's bytes,
    /// is what the metadata walk reads.
    root: Node<'t>,
    has_error: bool,
}

impl<'t> Span<'t> {
    fn of(node: Node<'t>) -> Self {
        Span {
            first: node,
            last: node,
            root: node,
            has_error: node.has_error(),
        }
    }

    fn byte_range(self) -> (usize, usize) {
        (self.first.start_byte(), self.last.end_byte())
    }
}

/// The decorators seen before a class member, not yet attached to one.
#[derive(Clone, Copy)]
struct Decorators<'t> {
    first: Node<'t>,
    has_error: bool,
}

/// A chunk found by the scan, turned into a [`Chunk`] once its metadata is known.
struct Candidate<'t> {
    chunk_type: ChunkType,
    name: String,
    qualified_name: String,
    span: Span<'t>,
    exported: bool,
}

impl Candidate<'_> {
    fn into_chunk(self, text: SourceText, gathered: Gathered) -> Result<Chunk, ChunkError> {
        let (first, last) = (self.span.first, self.span.last);
        let (start_byte, end_byte) = self.span.byte_range();
        let source = text.range(first, start_byte, end_byte)?;
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
            metadata: gathered.into_metadata(self.exported),
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

/// The one pass that finds chunks, and the file's imports on the way.
/// Containers (export and ambient wrappers, class bodies, namespace bodies)
/// are entered; function bodies never are.
struct Finder<'a, 't, 's> {
    read: Reader<'a, 's>,
    found: Vec<Candidate<'t>>,
    /// Namespace bodies still to scan: a stack, not recursion.
    pending: Vec<(Node<'t>, Scope)>,
    imports: Imports<'s>,
}

impl<'a, 't, 's> Finder<'a, 't, 's> {
    fn new(read: Reader<'a, 's>) -> Self {
        Finder {
            read,
            found: Vec::new(),
            pending: Vec::new(),
            imports: Imports::default(),
        }
    }

    fn scan(&mut self, root: Node<'t>) -> Result<TopLevel<'t>, ChunkError> {
        let mut top_level = TopLevel::default();
        let scope = Scope::default();
        let mut cursor = root.walk();
        for node in root.named_children(&mut cursor) {
            let kind = self.read.kind(node);
            if node.has_error() {
                // Still scanned: a namespace with one broken member keeps the others.
                self.statement(node, kind, &scope)?;
                continue;
            }
            self.imports.statement(node, kind, self.read)?;
            if kind.is_trivia() {
                top_level.trivia.push(node);
            } else if !self.statement(node, kind, &scope)? {
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
            let kind = self.read.kind(node);
            if !kind.is_trivia() {
                self.statement(node, kind, scope)?;
            }
        }
        Ok(())
    }

    /// Finds the chunks of one statement; true if they cover all of it.
    fn statement(&mut self, node: Node<'t>, kind: Kind, scope: &Scope) -> Result<bool, ChunkError> {
        match kind {
            Kind::ExportStatement => self.export(node, scope),
            // `namespace N {}` parses as an expression statement.
            Kind::ExpressionStatement => match node.named_child(0) {
                Some(inner) if self.read.kind(inner) == Kind::InternalModule => {
                    self.declaration(inner, Span::of(node), scope, false)
                }
                _ => Ok(false),
            },
            _ => self.declaration(node, Span::of(node), scope, false),
        }
    }

    fn export(&mut self, node: Node<'t>, scope: &Scope) -> Result<bool, ChunkError> {
        if let Some(declaration) = self.read.field(node, Field::Declaration) {
            self.declaration(declaration, Span::of(node), scope, true)
        } else if let Some(value) = self.read.field(node, Field::Value) {
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
        let value = self.read.unwrap_expression(value);
        let kind = self.read.kind(value);
        let chunk_type = match kind {
            Kind::Identifier | Kind::MemberExpression => return Ok(false),
            Kind::ClassExpression => {
                self.class(value, "default".to_owned(), span, scope, true)?;
                return Ok(true);
            }
            _ => kind.function_type().unwrap_or(ChunkType::Constant),
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
        let chunk_type = match self.read.kind(node) {
            Kind::FunctionDeclaration | Kind::FunctionSignature => ChunkType::Function,
            Kind::GeneratorFunctionDeclaration => ChunkType::Generator,
            Kind::InterfaceDeclaration => ChunkType::Interface,
            Kind::TypeAliasDeclaration => ChunkType::TypeAlias,
            Kind::EnumDeclaration => ChunkType::Enum,
            Kind::ClassDeclaration => {
                let name = self.own_name(node)?;
                self.class(node, name, span, scope, exported)?;
                return Ok(true);
            }
            Kind::InternalModule | Kind::Module => {
                let name = self.own_name(node)?;
                let body = self.read.field(node, Field::Body);
                self.namespace(name, body, span, scope, exported);
                return Ok(true);
            }
            Kind::AmbientDeclaration => return self.ambient(node, span, scope, exported),
            Kind::LexicalDeclaration | Kind::VariableDeclaration => {
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
        match self.read.field(node, Field::Name) {
            Some(name) => Ok(self.read.name(name)?.to_owned()),
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
            .find(|child| !self.read.kind(*child).is_trivia());
        match inner {
            Some(block) if self.read.kind(block) == Kind::StatementBlock => {
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
        let is_const = self
            .read
            .field(node, Field::Kind)
            .is_some_and(|kind| self.read.kind(kind) == Kind::ConstKeyword);
        let mut cursor = node.walk();
        let declarators = node
            .named_children(&mut cursor)
            .filter(|child| self.read.kind(*child) == Kind::VariableDeclarator)
            .count();
        let mut covered = declarators > 0;
        for declarator in node.named_children(&mut cursor) {
            if self.read.kind(declarator) != Kind::VariableDeclarator {
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
        let Some(name) = self
            .read
            .field(declarator, Field::Name)
            .filter(|name| self.read.kind(*name) == Kind::Identifier)
        else {
            return Ok(false);
        };
        let name = self.read.text(name)?.to_owned();
        let value = self
            .read
            .field(declarator, Field::Value)
            .map(|value| self.read.unwrap_expression(value));
        let value_kind = value.map(|value| self.read.kind(value));
        let chunk_type = match (value, value_kind) {
            (Some(class), Some(Kind::ClassExpression)) => {
                self.class(class, name, binding.span, scope, binding.exported)?;
                return Ok(true);
            }
            (_, Some(kind)) if kind.function_type().is_some() => kind.function_type(),
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
        let body = self.read.field(class, Field::Body);
        self.push_qualified(
            ChunkType::Class,
            name,
            qualified_name.clone(),
            span,
            exported,
        );
        let Some(body) = body else { return Ok(()) };

        let mut cursor = body.walk();
        let mut decorators: Option<Decorators<'t>> = None;
        for member in body.named_children(&mut cursor) {
            match self.read.kind(member) {
                Kind::Decorator => {
                    let seen = decorators.get_or_insert(Decorators {
                        first: member,
                        has_error: false,
                    });
                    seen.has_error |= member.has_error();
                    continue;
                }
                Kind::Comment => continue,
                _ => {}
            }
            let decorators = decorators.take();
            let Some((chunk_type, name)) = self.member_chunk(member) else {
                continue;
            };
            let name = self.read.name(name)?.to_owned();
            let qualified = format!("{qualified_name}.{name}");
            let span = match decorators {
                Some(decorators) => Span {
                    first: decorators.first,
                    last: member,
                    root: body,
                    has_error: decorators.has_error || member.has_error(),
                },
                None => Span::of(member),
            };
            self.push_qualified(chunk_type, name, qualified, span, exported);
        }
        Ok(())
    }

    /// A class member that is a chunk, and the node holding its name.
    fn member_chunk(&self, member: Node<'t>) -> Option<(ChunkType, Node<'t>)> {
        match self.read.kind(member) {
            Kind::Method => Some((ChunkType::Method, self.read.field(member, Field::Name)?)),
            // TypeScript names the field `name`, JavaScript `property`.
            Kind::FieldDefinition => {
                let name = self
                    .read
                    .field(member, Field::Name)
                    .or_else(|| self.read.field(member, Field::Property))?;
                let value = self.read.field(member, Field::Value)?;
                let value = self.read.unwrap_expression(value);
                Some((self.read.kind(value).function_type()?, name))
            }
            _ => None,
        }
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
        if span.has_error {
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
        source.push_str(walker.read.text(*node)?);
    }
    let exported = nodes
        .iter()
        .any(|node| walker.read.kind(*node) == Kind::ExportStatement);
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
        metadata: walker.flat(nodes)?.into_metadata(exported),
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

type FnvBuild = BuildHasherDefault<Fnv>;

/// The file's top-level import bindings.
#[derive(Default)]
struct Imports<'s> {
    refs: Vec<ImportRef>,
    by_name: HashMap<&'s [u8], usize, FnvBuild>,
    /// Bit n set if some name is n bytes long (n < 64), and the set of the
    /// names' first bytes: most words are rejected without hashing.
    lengths: u64,
    first_bytes: [u64; 4],
}

impl<'s> Imports<'s> {
    fn statement(
        &mut self,
        node: Node,
        kind: Kind,
        read: Reader<'_, 's>,
    ) -> Result<(), ChunkError> {
        match kind {
            Kind::ImportStatement => self.import_statement(node, read),
            Kind::LexicalDeclaration | Kind::VariableDeclaration => self.requires(node, read),
            Kind::ExportStatement => match read.field(node, Field::Declaration) {
                Some(declaration) => self.requires(declaration, read),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }

    fn lookup(&self, name: &[u8]) -> Option<usize> {
        let &first = name.first()?;
        let first_known = self.first_bytes[usize::from(first / 64)] & (1 << (first % 64)) != 0;
        let length_known = name.len() >= 64 || self.lengths & (1 << name.len()) != 0;
        if !(first_known && length_known) {
            return None;
        }
        self.by_name.get(name).copied()
    }

    fn add(&mut self, name: &'s str, source: &str) {
        if self.by_name.contains_key(name.as_bytes()) {
            return;
        }
        if name.len() < 64 {
            self.lengths |= 1 << name.len();
        }
        if let Some(&first) = name.as_bytes().first() {
            self.first_bytes[usize::from(first / 64)] |= 1 << (first % 64);
        }
        self.by_name.insert(name.as_bytes(), self.refs.len());
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
        read: Reader<'_, 's>,
    ) -> Result<(), ChunkError> {
        let source = match read.field(statement, Field::Source) {
            Some(source) => Some(read.name(source)?),
            None => None,
        };
        let mut cursor = statement.walk();
        for child in statement.named_children(&mut cursor) {
            match (read.kind(child), source) {
                (Kind::ImportClause, Some(source)) => self.import_clause(child, source, read)?,
                (Kind::ImportRequireClause, _) => {
                    let name = read.first_named_child_of_kind(child, Kind::Identifier);
                    let source = read.field(child, Field::Source);
                    if let (Some(name), Some(source)) = (name, source) {
                        self.add(read.text(name)?, read.name(source)?);
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
        read: Reader<'_, 's>,
    ) -> Result<(), ChunkError> {
        let mut cursor = clause.walk();
        for child in clause.named_children(&mut cursor) {
            match read.kind(child) {
                Kind::Identifier => self.add(read.text(child)?, source),
                Kind::NamespaceImport => {
                    if let Some(name) = read.first_named_child_of_kind(child, Kind::Identifier) {
                        self.add(read.text(name)?, source);
                    }
                }
                Kind::NamedImports => self.named_imports(child, source, read)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn named_imports(
        &mut self,
        list: Node,
        source: &str,
        read: Reader<'_, 's>,
    ) -> Result<(), ChunkError> {
        let mut cursor = list.walk();
        for specifier in list.named_children(&mut cursor) {
            let local = read
                .field(specifier, Field::Alias)
                .or_else(|| read.field(specifier, Field::Name));
            if let Some(local) = local.filter(|local| read.kind(*local) == Kind::Identifier) {
                self.add(read.text(local)?, source);
            }
        }
        Ok(())
    }

    /// `const x = require('m')`, `const { a, b: c } = require('m')` and
    /// `const d = require('m').default`.
    fn requires(&mut self, declaration: Node, read: Reader<'_, 's>) -> Result<(), ChunkError> {
        if !matches!(
            read.kind(declaration),
            Kind::LexicalDeclaration | Kind::VariableDeclaration
        ) {
            return Ok(());
        }
        let mut cursor = declaration.walk();
        for declarator in declaration.named_children(&mut cursor) {
            let Some(value) = read.field(declarator, Field::Value) else {
                continue;
            };
            let Some(source) = require_source(value, read)? else {
                continue;
            };
            let Some(pattern) = read.field(declarator, Field::Name) else {
                continue;
            };
            match read.kind(pattern) {
                Kind::Identifier => self.add(read.text(pattern)?, source),
                Kind::ObjectPattern => self.destructured(pattern, source, read)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn destructured(
        &mut self,
        pattern: Node,
        source: &str,
        read: Reader<'_, 's>,
    ) -> Result<(), ChunkError> {
        let mut cursor = pattern.walk();
        for property in pattern.named_children(&mut cursor) {
            let local = match read.kind(property) {
                Kind::ShorthandPropertyIdentifierPattern => Some(property),
                Kind::PairPattern => read
                    .field(property, Field::Value)
                    .filter(|value| read.kind(*value) == Kind::Identifier),
                _ => None,
            };
            if let Some(local) = local {
                self.add(read.text(local)?, source);
            }
        }
        Ok(())
    }
}

/// The module specifier of `require('m')` or `require('m').member`.
fn require_source<'s>(value: Node, read: Reader<'_, 's>) -> Result<Option<&'s str>, ChunkError> {
    let call = if read.kind(value) == Kind::MemberExpression {
        read.field(value, Field::Object)
    } else {
        Some(value)
    };
    let Some(call) = call.filter(|call| read.kind(*call) == Kind::CallExpression) else {
        return Ok(None);
    };
    let callee = read.field(call, Field::Function);
    let argument = read
        .field(call, Field::Arguments)
        .and_then(|arguments| arguments.named_child(0));
    match (callee, argument) {
        (Some(callee), Some(argument))
            if read.kind(argument) == Kind::String && read.text(callee)? == "require" =>
        {
            Ok(Some(read.name(argument)?))
        }
        _ => Ok(None),
    }
}

/// Bytes where something the metadata walk records may start: the walk
/// goes from mark to mark and never visits the code in between. A call has
/// `(` or a backtick opening its arguments, a `new` expression the word
/// `new`, an import reference a word that is an import's name. Marks inside
/// strings or comments only cost a look; a missing mark would lose metadata,
/// hence the conservative words.
struct Marks {
    positions: Vec<usize>,
}

impl Marks {
    fn new(source: &str, imports: &Imports) -> Marks {
        let bytes = source.as_bytes();
        let mut positions = Vec::new();
        let mut at = 0;
        while let Some(&byte) = bytes.get(at) {
            match BYTE_CLASS[usize::from(byte)] {
                ByteClass::Word | ByteClass::Wide => {}
                ByteClass::Open => {
                    if byte == b'`' || may_open_arguments(bytes, at) {
                        positions.push(at);
                    }
                    at += 1;
                    continue;
                }
                ByteClass::Other => {
                    at += 1;
                    continue;
                }
            }
            let start = at;
            let mut ascii = true;
            while let Some(&byte) = bytes.get(at) {
                match BYTE_CLASS[usize::from(byte)] {
                    ByteClass::Word => {}
                    ByteClass::Wide => ascii = false,
                    ByteClass::Open | ByteClass::Other => break,
                }
                at += 1;
            }
            let word = &bytes[start..at];
            if word == b"new" {
                positions.push(start);
            } else if imports.is_empty() {
                continue;
            } else if ascii {
                if imports.lookup(word).is_some() {
                    positions.push(start);
                }
            } else {
                mark_unicode_words(source, start, at, imports, &mut positions);
            }
        }
        Marks { positions }
    }

    /// The marks in `start..end`.
    fn within(&self, start: usize, end: usize) -> &[usize] {
        let from = self.positions.partition_point(|&p| p < start);
        let to = self.positions.partition_point(|&p| p < end);
        self.positions.get(from..to).unwrap_or_default()
    }
}

/// What a byte is to the mark scan, looked up in a table: the scan reads
/// every byte of every file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ByteClass {
    Other,
    /// ASCII identifier characters and backslashes (escapes).
    Word,
    /// Non-ASCII bytes: part of a word, so a word never splits a character.
    Wide,
    /// `(` and the backtick, which may open a call's arguments.
    Open,
}

const BYTE_CLASS: [ByteClass; 256] = {
    let mut table = [ByteClass::Other; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = if !b.is_ascii() {
            ByteClass::Wide
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'\\' {
            ByteClass::Word
        } else if b == b'(' || b == b'`' {
            ByteClass::Open
        } else {
            ByteClass::Other
        };
        byte += 1;
    }
    table
};

fn is_word_byte(byte: u8) -> bool {
    matches!(
        BYTE_CLASS[usize::from(byte)],
        ByteClass::Word | ByteClass::Wide
    )
}

/// Marks the import names in a word with non-ASCII characters. Such a word
/// may hold an identifier next to Unicode whitespace (`\u{a0}name`), so it
/// is split there; identifiers never contain whitespace.
fn mark_unicode_words(
    source: &str,
    start: usize,
    end: usize,
    imports: &Imports,
    positions: &mut Vec<usize>,
) {
    let Some(word) = source.get(start..end) else {
        // Not on character boundaries, which a word always is: look everywhere.
        positions.extend(start..end);
        return;
    };
    let mut piece_start = 0;
    for (offset, c) in word
        .char_indices()
        .chain(std::iter::once((word.len(), ' ')))
    {
        if c.is_whitespace() || c == '\u{feff}' {
            let piece = word.get(piece_start..offset).unwrap_or_default();
            if imports.lookup(piece.as_bytes()).is_some() {
                positions.push(start + piece_start);
            }
            piece_start = offset + c.len_utf8();
        }
    }
}

/// Whether the `(` at `at` may open a call's arguments. It may not where the
/// code before it on the same line cannot end a callee: an operator or an
/// opening bracket (`= (a) =>`, `a && (b)`), a keyword (`if (`, `return (`),
/// or a function's name (`function f(`). Across a line break a comment may
/// come between callee and `(`, so there it always may.
fn may_open_arguments(bytes: &[u8], at: usize) -> bool {
    let before = &bytes[..at];
    let Some(end) = before.iter().rposition(|&b| b != b' ' && b != b'\t') else {
        return true;
    };
    let last = before[end];
    if !is_word_byte(last) {
        return !matches!(
            last,
            b'=' | b','
                | b'('
                | b'['
                | b'{'
                | b';'
                | b':'
                | b'&'
                | b'|'
                | b'+'
                | b'-'
                | b'*'
                | b'%'
                | b'^'
                | b'~'
                | b'<'
                | b'?'
        );
    }
    let start = word_start(before, end);
    if is_property_name(before, start) {
        return true;
    }
    let word = &before[start..=end];
    let keyword = matches!(
        word,
        b"if"
            | b"for"
            | b"while"
            | b"switch"
            | b"catch"
            | b"with"
            | b"return"
            | b"typeof"
            | b"void"
            | b"case"
            | b"else"
            | b"do"
            | b"delete"
            | b"instanceof"
            | b"throw"
            | b"in"
            | b"function"
    );
    !keyword && !names_a_function(before, start)
}

/// Where the word ending at `end` starts.
fn word_start(bytes: &[u8], end: usize) -> usize {
    bytes[..=end]
        .iter()
        .rposition(|&b| !is_word_byte(b))
        .map_or(0, |i| i + 1)
}

/// Whether the word at `start` follows `.` or `#`: a property, which may be
/// named like a keyword (`promise.catch(`).
fn is_property_name(bytes: &[u8], start: usize) -> bool {
    bytes[..start]
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .is_some_and(|i| matches!(bytes[i], b'.' | b'#'))
}

/// Whether the word at `start` is the name in `function name` or
/// `function* name`.
fn names_a_function(bytes: &[u8], start: usize) -> bool {
    let mut end = start;
    let skip_blanks = |end: &mut usize| {
        while *end > 0 && bytes[*end - 1].is_ascii_whitespace() {
            *end -= 1;
        }
    };
    skip_blanks(&mut end);
    if end > 0 && bytes[end - 1] == b'*' {
        end -= 1;
        skip_blanks(&mut end);
    }
    end >= 8 && &bytes[end - 8..end] == b"function" && (end == 8 || !is_word_byte(bytes[end - 9]))
}

/// Computes chunk metadata by walking the tree.
struct MetadataWalker<'a, 's> {
    read: Reader<'a, 's>,
    imports: &'a Imports<'s>,
    marks: &'a Marks,
}

impl<'s> MetadataWalker<'_, 's> {
    /// The metadata of every candidate, in order. Each outermost chunk is
    /// walked once, and what is found is credited to every chunk around it:
    /// a class and its methods share one walk.
    fn nested(&self, candidates: &[Candidate]) -> Result<Vec<Gathered<'s>>, ChunkError> {
        let ranges: Vec<(usize, usize)> = candidates.iter().map(|c| c.span.byte_range()).collect();
        let mut credit = Credit::new(&ranges);
        let mut path = None;
        let mut outer_end = 0;
        for (candidate, &(start, end)) in candidates.iter().zip(&ranges) {
            if start < outer_end {
                continue;
            }
            outer_end = end;
            let path = Path::at(&mut path, candidate.span.root);
            self.walk(path, (start, end), &mut credit)?;
        }
        Ok(credit.gathered)
    }

    /// What the given nodes hold, together.
    fn flat(&self, nodes: &[Node]) -> Result<Gathered<'s>, ChunkError> {
        let everything = [(0, usize::MAX)];
        let mut credit = Credit::new(&everything);
        let mut path = None;
        for node in nodes {
            let range = (node.start_byte(), node.end_byte());
            self.walk(Path::at(&mut path, *node), range, &mut credit)?;
        }
        Ok(credit.gathered.pop().unwrap_or_default())
    }

    /// Visits the leaf under each mark in `start..end`, in order, with a
    /// cursor (from the path's root) that only moves forward: no recursion,
    /// and the code between marks is skipped whole.
    fn walk(
        &self,
        path: &mut Path,
        (start, end): (usize, usize),
        credit: &mut Credit<'_, 's>,
    ) -> Result<(), ChunkError> {
        let mut last_leaf = None;
        for &mark in self.marks.within(start, end) {
            let Some(leaf) = path.seek(mark) else {
                continue;
            };
            // A word marked byte by byte is one leaf: look at it once.
            if last_leaf == Some(leaf.id()) {
                continue;
            }
            last_leaf = Some(leaf.id());
            credit.reach(mark);
            self.visit(leaf, mark, path, credit)?;
        }
        Ok(())
    }

    /// What the leaf under a mark is: the `(` of a call's arguments, the
    /// backtick of a tagged template, the `new` of a `new` expression, or a
    /// name that may be an import.
    fn visit(
        &self,
        leaf: Node,
        mark: usize,
        path: &Path,
        credit: &mut Credit<'_, 's>,
    ) -> Result<(), ChunkError> {
        let kind = self.read.kind(leaf);
        if kind.is_reference() {
            if let Some(index) = self.imports.lookup(self.read.text(leaf)?.as_bytes()) {
                credit.import(index, self.imports);
            }
            return Ok(());
        }
        let (Some(parent), Some(grandparent)) = (path.ancestor(1), path.ancestor(2)) else {
            return Ok(());
        };
        if parent.start_byte() != mark {
            return Ok(());
        }
        match (self.read.kind(parent), self.read.kind(grandparent)) {
            (Kind::NewExpression, _) => self.new_expression(parent, credit),
            (Kind::Arguments | Kind::TemplateString, Kind::CallExpression)
                if self.read.field(grandparent, Field::Arguments) == Some(parent) =>
            {
                self.call(grandparent, credit)
            }
            _ => Ok(()),
        }
    }

    fn call(&self, call: Node, credit: &mut Credit<'_, 's>) -> Result<(), ChunkError> {
        if let Some(callee) = self.read.field(call, Field::Function)
            && let Some(text) = callee_text(self.read.text(callee)?)
        {
            credit.call(text);
        }
        Ok(())
    }

    fn new_expression(&self, new: Node, credit: &mut Credit<'_, 's>) -> Result<(), ChunkError> {
        if let Some(class) = self.read.field(new, Field::Constructor)
            && let Some(text) = callee_text(self.read.text(class)?)
        {
            credit.call(Cow::Owned(format!("new {text}")));
        }
        Ok(())
    }
}

/// A tree cursor and the nodes from its root down to where it is, moving
/// forward through the text. Moving to a later byte climbs only as far as
/// needed, steps over siblings, then descends: each node is entered at most
/// once, so a walk costs the nodes on the way to its marks, not the subtree.
struct Path<'t> {
    cursor: TreeCursor<'t>,
    /// (node, its end byte), root first.
    nodes: Vec<(Node<'t>, usize)>,
}

impl<'t> Path<'t> {
    /// The path in `slot`, reset to start at `root`: one cursor and one
    /// buffer serve all the walks of a file.
    fn at<'p>(slot: &'p mut Option<Path<'t>>, root: Node<'t>) -> &'p mut Path<'t> {
        let path = slot.get_or_insert_with(|| Path {
            cursor: root.walk(),
            nodes: Vec::new(),
        });
        path.cursor.reset(root);
        path.nodes.clear();
        path.nodes.push((root, root.end_byte()));
        path
    }

    /// The node `generations` above the current one.
    fn ancestor(&self, generations: usize) -> Option<Node<'t>> {
        let index = self.nodes.len().checked_sub(generations + 1)?;
        self.nodes.get(index).map(|(node, _)| *node)
    }

    /// Moves to the leaf holding byte `target` (which must not be before
    /// the current node), or returns None if no leaf does.
    fn seek(&mut self, target: usize) -> Option<Node<'t>> {
        self.climb(target);
        if !self.step_over(target) {
            return None;
        }
        self.descend(target)
    }

    /// Up while the parent ends before `target`: its remaining children,
    /// and the current node's, are never looked at.
    fn climb(&mut self, target: usize) {
        while self.nodes.len() > 1
            && self
                .nodes
                .get(self.nodes.len() - 2)
                .is_some_and(|&(_, end)| end <= target)
            && self.cursor.goto_parent()
        {
            self.nodes.pop();
        }
    }

    /// Sideways to the sibling that ends after `target`; false if none does.
    fn step_over(&mut self, target: usize) -> bool {
        loop {
            let Some(&(_, end)) = self.nodes.last() else {
                return false;
            };
            if end > target {
                return true;
            }
            if self.nodes.len() == 1 || !self.cursor.goto_next_sibling() {
                return false;
            }
            let node = self.cursor.node();
            if let Some(last) = self.nodes.last_mut() {
                *last = (node, node.end_byte());
            }
        }
    }

    /// Down through the children holding `target` to a leaf.
    fn descend(&mut self, target: usize) -> Option<Node<'t>> {
        while self.cursor.goto_first_child_for_byte(target).is_some() {
            let node = self.cursor.node();
            self.nodes.push((node, node.end_byte()));
        }
        let (leaf, _) = *self.nodes.last()?;
        (leaf.start_byte() <= target).then_some(leaf)
    }
}

/// Credits what the walk finds to every chunk whose range holds it. Chunks
/// nest or are disjoint, and the walk moves forward through the text, so
/// the chunks around the current node form a stack.
struct Credit<'r, 's> {
    ranges: &'r [(usize, usize)],
    gathered: Vec<Gathered<'s>>,
    open: Vec<usize>,
    next: usize,
}

impl<'r, 's> Credit<'r, 's> {
    fn new(ranges: &'r [(usize, usize)]) -> Self {
        Credit {
            ranges,
            gathered: ranges.iter().map(|_| Gathered::default()).collect(),
            open: Vec::new(),
            next: 0,
        }
    }

    /// The walk is at `position`: open the chunks started by now, close the
    /// ones that ended.
    fn reach(&mut self, position: usize) {
        while let Some(&(start, _)) = self.ranges.get(self.next)
            && start <= position
        {
            self.close_before(start);
            self.open.push(self.next);
            self.next += 1;
        }
        self.close_before(position);
    }

    fn close_before(&mut self, position: usize) {
        while let Some(&top) = self.open.last()
            && self.ranges.get(top).is_none_or(|&(_, end)| end <= position)
        {
            self.open.pop();
        }
    }

    fn call(&mut self, callee: Cow<'s, str>) {
        for &index in &self.open {
            if let Some(gathered) = self.gathered.get_mut(index) {
                gathered.call(callee.clone());
            }
        }
    }

    fn import(&mut self, index: usize, imports: &Imports) {
        for &open in &self.open {
            if let Some(gathered) = self.gathered.get_mut(open) {
                gathered.import(index, imports);
            }
        }
    }
}

/// One chunk's calls and imports, in order of first appearance.
#[derive(Default)]
struct Gathered<'s> {
    calls: Vec<Cow<'s, str>>,
    seen_calls: HashSet<Cow<'s, str>, FnvBuild>,
    imports: Vec<ImportRef>,
    import_indexes: Vec<usize>,
}

/// Below this many distinct calls a scan finds duplicates faster than a
/// hash set, and most chunks stay below it.
const CALLS_WITHOUT_SET: usize = 16;

impl<'s> Gathered<'s> {
    fn call(&mut self, callee: Cow<'s, str>) {
        if self.calls.len() >= MAX_CALLS {
            return;
        }
        if self.calls.len() < CALLS_WITHOUT_SET {
            if !self.calls.contains(&callee) {
                self.calls.push(callee);
            }
            return;
        }
        if self.seen_calls.is_empty() {
            self.seen_calls.extend(self.calls.iter().cloned());
        }
        if self.seen_calls.insert(callee.clone()) {
            self.calls.push(callee);
        }
    }

    fn import(&mut self, index: usize, imports: &Imports) {
        // A chunk refers to few distinct imports: a scan beats a set.
        if self.import_indexes.contains(&index) {
            return;
        }
        if let Some(import) = imports.refs.get(index) {
            self.import_indexes.push(index);
            self.imports.push(import.clone());
        }
    }

    fn into_metadata(self, exported: bool) -> ChunkMetadata {
        ChunkMetadata {
            exported,
            imports: self.imports,
            calls: self.calls.into_iter().map(Cow::into_owned).collect(),
        }
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
            vec!["fetch", "fetch('/a').then"]
        );
        assert_eq!(
            find(&chunks, "Api.save").metadata.calls,
            vec!["this.validate", "new Request"]
        );
        assert_eq!(
            find(&chunks, "Api").metadata.calls,
            vec!["fetch", "fetch('/a').then", "this.validate", "new Request"]
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
            vec!["promise.then", "promise.then(a).catch"]
        );
    }

    #[test]
    fn every_kind_of_call_is_found() {
        let source = r#"export function all() {
  of(1, 2);
  promise.catch(fail).finally(done);
  obj.if(x);
  super.method();
  import('./lazy');
  maybe?.(1);
  required!();
  generic<string>('x');
  html`<p>${name}</p>`;
  new Date;
  split
    (1);
  spaced /* why */ (2);
  commented // = (
    (3);
  return (wrapped)(4);
}
"#;
        let calls = &ts(source)[0].metadata.calls;
        assert_eq!(
            calls,
            &[
                "of",
                "promise.catch",
                "promise.catch(fail).finally",
                "obj.if",
                "super.method",
                "import",
                "maybe",
                "required!",
                "generic",
                "html",
                "new Date",
                "split",
                "spaced",
                "commented",
                "(wrapped)",
            ]
        );
    }

    #[test]
    fn parentheses_that_cannot_open_arguments_are_not_marks() {
        let marked = |source: &str| {
            let at = source.rfind('(').unwrap();
            may_open_arguments(source.as_bytes(), at)
        };
        for not_a_call in [
            "if (",
            "} else if(",
            "return (",
            "x = (",
            "f(a, (",
            "a && (",
            "cond ? (",
            "function (",
            "function name(",
            "async function* gen (",
            "for (",
            "typeof (",
        ] {
            assert!(!marked(not_a_call), "{not_a_call}");
        }
        for call in [
            "f(",
            "f (",
            "promise.catch(",
            "obj.\n  if(",
            "this.#for(",
            "of(",
            "await(",
            "x!(",
            "f<T>(",
            "f()(",
            "a[0](",
            "tag`x`(",
            "x = \n(",
            "/* c */ (",
            "functional(",
            "my_function(",
            "(",
        ] {
            assert!(marked(call), "{call}");
        }
    }

    #[test]
    fn imports_are_found_next_to_unicode_whitespace_and_in_unicode_names() {
        let source = "import { z } from 'zod';\nimport { été } from './e';\nexport const A = [\u{a0}z,\u{feff}été];\nexport const B = 'été z';\n";
        let chunks = ts(source);
        assert_eq!(
            find(&chunks, "A").metadata.imports,
            vec![import("z", "zod"), import("été", "./e")]
        );
        assert!(find(&chunks, "B").metadata.imports.is_empty());
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
        assert_eq!(start.metadata.calls, vec!["express", "express().listen"]);
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
