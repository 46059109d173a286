//! Single-file components (`.vue`, `.svelte`): their top-level `<script>`
//! blocks, found by tree-sitter-html, and the text the script grammar
//! parses. That text is the file itself with every byte outside the blocks
//! blanked (a space; line breaks kept): the same length, the same lines,
//! so every byte offset, line and column of the parse, of its errors and
//! of its chunks is the file's own, and the file's own text gives exact
//! character columns. `<template>` expressions are not parsed.

use std::collections::HashSet;
use std::ops::Range;
use std::time::Duration;

use super::chunk::{Chunk, ChunkMetadata, ChunkType, MAX_CALLS};
use super::language::Language;
use super::lines::LineIndex;
use super::syntax::{OutOfTime, parse_within};

/// The scripts of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// The grammar for all of them: TSX when a block says `lang="tsx"`,
    /// else TypeScript when one says `ts`, else JavaScript.
    pub language: Language,
    /// The file with everything outside the blocks blanked.
    pub text: String,
}

/// Finds components' scripts with one HTML parser, file after file.
pub struct ScriptFinder {
    parser: tree_sitter::Parser,
}

impl Default for ScriptFinder {
    fn default() -> Self {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&tree_sitter_html::LANGUAGE.into())
            .expect("the HTML grammar matches tree-sitter's ABI");
        ScriptFinder { parser }
    }
}

impl ScriptFinder {
    /// The scripts of the component `text`, or `None` when it has no
    /// top-level `<script>` block with code (a template-only component, or
    /// scripts in languages snag does not parse, such as CoffeeScript or
    /// JSON). The HTML parse may take `budget` at most: deeply nested
    /// markup costs tree-sitter-html time that grows with the nesting for
    /// every tag.
    pub fn scripts(&mut self, text: &str, budget: Duration) -> Result<Option<Scripts>, OutOfTime> {
        // Only the blocks' places and attributes are read from the HTML
        // tree: it is built from a copy in which the template's expressions
        // cannot pass for markup (see `structure`); the code comes from
        // `text`.
        let tree = parse_within(&mut self.parser, &structure(text), budget)?;
        Ok(blocks(&tree, text))
    }
}

/// How wide a block's language is: blocks in different languages are all
/// parsed with the widest (JavaScript < TypeScript < TSX).
fn width(language: Language) -> u8 {
    match language {
        Language::JavaScript => 0,
        Language::TypeScript => 1,
        Language::Tsx => 2,
    }
}

/// The scripts the HTML `tree` of `text` finds.
fn blocks(tree: &tree_sitter::Tree, text: &str) -> Option<Scripts> {
    let root = tree.root_node();
    let mut found: Vec<(Range<usize>, Language)> = Vec::new();
    let mut cursor = root.walk();
    for element in root.named_children(&mut cursor) {
        let mut inner = element.walk();
        let children: Vec<tree_sitter::Node> = element.named_children(&mut inner).collect();
        let tag = children.iter().find(|c| c.kind() == "start_tag");
        // A block never closed is an ERROR holding its start tag and its
        // code, which runs to the end of the file.
        let is_script = match element.kind() {
            "script_element" => true,
            "ERROR" => tag.is_some_and(|tag| tag_name(*tag, text).eq_ignore_ascii_case("script")),
            _ => false,
        };
        let Some(language) = tag
            .filter(|_| is_script)
            .and_then(|tag| block_language(*tag, text))
        else {
            continue;
        };
        let Some(code) = children.iter().find(|c| c.kind() == "raw_text") else {
            continue;
        };
        let bytes = code.byte_range();
        if text[bytes.clone()].trim().is_empty() {
            continue;
        }
        found.push((bytes, language));
    }
    let language = found.iter().map(|(_, l)| *l).max_by_key(|l| width(*l))?;
    let blocks: Vec<Range<usize>> = found.into_iter().map(|(bytes, _)| bytes).collect();
    Some(Scripts {
        language,
        text: blanked(text, &blocks),
    })
}

