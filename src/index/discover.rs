//! Finding the files to index: the `ignore` crate's walker, the excluded
//! folders, test files, `--exclude` globs, under one of two rule sets: snag's
//! own (.gitignore respected) or the original service's (see
//! [`DiscoveryRules`]).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::language::FileKind;
use crate::stored_path;

/// Extensions indexed when `--ext` is not given: scripts, and the
/// single-file components whose `<script>` blocks are parsed.
pub const DEFAULT_EXTENSIONS: [&str; 10] = [
    "ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs", "vue", "svelte",
];

/// The files (and folders) a walk passed over, by reason: what a run
/// leaves out, each with what would take it in. Only files snag could
/// parse count (a README is not "left out").
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(default)]
pub struct PassedOver {
    /// Test files (`*.test.*`, `*.spec.*`, `__tests__/`): `--include-tests`.
    pub test_files: u64,
    /// Files with an extension snag parses that `--ext` left out.
    pub other_extensions: u64,
    /// Files an `--exclude` glob matched.
    pub excluded: u64,
    /// Files `.gitignore`, `.ignore` or git's excludes hide: `--no-ignore`.
    pub ignored: u64,
    /// Folders always excluded (`node_modules`, `dist`, ...), not entered.
    pub excluded_folders: u64,
    /// Symbolic links, never followed.
    pub symlinks: u64,
}

impl PassedOver {
    /// Each reason: its count, in words with what would take the files in
    /// (`91 test files (--include-tests)`), and in a few words for a status
    /// line (`91 tests (--include-tests)`).
    fn said(&self) -> [(u64, String, String); 6] {
        use crate::words::count;
        [
            (
                self.test_files,
                format!("{} (--include-tests)", count(self.test_files, "test file")),
                format!("{} (--include-tests)", count(self.test_files, "test")),
            ),
            (
                self.other_extensions,
                format!(
                    "{} of other extensions (--ext)",
                    count(self.other_extensions, "file")
                ),
                format!("{} other ext (--ext)", self.other_extensions),
            ),
            (
                self.excluded,
                format!("{} matching --exclude", count(self.excluded, "file")),
                format!("{} --exclude", self.excluded),
            ),
            (
                self.ignored,
                format!("{} (--no-ignore)", count(self.ignored, "ignored file")),
                format!("{} ignored (--no-ignore)", self.ignored),
            ),
            (
                self.symlinks,
                format!("{} (never followed)", count(self.symlinks, "symbolic link")),
                count(self.symlinks, "symlink"),
            ),
            (
                self.excluded_folders,
                format!(
                    "{} always excluded (node_modules, .git, dist, ...)",
                    count(self.excluded_folders, "folder")
                ),
                count(self.excluded_folders, "dir"),
            ),
        ]
    }

    /// Each reason with its count, in words, and what would take the files
    /// in: `91 test files (--include-tests)`. Reasons with nothing are left
    /// out.
    pub fn reasons(&self) -> Vec<String> {
        self.said()
            .into_iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(_, said, _)| said)
            .collect()
    }

    /// [`PassedOver::reasons`] in a few words each, for a status line:
    /// `91 tests (--include-tests), 3 ignored (--no-ignore)`.
    pub fn brief(&self) -> String {
        self.said()
            .into_iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(_, _, brief)| brief)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a walk passed over an entry.
enum Passed {
    /// Not a file snag could parse: not counted.
    NotSource,
    Symlink,
    OtherExtension,
    Test,
    Excluded,
}

/// Folders that hold dependencies, build output, VCS data or caches, never
/// sources: skipped wherever they are below the root, under snag's rules.
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

/// The folders the original service skips wherever they are below the root
/// (`out` and `coverage` are not among them).
pub const ORIGINAL_SERVICE_EXCLUDED: [&str; 8] = [
    "node_modules",
    ".git",
    ".svn",
    ".hg",
    "__pycache__",
    "dist",
    "build",
    ".next",
];

/// What makes a test file for the original service: any of these anywhere in
/// its path relative to the root.
pub const ORIGINAL_SERVICE_TEST_MARKERS: [&str; 5] = [
    "__tests__",
    ".spec.",
    ".test.",
    "vitest.config",
    "vitest.setup",
];

