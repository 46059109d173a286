//! Finding the files to index: the `ignore` crate's walker (so .gitignore is
//! respected), the always-excluded folders, test files, `--exclude` globs.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::language::Language;
use crate::stored_path;

/// Extensions indexed when `--ext` is not given.
pub const DEFAULT_EXTENSIONS: [&str; 8] = ["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"];

/// Folders that hold dependencies, build output or VCS data, never sources.
pub const ALWAYS_EXCLUDED: [&str; 7] = [
    "node_modules",
    ".git",
    "dist",
    "build",
    "out",
    "coverage",
    ".next",
];

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("unsupported extension `.{extension}`: snag parses {}", DEFAULT_EXTENSIONS.map(|e| format!(".{e}")).join(" "))]
    UnsupportedExtension { extension: String },
    #[error("invalid --exclude pattern `{pattern}`: {source}")]
    BadPattern {
        pattern: String,
        source: globset::Error,
    },
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
}

/// What to pick up.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryOptions {
    /// Lower-case extensions without the dot.
    pub extensions: Vec<String>,
    /// Glob patterns matched against paths relative to the root.
    pub excludes: Vec<String>,
    pub include_tests: bool,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        DiscoveryOptions {
            extensions: DEFAULT_EXTENSIONS.map(String::from).to_vec(),
            excludes: Vec::new(),
            include_tests: false,
        }
    }
}

/// A file to index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    /// Relative to the root, `/`-separated, in its stored form (see
    /// [`crate::stored_path`]): any file name, without collisions.
    pub rel_path: String,
    pub language: Language,
}

/// A path the walker could not read (a directory without permission, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub rel_path: String,
    pub message: String,
}

/// Validated options, ready to walk.
#[derive(Debug, Clone)]
pub struct Discovery {
    root: PathBuf,
    extensions: Vec<String>,
    excludes: GlobSet,
    include_tests: bool,
}

impl Discovery {
    pub fn new(root: &Path, options: &DiscoveryOptions) -> Result<Self, DiscoveryError> {
        if !root.is_dir() {
            return Err(DiscoveryError::NotADirectory(root.to_path_buf()));
        }
        let mut extensions = Vec::new();
        for ext in &options.extensions {
            let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
            if Language::for_path(Path::new(&format!("f.{ext}"))).is_none() {
                return Err(DiscoveryError::UnsupportedExtension { extension: ext });
            }
            extensions.push(ext);
        }
        let mut excludes = GlobSetBuilder::new();
        for pattern in &options.excludes {
            let glob = Glob::new(pattern).map_err(|source| DiscoveryError::BadPattern {
                pattern: pattern.clone(),
                source,
            })?;
            excludes.add(glob);
        }
        let excludes = excludes
            .build()
            .map_err(|source| DiscoveryError::BadPattern {
                pattern: options.excludes.join(" "),
                source,
            })?;
        Ok(Discovery {
            root: root.to_path_buf(),
            extensions,
            excludes,
            include_tests: options.include_tests,
        })
    }

    /// Walks the tree, calling `found` for each file in walk order (sorted by
    /// name, so runs are reproducible). Stops early when `found` returns false.
    pub fn walk(&self, mut found: impl FnMut(Result<SourceFile, Unreadable>) -> bool) {
        let walker = ignore::WalkBuilder::new(&self.root)
            .hidden(false)
            .follow_links(false)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(|entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                !(is_dir && entry.depth() > 0 && is_excluded_dir(entry.file_name()))
            })
            .build();
        for entry in walker {
            let item = match entry {
                Ok(entry) => match self.consider(entry.path(), entry.file_type()) {
                    Some(file) => Ok(file),
                    None => continue,
                },
                Err(err) => Err(Unreadable {
                    rel_path: err_path(&err)
                        .map(|p| self.relative(&p))
                        .unwrap_or_default(),
                    message: err.to_string(),
                }),
            };
            if !found(item) {
                return;
            }
        }
    }

    fn consider(&self, path: &Path, file_type: Option<std::fs::FileType>) -> Option<SourceFile> {
        // Symlinks are not followed: a link to a file is not a file of ours.
        if !file_type?.is_file() {
            return None;
        }
        let rel_path = self.relative(path);
        let name = path.file_name()?;
        let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
        if !self.extensions.contains(&ext) {
            return None;
        }
        if !self.include_tests && is_test_path(&rel_path) {
            return None;
        }
        if self.excludes.is_match(&rel_path) {
            return None;
        }
        Some(SourceFile {
            path: path.to_path_buf(),
            language: Language::for_path(path)?,
            rel_path,
        })
    }

    fn relative(&self, path: &Path) -> String {
        stored_path::encode(path.strip_prefix(&self.root).unwrap_or(path))
    }
}

