//! `--grammar-lib FILE`: a prebuilt grammar library (what `tree-sitter
//! build` writes), and the cached libraries [`super::source`] builds. A
//! library gives every language whose `tree_sitter_NAME` function it
//! exports.

use std::path::Path;

use libloading::{Library, Symbol};
use tree_sitter_language::LanguageFn;

use super::{Grammar, GrammarError, GrammarInfo, Origin, language_named};
use crate::index::language::Language;

/// The grammar names a library is searched for.
const NAMES: [&str; 3] = ["typescript", "tsx", "javascript"];

/// Every grammar snag parses that `file` exports.
pub fn load(file: &Path) -> Result<Vec<(Language, Grammar)>, GrammarError> {
    let bytes = std::fs::read(file)
        .map_err(|e| GrammarError::load(file, format!("cannot read the library: {e}")))?;
    let hash = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes));
    let library = open(file)?;
    let mut found = Vec::new();
    for name in NAMES {
        if let Some(language) = language_fn(&library, name) {
            let language = tree_sitter::Language::new(language);
            found.push((
                language_named(name).expect("a name snag parses"),
                Grammar {
                    info: GrammarInfo {
                        name: name.to_owned(),
                        version: None,
                        origin: Origin::Library,
                        hash: Some(hash.clone()),
                        path: Some(file.display().to_string()),
                        abi: language.abi_version(),
                    },
                    language,
                },
            ));
        }
    }
    if found.is_empty() {
        return Err(GrammarError::load(
            file,
            "the library exports none of tree_sitter_typescript, tree_sitter_tsx, tree_sitter_javascript",
        ));
    }
    keep_loaded(library);
    Ok(found)
}

/// The language `name` of a library built from a grammar's sources.
pub(super) fn load_built(file: &Path, name: &str) -> Result<tree_sitter::Language, GrammarError> {
    let library = open(file)?;
    let language = language_fn(&library, name).ok_or_else(|| {
        GrammarError::load(
            file,
            format!("the library does not export tree_sitter_{name}"),
        )
    })?;
    keep_loaded(library);
    Ok(tree_sitter::Language::new(language))
}

fn open(file: &Path) -> Result<Library, GrammarError> {
    // SAFETY: loading a library runs its initialisers: the user named this
    // grammar library (or snag built it from the sources they named).
    unsafe { Library::new(file) }
        .map_err(|e| GrammarError::load(file, format!("cannot load the library: {e}")))
}

fn language_fn(library: &Library, name: &str) -> Option<LanguageFn> {
    let symbol = format!("tree_sitter_{name}");
    // SAFETY: tree-sitter's language functions take nothing and return the
    // grammar's static TSLanguage; the library stays loaded (keep_loaded).
    unsafe {
        let function: Symbol<unsafe extern "C" fn() -> *const ()> =
            library.get(symbol.as_bytes()).ok()?;
        Some(LanguageFn::from_raw(*function))
    }
}

/// Trees point into the library's parse tables: it is never unloaded.
fn keep_loaded(library: Library) {
    std::mem::forget(library);
}