/// Which files a walk picks up. Under both, symlinks are neither followed
/// nor listed, only regular files are, `--exclude` globs apply, each file
/// is listed once, and files come sorted by path, component by component.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DiscoveryRules {
    /// snag's own, for the command line and the TUI:
    ///
    /// - `.gitignore`, `.ignore` and git's excludes are respected; hidden
    ///   files and folders are walked;
    /// - the [`ALWAYS_EXCLUDED`] folders are skipped;
    /// - test files are `*.test.*`, `*.spec.*` and anything under
    ///   `__tests__/`;
    /// - an extension is a file's last one, compared case-insensitively
    ///   (`ts` picks `A.TS` and `x.d.ts`).
    #[default]
    Snag,
    /// The original service's (its batch indexing producer), so that
    /// `POST /api/v1/indexing/batch/start` finds what it would:
    ///
    /// - no ignore file is consulted (`.gitignore`, `.ignore`, git's
    ///   excludes); hidden files and folders are walked;
    /// - the [`ORIGINAL_SERVICE_EXCLUDED`] folders are skipped;
    /// - test files are those whose path relative to the root contains any
    ///   of [`ORIGINAL_SERVICE_TEST_MARKERS`] (`x.spec.d/y.ts`,
    ///   `my.test.helper.ts`, `vitest.setup.ts`; not `jest.setup.ts`). The
    ///   original looks at the absolute path, so a root inside a folder named
    ///   `a.test.b` would lose every file; snag looks at the relative path on
    ///   purpose;
    /// - an extension picks the names that end with it, case-sensitively
    ///   (`.ts` picks `x.d.ts`, not `A.TS`; `.TS` picks `A.TS`). One given
    ///   without its dot is taken with it: the original's glob `*ts` would
    ///   also pick `fonts` or `x.mts`.
    ///
    /// Unlike the original, a file is listed once even when several of the
    /// extensions pick it (the same one given twice, or `.ts` and `.d.ts`),
    /// and symlinks (or a folder named `x.ts`) are not listed.
    OriginalService,
}

impl DiscoveryRules {
    /// The name a run records them by.
    pub fn name(self) -> &'static str {
        match self {
            DiscoveryRules::Snag => "snag",
            DiscoveryRules::OriginalService => "original_service",
        }
    }

    /// The rules [`DiscoveryRules::name`] gave `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [DiscoveryRules::Snag, DiscoveryRules::OriginalService]
            .into_iter()
            .find(|rules| rules.name() == name)
    }

    fn respects_ignore_files(self) -> bool {
        self == DiscoveryRules::Snag
    }

    fn excluded_dirs(self) -> &'static [&'static str] {
        match self {
            DiscoveryRules::Snag => &ALWAYS_EXCLUDED,
            DiscoveryRules::OriginalService => &ORIGINAL_SERVICE_EXCLUDED,
        }
    }

    fn is_test_path(self, rel_path: &str) -> bool {
        match self {
            DiscoveryRules::Snag => is_test_path(rel_path),
            // The stored form writes `%` and bytes that are not UTF-8 as
            // `%XX` in upper-case hex; no marker holds a `%`, a digit or an
            // upper-case letter, so this finds what the raw path would.
            DiscoveryRules::OriginalService => ORIGINAL_SERVICE_TEST_MARKERS
                .iter()
                .any(|marker| rel_path.contains(marker)),
        }
    }
}

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
    /// Extensions, with or without the dot, each one snag parses (see
    /// [`DiscoveryRules`] for how they match).
    pub extensions: Vec<String>,
    /// Glob patterns matched against paths relative to the root.
    pub excludes: Vec<String>,
    pub include_tests: bool,
    /// Whether `.gitignore`, `.ignore` and git's excludes hide files (under
    /// snag's rules; the original service's never read them).
    pub respect_ignore_files: bool,
    /// Which folders and test files are skipped, and how extensions match.
    pub rules: DiscoveryRules,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        DiscoveryOptions {
            extensions: DEFAULT_EXTENSIONS.map(String::from).to_vec(),
            excludes: Vec::new(),
            include_tests: false,
            respect_ignore_files: true,
            rules: DiscoveryRules::default(),
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
    pub kind: FileKind,
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
    extensions: Vec<Extension>,
    excludes: GlobSet,
    include_tests: bool,
    ignore_files: bool,
    rules: DiscoveryRules,
}