/// The name a component's scripts are read under by tools that decide
/// TypeScript or JSX by the name: `App.vue.ts`, `Card.svelte.js`.
pub fn script_name(rel_path: &str, language: Language) -> String {
    format!("{rel_path}.{}", language.extension())
}

/// The `component` chunk of a component whose scripts were cut into
/// `chunks`: the whole file (template and styles too), named after the
/// file, exported (it is its module's default export), with every import
/// and call its scripts' chunks name.
pub fn component_chunk(rel_path: &str, text: &str, chunks: &[Chunk]) -> Chunk {
    let shown = crate::stored_path::display(rel_path);
    let file_name = shown.rsplit('/').next().unwrap_or(&shown);
    let name = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem)
        .to_owned();
    let mut metadata = ChunkMetadata {
        exported: true,
        ..ChunkMetadata::default()
    };
    let mut seen_imports = HashSet::new();
    let mut seen_calls = HashSet::new();
    for chunk in chunks {
        for import in &chunk.metadata.imports {
            if seen_imports.insert((&import.name, &import.source)) {
                metadata.imports.push(import.clone());
            }
        }
        for call in &chunk.metadata.calls {
            if metadata.calls.len() < MAX_CALLS && seen_calls.insert(call) {
                metadata.calls.push(call.clone());
            }
        }
    }
    let (start_line, end_line) = LineIndex::new(text).line_span(0, text.len());
    Chunk {
        chunk_type: ChunkType::Component,
        qualified_name: name.clone(),
        name,
        start_line,
        end_line,
        start_byte: 0,
        end_byte: text.len(),
        source: text.to_owned(),
        metadata,
    }
}

/// The name a start tag opens.
fn tag_name<'t>(tag: tree_sitter::Node, text: &'t str) -> &'t str {
    let mut cursor = tag.walk();
    let name = tag
        .named_children(&mut cursor)
        .find(|c| c.kind() == "tag_name");
    name.map_or("", |name| &text[name.byte_range()])
}

/// What a `<script>` start tag says its code is, when snag parses it.
fn block_language(tag: tree_sitter::Node, text: &str) -> Option<Language> {
    let mut language = Language::JavaScript;
    let mut cursor = tag.walk();
    for attribute in tag.named_children(&mut cursor) {
        if attribute.kind() != "attribute" {
            continue;
        }
        let mut inner = attribute.walk();
        let mut name = None;
        let mut value = String::new();
        for part in attribute.named_children(&mut inner) {
            match part.kind() {
                "attribute_name" => name = Some(text[part.byte_range()].to_ascii_lowercase()),
                "attribute_value" => value = text[part.byte_range()].to_owned(),
                "quoted_attribute_value" => {
                    let quoted = &text[part.byte_range()];
                    value = quoted.trim_matches(['"', '\'']).to_owned();
                }
                _ => {}
            }
        }
        let value = value.trim().to_ascii_lowercase();
        match name.as_deref() {
            Some("lang") => {
                language = match value.as_str() {
                    "ts" | "typescript" => Language::TypeScript,
                    "tsx" => Language::Tsx,
                    "js" | "javascript" | "jsx" | "" => Language::JavaScript,
                    _ => return None,
                };
            }
            Some("type") => match value.as_str() {
                "" | "module" | "text/javascript" | "application/javascript" => {}
                "text/typescript" | "ts" => language = Language::TypeScript,
                _ => return None,
            },
            // An external script has no code of its own here.
            Some("src") => return None,
            _ => {}
        }
    }
    Some(language)
}

