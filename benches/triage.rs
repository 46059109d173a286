//! How fast triage answers with 1,000,000 errors stored.
//!
//! ```sh
//! cargo bench --bench triage            # DATABASE_URL or the private cluster
//! cargo bench --bench triage -- --errors 100000
//! cargo bench --bench triage -- --keep   # leave the database for a look
//! ```
//!
//! Fills a scratch database `snag_bench_triage` (dropped at the end): a
//! repository `big` with 1,000,000 errors over ten runs, the last of them a
//! real run of the engine on a generated 100,000-file repository with a
//! syntax error in every file, beside another repository's 200,000 errors.
//! Then times what each key asks the database for: the error list of the
//! repository (as `snag errors` and the HTTP API page it) and of the run
//! (as the UI does), first page, deep in the list, at its end, a type
//! filter, a text filter, a problem group's errors, another sort, the
//! group list, and opening the 100,000-file run's dashboard. Each figure is
//! the median of nine, in milliseconds.

mod support;

use std::time::{Duration, Instant};

use snag::index::outcome::ErrorType;
use snag::runner::{self, RunRequest};
use snag::store::groups::GroupQuery;
use snag::store::{ErrorQuery, ErrorSort, Store};
use snag::tui::screens::list::PAGE_ROWS;
use support::generate::{self, Content};
use support::seed;

const DATABASE: &str = "snag_bench_triage";
/// Files of the real run, each with one error.
const RUN_FILES: usize = 100_000;
const REPEAT: usize = 9;

fn main() -> anyhow::Result<()> {
    let errors = errors()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(errors))
}

/// `--errors N`: the repository's errors in all (default 1,000,000).
fn errors() -> anyhow::Result<i64> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--errors") {
        Some(at) => Ok(args
            .get(at + 1)
            .ok_or_else(|| anyhow::anyhow!("--errors needs a number"))?
            .replace('_', "")
            .parse()?),
        None => Ok(1_000_000),
    }
}

async fn bench(total: i64) -> anyhow::Result<()> {
    let scratch = support::create(DATABASE).await?;
    let store = Store::open_with(scratch, DATABASE).await?;

    let started = Instant::now();
    let synthetic = (total - RUN_FILES as i64).max(0);
    seed::errors(&store, "neighbour", 200_000, 1).await?;
    seed::errors(&store, "big", synthetic, 9).await?;
    // As autovacuum leaves a store at rest: statistics and visibility known.
    sqlx::query("VACUUM ANALYZE").execute(store.pool()).await?;
    let filled = started.elapsed();

    let started = Instant::now();
    let repository = tempfile::tempdir()?;
    generate::repository(repository.path(), RUN_FILES, Content::Broken { sites: 1 })?;
    let mut request = RunRequest::new(repository.path());
    request.repository = "big".into();
    let run = runner::start(store.clone(), request).await?.wait().await?;
    sqlx::query("VACUUM ANALYZE").execute(store.pool()).await?;
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM indexing_errors WHERE repository = 'big'")
            .fetch_one(store.pool())
            .await?;
    println!(
        "stored {stored} errors of `big` ({synthetic} inserted in {:.1} s, then a run of {} files \
         with {} errors: {:.1} s generating and indexing, {:.1} s the run) beside 200000 of \
         another repository",
        filled.as_secs_f64(),
        run.files.total,
        run.errors_by_type.values().sum::<u64>(),
        started.elapsed().as_secs_f64(),
        run.duration_ms as f64 / 1000.0
    );

    let repository_wide = ErrorQuery {
        repository: "big".into(),
        ..Default::default()
    };
    let of_the_run = ErrorQuery {
        run_id: Some(run.run_id),
        ..repository_wide.clone()
    };
    let last = |n: i64| (n - PAGE_ROWS).max(0);
    let cases: Vec<(String, ErrorQuery, i64)> = vec![
        ("repository: first page".into(), repository_wide.clone(), 0),
        (
            format!("repository: offset {}", stored / 2),
            repository_wide.clone(),
            stored / 2,
        ),
        (
            format!("repository: end (offset {})", last(stored)),
            repository_wide.clone(),
            last(stored),
        ),
        (
            "repository: type filter".into(),
            ErrorQuery {
                error_types: vec![ErrorType::EncodingError],
                ..repository_wide.clone()
            },
            0,
        ),
        (
            "repository: text filter".into(),
            ErrorQuery {
                text: Some("module4242".into()),
                ..repository_wide.clone()
            },
            0,
        ),
        (
            "repository: sort by path".into(),
            ErrorQuery {
                sort: ErrorSort::Path,
                ..repository_wide.clone()
            },
            0,
        ),
        (
            "repository: a problem group's errors".into(),
            ErrorQuery {
                fingerprint: Some("gap3".into()),
                ..repository_wide.clone()
            },
            0,
        ),
        ("run: first page".into(), of_the_run.clone(), 0),
        (
            format!("run: offset {}", RUN_FILES / 2),
            of_the_run.clone(),
            RUN_FILES as i64 / 2,
        ),
        (
            "run: type filter (key 1)".into(),
            ErrorQuery {
                error_types: vec![ErrorType::ParsingError],
                ..of_the_run.clone()
            },
            0,
        ),
        (
            "run: text filter (/module4242)".into(),
            ErrorQuery {
                text: Some("module4242".into()),
                ..of_the_run.clone()
            },
            0,
        ),
    ];
    for (label, query, offset) in cases {
        let median = median_of(|| async {
            store
                .list_errors(&query, PAGE_ROWS, offset)
                .await
                .map(|_| ())
        })
        .await?;
        report(&label, median);
    }
    let groups = median_of(|| async {
        store
            .list_groups("big", &GroupQuery::default(), 1000, 0)
            .await
            .map(|_| ())
    })
    .await?;
    report("group list (tab)", groups);
    let dashboard =
        median_of(|| async { store.run_dashboard(run.run_id, 10).await.map(|_| ()) }).await?;
    report(&format!("dashboard of the {RUN_FILES}-file run"), dashboard);

    store.close().await;
    if std::env::args().any(|a| a == "--keep") {
        println!("kept the database {DATABASE}");
    } else {
        support::drop(DATABASE).await?;
    }
    Ok(())
}

fn report(label: &str, median: Duration) {
    println!("{label:<40} {:>7.1} ms", median.as_secs_f64() * 1000.0);
}

async fn median_of<F, Fut>(work: F) -> anyhow::Result<Duration>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), snag::store::StoreError>>,
{
    let mut times = Vec::with_capacity(REPEAT);
    for _ in 0..REPEAT {
        let started = Instant::now();
        work().await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times[REPEAT / 2])
}