fn is_excluded_dir(name: &std::ffi::OsStr) -> bool {
    ALWAYS_EXCLUDED.iter().any(|excluded| name == *excluded)
}

/// `*.test.*`, `*.spec.*`, anything under `__tests__/`.
fn is_test_path(rel_path: &str) -> bool {
    let mut parts = rel_path.split('/').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_some() {
            if part == "__tests__" {
                return true;
            }
        } else {
            let mut pieces = part.split('.').skip(1);
            return pieces.any(|p| p == "test" || p == "spec") && part.split('.').count() >= 3;
        }
    }
    false
}

fn err_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "x").unwrap();
        }
        dir
    }

    fn found(dir: &Path, options: &DiscoveryOptions) -> Vec<String> {
        let mut paths = Vec::new();
        Discovery::new(dir, options).unwrap().walk(|f| {
            paths.push(f.unwrap().rel_path);
            true
        });
        paths
    }

    #[test]
    fn default_rules() {
        let dir = tree(&[
            "src/a.ts",
            "src/b.d.ts",
            "src/c.tsx",
            "src/d.mjs",
            "src/e.cjs",
            "src/f.jsx",
            "src/g.mts",
            "src/h.cts",
            "src/readme.md",
            "src/a.test.ts",
            "src/a.spec.js",
            "src/__tests__/t.ts",
            "src/testing.ts",
            "node_modules/dep/index.js",
            "dist/bundle.js",
            "build/x.js",
            "out/x.js",
            "coverage/x.js",
            ".next/x.js",
            "lib/dist.ts",
        ]);
        assert_eq!(
            found(dir.path(), &DiscoveryOptions::default()),
            [
                "lib/dist.ts",
                "src/a.ts",
                "src/b.d.ts",
                "src/c.tsx",
                "src/d.mjs",
                "src/e.cjs",
                "src/f.jsx",
                "src/g.mts",
                "src/h.cts",
                "src/testing.ts"
            ]
        );
    }

    #[test]
    fn tests_included_on_request_and_excludes_apply() {
        let dir = tree(&[
            "src/a.test.ts",
            "src/__tests__/t.ts",
            "src/gen/x.ts",
            "src/y.ts",
        ]);
        let options = DiscoveryOptions {
            include_tests: true,
            excludes: vec!["src/gen/**".into()],
            ..Default::default()
        };
        assert_eq!(
            found(dir.path(), &options),
            ["src/__tests__/t.ts", "src/a.test.ts", "src/y.ts"]
        );
    }

    #[test]
    fn gitignore_is_respected_and_symlinks_not_followed() {
        let dir = tree(&["src/keep.ts", "generated/skip.ts"]);
        fs::write(dir.path().join(".gitignore"), "generated/\n").unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("src/loop")).unwrap();
        std::os::unix::fs::symlink("keep.ts", dir.path().join("src/link.ts")).unwrap();
        assert_eq!(
            found(dir.path(), &DiscoveryOptions::default()),
            ["src/keep.ts"]
        );
    }

    #[test]
    fn extensions_are_validated_and_normalised() {
        let dir = tree(&["a.ts", "b.js"]);
        let options = DiscoveryOptions {
            extensions: vec![".JS".into()],
            ..Default::default()
        };
        assert_eq!(found(dir.path(), &options), ["b.js"]);
        let bad = DiscoveryOptions {
            extensions: vec!["vue".into()],
            ..Default::default()
        };
        let err = Discovery::new(dir.path(), &bad).unwrap_err().to_string();
        assert!(err.contains("unsupported extension `.vue`"), "{err}");
    }

    #[test]
    fn test_path_rules() {
        assert!(is_test_path("a.test.ts"));
        assert!(is_test_path("x/a.spec.tsx"));
        assert!(is_test_path("x/__tests__/a.ts"));
        assert!(!is_test_path("test.ts"));
        assert!(!is_test_path("spec/a.ts"));
        assert!(!is_test_path("x/__tests__"));
    }
}
