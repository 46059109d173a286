//! The file's top-level import bindings: what a chunk's `imports` are
//! matched against.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use tree_sitter::Node;

use super::syntax::{Field, Kind, Reader};
use super::{ChunkError, ImportRef};

/// FNV-1a: import names are short and looked up once per identifier, where
/// SipHash's DoS resistance buys nothing.
pub(super) struct Fnv(u64);

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

pub(super) type FnvBuild = BuildHasherDefault<Fnv>;

/// The file's top-level import bindings.
#[derive(Default)]
pub(super) struct Imports<'s> {
    pub(super) refs: Vec<ImportRef>,
    by_name: HashMap<&'s [u8], usize, FnvBuild>,
    /// Bit n set if some name is n bytes long (n < 64), and the set of the
    /// names' first bytes: most words are rejected without hashing.
    lengths: u64,
    first_bytes: [u64; 4],
}

impl<'s> Imports<'s> {
    pub(super) fn statement(
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

    pub(super) fn lookup(&self, name: &[u8]) -> Option<usize> {
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