/// `text` as the HTML grammar should see it to find the blocks: the same
/// bytes but `&` (template expressions' `a && b` would be taken for broken
/// character references) and, inside braces (Vue's `{{ a < b }}`,
/// Svelte's `{#if a < b}`, attribute objects), `<` and `>`, as spaces. An
/// HTML parser recovering from those loses the blocks after them.
fn structure(text: &str) -> String {
    let mut depth = 0usize;
    let bytes: Vec<u8> = text
        .bytes()
        .map(|byte| match byte {
            b'{' => {
                depth += 1;
                byte
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                byte
            }
            b'&' => b' ',
            b'<' | b'>' if depth > 0 => b' ',
            _ => byte,
        })
        .collect();
    String::from_utf8(bytes).expect("only ASCII bytes were replaced")
}

/// `text` with every byte outside `blocks` a space, line breaks kept.
fn blanked(text: &str, blocks: &[Range<usize>]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let mut kept = blocks.iter().peekable();
    for (at, byte) in bytes.iter_mut().enumerate() {
        while kept.peek().is_some_and(|block| block.end <= at) {
            kept.next();
        }
        let inside = kept.peek().is_some_and(|block| block.contains(&at));
        if !inside && *byte != b'\n' && *byte != b'\r' {
            *byte = b' ';
        }
    }
    // Only whole characters were kept (blocks start and end at ASCII tag
    // characters), and every other byte is ASCII now.
    String::from_utf8(bytes).expect("blanking keeps UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether tree-sitter parses the blanked text without an error.
    fn parses(scripts: &Scripts) -> bool {
        let mut parser = tree_sitter::Parser::new();
        let grammars = crate::index::grammar::Grammars::built_in();
        parser
            .set_language(grammars.language(scripts.language))
            .unwrap();
        !parser
            .parse(&scripts.text, None)
            .unwrap()
            .root_node()
            .has_error()
    }

    /// The code lines left in the blanked text.
    fn code(scripts: &Scripts) -> Vec<&str> {
        scripts
            .text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect()
    }

    #[test]
    fn a_setup_block_in_typescript_keeps_its_lines_and_columns() {
        let text = "<template>\n  <p>{{ msg }}</p>\n</template>\n\n<script setup lang=\"ts\">\nconst msg: string = 'é';\n</script>\n\n<style>\np { color: red; }\n</style>\n";
        let scripts = scripts_of(text);
        assert_eq!(scripts.language, Language::TypeScript);
        assert_eq!(code(&scripts), ["const msg: string = 'é';"]);
        assert_eq!(scripts.text.len(), text.len());
        assert_eq!(scripts.text.lines().count(), text.lines().count());
        // The code sits where it sits in the file; the rest is blank.
        let at = text.find("const").unwrap();
        assert_eq!(&scripts.text[at..at + 5], "const");
        assert!(!scripts.text.contains("template"));
        assert!(!scripts.text.contains("color"));
        assert!(parses(&scripts));
    }

    #[test]
    fn two_blocks_take_the_widest_language() {
        let text = "<script>\nexport default { name: 'A' }\n</script>\n<script setup lang=\"tsx\">\nconst v = <div />;\n</script>\n";
        let scripts = scripts_of(text);
        assert_eq!(scripts.language, Language::Tsx);
        assert_eq!(
            code(&scripts),
            ["export default { name: 'A' }", "const v = <div />;"]
        );
        assert!(parses(&scripts));
    }

    #[test]
    fn svelte_module_and_instance_scripts() {
        let text = "<script context=\"module\" lang=\"ts\">\n  export const prerender = true;\n</script>\n\n<script lang=\"ts\">\n  export let name: string;\n</script>\n\n<h1>Hello {name}!</h1>\n{#if name}<p>x</p>{/if}\n";
        let scripts = scripts_of(text);
        assert_eq!(scripts.language, Language::TypeScript);
        assert_eq!(
            code(&scripts),
            ["export const prerender = true;", "export let name: string;"]
        );
        assert!(parses(&scripts));
    }

    #[test]
    fn crlf_and_text_before_the_block_keep_offsets() {
        let text = "<!-- ünïcödé 🎉 -->\r\n<template><div/></template>\r\n<script lang=\"ts\">\r\nlet a = 1;\r\n</script>\r\n";
        let scripts = scripts_of(text);
        assert_eq!(scripts.text.len(), text.len());
        let at = text.find("let a").unwrap();
        assert_eq!(&scripts.text[at..at + 5], "let a");
        assert_eq!(scripts.text.matches("\r\n").count(), 5);
    }

    #[test]
    fn template_expressions_do_not_hide_the_blocks_after_them() {
        let vue = "<template>\n  <p v-if=\"a && b\">{{ a && b ? x : y }} {{ n < 2 }}</p>\n</template>\n<script setup lang=\"ts\">\nconst a = 1 && 2;\n</script>\n";
        let scripts = scripts_of(vue);
        assert_eq!(code(&scripts), ["const a = 1 && 2;"]);
        assert!(parses(&scripts));
        let svelte = "{#if a < b && c}\n<p>{a > b}</p>\n{/if}\n<script>\nlet a = 1, b = 2, c = a < b;\n</script>\n";
        let scripts = scripts_of(svelte);
        assert_eq!(code(&scripts), ["let a = 1, b = 2, c = a < b;"]);
        assert!(parses(&scripts));
    }

    #[test]
    fn hostile_components_give_an_answer() {
        // Commented out: not a block.
        assert_eq!(found("<!-- <script>let a = 1;</script> -->\n"), None);
        // Never closed: the code runs to the end of the file.
        let open = scripts_of("<template><p/></template>\n<script lang=\"ts\">\nlet a = 1;\n");
        assert_eq!(code(&open), ["let a = 1;"]);
        // HTML ends the block at the first `</script>`, as Vue's and
        // Svelte's compilers do: what follows is markup.
        let cut = scripts_of("<script>\nconst end = '</script>';\n</script>\n");
        assert_eq!(code(&cut), ["const end = '"]);
        assert!(!parses(&cut));
        // Deep markup, stray brackets and bytes of every kind.
        let deep = |depth: usize| {
            format!(
                "{}{{{{ a < b > c }}}}{}\n<script>let ok = 1;</script>",
                "<div>".repeat(depth),
                "</div>".repeat(depth)
            )
        };
        assert_eq!(code(&scripts_of(&deep(2_000))), ["let ok = 1;"]);
        // Deeper markup costs the HTML parser more for every tag: it is
        // stopped at its budget, and says how far it got.
        let stopped = ScriptFinder::default()
            .scripts(&deep(50_000), Duration::ZERO)
            .unwrap_err();
        assert!(stopped.reached < deep(50_000).len(), "{stopped:?}");
        for text in [
            "<",
            "<script",
            "<script>",
            "</script>",
            "<script lang=>x</script>",
            "\u{feff}<script>é</script>",
        ] {
            if let Some(result) = found(text) {
                assert_eq!(result.text.len(), text.len(), "{text:?}");
            }
        }
    }

    fn found(text: &str) -> Option<Scripts> {
        ScriptFinder::default()
            .scripts(text, Duration::from_secs(60))
            .expect("found within the budget")
    }

    fn scripts_of(text: &str) -> Scripts {
        found(text).unwrap_or_else(|| panic!("no script found in {text:?}"))
    }

    #[test]
    fn no_script_or_scripts_snag_does_not_parse() {
        assert_eq!(found("<template><p>hi</p></template>\n"), None);
        assert_eq!(found("<script>\n  \n</script>\n<template/>"), None);
        assert_eq!(found("<script lang=\"coffee\">\nx = 1\n</script>\n"), None);
        assert_eq!(
            found("<script type=\"application/ld+json\">{}</script>\n"),
            None
        );
        assert_eq!(found("<script src=\"./a.js\"></script>\n"), None);
        // A script nested in the template is not the component's.
        assert_eq!(
            found("<template><div><script>let a = 1;</script></div></template>\n"),
            None
        );
    }
}
