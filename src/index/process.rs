//! One file, start to finish: read, decode, parse within a time budget,
//! collect syntax errors, chunk; a panic anywhere becomes the file's
//! `unexpected_error` instead of the run's end.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tree_sitter::{Parser, Tree};

use super::chunk::{Chunk, ChunkError, chunk_file, source_key};
use super::component::{self, ScriptFinder, Scripts};
use super::decode::{Source, read_source};
use super::details::ErrorDetails;
use super::discover::{SourceFile, Unreadable};
use super::grammar::Grammars;
use super::language::{FileKind, Language};
use super::outcome::{ErrorType, FileError, Outcome, SkipReason};
use super::panics::capture;
use super::problems::{SiteInput, problems};
use super::reuse::{StoredResults, result_key};
use super::syntax::{
    ParseHealth, parse_health, parse_within, parsing_error, site_inputs, tree_depth_beyond,
};
use super::verdict::reference::INLINE_NESTING;
use super::verdict::{
    SiteJudgement, SitesRequest, SitesVerdict, VerdictReport, judge_sites, judge_sites_in,
};

/// Turns a parse tree and its text into chunks. The engine takes it as a
/// value so a run (or a test) can swap the stage.
pub type Chunker = fn(&Tree, &str) -> Result<Vec<Chunk>, ChunkError>;

/// Limits that apply to every file of a run.
#[derive(Debug, Clone, Copy)]
pub struct ProcessSettings {
    pub max_file_size: u64,
    /// Time budget of each parser, tree-sitter's and the reference's.
    pub parse_timeout: Duration,
    pub chunker: Chunker,
    /// Whether syntax errors get the reference parser's verdict.
    pub verdicts: bool,
    /// The grammar of each language.
    pub grammars: &'static Grammars,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        ProcessSettings {
            max_file_size: 2 * 1024 * 1024,
            parse_timeout: Duration::from_secs(10),
            chunker: chunk_file,
            verdicts: true,
            grammars: Grammars::built_in(),
        }
    }
}

/// Everything known about one file after it went through the engine.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub rel_path: String,
    pub language: Option<Language>,
    pub outcome: Outcome,
    pub skip_reason: Option<SkipReason>,
    pub bytes: u64,
    pub chunks: Vec<Chunk>,
    /// Identifies the decoded text and the snag that cut `chunks` from it:
    /// equal keys, equal chunks. None when the file was not decoded.
    pub source_key: Option<i64>,
    /// Identifies this result (see [`super::reuse::result_key`]); None when
    /// the file was not decoded.
    #[serde(skip)]
    pub result_key: Option<i64>,
    /// The stored result under the same key, kept: nothing was parsed, and
    /// the outcome, errors and chunks are those stored (the fields above
    /// other than the path, sizes and keys are left empty).
    #[serde(skip)]
    pub reused: Option<super::reuse::StoredResult>,
    /// At most one per error type.
    pub errors: Vec<FileError>,
    /// How much of the file tree-sitter could not parse; None when it was
    /// not parsed.
    pub health: Option<ParseHealth>,
    pub duration: Duration,
}

impl FileReport {
    fn new(rel_path: String, language: Option<Language>) -> Self {
        FileReport {
            rel_path,
            language,
            outcome: Outcome::Indexed,
            skip_reason: None,
            bytes: 0,
            chunks: Vec::new(),
            source_key: None,
            result_key: None,
            reused: None,
            errors: Vec::new(),
            health: None,
            duration: Duration::ZERO,
        }
    }

    fn failed(mut self, error: FileError) -> Self {
        self.outcome = Outcome::Failed;
        self.errors.push(error);
        self
    }

    /// Every error in its final form for storing (see [`FileError::seal`]).
    fn sealed(mut self) -> Self {
        self.errors.iter_mut().for_each(FileError::seal);
        self
    }

    /// A path the walker could not read at all.
    pub fn unreadable(entry: Unreadable) -> Self {
        let error = FileError::new(ErrorType::IoError, "discovery", entry.message);
        FileReport::new(entry.rel_path, None).failed(error).sealed()
    }

    /// This file as stored when its results could not be: `failed`, with a
    /// `persistence_error` saying why, and nothing else.
    pub fn persistence_failure(&self, cause: &str) -> Self {
        let error = FileError::new(
            ErrorType::PersistenceError,
            "store",
            format!("cannot store this file's results: {cause}"),
        );
        FileReport {
            bytes: self.bytes,
            duration: self.duration,
            ..FileReport::new(self.rel_path.clone(), self.language)
        }
        .failed(error)
        .sealed()
    }
}

