//! Which language (and so which grammar) parses which file.

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
    pub const ALL: [Language; 3] = [Language::TypeScript, Language::Tsx, Language::JavaScript];

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

    /// The usual extension of a file in this language, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Language::TypeScript => "ts",
            Language::Tsx => "tsx",
            Language::JavaScript => "js",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::JavaScript => "javascript",
        }
    }
}

/// What a discovered file holds, by its extension: a script in one
/// language, or a single-file component (`.vue`, `.svelte`) whose
/// `<script>` blocks are parsed, in the language they say, once the file
/// is read (see [`super::component`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Script(Language),
    Component,
}

impl FileKind {
    /// The kind of a file name by its extension, if snag parses it.
    pub fn for_path(path: &Path) -> Option<FileKind> {
        if let Some(language) = Language::for_path(path) {
            return Some(FileKind::Script(language));
        }
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        matches!(ext.as_str(), "vue" | "svelte").then_some(FileKind::Component)
    }

    /// The language, when the name alone says it.
    pub fn language(self) -> Option<Language> {
        match self {
            FileKind::Script(language) => Some(language),
            FileKind::Component => None,
        }
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
    fn components_are_known_by_their_extension() {
        for name in ["App.vue", "Card.svelte", "x/Y.VUE"] {
            assert_eq!(
                FileKind::for_path(Path::new(name)),
                Some(FileKind::Component),
                "{name}"
            );
        }
        assert_eq!(
            FileKind::for_path(Path::new("a.tsx")),
            Some(FileKind::Script(Language::Tsx))
        );
        assert_eq!(FileKind::for_path(Path::new("a.html")), None);
        assert_eq!(FileKind::Component.language(), None);
    }
}