/// A validated extension.
#[derive(Debug, Clone)]
struct Extension {
    /// With its dot: lower-case under snag's rules, as given under the
    /// original service's.
    dotted: String,
    kind: FileKind,
}

impl Discovery {
    pub fn new(root: &Path, options: &DiscoveryOptions) -> Result<Self, DiscoveryError> {
        if !root.is_dir() {
            return Err(DiscoveryError::NotADirectory(root.to_path_buf()));
        }
        let mut extensions: Vec<Extension> = Vec::new();
        for ext in &options.extensions {
            let mut ext = ext.trim().trim_start_matches('.').to_owned();
            if options.rules == DiscoveryRules::Snag {
                ext.make_ascii_lowercase();
            }
            let dotted = format!(".{ext}");
            let Some(kind) = FileKind::for_path(Path::new(&format!("f{dotted}"))) else {
                return Err(DiscoveryError::UnsupportedExtension { extension: ext });
            };
            if !extensions.iter().any(|e| e.dotted == dotted) {
                extensions.push(Extension { dotted, kind });
            }
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
            ignore_files: options.respect_ignore_files && options.rules.respects_ignore_files(),
            rules: options.rules,
        })
    }

    /// Walks the tree, calling `found` for each file in walk order (sorted by
    /// name, so runs are reproducible). Stops early when `found` returns
    /// false. Gives what it passed over (all but ignored files: see
    /// [`Discovery::collect`]).
    pub fn walk(
        &self,
        mut found: impl FnMut(Result<SourceFile, Unreadable>) -> bool,
    ) -> PassedOver {
        let excluded_folders = Arc::new(AtomicU64::new(0));
        let mut passed = PassedOver::default();
        for entry in self.walker(self.ignore_files, Arc::clone(&excluded_folders)) {
            let item = match entry {
                Ok(entry) => match self.consider(entry.path(), entry.file_type()) {
                    Ok(file) => Ok(file),
                    Err(reason) => {
                        match reason {
                            Passed::NotSource => {}
                            Passed::Symlink => passed.symlinks += 1,
                            Passed::OtherExtension => passed.other_extensions += 1,
                            Passed::Test => passed.test_files += 1,
                            Passed::Excluded => passed.excluded += 1,
                        }
                        continue;
                    }
                },
                Err(err) => Err(Unreadable {
                    rel_path: err_path(&err)
                        .map(|p| self.relative(&p))
                        .unwrap_or_default(),
                    message: err.to_string(),
                }),
            };
            if !found(item) {
                break;
            }
        }
        passed.excluded_folders = excluded_folders.load(Ordering::Relaxed);
        passed
    }

    /// The walker over the root, with or without ignore files, counting the
    /// always-excluded folders it does not enter.
    fn walker(&self, ignore_files: bool, excluded_folders: Arc<AtomicU64>) -> ignore::Walk {
        let excluded = self.rules.excluded_dirs();
        ignore::WalkBuilder::new(&self.root)
            .hidden(false)
            .parents(ignore_files)
            .ignore(ignore_files)
            .git_ignore(ignore_files)
            .git_global(ignore_files)
            .git_exclude(ignore_files)
            .follow_links(false)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(move |entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                let skip =
                    is_dir && entry.depth() > 0 && excluded.iter().any(|d| entry.file_name() == *d);
                if skip {
                    excluded_folders.fetch_add(1, Ordering::Relaxed);
                }
                !skip
            })
            .build()
    }

    /// How many files would be indexed if ignore files hid none: a second
    /// walk that reads no ignore file. Gives up (0) once `stop` is set.
    fn count_unignored(&self, stop: &AtomicBool) -> u64 {
        let mut unignored = 0;
        for entry in self.walker(false, Arc::new(AtomicU64::new(0))).flatten() {
            if stop.load(Ordering::Relaxed) {
                return 0;
            }
            if self.consider(entry.path(), entry.file_type()).is_ok() {
                unignored += 1;
            }
        }
        unignored
    }

    /// Walks the whole tree before anything is processed, so the total is
    /// known from the start. `progress` is told each count found so far and
    /// stops the walk (`None`) by returning false. The files ignore files
    /// hide are counted by a second walk beside it, on a thread of its own
    /// (the workers wait for the first walk anyway).
    pub fn collect(&self, mut progress: impl FnMut(u64) -> bool) -> Option<FoundFiles> {
        let mut found = FoundFiles {
            root: self.root.clone(),
            ..FoundFiles::default()
        };
        let stop = AtomicBool::new(false);
        let (mut passed, unignored) = std::thread::scope(|scope| {
            let unignored = self
                .ignore_files
                .then(|| scope.spawn(|| self.count_unignored(&stop)));
            let passed = self.walk(|item| {
                found.push(item);
                let go_on = progress(found.len());
                if !go_on {
                    stop.store(true, Ordering::Relaxed);
                }
                go_on
            });
            let unignored = unignored.map_or(0, |walk| walk.join().unwrap_or(0));
            (passed, unignored)
        });
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        passed.ignored = unignored.saturating_sub(found.ends.len() as u64);
        found.passed_over = passed;
        Some(found)
    }

    fn consider(
        &self,
        path: &Path,
        file_type: Option<std::fs::FileType>,
    ) -> Result<SourceFile, Passed> {
        let file_type = file_type.ok_or(Passed::NotSource)?;
        // Symlinks are not followed: a link to a file is not a file of ours.
        if file_type.is_symlink() {
            return Err(Passed::Symlink);
        }
        if !file_type.is_file() {
            return Err(Passed::NotSource);
        }
        let name = path.file_name().ok_or(Passed::NotSource)?;
        let Some(kind) = self.kind_of(name) else {
            return Err(source_like(name));
        };
        let rel_path = self.relative(path);
        if !self.include_tests && self.rules.is_test_path(&rel_path) {
            return Err(Passed::Test);
        }
        if self.excludes.is_match(&rel_path) {
            return Err(Passed::Excluded);
        }
        Ok(SourceFile {
            path: path.to_path_buf(),
            kind,
            rel_path,
        })
    }

    /// The kind of a file with this name, if one of the extensions picks it.
    fn kind_of(&self, name: &OsStr) -> Option<FileKind> {
        let picked = match self.rules {
            DiscoveryRules::Snag => {
                let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
                self.extensions.iter().find(|e| e.dotted[1..] == ext)
            }
            DiscoveryRules::OriginalService => {
                let name = name.as_encoded_bytes();
                self.extensions
                    .iter()
                    .find(|e| name.ends_with(e.dotted.as_bytes()))
            }
        };
        picked.map(|e| e.kind)
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
    kinds: Vec<FileKind>,
    /// Paths the walker could not read, each with how many files came before it.
    unreadable: Vec<(usize, Unreadable)>,
    /// What the walk left out.
    pub passed_over: PassedOver,
}