/// A file's text as the engine reads it.
struct Code<'t> {
    language: Language,
    /// What the grammar and the reference parser read: the file itself, or
    /// a component's text with everything but its script blocks blanked.
    parsed: &'t str,
    /// The file's own text, for lines, columns and excerpts: wherever there
    /// is code, the same bytes as `parsed`, and the same lines everywhere.
    own: &'t str,
    /// The name the reference parser reads `parsed` under (it decides
    /// TypeScript or not, JSX or not): the file's own, or for a component
    /// its name with its scripts' extension (`App.vue.ts`).
    name: Cow<'t, str>,
}

impl<'t> Code<'t> {
    fn script(language: Language, rel_path: &'t str, text: &'t str) -> Self {
        Code {
            language,
            parsed: text,
            own: text,
            name: Cow::Borrowed(rel_path),
        }
    }

    fn component(rel_path: &str, text: &'t str, scripts: &'t Scripts) -> Self {
        Code {
            language: scripts.language,
            parsed: &scripts.text,
            own: text,
            name: Cow::Owned(component::script_name(rel_path, scripts.language)),
        }
    }
}

/// Processes files one after another on the current thread, reusing one
/// tree-sitter parser per language, and one HTML parser for components.
pub struct FileProcessor {
    settings: ProcessSettings,
    parsers: Vec<(Language, Parser)>,
    html: Option<ScriptFinder>,
    /// Results a file may keep instead of being parsed again.
    stored: Option<Arc<StoredResults>>,
}

impl FileProcessor {
    pub fn new(settings: ProcessSettings) -> Self {
        FileProcessor {
            settings,
            parsers: Vec::new(),
            html: None,
            stored: None,
        }
    }

    /// A processor that gives files whose stored result still holds a
    /// [`FileReport::reused`] report instead of parsing them.
    pub fn reusing(mut self, stored: Option<Arc<StoredResults>>) -> Self {
        self.stored = stored;
        self
    }

    pub fn process(&mut self, file: &SourceFile) -> FileReport {
        let started = Instant::now();
        let result = capture(|| self.process_unguarded(file));
        let mut report = result.unwrap_or_else(|panic| {
            // A parser that unwound mid-parse may be in any state.
            self.parsers.clear();
            self.html = None;
            let mut error = FileError::new(
                ErrorType::UnexpectedError,
                "panic",
                format!("snag panicked: {}", panic.message),
            );
            error.traceback = Some(panic.backtrace);
            FileReport::new(file.rel_path.clone(), file.kind.language()).failed(error)
        });
        report.duration = started.elapsed();
        if !super::reuse::settled(&report) {
            // Another run may get another result: never carried over.
            report.result_key = None;
        }
        report.sealed()
    }

    fn process_unguarded(&mut self, file: &SourceFile) -> FileReport {
        let mut report = FileReport::new(file.rel_path.clone(), file.kind.language());
        let (bytes, source) = read_source(&file.path, self.settings.max_file_size);
        report.bytes = bytes;
        let text = match source {
            Source::Text(text) => text,
            Source::Skipped(reason) => {
                report.outcome = Outcome::Skipped;
                report.skip_reason = Some(reason);
                return report;
            }
            Source::Failed(error) => return report.failed(*error),
        };
        let key = source_key(&text, self.settings.grammars);
        let result = result_key(key, &self.settings);
        report.source_key = Some(key);
        report.result_key = Some(result);
        if let Some(kept) = self
            .stored
            .as_ref()
            .and_then(|stored| stored.kept(&file.rel_path, result))
        {
            report.reused = Some(kept.clone());
            return report;
        }
        let scripts;
        let code = match file.kind {
            FileKind::Script(language) => Code::script(language, &file.rel_path, &text),
            FileKind::Component => {
                let budget = self.settings.parse_timeout;
                let html = self.html.get_or_insert_with(ScriptFinder::default);
                scripts = match html.scripts(&text, budget) {
                    Ok(Some(found)) => found,
                    Ok(None) => {
                        report.outcome = Outcome::Skipped;
                        report.skip_reason = Some(SkipReason::NoScript);
                        return report;
                    }
                    Err(stopped) => {
                        let error = timeout_error(
                            "finding the script blocks",
                            budget,
                            stopped.reached,
                            text.len(),
                        );
                        return report.failed(error);
                    }
                };
                Code::component(&file.rel_path, &text, &scripts)
            }
        };
        report.language = Some(code.language);
        let tree = match self.parse(code.language, code.parsed) {
            Ok(tree) => tree,
            Err(error) => return report.failed(*error),
        };
        report.health = Some(parse_health(&tree));
        let shown_path = crate::stored_path::display(&file.rel_path);
        let mut syntax_error = parsing_error(&tree, code.own, &shown_path, code.language.as_str());
        if self.settings.verdicts
            && let Some(error) = &mut syntax_error
        {
            self.add_verdict(error, &tree, &code);
        }
        match (self.settings.chunker)(&tree, code.parsed) {
            Ok(chunks) => report.chunks = chunks,
            Err(e) => {
                let error = FileError::new(ErrorType::ChunkingError, "chunking", e.to_string());
                report.errors.push(error);
                report.outcome = Outcome::Failed;
            }
        }
        if let Some(error) = syntax_error {
            report.errors.push(error);
            if report.outcome == Outcome::Indexed {
                report.outcome = if report.chunks.is_empty() {
                    Outcome::Failed
                } else {
                    Outcome::Partial
                };
            }
        }
        // The component as a whole, when its scripts are whole: like any
        // chunk, it is left out when its text holds a syntax error.
        if file.kind == FileKind::Component && report.outcome == Outcome::Indexed {
            let whole = component::component_chunk(&file.rel_path, &text, &report.chunks);
            report.chunks.insert(0, whole);
        }
        report
    }

