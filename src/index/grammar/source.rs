//! `--grammar DIR`: a tree-sitter grammar built from its sources with the
//! machine's C compiler (through `tree-sitter-loader`), the library cached
//! under snag's data directory by the sources' hash, so the next run with
//! the same sources loads it at once.
//!
//! DIR is a grammar's folder (`src/parser.c`, optional `src/scanner.c`,
//! `src/grammar.json` naming it) or a repository holding several, as
//! tree-sitter-typescript's `typescript/` and `tsx/` (listed by
//! `tree-sitter.json`, else found one level down).

use std::fs::File;
use std::path::{Path, PathBuf};

use tree_sitter_loader::{CompileConfig, Loader};

use super::{Grammar, GrammarError, GrammarInfo, Origin, language_named, library};
use crate::index::language::Language;

/// Changes when the way libraries are built changes: cached ones are then
/// built again.
const BUILD_VERSION: &str = "snag-grammar-build-1";

/// Folders never searched for headers.
const NOT_SOURCES: [&str; 5] = [".git", "node_modules", "target", "build", "bindings"];

/// Builds (or finds in `cache`) every grammar under `dir`.
pub fn load(dir: &Path, cache: &Path) -> Result<Vec<(Language, Grammar)>, GrammarError> {
    let dir = std::fs::canonicalize(dir)
        .map_err(|e| GrammarError::load(dir, format!("cannot open the grammar folder: {e}")))?;
    let folders = grammar_folders(&dir)?;
    let headers = headers_under(&dir);
    folders
        .iter()
        .map(|folder| load_folder(&dir, folder, &headers, cache))
        .collect()
}

fn load_folder(
    dir: &Path,
    folder: &Path,
    headers: &[PathBuf],
    cache: &Path,
) -> Result<(Language, Grammar), GrammarError> {
    let src = folder.join("src");
    let name = grammar_name(&src)?;
    let language = language_named(&name).ok_or_else(|| {
        GrammarError::load(
            folder,
            format!(
                "the grammar `{name}` parses no language snag indexes (typescript, tsx, javascript)"
            ),
        )
    })?;
    let hash = sources_hash(&src, headers).map_err(|e| {
        GrammarError::load(folder, format!("cannot read the grammar's sources: {e}"))
    })?;
    let language_fn = built(&src, &name, &hash, cache)?;
    Ok((
        language,
        Grammar {
            info: GrammarInfo {
                version: version(folder, dir),
                origin: Origin::Source,
                hash: Some(hash),
                // The folder given: the hash covers its headers.
                path: Some(dir.display().to_string()),
                abi: language_fn.abi_version(),
                name,
            },
            language: language_fn,
        },
    ))
}

/// The folders of `dir` that hold a generated parser.
fn grammar_folders(dir: &Path) -> Result<Vec<PathBuf>, GrammarError> {
    let has_parser = |folder: &Path| folder.join("src").join("parser.c").is_file();
    if has_parser(dir) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let listed: Vec<PathBuf> = std::fs::read_to_string(dir.join("tree-sitter.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|config| {
            let grammars = config.get("grammars")?.as_array()?.clone();
            Some(
                grammars
                    .iter()
                    .map(|g| dir.join(g.get("path").and_then(|p| p.as_str()).unwrap_or(".")))
                    .filter(|folder| has_parser(folder))
                    .collect(),
            )
        })
        .unwrap_or_default();
    if !listed.is_empty() {
        return Ok(listed);
    }
    let mut below: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| GrammarError::load(dir, format!("cannot list the grammar folder: {e}")))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|folder| has_parser(folder))
        .collect();
    below.sort();
    if below.is_empty() {
        return Err(GrammarError::load(
            dir,
            "not a tree-sitter grammar: no src/parser.c here or one folder down (run `tree-sitter generate` first)",
        ));
    }
    Ok(below)
}

/// The name `src/grammar.json` gives the grammar.
fn grammar_name(src: &Path) -> Result<String, GrammarError> {
    let path = src.join("grammar.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| GrammarError::load(&path, format!("cannot read the grammar's name: {e}")))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|g| Some(g.get("name")?.as_str()?.to_owned()))
        .ok_or_else(|| GrammarError::load(&path, "no \"name\" in the grammar"))
}

/// The version the grammar's package gives, looking from its folder up to
/// `dir`: tree-sitter.json's `metadata.version`, package.json's or
/// Cargo.toml's.
fn version(folder: &Path, dir: &Path) -> Option<String> {
    let read = |path: PathBuf| std::fs::read_to_string(path).ok();
    for at in folder.ancestors().take_while(|a| a.starts_with(dir)) {
        let json = |file: &str, pointer: &str| {
            let value: serde_json::Value = serde_json::from_str(&read(at.join(file))?).ok()?;
            Some(value.pointer(pointer)?.as_str()?.to_owned())
        };
        let cargo = || {
            let value: toml::Table = toml::from_str(&read(at.join("Cargo.toml"))?).ok()?;
            Some(value.get("package")?.get("version")?.as_str()?.to_owned())
        };
        if let Some(version) = json("tree-sitter.json", "/metadata/version")
            .or_else(|| json("package.json", "/version"))
            .or_else(cargo)
        {
            return Some(version);
        }
    }
    None
}

/// Header files anywhere in the grammar's repository (scanners include
/// shared ones, as tree-sitter-typescript's `common/scanner.h`).
fn headers_under(dir: &Path) -> Vec<PathBuf> {
    let mut headers = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            if kind.is_dir() && !NOT_SOURCES.iter().any(|n| name == *n) {
                pending.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "h") {
                headers.push(path);
            }
        }
    }
    headers.sort();
    headers
}

