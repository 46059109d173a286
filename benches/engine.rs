//! End-to-end throughput against raw tree-sitter, measured in one run.
//!
//! ```sh
//! scripts/fetch-corpus.sh ~/.cache/snag-corpus   # real npm packages
//! cargo bench --bench engine -- ~/.cache/snag-corpus
//! cargo bench --bench engine -- ~/.cache/snag-corpus --jobs 1
//! ```
//!
//! Reports, on the files snag indexes with default options and the same
//! number of threads, each figure the best of three runs: raw tree-sitter
//! parse of in-memory text, raw read + parse, and snag's whole pipeline
//! (walk, read, decode, parse, syntax errors, chunk, write to PostgreSQL),
//! as files/s and MB/s with ratios. The pipeline is timed on a first index
//! (a repository name the database has not seen) and on a re-run of
//! unchanged files, which parses everything again but leaves their chunks
//! in place. Also snag's peak RSS on
//! half of the corpus and on all of it (flat means memory does not grow
//! with the number of files), and the reference parser's verdicts: the
//! time they take (summed over files, against the run's thread time, and
//! the engine with and without them) and how tree-sitter's flagged files
//! were judged. On a corpus with `.vue`/`.svelte` components, what finding
//! their script blocks costs against parsing the scripts.
//! Uses DATABASE_URL when set, else the private cluster, in a scratch
//! database `snag_bench` that is dropped at the end.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use snag::index::discover::{Discovery, DiscoveryOptions, SourceFile};
use snag::index::outcome::{ErrorType, Verdict};
use snag::index::process::{FileProcessor, ProcessSettings};
use snag::runner::{self, RunRequest};
use snag::store::{ErrorRecord, Store};
use sqlx::postgres::PgConnectOptions;

const DATABASE: &str = "snag_bench";
/// Every figure is the best of this many runs.
const ROUNDS: usize = 3;

