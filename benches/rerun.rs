//! What an incremental run costs against a first index of the same
//! repository, measured in one benchmark run.
//!
//! ```sh
//! cargo bench --bench rerun                      # 100k generated files, and the corpus if present
//! cargo bench --bench rerun -- --files 20000     # a smaller generated repository
//! cargo bench --bench rerun -- --corpus DIR      # the fetch-corpus.sh corpus somewhere else
//! ```
//!
//! For each repository (a generated one of small TypeScript files, one in
//! fifty with a syntax error, and the fetch-corpus.sh corpus when it is in
//! its default place or given): the first index, a re-run with nothing
//! changed, a re-run after touching 1% of the files, and a `--full` re-run,
//! each with the real `snag index` in a process of its own, timed by the
//! run's own clock. Then the ratios the targets are about: the first index
//! against the unchanged re-run (target ≥ 10x) and the 1% re-run against the
//! first index (target ≤ 5%); and, over 20 runs of an unchanged repository
//! (`--storage-runs N`), how much each re-run adds to every growing table. Uses DATABASE_URL when set, else the private cluster, in a
//! scratch database `snag_bench_rerun` that is dropped at the end.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::generate::{self, Content};

const DATABASE: &str = "snag_bench_rerun";

/// One `snag index`.
struct Measured {
    files: u64,
    reused: u64,
    run: Duration,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let files: usize = value("--files").map_or(Ok(100_000), |n| n.parse())?;
    let corpus = value("--corpus")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("SNAG_BENCH_CORPUS").map(PathBuf::from))
        .or_else(|| directories::BaseDirs::new().map(|d| d.cache_dir().join("snag-corpus")))
        .filter(|dir| dir.is_dir());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(support::create(DATABASE))?;
    let url = support::url(DATABASE)?;
    let scratch = tempfile::tempdir()?;

    let generated = scratch.path().join("generated");
    generate::repository(&generated, files, Content::Clean)?;
    // One file in fifty broken, so files that keep their results have errors too.
    for i in (0..files).step_by(50) {
        let path = generated.join(format!("packages/p{:03}/src/module{i}.ts", i / 1000));
        std::fs::write(path, "export function broken(a: number {\n  return a;\n}\n")?;
    }
    let mut repositories = vec![(format!("generated ({files} files)"), generated)];
    match corpus {
        Some(dir) => repositories.push(("fetch-corpus".to_owned(), dir)),
        None => println!("(no fetch-corpus corpus found: pass --corpus DIR to include it)"),
    }
    println!(
        "{:<26} {:>8} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "repository", "files", "first s", "same s", "1% s", "full s", "first/same", "1%/first"
    );
    for (label, dir) in &repositories {
        let repository = label.split(' ').next().unwrap_or("repo");
        let first = index(&url, dir, repository, &[])?;
        let same = index(&url, dir, repository, &[])?;
        // Every file with a result to keep (not the skipped or unreadable).
        anyhow::ensure!(
            same.reused + 10 >= same.files,
            "an unchanged re-run reused {} of {} files",
            same.reused,
            same.files
        );
        let floor = read_and_hash(dir)?;
        let touched = touch_one_percent(dir)?;
        let one_percent = index(&url, dir, repository, &[])?;
        let full = index(&url, dir, repository, &["--full"])?;
        println!(
            "{:<26} {:>8} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>9.1}x {:>8.1}%",
            label,
            first.files,
            first.run.as_secs_f64(),
            same.run.as_secs_f64(),
            one_percent.run.as_secs_f64(),
            full.run.as_secs_f64(),
            first.run.as_secs_f64() / same.run.as_secs_f64(),
            100.0 * one_percent.run.as_secs_f64() / first.run.as_secs_f64()
        );
        println!(
            "{:<26} touched {touched} files; the 1% re-run reused {} of {}; the unchanged re-run \
             reused {} of {}",
            "", one_percent.reused, one_percent.files, same.reused, same.files
        );
        println!(
            "{:<26} walking, reading and hashing every file alone (the floor of a re-run): {:.2} s; \
             first/floor {:.1}x; the unchanged re-run spends {:.2} s beyond it (its files' kept results are counted, not written)",
            "",
            floor.as_secs_f64(),
            first.run.as_secs_f64() / floor.as_secs_f64(),
            (same.run.as_secs_f64() - floor.as_secs_f64()).max(0.0)
        );
    }
    // Storage over many runs of an unchanged repository.
    let runs: usize = value("--storage-runs").map_or(Ok(20), |n| n.parse())?;
    let steady = scratch.path().join("steady");
    generate::repository(&steady, files.min(10_000), Content::Clean)?;
    index(&url, &steady, "steady", &[])?;
    let before = runtime.block_on(table_bytes(DATABASE))?;
    for _ in 1..runs {
        index(&url, &steady, "steady", &[])?;
    }
    let after = runtime.block_on(table_bytes(DATABASE))?;
    println!(
        "\n{runs} runs of an unchanged repository of {} files: what each re-run adds",
        files.min(10_000)
    );
    for ((table, first), (_, last)) in before.iter().zip(&after) {
        println!(
            "  {table:<18} {:>8.2} MB per run ({:.1} MB after the first run, {:.1} MB after {runs})",
            (last - first) as f64 / 1e6 / (runs - 1).max(1) as f64,
            *first as f64 / 1e6,
            *last as f64 / 1e6
        );
    }
    println!("targets: first/same ≥ 10x; 1%/first ≤ 5%");
    runtime.block_on(support::drop(DATABASE))?;
    Ok(())
}