/// 16 hex digits identifying what the compiler reads: the parser, the
/// scanner and the headers.
fn sources_hash(src: &Path, headers: &[PathBuf]) -> std::io::Result<String> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(BUILD_VERSION.as_bytes());
    hasher.update(&tree_sitter::LANGUAGE_VERSION.to_le_bytes());
    let scanners = ["scanner.c", "scanner.cc"].map(|s| src.join(s));
    let sources = std::iter::once(src.join("parser.c"))
        .chain(scanners.into_iter().filter(|s| s.is_file()))
        .chain(headers.iter().cloned());
    for path in sources {
        let bytes = std::fs::read(&path)?;
        hasher.update(path.file_name().unwrap_or_default().as_encoded_bytes());
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(format!("{:016x}", hasher.digest()))
}

/// The grammar's library from the cache, built first when missing. One
/// build at a time across snag processes (a lock file in the cache); a
/// library appears in the cache only whole (built aside, then renamed).
fn built(
    src: &Path,
    name: &str,
    hash: &str,
    cache: &Path,
) -> Result<tree_sitter::Language, GrammarError> {
    let library = cache.join(format!("{name}-{hash}.{}", std::env::consts::DLL_EXTENSION));
    if library.is_file() {
        return library::load_built(&library, name);
    }
    std::fs::create_dir_all(cache)
        .map_err(|e| GrammarError::load(cache, format!("cannot create the grammar cache: {e}")))?;
    let lock_path = cache.join(".build.lock");
    let lock = File::create(&lock_path)
        .and_then(|file| file.lock().map(|()| file))
        .map_err(|e| {
            GrammarError::load(&lock_path, format!("cannot lock the grammar cache: {e}"))
        })?;
    if !library.is_file() {
        let aside = cache.join(format!(
            ".{name}-{hash}.{}.{}",
            std::process::id(),
            std::env::consts::DLL_EXTENSION
        ));
        let compiled = compile(src, name, &aside);
        let kept = compiled.and_then(|()| {
            std::fs::rename(&aside, &library).map_err(|e| {
                GrammarError::load(&library, format!("cannot store the built grammar: {e}"))
            })
        });
        if kept.is_err() {
            let _ = std::fs::remove_file(&aside);
        }
        kept?;
    }
    drop(lock);
    library::load_built(&library, name)
}

/// Compiles the grammar in `src` into the library `output`.
fn compile(src: &Path, name: &str, output: &Path) -> Result<(), GrammarError> {
    let loader = Loader::with_parser_lib_path(output.parent().unwrap_or(src).to_path_buf());
    let mut config = CompileConfig::new(src, None, Some(output.to_path_buf()));
    config.name = name.to_owned();
    // The loader loads what it built; snag loads the cached copy instead.
    match loader.load_language_at_path_with_name(config) {
        Ok(_) => Ok(()),
        Err(e) => Err(GrammarError::load(
            src.parent().unwrap_or(src),
            format!(
                "cannot build the {name} grammar: {}",
                first_error(&format!("{e:#}"))
            ),
        )),
    }
}

/// The line of a compiler's output that says what went wrong.
fn first_error(output: &str) -> String {
    let lines = || output.lines().map(str::trim).filter(|l| !l.is_empty());
    lines()
        .find(|l| l.contains("error:") || l.contains("error "))
        .or_else(|| lines().next_back())
        .unwrap_or("the C compiler failed")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_without_a_parser_is_not_a_grammar() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        let error = grammar_folders(dir.path()).unwrap_err().to_string();
        assert!(error.contains("not a tree-sitter grammar"), "{error}");
    }

    #[test]
    fn the_compilers_error_line_is_the_one_shown() {
        let output = "Parser compilation failed.\nStdout: \nStderr: src/parser.c: In function 'f':\nsrc/parser.c:3:1: error: expected ';' before '}' token\n    3 | }\n";
        assert_eq!(
            first_error(output),
            "src/parser.c:3:1: error: expected ';' before '}' token"
        );
    }
}