    /// The reference parser's word on every site of a file tree-sitter
    /// flagged: the file's problems, each with its verdict, construct and
    /// location; the error takes the primary problem's location and the
    /// file's overall verdict.
    fn add_verdict(&mut self, error: &mut FileError, tree: &Tree, code: &Code) {
        let started = Instant::now();
        let text = code.parsed;
        let rel_path: &str = &code.name;
        let budget = self.settings.parse_timeout;
        let judge = |sites: &[SiteInput]| {
            let ranges: Vec<Range<usize>> = sites.iter().map(|s| s.bytes.clone()).collect();
            let missing: Vec<Option<String>> = sites.iter().map(|s| s.missing.clone()).collect();
            judge_sites(&SitesRequest {
                text,
                own_text: code.own,
                rel_path,
                sites: &ranges,
                missing: &missing,
                tree_depth: tree_depth_beyond(tree, INLINE_NESTING),
                budget,
            })
        };
        let mut sites = site_inputs(tree, text);
        let mut verdict = judge(&sites);
        if let Some(narrower) = self.split_wide_sites(code.language, tree, text, &sites, &verdict) {
            let (narrower, kept): (Vec<SiteInput>, Vec<Option<usize>>) =
                narrower.into_iter().unzip();
            // A valid text: the new sites are judged by their statements
            // alone, the others keep their judgements.
            let fresh: Vec<Range<usize>> = narrower
                .iter()
                .zip(&kept)
                .filter(|(_, kept)| kept.is_none())
                .map(|(site, _)| site.bytes.clone())
                .collect();
            let valid = verdict.mistakes.is_empty() && verdict.blanked.is_none();
            let judged = valid
                .then(|| {
                    let request = SitesRequest {
                        text,
                        own_text: code.own,
                        rel_path,
                        sites: &fresh,
                        missing: &[],
                        tree_depth: tree_depth_beyond(tree, INLINE_NESTING),
                        budget,
                    };
                    judge_sites_in(&request, &verdict.statements)
                })
                .flatten();
            verdict = match judged {
                Some(fresh) => {
                    let mut fresh = fresh.into_iter();
                    let sites = kept
                        .iter()
                        .map(|kept| match kept {
                            Some(old) => verdict.sites[*old].clone(),
                            None => fresh.next().expect("one judgement per new site"),
                        })
                        .collect();
                    SitesVerdict { sites, ..verdict }
                }
                None => judge(&narrower),
            };
            sites = narrower;
        }
        let survived = self.survivors(code.language, &sites, &verdict);
        let problems = problems(
            ErrorType::ParsingError,
            code.own,
            &sites,
            &survived,
            &verdict,
        );
        let report = VerdictReport::of_problems(&verdict, &problems, started.elapsed());
        error.set_problems(problems);
        error.verdict = Some(Box::new(report));
    }