fn main() -> anyhow::Result<()> {
    let corpus = corpus_dir()?;
    let jobs = jobs()?;
    let files = discover(&corpus)?;
    let max = ProcessSettings::default().max_file_size;
    let parsed: Vec<&SourceFile> = files
        .iter()
        .filter(|f| std::fs::metadata(&f.path).is_ok_and(|m| m.len() <= max && m.len() > 0))
        .collect();
    let bytes: u64 = parsed
        .iter()
        .map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len()))
        .sum();
    println!(
        "corpus {}: {} files discovered, {} parsed ({:.1} MB), {jobs} threads",
        corpus.display(),
        files.len(),
        parsed.len(),
        bytes as f64 / 1e6
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let options = runtime.block_on(support::create(DATABASE))?;

    // Half the corpus first: peak RSS must not grow with the file count.
    let half = runtime.block_on(end_to_end(&options, &corpus, "half", jobs, Some(2)))?;
    let rss_half = peak_rss_kib();
    // Each measured run indexes the corpus under a new repository name, as a
    // first index does; then the last one again, unchanged, as CI re-runs do.
    let mut runs = Vec::new();
    let mut rss_full = 0;
    for round in 1..=ROUNDS {
        let name = format!("corpus-{round}");
        runs.push(runtime.block_on(end_to_end(&options, &corpus, &name, jobs, None))?);
        if round == 1 {
            rss_full = peak_rss_kib();
        }
    }
    let mut reruns = Vec::new();
    for _ in 0..ROUNDS {
        let name = format!("corpus-{ROUNDS}");
        reruns.push(runtime.block_on(end_to_end(&options, &corpus, &name, jobs, None))?);
    }
    let rerun = reruns
        .into_iter()
        .min_by_key(|run| run.0)
        .expect("at least one round");
    let full = runs
        .into_iter()
        .min_by_key(|run| run.0)
        .expect("at least one round");
    let flagged = runtime.block_on(flagged_files(&options, full.2))?;

    let texts: Vec<(snag::index::language::Language, String)> = parsed
        .iter()
        .filter_map(|f| parse_input(f, std::fs::read_to_string(&f.path).ok()?))
        .collect();
    // Warm up the page cache and allocator so the baselines are not
    // charged for a cold start the end-to-end runs already paid.
    parse_all(&texts, jobs);
    let parse_only = best_of(|| parse_all(&texts, jobs));
    let read_parse = best_of(|| read_and_parse_all(&parsed, jobs));
    let engine_only = best_of(|| process_all(&files, jobs, true));
    let engine_without_verdicts = best_of(|| process_all(&files, jobs, false));

    let rate = |d: Duration| {
        (
            parsed.len() as f64 / d.as_secs_f64(),
            bytes as f64 / 1e6 / d.as_secs_f64(),
        )
    };
    let (pf, pm) = rate(parse_only);
    let (rf, rm) = rate(read_parse);
    let (ef, em) = rate(full.0);
    let (nf, nm) = rate(engine_only);
    println!(
        "raw tree-sitter parse (in memory) {:>8.0} files/s {:>6.2} MB/s",
        pf, pm
    );
    println!(
        "raw read + parse                  {:>8.0} files/s {:>6.2} MB/s",
        rf, rm
    );
    println!(
        "snag engine, no storage         {:>8.0} files/s {:>6.2} MB/s",
        nf, nm
    );
    println!(
        "snag end to end (+chunk +store)   {:>8.0} files/s {:>6.2} MB/s  ({} chunks)",
        ef, em, full.1
    );
    let (af, am) = rate(rerun.0);
    println!(
        "snag re-run, unchanged files      {:>8.0} files/s {:>6.2} MB/s  (their chunks stay in place)",
        af, am
    );
    println!(
        "ratio end-to-end / parse-only {:.2}x, / read+parse {:.2}x; re-run / parse-only {:.2}x",
        parse_only.as_secs_f64() / full.0.as_secs_f64(),
        read_parse.as_secs_f64() / full.0.as_secs_f64(),
        parse_only.as_secs_f64() / rerun.0.as_secs_f64()
    );
    println!(
        "peak RSS: {:.0} MB after half the corpus ({:.1} s), {:.0} MB after all of it",
        rss_half as f64 / 1024.0,
        half.0.as_secs_f64(),
        rss_full as f64 / 1024.0
    );
    component_lines(&parsed);
    verdict_lines(&full, jobs, &flagged);
    let with = engine_only.as_secs_f64();
    let without = engine_without_verdicts.as_secs_f64();
    println!(
        "snag engine with verdicts {:.3} s, without {:.3} s: {:+.2}% (run to run noise included)",
        with,
        without,
        100.0 * (with - without) / without
    );
    runtime.block_on(support::drop(DATABASE))?;
    Ok(())
}

/// What finding the script blocks of the corpus's `.vue`/`.svelte`
/// components costs (one thread), against parsing those scripts.
fn component_lines(parsed: &[&SourceFile]) {
    let texts: Vec<String> = parsed
        .iter()
        .filter(|f| f.kind == snag::index::language::FileKind::Component)
        .filter_map(|f| std::fs::read_to_string(&f.path).ok())
        .collect();
    if texts.is_empty() {
        return;
    }
    let budget = Duration::from_secs(10);
    let mut finder = snag::index::component::ScriptFinder::default();
    let scripts: Vec<_> = texts
        .iter()
        .filter_map(|t| finder.scripts(t, budget).ok().flatten())
        .collect();
    let finder = std::cell::RefCell::new(finder);
    let find = best_of(|| {
        for text in &texts {
            std::hint::black_box(finder.borrow_mut().scripts(text, budget).ok());
        }
    });
    let parse = best_of(|| {
        let mut parsers = Vec::new();
        for found in &scripts {
            std::hint::black_box(parser_for(&mut parsers, found.language).parse(&found.text, None));
        }
    });
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "components: {} files ({:.2} MB, {} with scripts): finding their script blocks {:.1} ms, \
         parsing the scripts {:.1} ms; the HTML scan is {:.2}x the script parse",
        texts.len(),
        bytes as f64 / 1e6,
        scripts.len(),
        find.as_secs_f64() * 1e3,
        parse.as_secs_f64() * 1e3,
        find.as_secs_f64() / parse.as_secs_f64().max(1e-9)
    );
}