impl FoundFiles {
    fn push(&mut self, item: Result<SourceFile, Unreadable>) {
        match item {
            Ok(file) => {
                self.rel_paths.push_str(&file.rel_path);
                self.ends.push(self.rel_paths.len());
                self.kinds.push(file.kind);
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
            kinds,
            unreadable,
            passed_over: _,
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
            let kind = kinds[next_file];
            next_file += 1;
            Some(Ok(SourceFile {
                path: stored_path::to_path(&root, &rel_path),
                rel_path,
                kind,
            }))
        })
    }
}

/// Why a file no extension picked was passed over: another extension snag
/// parses, or nothing snag could parse.
fn source_like(name: &OsStr) -> Passed {
    if FileKind::for_path(Path::new(name)).is_some() {
        Passed::OtherExtension
    } else {
        Passed::NotSource
    }
}

/// snag's test files: `*.test.*`, `*.spec.*`, anything under `__tests__/`.
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
    fn a_walk_counts_what_it_passes_over_by_reason() {
        let dir = tree(&[
            "src/a.ts",
            "src/a.test.ts",
            "src/__tests__/b.js",
            "src/App.vue",
            "src/Card.svelte",
            "src/legacy.mjs",
            "src/skip/me.ts",
            "gen/out.ts",
            "node_modules/x/index.js",
            "dist/bundle.js",
            "README.md",
            ".gitignore",
        ]);
        fs::write(dir.path().join(".gitignore"), "gen/\n").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("src/a.ts", dir.path().join("link.ts")).unwrap();
        let options = DiscoveryOptions {
            extensions: vec!["ts".into(), "js".into()],
            excludes: vec!["src/skip/**".into()],
            ..DiscoveryOptions::default()
        };
        let found = Discovery::new(dir.path(), &options)
            .unwrap()
            .collect(|_| true)
            .unwrap();
        assert_eq!(found.len(), 1);
        let passed = found.passed_over;
        assert_eq!(
            passed,
            PassedOver {
                test_files: 2,
                other_extensions: 3,
                excluded: 1,
                ignored: 1,
                excluded_folders: 2,
                symlinks: if cfg!(unix) { 1 } else { 0 },
            }
        );
        let said = passed.reasons().join(", ");
        assert!(
            said.starts_with("2 test files (--include-tests), 3 files of other extensions (--ext)"),
            "{said}"
        );
        assert!(said.contains("1 ignored file (--no-ignore)"), "{said}");
        assert!(
            passed
                .brief()
                .starts_with("2 tests (--include-tests), 3 other ext (--ext), 1 --exclude"),
            "{}",
            passed.brief()
        );
        // Each flag takes its files in.
        let taken = DiscoveryOptions {
            include_tests: true,
            respect_ignore_files: false,
            ..options
        };
        let found = Discovery::new(dir.path(), &taken)
            .unwrap()
            .collect(|_| true)
            .unwrap();
        assert_eq!(found.len(), 4);
        assert_eq!(
            (found.passed_over.test_files, found.passed_over.ignored),
            (0, 0)
        );
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
            extensions: vec!["html".into()],
            ..Default::default()
        };
        let err = Discovery::new(dir.path(), &bad).unwrap_err().to_string();
        assert!(err.contains("unsupported extension `.html`"), "{err}");
        assert!(err.contains(".vue .svelte"), "{err}");
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
                kind: FileKind::Script(crate::index::language::Language::TypeScript),
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

    /// The original service's rules with its endpoint's default extensions.
    fn original(include_tests: bool) -> DiscoveryOptions {
        DiscoveryOptions {
            extensions: vec![".ts".into(), ".js".into()],
            include_tests,
            rules: DiscoveryRules::OriginalService,
            ..Default::default()
        }
    }

    #[test]
    fn original_service_skips_build_output() {
        let dir = tree(&[
            "src/app.ts",
            "dist/app.js",
            "dist/app.d.ts",
            "packages/core/dist/x.js",
        ]);
        assert_eq!(found(dir.path(), &original(false)), ["src/app.ts"]);
    }

    #[test]
    fn original_service_skips_tests_unless_asked() {
        let dir = tree(&["src/app.ts", "__tests__/app.spec.ts"]);
        assert_eq!(found(dir.path(), &original(false)), ["src/app.ts"]);
        assert_eq!(
            found(dir.path(), &original(true)),
            ["__tests__/app.spec.ts", "src/app.ts"]
        );
    }

    #[test]
    fn original_service_test_patterns() {
        let dir = tree(&["app.spec.ts", "app.test.ts", "__tests__/unit.ts"]);
        assert_eq!(found(dir.path(), &original(true)).len(), 3);
        assert!(found(dir.path(), &original(false)).is_empty());
    }

    #[test]
    fn original_service_filters_by_extension() {
        let dir = tree(&["app.ts", "util.js", "script.py", "README.md"]);
        assert_eq!(found(dir.path(), &original(false)), ["app.ts", "util.js"]);
    }

    #[test]
    fn original_service_sorts_by_path_component_by_component() {
        let dir = tree(&["zebra.ts", "alpha.ts", "beta.ts"]);
        assert_eq!(
            found(dir.path(), &original(false)),
            ["alpha.ts", "beta.ts", "zebra.ts"]
        );
        // As Python sorts paths: `a` before `a-b.ts`, though `-` sorts
        // before `/` in a string.
        let dir = tree(&["a.ts", "a-b.ts", "a/x.ts"]);
        assert_eq!(
            found(dir.path(), &original(false)),
            ["a/x.ts", "a-b.ts", "a.ts"]
        );
    }

    #[test]
    fn original_service_skips_its_own_folders_only() {
        let dir = tree(&[
            "out/x.ts",
            "coverage/x.ts",
            "src/.hg/x.ts",
            ".svn/x.ts",
            "lib/__pycache__/x.ts",
            ".git/x.ts",
            ".next/x.ts",
            "build/x.ts",
            "node_modules/x.ts",
            "lib/dist.ts",
        ]);
        assert_eq!(
            found(dir.path(), &original(false)),
            ["coverage/x.ts", "lib/dist.ts", "out/x.ts"]
        );
    }

    #[test]
    fn original_service_reads_no_ignore_file_and_walks_hidden_folders() {
        let dir = tree(&["ignored.ts", "generated/g.ts", ".hidden/h.ts", "local.ts"]);
        fs::write(dir.path().join(".gitignore"), "ignored.ts\ngenerated/\n").unwrap();
        fs::write(dir.path().join(".ignore"), "local.ts\n").unwrap();
        assert_eq!(
            found(dir.path(), &original(false)),
            [".hidden/h.ts", "generated/g.ts", "ignored.ts", "local.ts"]
        );
        assert_eq!(
            found(dir.path(), &DiscoveryOptions::default()),
            [".hidden/h.ts"]
        );
    }

    #[test]
    fn original_service_test_markers_are_substrings_of_the_relative_path() {
        let dir = tree(&[
            "x.spec.d/y.ts",
            "my.test.helper.ts",
            "vitest.config.ts",
            "vitest.setup.ts",
            "src/__tests__.ts",
            "jest.setup.ts",
            "setupTests.ts",
            "spec/a.ts",
        ]);
        assert_eq!(
            found(dir.path(), &original(false)),
            ["jest.setup.ts", "setupTests.ts", "spec/a.ts"]
        );
        // The root's own path is not looked at.
        let dir = tree(&["a.test.b/src/app.ts"]);
        let root = dir.path().join("a.test.b");
        assert_eq!(found(&root, &original(false)), ["src/app.ts"]);
    }

    #[test]
    fn original_service_extensions_are_case_sensitive_suffixes() {
        let dir = tree(&[
            "a.ts",
            "A.TS",
            "b.d.ts",
            "c.mts",
            "fonts",
            "vitest.config.mts",
        ]);
        let with = |extensions: &[&str]| {
            let options = DiscoveryOptions {
                extensions: extensions.iter().map(|e| e.to_string()).collect(),
                ..original(false)
            };
            found(dir.path(), &options)
        };
        assert_eq!(with(&[".ts"]), ["a.ts", "b.d.ts"]);
        assert_eq!(with(&["ts", ".ts", "ts"]), ["a.ts", "b.d.ts"]);
        assert_eq!(with(&[".TS"]), ["A.TS"]);
        assert_eq!(with(&[".mts"]), ["c.mts"]);
        assert_eq!(with(&[".ts", ".d.ts"]), ["a.ts", "b.d.ts"]);
        let bad = DiscoveryOptions {
            extensions: vec![".Py".into()],
            ..original(false)
        };
        let err = Discovery::new(dir.path(), &bad).unwrap_err().to_string();
        assert!(err.contains("unsupported extension `.Py`"), "{err}");
    }

    #[test]
    fn original_service_lists_regular_files_only() {
        let dir = tree(&["src/keep.ts", "d.ts/inner.js"]);
        std::os::unix::fs::symlink("keep.ts", dir.path().join("src/link.ts")).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("src/loop.ts")).unwrap();
        assert_eq!(
            found(dir.path(), &original(false)),
            ["d.ts/inner.js", "src/keep.ts"]
        );
    }

    #[test]
    fn original_service_applies_exclude_globs() {
        let dir = tree(&["src/gen/x.ts", "src/y.ts"]);
        let options = DiscoveryOptions {
            excludes: vec!["src/gen/**".into()],
            ..original(false)
        };
        assert_eq!(found(dir.path(), &options), ["src/y.ts"]);
    }

    #[test]
    fn rules_are_named_and_found_by_name() {
        for rules in [DiscoveryRules::Snag, DiscoveryRules::OriginalService] {
            assert_eq!(DiscoveryRules::from_name(rules.name()), Some(rules));
        }
        assert_eq!(DiscoveryRules::OriginalService.name(), "original_service");
        assert_eq!(DiscoveryRules::from_name("mnemo"), None);
        assert_eq!(DiscoveryOptions::default().rules, DiscoveryRules::Snag);
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