    /// A site that spans several top-level statements (tree-sitter gave up
    /// on a whole region, often the whole file) says nothing about where
    /// the problem is: it is replaced by the sites of the statements that
    /// tree-sitter cannot parse on their own. Each site comes with the
    /// index of the one it stands for when it was kept as it was. `None`
    /// when there is no such site, or no statement fails alone.
    fn split_wide_sites(
        &mut self,
        language: Language,
        tree: &Tree,
        text: &str,
        sites: &[SiteInput],
        verdict: &SitesVerdict,
    ) -> Option<Vec<(SiteInput, Option<usize>)>> {
        let statements = &verdict.statements;
        let spanned = |site: &SiteInput| {
            let first = statements.partition_point(|s| s.end <= site.bytes.start);
            let last = statements.partition_point(|s| s.start < site.bytes.end);
            &statements[first..last.max(first)]
        };
        if !sites.iter().any(|site| spanned(site).len() > 1) {
            return None;
        }
        let mut narrower = Vec::with_capacity(sites.len());
        let mut split = false;
        for (index, site) in sites.iter().enumerate() {
            let covered = spanned(site);
            let mut found = Vec::new();
            if covered.len() > 1 {
                for statement in covered {
                    // tree-sitter's recovery often kept the statement whole.
                    let kept = tree
                        .root_node()
                        .descendant_for_byte_range(statement.start, statement.end)
                        .is_some_and(|node| node.byte_range() == *statement && !node.has_error());
                    if kept {
                        continue;
                    }
                    let piece = &text[statement.clone()];
                    let Ok(alone) = self.parse(language, piece) else {
                        continue;
                    };
                    found.extend(site_inputs(&alone, piece).into_iter().map(|mut inner| {
                        inner.bytes =
                            inner.bytes.start + statement.start..inner.bytes.end + statement.start;
                        inner
                    }));
                }
            }
            if found.is_empty() {
                narrower.push((site.clone(), Some(index)));
            } else {
                split = true;
                narrower.extend(found.into_iter().map(|site| (site, None)));
            }
        }
        split.then_some(narrower)
    }

    /// Which sites are still there once the mistakes are blanked out of the
    /// text (re-parsed by tree-sitter); the others were caused by them.
    fn survivors(
        &mut self,
        language: Language,
        sites: &[SiteInput],
        verdict: &SitesVerdict,
    ) -> Vec<bool> {
        let Some(blanked) = &verdict.blanked else {
            return vec![true; sites.len()];
        };
        // Only a site judged valid can turn out to be a mistake's cascade:
        // without one, there is nothing to parse again for.
        if !verdict
            .sites
            .iter()
            .any(|site| matches!(site, SiteJudgement::Valid(_)))
        {
            return vec![true; sites.len()];
        }
        let Ok(again) = self.parse(language, blanked) else {
            return vec![true; sites.len()];
        };
        let remaining = site_inputs(&again, blanked);
        let overlaps = |a: &Range<usize>, b: &Range<usize>| {
            a.start == b.start
                || (a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1))
        };
        sites
            .iter()
            .map(|site| remaining.iter().any(|r| overlaps(&r.bytes, &site.bytes)))
            .collect()
    }

    fn parse(&mut self, language: Language, text: &str) -> Result<Tree, Box<FileError>> {
        let budget = self.settings.parse_timeout;
        let parser = self.parser(language)?;
        parse_within(parser, text, budget).map_err(|stopped| {
            Box::new(timeout_error(
                "parsing",
                budget,
                stopped.reached,
                text.len(),
            ))
        })
    }

    fn parser(&mut self, language: Language) -> Result<&mut Parser, Box<FileError>> {
        let index = match self.parsers.iter().position(|(l, _)| *l == language) {
            Some(index) => index,
            None => {
                let mut parser = Parser::new();
                let grammars = self.settings.grammars;
                parser
                    .set_language(grammars.language(language))
                    .map_err(|e| {
                        Box::new(FileError::new(
                            ErrorType::UnexpectedError,
                            "grammar",
                            format!(
                                "cannot load the {} grammar: {e}",
                                grammars.get(language).info.label()
                            ),
                        ))
                    })?;
                self.parsers.push((language, parser));
                self.parsers.len() - 1
            }
        };
        Ok(&mut self.parsers[index].1)
    }
}

