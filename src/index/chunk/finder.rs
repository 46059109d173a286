//! The one pass over the statements that finds the chunks, and the file's
//! imports on the way.

use tree_sitter::Node;

use super::imports::Imports;
use super::metadata::{Gathered, Region};
use super::syntax::{Field, Kind, Reader, SourceText};
use super::{Chunk, ChunkError, ChunkType, line_span};

/// Namespaces nested deeper than this stay whole inside their ancestor's chunk:
/// each level's chunk repeats the text of everything inside it, so splitting
/// pathological nesting would cost memory quadratic in the depth.
pub(super) const MAX_NAMESPACE_DEPTH: usize = 16;

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
pub(super) struct Candidate<'t> {
    chunk_type: ChunkType,
    name: String,
    qualified_name: String,
    span: Span<'t>,
    exported: bool,
}

impl<'t> Candidate<'t> {
    /// Where the metadata walk finds this chunk.
    pub(super) fn region(&self) -> Region<'t> {
        Region {
            root: self.span.root,
            range: self.span.byte_range(),
        }
    }

    pub(super) fn into_chunk(
        self,
        text: SourceText,
        gathered: Gathered,
    ) -> Result<Chunk, ChunkError> {
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

/// The top-level nodes no chunk covers.
#[derive(Default)]
pub(super) struct TopLevel<'t> {
    pub(super) statements: Vec<Node<'t>>,
    pub(super) trivia: Vec<Node<'t>>,
}

/// The one pass that finds chunks, and the file's imports on the way.
/// Containers (export and ambient wrappers, class bodies, namespace bodies)
/// are entered; function bodies never are.
pub(super) struct Finder<'a, 't, 's> {
    read: Reader<'a, 's>,
    pub(super) found: Vec<Candidate<'t>>,
    /// Namespace bodies still to scan: a stack, not recursion.
    pending: Vec<(Node<'t>, Scope)>,
    pub(super) imports: Imports<'s>,
}

impl<'a, 't, 's> Finder<'a, 't, 's> {
    pub(super) fn new(read: Reader<'a, 's>) -> Self {
        Finder {
            read,
            found: Vec::new(),
            pending: Vec::new(),
            imports: Imports::default(),
        }
    }

    pub(super) fn scan(&mut self, root: Node<'t>) -> Result<TopLevel<'t>, ChunkError> {
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
