//! Cuts a parsed file into chunks: one per declaration worth finding on its
//! own (functions, classes and their methods, types, namespaces, exported
//! constants), plus one `module` chunk for the top-level code left over, so a
//! valid file never ends up with "no chunks".
//!
//! Two passes: one over the statements to find the chunks (`finder`), then
//! one walk per outermost chunk for metadata (`metadata`), which also serves
//! the chunks nested in it (methods, namespace members) and goes only where a
//! pre-scan of the text (`marks`) says a call or an import reference may
//! be. Every walk is iterative: real files nest thousands of levels deep and
//! Rust recursion would overflow the stack.

mod finder;
mod imports;
mod marks;
mod metadata;
mod syntax;

use serde::{Deserialize, Serialize};
use tree_sitter::{Point, Tree};

use super::grammar::Grammars;
use super::lines::{self, LineIndex};

use crate::vocabulary::vocabulary;
use finder::{Candidate, Finder, TopLevel};
use marks::Marks;
use metadata::MetadataWalker;
use syntax::{Kind, Reader, SourceText, Syntax};

/// At most this many distinct callees are kept per chunk: enough to say what
/// a chunk depends on without letting a generated file bloat every row.
pub const MAX_CALLS: usize = 200;

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
    /// A `.vue`/`.svelte` component: the whole file, template and styles
    /// too, named after it.
    Component,
}

vocabulary!(ChunkType, "chunk type", {
    Function => "function",
    Generator => "generator",
    Class => "class",
    Method => "method",
    Interface => "interface",
    TypeAlias => "type_alias",
    Enum => "enum",
    Namespace => "namespace",
    ArrowFunction => "arrow_function",
    FunctionExpression => "function_expression",
    Constant => "constant",
    Module => "module",
    Component => "component",
});

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

/// Identifies a text together with the code that chunks it: the same text
/// cut by the same chunker source (fingerprinted by `build.rs`) and grammars
/// gives the same chunks, so stored chunks under an equal key need not be
/// rewritten.
pub fn source_key(source: &str, grammars: &Grammars) -> i64 {
    static CHUNKER: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| {
        xxhash_rust::xxh3::xxh3_64(env!("SNAG_CHUNKER_DIGEST").as_bytes())
    });
    // The bits as they are: PostgreSQL's BIGINT is signed.
    xxhash_rust::xxh3::xxh3_64_with_seed(source.as_bytes(), *CHUNKER ^ grammars.key()) as i64
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
    let regions: Vec<_> = found.iter().map(Candidate::region).collect();
    let metadata = walker.nested(&regions)?;
    for (candidate, metadata) in found.into_iter().zip(metadata) {
        chunks.push(candidate.into_chunk(read.text, metadata)?);
    }
    // tree-sitter's rows count LF only; TypeScript's lines also end at a
    // lone CR, U+2028 and U+2029.
    if lines::has_other_breaks(source) {
        let index = LineIndex::new(source);
        for chunk in &mut chunks {
            (chunk.start_line, chunk.end_line) = index.line_span(chunk.start_byte, chunk.end_byte);
        }
    }
    Ok(chunks)
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::index::language::Language;

    fn parse(language: Language, source: &str) -> Tree {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(crate::index::grammar::Grammars::built_in().language(language))
            .unwrap();
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
    fn imports_are_found_next_to_unicode_whitespace_and_in_unicode_names() {
        let source = "import { z } from 'zod';\nimport { été } from './e';\nexport const A = [\u{a0}z,\u{feff}été, new\u{a0}Map()];\nexport const B = 'été z';\n";
        let chunks = ts(source);
        assert_eq!(
            find(&chunks, "A").metadata.imports,
            vec![import("z", "zod"), import("été", "./e")]
        );
        assert_eq!(find(&chunks, "A").metadata.calls, vec!["new Map"]);
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
        assert_eq!(chunks.len(), finder::MAX_NAMESPACE_DEPTH + 1);
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
