//! The tree-sitter grammars a run parses with: the ones built into snag, or
//! grammars a maintainer builds from source (`--grammar DIR`, see
//! [`source`]) or loads prebuilt (`--grammar-lib FILE`, see [`library`]) to
//! measure a grammar change on real code.
//!
//! A loaded grammar's library is never unloaded (its parse tables are read
//! by every tree it made), so a grammar set lives as long as the process:
//! [`Grammars`] are handed out as `&'static`.

pub mod library;
pub mod source;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::language::Language;

/// Where a grammar came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Compiled into snag (the tree-sitter-typescript and
    /// tree-sitter-javascript crates).
    BuiltIn,
    /// Built from a grammar's sources with `--grammar`.
    Source,
    /// A prebuilt library loaded with `--grammar-lib`.
    Library,
}

/// What a run records of each grammar, and every surface shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrammarInfo {
    /// The grammar's name (`typescript`, `tsx`, `javascript`).
    pub name: String,
    /// The grammar's package version, when its folder says.
    pub version: Option<String>,
    pub origin: Origin,
    /// 16 hex digits: the sources' hash (`source`) or the library's bytes'
    /// (`library`); none for built-in grammars, which the version names.
    pub hash: Option<String>,
    /// The folder (as given to `--grammar`) or library it was loaded from.
    pub path: Option<String>,
    /// The tree-sitter ABI its parser was generated for.
    pub abi: usize,
}

impl GrammarInfo {
    /// `typescript 0.21.2 (source a1b2c3d4)`, `javascript 0.23.1 (built-in)`.
    pub fn label(&self) -> String {
        let version = self
            .version
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        let origin = match (self.origin, &self.hash) {
            (Origin::BuiltIn, _) => "built-in".to_owned(),
            (Origin::Source, Some(hash)) => format!("source {}", short(hash)),
            (Origin::Library, Some(hash)) => format!("library {}", short(hash)),
            (Origin::Source, None) => "source".to_owned(),
            (Origin::Library, None) => "library".to_owned(),
        };
        format!("{}{version} ({origin})", self.name)
    }
}

fn short(hash: &str) -> &str {
    hash.get(..8).unwrap_or(hash)
}

/// One grammar, ready for a parser.
#[derive(Clone)]
pub struct Grammar {
    pub language: tree_sitter::Language,
    pub info: GrammarInfo,
}

impl std::fmt::Debug for Grammar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Grammar").field(&self.info).finish()
    }
}

/// A grammar to load instead of a built-in one, as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrammarSource {
    /// `--grammar DIR`: a tree-sitter grammar's folder, built from source.
    Folder(PathBuf),
    /// `--grammar-lib FILE`: a prebuilt grammar library.
    Library(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum GrammarError {
    #[error("{path}: {message}")]
    Load { path: String, message: String },
    #[error(
        "{path}: the {name} grammar was generated for tree-sitter ABI {abi}; this snag reads ABI {min} to {max} (regenerate it with a matching tree-sitter CLI)"
    )]
    Abi {
        path: String,
        name: String,
        abi: usize,
        min: usize,
        max: usize,
    },
    #[error(
        "{path}: the {language} grammar is also given by {other}: give each language one grammar"
    )]
    Twice {
        path: String,
        language: Language,
        other: String,
    },
}

