//! How cost grows with the size of a repository, on a store that already
//! holds another repository's rows.
//!
//! ```sh
//! cargo bench --bench scale                       # 1k, 10k and 100k files
//! cargo bench --bench scale -- --sizes 1000,10000 # fewer
//! ```
//!
//! First indexes a repository into the empty database (its first batches
//! are planned on empty tables). Then generates repositories of small
//! TypeScript files (clean, with one
//! syntax error each, and with ten error sites each), indexes each with the
//! real `snag index` in a process of its own, and prints per size the run's
//! time (from the run's own clock, so process start does not flatter small
//! runs), files/s, time per file, the process's wall time and its peak RSS.
//! Then the ratios the targets are about: time per file at the largest
//! size against the smallest, and peak RSS at the largest size against the
//! one before; and the largest repository with ten error sites per file
//! once more with `--format sarif`. Uses DATABASE_URL when set, else the private cluster, in a
//! scratch database `snag_bench_scale` that is dropped at the end.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use snag::store::Store;
use support::generate::{self, Content};

const DATABASE: &str = "snag_bench_scale";
/// Rows of the other repository already stored, in each growing table.
const NEIGHBOUR_ROWS: i64 = 100_000;
const VARIANTS: [Content; 3] = [
    Content::Clean,
    Content::Broken { sites: 1 },
    Content::Broken { sites: 10 },
];

/// One `snag index` of one generated repository.
struct Measured {
    files: u64,
    run: Duration,
    wall: Duration,
    peak_rss_kib: u64,
    errors: u64,
}

fn main() -> anyhow::Result<()> {
    let sizes = sizes()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let options = runtime.block_on(support::create(DATABASE))?;
    let url = support::url(DATABASE)?;
    let scratch = tempfile::tempdir()?;

    // A new database's first run: its first batches are planned on empty
    // tables, a case no other row below covers.
    let first_size = sizes
        .iter()
        .copied()
        .filter(|s| *s <= 10_000)
        .max()
        .unwrap_or(sizes[0]);
    let dir = scratch.path().join("first");
    generate::repository(&dir, first_size, Content::Broken { sites: 1 })?;
    let first = index(&url, &dir, "first")?;
    std::fs::remove_dir_all(&dir)?;
    println!(
        "first run on an empty database: {} files with 1 error site each in {:.2} s, {:.1} µs/file",
        first.files,
        first.run.as_secs_f64(),
        per_file_us(&first)
    );

    runtime.block_on(async {
        let store = Store::open_with(options, DATABASE).await?;
        fill_neighbour(&store).await?;
        store.close().await;
        anyhow::Ok(())
    })?;
    println!(
        "store: another repository's {NEIGHBOUR_ROWS} chunks, errors and files already stored; \
         {} threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}",
        "content", "files", "run s", "files/s", "µs/file", "wall s", "peak RSS", "errors"
    );

    let mut summary = Vec::new();
    for content in VARIANTS {
        let mut rows = Vec::new();
        for &size in &sizes {
            let dir = scratch
                .path()
                .join(format!("{}-{size}", content.label().replace(' ', "-")));
            generate::repository(&dir, size, content)?;
            let repository = dir.file_name().unwrap().to_string_lossy().into_owned();
            let m = index(&url, &dir, &repository)?;
            println!(
                "{:<16} {:>8} {:>9.2} {:>9.0} {:>9.1} {:>9.2} {:>7.0} MB {:>9}",
                content.label(),
                m.files,
                m.run.as_secs_f64(),
                m.files as f64 / m.run.as_secs_f64(),
                per_file_us(&m),
                m.wall.as_secs_f64(),
                m.peak_rss_kib as f64 / 1024.0,
                m.errors
            );
            if content == (Content::Broken { sites: 10 }) && Some(&size) == sizes.last() {
                // The same run with a per-error document: SARIF, one result
                // per site, written while the errors are read.
                let sarif = scratch.path().join("snag.sarif");
                let args = [
                    "--format",
                    "sarif",
                    "--output",
                    sarif.to_str().unwrap_or_default(),
                ];
                let (_, wall, rss) = snag_index(&url, &dir, &repository, &args)?;
                println!(
                    "{:<16} {:>8} {:>9} {:>9} {:>9} {:>9.2} {:>7.0} MB  (--format sarif, {:.0} MB written)",
                    content.label(),
                    m.files,
                    "",
                    "",
                    "",
                    wall.as_secs_f64(),
                    rss as f64 / 1024.0,
                    std::fs::metadata(&sarif).map_or(0, |m| m.len()) as f64 / 1e6
                );
                std::fs::remove_file(&sarif)?;
            }
            std::fs::remove_dir_all(&dir)?;
            rows.push(m);
        }
        summary.push((content, rows));
    }

    println!();
    for (content, rows) in &summary {
        let (first, last) = (&rows[0], &rows[rows.len() - 1]);
        let before_last = &rows[rows.len().saturating_sub(2)];
        println!(
            "{:<16} time per file {}k vs {}k files: {:.2}x (target ≤ 1.3x); \
             peak RSS {}k vs {}k files: {:.2}x (target ≤ 1.5x), {:.0} MB (target < 300 MB)",
            content.label(),
            last.files / 1000,
            first.files / 1000,
            per_file_us(last) / per_file_us(first),
            last.files / 1000,
            before_last.files / 1000,
            last.peak_rss_kib as f64 / before_last.peak_rss_kib as f64,
            last.peak_rss_kib as f64 / 1024.0
        );
    }
    runtime.block_on(support::drop(DATABASE))?;
    Ok(())
}

