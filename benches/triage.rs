//! How fast the triage list answers with 100,000 errors stored.
//!
//! ```sh
//! cargo bench --bench triage            # DATABASE_URL or the private cluster
//! ```
//!
//! Inserts 100,000 errors of one repository into a scratch database
//! `snag_bench_triage` (dropped at the end), then times what each key of the
//! error list asks the database for: the first page, paging deep into the
//! list, a type filter, a text filter, another sort, and the group list.
//! Each figure is the median of several runs, in milliseconds.

mod support;

use std::time::{Duration, Instant};

use snag::index::outcome::ErrorType;
use snag::store::groups::GroupQuery;
use snag::store::{ErrorQuery, ErrorSort, NewError, Store};
use snag::tui::app::PAGE_ROWS;

const DATABASE: &str = "snag_bench_triage";
const ERRORS: usize = 100_000;
const REPEAT: usize = 9;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let scratch = support::create(DATABASE).await?;
    let store = Store::open_with(scratch, DATABASE).await?;

    let started = Instant::now();
    for batch in 0..ERRORS / 1000 {
        let errors: Vec<NewError> = (0..1000)
            .map(|i| {
                let n = batch * 1000 + i;
                let error_type = ErrorType::ALL[n % 3 * 2 % 8];
                NewError {
                    line: Some((n % 500) as i32 + 1),
                    fingerprint: Some(format!("group{}", n % 40)),
                    details: serde_json::json!({"title": format!("problem {}", n % 40)}),
                    ..NewError::new(
                        "big",
                        format!("packages/p{}/src/module{}.ts", n % 97, n),
                        error_type,
                        format!(
                            "{}:{} unexpected `{{` in formal_parameters",
                            n % 500 + 1,
                            n % 80 + 1
                        ),
                    )
                }
            })
            .collect();
        store.log_errors(&errors).await?;
    }
    sqlx::query(
        "INSERT INTO error_groups (repository, fingerprint, error_type, title, occurrences, last_run_files) \
         SELECT 'big', fingerprint, min(error_type), min(details->>'title'), count(*), count(*) \
         FROM indexing_errors GROUP BY fingerprint",
    )
    .execute(store.pool())
    .await?;
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    println!(
        "inserted {ERRORS} errors in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let base = ErrorQuery {
        repository: "big".into(),
        ..Default::default()
    };
    let cases: Vec<(&str, ErrorQuery, i64)> = vec![
        ("open the list (first page)", base.clone(), 0),
        ("page deep (offset 50,000)", base.clone(), 50_000),
        ("end of the list (offset 99,800)", base.clone(), 99_800),
        (
            "type filter (key 1)",
            ErrorQuery {
                error_types: vec![ErrorType::ParsingError],
                ..base.clone()
            },
            0,
        ),
        (
            "text filter (/module4242)",
            ErrorQuery {
                text: Some("module4242".into()),
                ..base.clone()
            },
            0,
        ),
        (
            "sort by path",
            ErrorQuery {
                sort: ErrorSort::Path,
                ..base.clone()
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
        println!("{label:<34} {:>7.1} ms", median.as_secs_f64() * 1000.0);
    }
    let groups = median_of(|| async {
        store
            .list_groups("big", &GroupQuery::default(), 1000, 0)
            .await
            .map(|_| ())
    })
    .await?;
    println!(
        "{:<34} {:>7.1} ms",
        "group list (tab)",
        groups.as_secs_f64() * 1000.0
    );

    store.close().await;
    support::drop(DATABASE).await?;
    Ok(())
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