impl GrammarError {
    pub(crate) fn load(path: &Path, message: impl Into<String>) -> Self {
        GrammarError::Load {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// The grammar for each language snag parses.
#[derive(Debug)]
pub struct Grammars {
    typescript: Grammar,
    tsx: Grammar,
    javascript: Grammar,
    /// Identifies the set: results parsed with equal keys are comparable.
    key: u64,
}

static BUILT_IN: LazyLock<Grammars> = LazyLock::new(|| {
    let built_in = |name: &str, version: &str, language: tree_sitter::Language| Grammar {
        info: GrammarInfo {
            name: name.to_owned(),
            version: Some(version.to_owned()),
            origin: Origin::BuiltIn,
            hash: None,
            path: None,
            abi: language.abi_version(),
        },
        language,
    };
    Grammars::new(
        built_in(
            "typescript",
            TYPESCRIPT_VERSION,
            tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
        ),
        built_in(
            "tsx",
            TYPESCRIPT_VERSION,
            tree_sitter_typescript::LANGUAGE_TSX.into(),
        ),
        built_in(
            "javascript",
            JAVASCRIPT_VERSION,
            tree_sitter_javascript::LANGUAGE.into(),
        ),
    )
});

/// The versions of the grammar crates snag is built with (Cargo.toml).
const TYPESCRIPT_VERSION: &str = "0.23.2";
const JAVASCRIPT_VERSION: &str = "0.23.1";

impl Grammars {
    fn new(typescript: Grammar, tsx: Grammar, javascript: Grammar) -> Self {
        let identity = [&typescript, &tsx, &javascript]
            .map(|g| {
                let info = &g.info;
                format!(
                    "{}/{}/{:?}/{}",
                    info.name,
                    info.version.as_deref().unwrap_or(""),
                    info.origin,
                    info.hash.as_deref().unwrap_or("")
                )
            })
            .join(" ");
        Grammars {
            key: xxhash_rust::xxh3::xxh3_64(identity.as_bytes()),
            typescript,
            tsx,
            javascript,
        }
    }

    /// The grammars compiled into snag.
    pub fn built_in() -> &'static Grammars {
        &BUILT_IN
    }

    /// The built-in grammars with `sources` in place of the languages they
    /// give. Building from source runs the C compiler (cached under
    /// `cache`): call it off the async threads.
    pub fn load(
        sources: &[GrammarSource],
        cache: &Path,
    ) -> Result<&'static Grammars, GrammarError> {
        if sources.is_empty() {
            return Ok(Self::built_in());
        }
        let mut chosen: [Option<(Grammar, String)>; 3] = [None, None, None];
        for source in sources {
            let (path, loaded) = match source {
                GrammarSource::Folder(dir) => (dir, source::load(dir, cache)?),
                GrammarSource::Library(file) => (file, library::load(file)?),
            };
            for (language, grammar) in loaded {
                check_abi(&grammar)?;
                let slot = &mut chosen[slot(language)];
                if let Some((_, other)) = slot {
                    return Err(GrammarError::Twice {
                        path: path.display().to_string(),
                        language,
                        other: other.clone(),
                    });
                }
                *slot = Some((grammar, path.display().to_string()));
            }
        }
        let [typescript, tsx, javascript] = chosen;
        let pick = |chosen: Option<(Grammar, String)>, language| {
            chosen.map_or_else(|| Self::built_in().get(language).clone(), |(g, _)| g)
        };
        let grammars = Grammars::new(
            pick(typescript, Language::TypeScript),
            pick(tsx, Language::Tsx),
            pick(javascript, Language::JavaScript),
        );
        Ok(Box::leak(Box::new(grammars)))
    }

    pub fn get(&self, language: Language) -> &Grammar {
        match language {
            Language::TypeScript => &self.typescript,
            Language::Tsx => &self.tsx,
            Language::JavaScript => &self.javascript,
        }
    }

    /// The tree-sitter language a parser needs for `language`.
    pub fn language(&self, language: Language) -> &tree_sitter::Language {
        &self.get(language).language
    }

    pub fn key(&self) -> u64 {
        self.key
    }

    /// What a run records (`index_runs.grammar_versions`): the tree-sitter
    /// ABI, each grammar's [`GrammarInfo`] under `grammars`, and, for
    /// built-in grammars, their crates' versions as runs always had them.
    pub fn describe(&self) -> serde_json::Value {
        let mut value = serde_json::json!({
            "tree-sitter": tree_sitter::LANGUAGE_VERSION,
            "grammars": {
                "typescript": self.typescript.info,
                "tsx": self.tsx.info,
                "javascript": self.javascript.info,
            },
        });
        if self.typescript.info.origin == Origin::BuiltIn && self.tsx.info.origin == Origin::BuiltIn
        {
            value["tree-sitter-typescript"] = TYPESCRIPT_VERSION.into();
        }
        if self.javascript.info.origin == Origin::BuiltIn {
            value["tree-sitter-javascript"] = JAVASCRIPT_VERSION.into();
        }
        value
    }
}

impl Grammars {
    /// The grammars a run recorded, loaded again: snag's own, or the same
    /// sources or library, found by the path the run recorded and checked
    /// by their hash.
    pub fn recorded(
        recorded: &serde_json::Value,
        cache: &Path,
    ) -> Result<&'static Grammars, GrammarError> {
        let infos = recorded_infos(recorded);
        let mut sources = Vec::new();
        for info in infos.iter().filter(|i| i.origin != Origin::BuiltIn) {
            let path = PathBuf::from(info.path.clone().unwrap_or_default());
            let source = match info.origin {
                Origin::Library => GrammarSource::Library(path),
                _ => GrammarSource::Folder(path),
            };
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
        let grammars = Grammars::load(&sources, cache)?;
        for info in &infos {
            let Some(language) = language_named(&info.name) else {
                continue;
            };
            let now = &grammars.get(language).info;
            if now.hash != info.hash {
                return Err(GrammarError::load(
                    Path::new(info.path.as_deref().unwrap_or_default()),
                    format!(
                        "the {} grammar changed since the run (hash {} then, {} now)",
                        info.name,
                        info.hash.as_deref().unwrap_or("none"),
                        now.hash.as_deref().unwrap_or("none")
                    ),
                ));
            }
        }
        Ok(grammars)
    }
}

fn slot(language: Language) -> usize {
    match language {
        Language::TypeScript => 0,
        Language::Tsx => 1,
        Language::JavaScript => 2,
    }
}

fn check_abi(grammar: &Grammar) -> Result<(), GrammarError> {
    let abi = grammar.language.abi_version();
    let (min, max) = (
        tree_sitter::MIN_COMPATIBLE_LANGUAGE_VERSION,
        tree_sitter::LANGUAGE_VERSION,
    );
    if (min..=max).contains(&abi) {
        return Ok(());
    }
    Err(GrammarError::Abi {
        path: grammar.info.path.clone().unwrap_or_default(),
        name: grammar.info.name.clone(),
        abi,
        min,
        max,
    })
}

/// The grammars a run recorded, in one line: `built-in` when it used
/// snag's own, else each grammar's [`GrammarInfo::label`]. Reads what
/// [`Grammars::describe`] wrote, and the crate versions older runs kept.
pub fn recorded_label(recorded: &serde_json::Value) -> String {
    label(&recorded_infos(recorded))
}

/// Grammars in one line: `built-in` when all are snag's own, else each
/// one's [`GrammarInfo::label`].
pub fn label(infos: &[GrammarInfo]) -> String {
    if infos.iter().all(|i| i.origin == Origin::BuiltIn) {
        return "built-in".to_owned();
    }
    infos
        .iter()
        .map(GrammarInfo::label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Grammars in a few characters, for a table column: `built-in`, else the
/// origin and version (or hash) of the grammars not built in, e.g.
/// `source 0.21.2`.
pub fn short_label(infos: &[GrammarInfo]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for info in infos.iter().filter(|i| i.origin != Origin::BuiltIn) {
        let origin = if info.origin == Origin::Library {
            "lib"
        } else {
            "source"
        };
        let which = match (&info.version, &info.hash) {
            (Some(version), _) => version.clone(),
            (None, Some(hash)) => short(hash).to_owned(),
            (None, None) => String::new(),
        };
        let part = format!("{origin} {which}").trim_end().to_owned();
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        "built-in".to_owned()
    } else {
        parts.join(" + ")
    }
}

/// The grammars a run recorded, in language order; none for runs recorded
/// before grammars could be chosen (they used the built-in ones).
pub fn recorded_infos(recorded: &serde_json::Value) -> Vec<GrammarInfo> {
    let Some(grammars) = recorded.get("grammars").and_then(|g| g.as_object()) else {
        return Vec::new();
    };
    ["typescript", "tsx", "javascript"]
        .iter()
        .filter_map(|name| serde_json::from_value(grammars.get(*name)?.clone()).ok())
        .collect()
}

/// Which language a grammar of this name parses.
pub(crate) fn language_named(name: &str) -> Option<Language> {
    match name {
        "typescript" => Some(Language::TypeScript),
        "tsx" => Some(Language::Tsx),
        "javascript" => Some(Language::JavaScript),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_grammar_loads_and_is_recorded() {
        let grammars = Grammars::built_in();
        for language in [Language::TypeScript, Language::Tsx, Language::JavaScript] {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(grammars.language(language)).unwrap();
            assert!(parser.parse("let x = 1;", None).is_some());
            assert_eq!(grammars.get(language).info.name, language.as_str());
        }
        let recorded = grammars.describe();
        assert_eq!(recorded["tree-sitter-typescript"], TYPESCRIPT_VERSION);
        assert_eq!(recorded_label(&recorded), "built-in");
        assert_eq!(recorded_infos(&recorded).len(), 3);
        // Runs recorded before grammars could be chosen.
        let old = serde_json::json!({"tree-sitter": 15, "tree-sitter-typescript": "0.23.2"});
        assert_eq!(recorded_label(&old), "built-in");
        assert!(recorded_infos(&old).is_empty());
    }

    #[test]
    fn a_grammar_from_elsewhere_is_labelled_by_version_and_hash() {
        let info = GrammarInfo {
            name: "typescript".into(),
            version: Some("0.21.2".into()),
            origin: Origin::Source,
            hash: Some("0123456789abcdef".into()),
            path: Some("/g".into()),
            abi: 14,
        };
        assert_eq!(info.label(), "typescript 0.21.2 (source 01234567)");
        let built_in = Grammars::built_in().get(Language::JavaScript).info.clone();
        let tsx = GrammarInfo {
            name: "tsx".into(),
            ..info.clone()
        };
        assert_eq!(short_label(&[info, tsx, built_in.clone()]), "source 0.21.2");
        assert_eq!(short_label(&[built_in]), "built-in");
    }
}
