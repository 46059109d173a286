//! Which grammar parses which file.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The languages snag parses, one per tree-sitter grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// `.ts .mts .cts` (and `.d.ts`)
    TypeScript,
    /// `.tsx`
    Tsx,
    /// `.js .jsx .mjs .cjs`: tree-sitter-javascript parses JSX too
    JavaScript,
}

impl Language {
    /// The language for a file name by its extension, if snag knows it.
    pub fn for_path(path: &Path) -> Option<Language> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "ts" | "mts" | "cts" => Some(Language::TypeScript),
            "tsx" => Some(Language::Tsx),
            "js" | "jsx" | "mjs" | "cjs" => Some(Language::JavaScript),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::JavaScript => "javascript",
        }
    }

    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
        }
    }

    /// The grammar crates' versions, recorded with every run.
    pub fn grammar_versions() -> serde_json::Value {
        serde_json::json!({
            "tree-sitter": tree_sitter::LANGUAGE_VERSION,
            "tree-sitter-typescript": "0.23.2",
            "tree-sitter-javascript": "0.23.1",
        })
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_map_to_grammars() {
        for (name, language) in [
            ("a.ts", Language::TypeScript),
            ("a.d.ts", Language::TypeScript),
            ("a.mts", Language::TypeScript),
            ("a.cts", Language::TypeScript),
            ("a.tsx", Language::Tsx),
            ("a.js", Language::JavaScript),
            ("a.JSX", Language::JavaScript),
            ("a.mjs", Language::JavaScript),
            ("a.cjs", Language::JavaScript),
        ] {
            assert_eq!(
                Language::for_path(Path::new(name)),
                Some(language),
                "{name}"
            );
        }
        assert_eq!(Language::for_path(Path::new("README.md")), None);
        assert_eq!(Language::for_path(Path::new("Makefile")), None);
    }

    #[test]
    fn every_grammar_loads() {
        for language in [Language::TypeScript, Language::Tsx, Language::JavaScript] {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&language.grammar()).unwrap();
            assert!(parser.parse("let x = 1;", None).is_some());
        }
    }
}