/// The `timeout_error` of a parse (`what`) stopped at byte `reached` of
/// `len` when it ran out of `budget`.
fn timeout_error(what: &str, budget: Duration, reached: usize, len: usize) -> FileError {
    let mut error = FileError::new(
        ErrorType::TimeoutError,
        "parse",
        format!(
            "{what} took longer than the {:.1} s budget (--parse-timeout); stopped at byte {reached} of {len}",
            budget.as_secs_f64(),
        ),
    );
    error.details = ErrorDetails {
        budget_ms: Some(budget.as_millis() as u64),
        byte_offset: Some(reached as u64),
        ..Default::default()
    };
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(dir: &Path, name: &str, content: &[u8]) -> SourceFile {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        SourceFile {
            kind: FileKind::for_path(&path).unwrap(),
            path,
            rel_path: name.to_owned(),
        }
    }

    #[test]
    fn outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let mut processor = FileProcessor::new(ProcessSettings::default());
        let valid = processor.process(&file(
            dir.path(),
            "a.ts",
            b"export function a() { return 1 }\n",
        ));
        assert_eq!(valid.outcome, Outcome::Indexed);
        assert!(!valid.chunks.is_empty());
        let partial = processor.process(&file(
            dir.path(),
            "b.ts",
            b"export function ok() { return 1; }\n\nexport function bad( {\n  return 2;\n}\n",
        ));
        assert_eq!(partial.outcome, Outcome::Partial);
        assert_eq!(partial.errors[0].error_type, ErrorType::ParsingError);
        let seed = processor.process(&file(
            dir.path(),
            "c.ts",
            b"class Foo { invalid syntax )))))",
        ));
        assert!(matches!(seed.outcome, Outcome::Failed | Outcome::Partial));
        assert_eq!(seed.errors[0].span.unwrap().line, 1);
        let latin1 = processor.process(&file(dir.path(), "d.ts", b"const caf\xe9 = 1;"));
        assert_eq!(
            (latin1.outcome, latin1.errors[0].error_type),
            (Outcome::Failed, ErrorType::EncodingError)
        );
        let empty = processor.process(&file(dir.path(), "e.ts", b""));
        assert_eq!(
            (empty.outcome, empty.skip_reason),
            (Outcome::Skipped, Some(SkipReason::Empty))
        );
    }

    #[test]
    fn timeout_is_a_timeout_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut processor = FileProcessor::new(ProcessSettings {
            parse_timeout: Duration::ZERO,
            ..Default::default()
        });
        let body = "export function f() { return [1, 2, 3].map(x => x * 2); }\n".repeat(5_000);
        let report = processor.process(&file(dir.path(), "slow.ts", body.as_bytes()));
        assert_eq!(report.outcome, Outcome::Failed);
        assert_eq!(report.errors[0].error_type, ErrorType::TimeoutError);
        assert!(report.errors[0].message.contains("--parse-timeout"));
        // A component's markup has the same budget.
        let markup = format!(
            "{}{}<script>let a = 1;</script>\n",
            "<div>".repeat(20_000),
            "</div>".repeat(20_000)
        );
        let component = processor.process(&file(dir.path(), "Deep.vue", markup.as_bytes()));
        assert_eq!(component.outcome, Outcome::Failed);
        assert_eq!(component.errors[0].error_type, ErrorType::TimeoutError);
        assert!(
            component.errors[0]
                .message
                .starts_with("finding the script blocks took longer"),
            "{}",
            component.errors[0].message
        );
        // The parser is usable again afterwards.
        processor.settings.parse_timeout = Duration::from_secs(10);
        let ok = processor.process(&file(dir.path(), "ok.ts", b"let a = 1;\n"));
        assert_eq!(ok.outcome, Outcome::Indexed);
    }

    #[test]
    fn a_panicking_chunker_fails_only_that_file() {
        fn explosive(tree: &Tree, text: &str) -> Result<Vec<Chunk>, ChunkError> {
            if text.contains("boom") {
                panic!("chunker exploded");
            }
            chunk_file(tree, text)
        }
        let dir = tempfile::tempdir().unwrap();
        let mut processor = FileProcessor::new(ProcessSettings {
            chunker: explosive,
            ..Default::default()
        });
        let bad = processor.process(&file(dir.path(), "boom.ts", b"const boom = 1;\n"));
        assert_eq!(bad.outcome, Outcome::Failed);
        let error = &bad.errors[0];
        assert_eq!(error.error_type, ErrorType::UnexpectedError);
        assert!(
            error.message.contains("chunker exploded"),
            "{}",
            error.message
        );
        assert!(error.traceback.as_deref().is_some_and(|t| !t.is_empty()));
        let good = processor.process(&file(dir.path(), "fine.ts", b"const fine = 1;\n"));
        assert_eq!(good.outcome, Outcome::Indexed);
    }
}