/// The verdict step's share of the end-to-end run, and the verdicts.
fn verdict_lines(full: &(Duration, u64, i64, Progress), jobs: usize, flagged: &[ErrorRecord]) {
    let (elapsed, _, _, progress) = full;
    let thread_time = elapsed.as_secs_f64() * jobs as f64;
    let checked: u64 = progress.verdicts.values().sum();
    println!(
        "verdicts: {checked} flagged files checked in {:.1} ms summed over threads = {:.2}% of the \
         end-to-end run's thread time ({:.2} s x {jobs})",
        progress.verdict_time.as_secs_f64() * 1000.0,
        100.0 * progress.verdict_time.as_secs_f64() / thread_time.max(1e-9),
        elapsed.as_secs_f64()
    );
    let share = |verdict: Verdict| {
        let n = progress.verdicts.get(&verdict).copied().unwrap_or(0);
        format!(
            "{} {n} ({:.1}%)",
            verdict.as_str(),
            100.0 * n as f64 / checked.max(1) as f64
        )
    };
    println!(
        "verdicts on tree-sitter's flagged files: {}, {}, {}",
        share(Verdict::GrammarGap),
        share(Verdict::InvalidSource),
        share(Verdict::Unknown)
    );
    for e in flagged
        .iter()
        .filter(|e| e.verdict != Some(Verdict::GrammarGap))
        .take(20)
    {
        let reference = e.details.reference.clone().unwrap_or_default();
        println!(
            "  {}: {} {}",
            e.file_path,
            e.verdict.map_or("-", Verdict::as_str),
            reference.message.or(reference.reason).unwrap_or_default()
        );
    }
    let mut constructs: std::collections::BTreeMap<&str, usize> = Default::default();
    for e in flagged
        .iter()
        .filter(|e| e.verdict == Some(Verdict::GrammarGap))
    {
        *constructs.entry(e.details.construct.as_str()).or_default() += 1;
    }
    let mut constructs: Vec<_> = constructs.into_iter().collect();
    constructs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (construct, n) in constructs.iter().take(15) {
        println!("  gap {n:>4}  {construct}");
    }
}

/// The syntax errors of a run, with their verdicts.
async fn flagged_files(
    options: &PgConnectOptions,
    run_id: i64,
) -> anyhow::Result<Vec<ErrorRecord>> {
    let store = Store::open_with(options.clone(), DATABASE).await?;
    let errors = store.run_errors(run_id).await?;
    store.close().await;
    Ok(errors
        .into_iter()
        .filter(|e| e.error_type == ErrorType::ParsingError)
        .collect())
}

/// `--jobs N` (every figure then uses N threads), else one per CPU. Fewer
/// threads than CPUs leaves the database a core of its own.
fn jobs() -> anyhow::Result<usize> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--jobs") {
        Some(i) => Ok(args
            .get(i + 1)
            .and_then(|n| n.parse().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| anyhow::anyhow!("--jobs needs a positive number"))?),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

fn corpus_dir() -> anyhow::Result<PathBuf> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with('-') && (*i == 0 || args[i - 1] != "--jobs"))
        .map(|(_, a)| a)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("SNAG_BENCH_CORPUS").map(PathBuf::from))
        .or_else(|| directories::BaseDirs::new().map(|d| d.cache_dir().join("snag-corpus")))
        .unwrap_or_default();
    if !dir.is_dir() {
        anyhow::bail!(
            "no corpus at {}: download it with fetch-corpus.sh (see README) and pass its directory",
            dir.display()
        );
    }
    Ok(dir)
}

