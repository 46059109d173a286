//! Finding the files to index: the `ignore` crate's walker (so .gitignore is
//! respected), the always-excluded folders, test files, `--exclude` globs.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::language::Language;
use crate::stored_path;

/// Extensions indexed when `--ext` is not given.
pub const DEFAULT_EXTENSIONS: [&str; 8] = ["ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs"];

/// Folders that hold dependencies, build output, VCS data or caches, never
/// sources: skipped wherever they are below the root.
pub const ALWAYS_EXCLUDED: [&str; 10] = [
    "node_modules",
    ".git",
    ".svn",
    ".hg",
    "__pycache__",
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

    /// Walks the whole tree before anything is processed, so the total is
    /// known from the start. `progress` is told each count found so far and
    /// stops the walk (`None`) by returning false.
    pub fn collect(&self, mut progress: impl FnMut(u64) -> bool) -> Option<FoundFiles> {
        let mut found = FoundFiles {
            root: self.root.clone(),
            ..FoundFiles::default()
        };
        let mut stopped = false;
        self.walk(|item| {
            found.push(item);
            stopped = !progress(found.len());
            !stopped
        });
        (!stopped).then_some(found)
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

/// What a walk found, in walk order, held compactly: the stored paths one
/// after another in one string, so a list of a million files costs about
/// the length of their paths rather than three allocations each.
#[derive(Debug, Default)]
pub struct FoundFiles {
    root: PathBuf,
    /// Each file's `rel_path`, one after another.
    rel_paths: String,
    /// Where each file's `rel_path` ends in `rel_paths`.
    ends: Vec<usize>,
    languages: Vec<Language>,
    /// Paths the walker could not read, each with how many files came before it.
    unreadable: Vec<(usize, Unreadable)>,
}

impl FoundFiles {
    fn push(&mut self, item: Result<SourceFile, Unreadable>) {
        match item {
            Ok(file) => {
                self.rel_paths.push_str(&file.rel_path);
                self.ends.push(self.rel_paths.len());
                self.languages.push(file.language);
            }
            Err(unreadable) => self.unreadable.push((self.ends.len(), unreadable)),
        }
    }

    /// Files and unreadable paths: each one will have an outcome.
    pub fn len(&self) -> u64 {
        (self.ends.len() + self.unreadable.len()) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything found, in walk order, as [`Discovery::walk`] gave it.
    pub fn into_items(self) -> impl Iterator<Item = Result<SourceFile, Unreadable>> {
        let FoundFiles {
            root,
            rel_paths,
            ends,
            languages,
            unreadable,
        } = self;
        let mut unreadable = unreadable.into_iter().peekable();
        let mut next_file = 0;
        std::iter::from_fn(move || {
            if unreadable
                .peek()
                .is_some_and(|(before, _)| *before == next_file)
            {
                return unreadable.next().map(|(_, item)| Err(item));
            }
            let end = *ends.get(next_file)?;
            let start = next_file.checked_sub(1).map_or(0, |i| ends[i]);
            let rel_path = rel_paths[start..end].to_owned();
            let language = languages[next_file];
            next_file += 1;
            Some(Ok(SourceFile {
                path: stored_path::to_path(&root, &rel_path),
                rel_path,
                language,
            }))
        })
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
            ".git/hooks/x.js",
            ".svn/pristine/x.ts",
            ".hg/store/x.ts",
            "src/__pycache__/x.ts",
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
    fn collected_files_come_back_as_the_walk_gave_them() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tree(&["b/z.ts", "a.ts", "b/100%.tsx", "c/d.mjs"]);
        let latin1 = std::ffi::OsStr::from_bytes(b"b/caf\xe9.ts");
        fs::write(dir.path().join(latin1), "x").unwrap();
        let discovery = Discovery::new(dir.path(), &DiscoveryOptions::default()).unwrap();
        let mut walked = Vec::new();
        discovery.walk(|item| {
            walked.push(item);
            true
        });
        let mut counts = Vec::new();
        let found = discovery
            .collect(|n| {
                counts.push(n);
                true
            })
            .unwrap();
        assert_eq!(walked.len(), 5);
        assert_eq!(found.len(), 5);
        assert_eq!(counts, [1, 2, 3, 4, 5]);
        assert_eq!(found.into_items().collect::<Vec<_>>(), walked);
    }

    #[test]
    fn an_unreadable_path_keeps_its_place() {
        let mut found = FoundFiles::default();
        let file = |rel: &str| {
            Ok(SourceFile {
                path: PathBuf::from(rel),
                rel_path: rel.to_owned(),
                language: Language::TypeScript,
            })
        };
        let locked = Err(Unreadable {
            rel_path: "locked".into(),
            message: "permission denied".into(),
        });
        let items = vec![
            locked.clone(),
            file("a.ts"),
            locked.clone(),
            file("b.ts"),
            locked,
        ];
        for item in items.clone() {
            found.push(item);
        }
        assert_eq!(found.len(), 5);
        assert_eq!(found.into_items().collect::<Vec<_>>(), items);
    }

    #[test]
    fn stopping_the_walk_finds_nothing() {
        let dir = tree(&["a.ts", "b.ts", "c.ts"]);
        let discovery = Discovery::new(dir.path(), &DiscoveryOptions::default()).unwrap();
        let mut seen = 0;
        let found = discovery.collect(|n| {
            seen = n;
            n < 2
        });
        assert!(found.is_none());
        assert_eq!(seen, 2);
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
