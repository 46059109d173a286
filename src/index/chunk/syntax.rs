//! Reading nodes: the parsed text, and the grammar's kinds and fields as
//! numbers, so the hot paths compare integers instead of kind names.

use std::cell::RefCell;
use std::rc::Rc;

use tree_sitter::Node;

use super::{ChunkError, ChunkType};

/// The parsed text; every slice goes through here so a tree that does not
/// match its text is an error, never a panic.
#[derive(Clone, Copy)]
pub(super) struct SourceText<'s>(pub(super) &'s str);

impl<'s> SourceText<'s> {
    fn of(self, node: Node) -> Result<&'s str, ChunkError> {
        self.range(node, node.start_byte(), node.end_byte())
    }

    /// `node` only names the culprit in the error: asking for its kind costs
    /// a string conversion, so it is not done on the hot path.
    pub(super) fn range(self, node: Node, start: usize, end: usize) -> Result<&'s str, ChunkError> {
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
pub(super) enum Kind {
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
    pub(super) fn is_trivia(self) -> bool {
        matches!(
            self,
            Kind::Comment | Kind::HashBangLine | Kind::EmptyStatement
        )
    }

    /// Nodes whose text may be the local name of an import.
    pub(super) fn is_reference(self) -> bool {
        matches!(
            self,
            Kind::Identifier | Kind::OtherReference | Kind::ShorthandPropertyIdentifierPattern
        )
    }

    /// The chunk type of a function value bound to a name.
    pub(super) fn function_type(self) -> Option<ChunkType> {
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
pub(super) enum Field {
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
pub(super) struct Syntax {
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
    pub(super) fn for_language(language: &tree_sitter::Language) -> Rc<Syntax> {
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
pub(super) struct Reader<'a, 's> {
    pub(super) syntax: &'a Syntax,
    pub(super) text: SourceText<'s>,
}

impl<'s> Reader<'_, 's> {
    pub(super) fn kind(self, node: Node) -> Kind {
        // ERROR nodes (symbol 65535) fall outside the table: `Other`.
        let id = usize::from(node.kind_id());
        self.syntax.kinds.get(id).copied().unwrap_or(Kind::Other)
    }

    pub(super) fn field<'t>(self, node: Node<'t>, field: Field) -> Option<Node<'t>> {
        node.child_by_field_id(self.syntax.fields[field as usize]?)
    }

    pub(super) fn text(self, node: Node) -> Result<&'s str, ChunkError> {
        self.text.of(node)
    }

    /// A name as written, without the quotes of `declare module 'x'` or
    /// `'quoted'() {}`.
    pub(super) fn name(self, node: Node) -> Result<&'s str, ChunkError> {
        let text = self.text(node)?;
        Ok(if self.kind(node) == Kind::String {
            unquote(text)
        } else {
            text
        })
    }

    /// `(() => {})`, `(x) as T`, `x satisfies T`, `x!`: the expression inside.
    pub(super) fn unwrap_expression<'t>(self, mut node: Node<'t>) -> Node<'t> {
        while self.kind(node) == Kind::Wrapper {
            match node.named_child(0) {
                Some(inner) => node = inner,
                None => break,
            }
        }
        node
    }

    pub(super) fn first_named_child_of_kind<'t>(
        self,
        node: Node<'t>,
        kind: Kind,
    ) -> Option<Node<'t>> {
        let mut cursor = node.walk();
        node.named_children(&mut cursor)
            .find(|child| self.kind(*child) == kind)
    }
}