fn per_file_us(m: &Measured) -> f64 {
    m.run.as_secs_f64() * 1e6 / m.files.max(1) as f64
}

fn sizes() -> anyhow::Result<Vec<usize>> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--sizes" {
            let list = args
                .next()
                .ok_or_else(|| anyhow::anyhow!("--sizes needs a list"))?;
            return list
                .split(',')
                .map(|n| {
                    n.trim()
                        .replace('_', "")
                        .parse()
                        .map_err(anyhow::Error::from)
                })
                .collect();
        }
    }
    Ok(vec![1_000, 10_000, 100_000])
}

/// Another repository's rows in every table that grows with files.
async fn fill_neighbour(store: &Store) -> anyhow::Result<()> {
    let run: i64 = sqlx::query_scalar(
        "INSERT INTO index_runs (repository, root, tool_version, status) \
         VALUES ('neighbour', '/n', 'bench', 'completed') RETURNING run_id",
    )
    .fetch_one(store.pool())
    .await?;
    let rows = NEIGHBOUR_ROWS;
    let fill = format!(
        "INSERT INTO code_chunks (repository, file_path, language, chunk_type, name, source_code, \
           start_line, end_line, run_id) \
         SELECT 'neighbour', 'src/f' || i || '.ts', 'typescript', 'function', 'f', \
           'function f() {{ return 1; }}', 1, 1, {run} FROM generate_series(1, {rows}) i; \
         INSERT INTO indexing_errors (repository, file_path, error_type, error_message, run_id, fingerprint) \
         SELECT 'neighbour', 'src/f' || i || '.ts', 'parsing_error', 'unexpected', {run}, 'fp' || (i % 500) \
         FROM generate_series(1, {rows}) i; \
         INSERT INTO indexed_files (run_id, repository, file_path, outcome, error_type) \
         SELECT {run}, 'neighbour', 'src/f' || i || '.ts', 'partial', 'parsing_error' \
         FROM generate_series(1, {rows}) i; \
         ANALYZE;"
    );
    sqlx::raw_sql(&fill).execute(store.pool()).await?;
    Ok(())
}

/// Runs `snag index` on `dir` as its own process: its run's duration (from
/// the JSON summary), wall time and peak RSS.
fn index(url: &str, dir: &Path, repository: &str) -> anyhow::Result<Measured> {
    let (stdout, wall, peak_rss_kib) = snag_index(url, dir, repository, &["--format", "json"])?;
    let summary: serde_json::Value = serde_json::from_str(&stdout)?;
    let number = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    Ok(Measured {
        files: number(&summary["files"]["total"]),
        run: Duration::from_millis(number(&summary["duration_ms"])),
        wall,
        peak_rss_kib,
        errors: summary["errors_by_type"]
            .as_object()
            .map_or(0, |m| m.values().map(number).sum()),
    })
}

/// `snag index` with `args` on `dir`: its standard output, wall time and
/// peak RSS in KiB.
fn snag_index(
    url: &str,
    dir: &Path,
    repository: &str,
    args: &[&str],
) -> anyhow::Result<(String, Duration, u64)> {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_snag"))
        .args(["index", "--repo", repository])
        .args(args)
        .arg(dir)
        .env("DATABASE_URL", url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?
        .read_to_string(&mut stdout)?;
    let (status, peak_rss_kib) = wait_with_rusage(child.id())?;
    let wall = started.elapsed();
    anyhow::ensure!(status == 0, "snag index exited {status}: {stdout}");
    Ok((stdout, wall, peak_rss_kib))
}

/// Reaps the child and returns its exit status and peak RSS in KiB.
fn wait_with_rusage(pid: u32) -> anyhow::Result<(i32, u64)> {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own unreaped child; the pointers are valid.
    let reaped = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    anyhow::ensure!(reaped == pid as libc::pid_t, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, usage.ru_maxrss as u64))
}