fn discover(root: &Path) -> anyhow::Result<Vec<SourceFile>> {
    let mut files = Vec::new();
    Discovery::new(root, &DiscoveryOptions::default())?.walk(|item| {
        if let Ok(file) = item {
            files.push(file);
        }
        true
    });
    Ok(files)
}

type Progress = snag::index::progress::ProgressSnapshot;

/// One full run; `every` keeps one package folder in that many. Returns
/// its time, chunks, run id and final counters.
async fn end_to_end(
    options: &PgConnectOptions,
    corpus: &Path,
    repository: &str,
    jobs: usize,
    every: Option<usize>,
) -> anyhow::Result<(Duration, u64, i64, Progress)> {
    let store = Store::open_with(options.clone(), DATABASE).await?;
    let mut request = RunRequest::new(corpus);
    request.repository = repository.to_owned();
    request.jobs = jobs;
    if let Some(every) = every {
        let mut folders: Vec<String> = std::fs::read_dir(corpus)?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        folders.sort();
        request.discovery.excludes = folders
            .iter()
            .skip(1)
            .step_by(every)
            .map(|f| format!("{f}/**"))
            .collect();
    }
    let started = Instant::now();
    let handle = runner::start(store.clone(), request).await?;
    let progress = std::sync::Arc::clone(&handle.progress);
    let summary = handle.wait().await?;
    let elapsed = started.elapsed();
    store.close().await;
    Ok((elapsed, summary.chunks, summary.run_id, progress.snapshot()))
}

/// The fastest of [`ROUNDS`] timings: the machine's noise only ever adds.
fn best_of(work: impl Fn()) -> Duration {
    (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .min()
        .expect("at least one round")
}

/// Runs `work(i)` for every index on `jobs` threads.
fn on_threads(
    count: usize,
    jobs: usize,
    work: impl Fn(usize, &mut Vec<(snag::index::language::Language, tree_sitter::Parser)>) + Sync,
) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut parsers = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    work(i, &mut parsers);
                }
            });
        }
    });
}

fn parser_for(
    parsers: &mut Vec<(snag::index::language::Language, tree_sitter::Parser)>,
    language: snag::index::language::Language,
) -> &mut tree_sitter::Parser {
    let index = match parsers.iter().position(|(l, _)| *l == language) {
        Some(i) => i,
        None => {
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(snag::index::grammar::Grammars::built_in().language(language))
                .expect("grammar loads");
            parsers.push((language, parser));
            parsers.len() - 1
        }
    };
    &mut parsers[index].1
}

/// What tree-sitter parses of a file: a script as it is, a component's
/// script blocks (none: nothing).
fn parse_input(
    file: &SourceFile,
    text: String,
) -> Option<(snag::index::language::Language, String)> {
    match file.kind.language() {
        Some(language) => Some((language, text)),
        None => snag::index::component::ScriptFinder::default()
            .scripts(&text, std::time::Duration::from_secs(10))
            .ok()
            .flatten()
            .map(|s| (s.language, s.text)),
    }
}

fn parse_all(texts: &[(snag::index::language::Language, String)], jobs: usize) {
    on_threads(texts.len(), jobs, |i, parsers| {
        let (language, text) = &texts[i];
        std::hint::black_box(parser_for(parsers, *language).parse(text, None));
    });
}

fn read_and_parse_all(files: &[&SourceFile], jobs: usize) {
    on_threads(files.len(), jobs, |i, parsers| {
        if let Some((language, text)) = std::fs::read_to_string(&files[i].path)
            .ok()
            .and_then(|text| parse_input(files[i], text))
        {
            std::hint::black_box(parser_for(parsers, language).parse(&text, None));
        }
    });
}

/// The engine's per-file work (read, decode, parse, syntax errors,
/// verdicts if asked, chunk) without the database.
fn process_all(files: &[SourceFile], jobs: usize, verdicts: bool) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut processor = FileProcessor::new(ProcessSettings {
                    verdicts,
                    ..Default::default()
                });
                while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    std::hint::black_box(processor.process(file));
                }
            });
        }
    });
}

/// VmHWM: the process's peak resident set, in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