/// What an unchanged re-run cannot avoid: discovery's walk, then reading,
/// decoding and hashing every file, on all cores, with nothing stored.
fn read_and_hash(dir: &Path) -> anyhow::Result<Duration> {
    use snag::index::discover::{Discovery, DiscoveryOptions};
    let started = std::time::Instant::now();
    let discovery = Discovery::new(dir, &DiscoveryOptions::default())?;
    let mut files = Vec::new();
    discovery.walk(|item| {
        if let Ok(file) = item {
            files.push(file.path);
        }
        true
    });
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = files.len().div_ceil(threads).max(1);
    let keys: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(per_thread)
            .map(|paths| {
                scope.spawn(move || {
                    let mut sum = 0u64;
                    for path in paths {
                        let (_, source) = snag::index::decode::read_source(path, 2 * 1024 * 1024);
                        if let snag::index::decode::Source::Text(text) = source {
                            sum = sum.wrapping_add(snag::index::chunk::source_key(
                                &text,
                                snag::index::grammar::Grammars::built_in(),
                            ) as u64);
                        }
                    }
                    sum
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(0))
            .fold(0, u64::wrapping_add)
    });
    std::hint::black_box(keys);
    Ok(started.elapsed())
}

/// Appends a comment to every hundredth file; gives how many.
fn touch_one_percent(dir: &Path) -> anyhow::Result<usize> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .hidden(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                ["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts", "cts"].contains(&e)
            })
        })
        .collect();
    files.sort();
    let mut touched = 0;
    for path in files.iter().step_by(100) {
        let mut text = std::fs::read(path)?;
        text.extend_from_slice(b"\n// touched\n");
        std::fs::write(path, text)?;
        touched += 1;
    }
    Ok(touched)
}

/// The bytes each growing table holds, indexes included.
async fn table_bytes(database: &'static str) -> anyhow::Result<Vec<(String, i64)>> {
    let options = support::existing(database)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no database {database}"))?;
    let store = snag::store::Store::open_with(options, database).await?;
    let mut sizes = Vec::new();
    for table in [
        "indexed_files",
        "indexing_errors",
        "indexing_errors_history",
        "code_chunks",
        "run_groups",
        "error_history_counts",
    ] {
        // VACUUM first: dead rows left by updates are not growth.
        sqlx::query(&format!("VACUUM {table}"))
            .execute(store.pool())
            .await?;
        let bytes: i64 = sqlx::query_scalar("SELECT pg_total_relation_size($1::regclass)")
            .bind(table)
            .fetch_one(store.pool())
            .await?;
        sizes.push((table.to_owned(), bytes));
    }
    store.close().await;
    Ok(sizes)
}

/// `snag index` on `dir` as its own process, timed by the run's own clock.
fn index(url: &str, dir: &Path, repository: &str, args: &[&str]) -> anyhow::Result<Measured> {
    let output = Command::new(env!("CARGO_BIN_EXE_snag"))
        .args(["index", "--repo", repository, "--format", "json"])
        .args(args)
        .arg(dir)
        .env("DATABASE_URL", url)
        .stderr(Stdio::null())
        .output()?;
    anyhow::ensure!(
        output.status.code().is_some_and(|c| c <= 1),
        "snag index exited {:?}",
        output.status.code()
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let number = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    Ok(Measured {
        files: number(&summary["files"]["total"]),
        reused: number(&summary["files"]["reused"]),
        run: Duration::from_millis(number(&summary["duration_ms"])),
    })
}
