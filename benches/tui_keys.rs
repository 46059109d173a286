//! How long the terminal UI takes to answer a key with 1,000,000 errors in
//! its list: the real binary in a pseudo-terminal, read back through a
//! terminal emulator.
//!
//! ```sh
//! cargo bench --bench tui_keys                    # builds snag and this bench (release)
//! cargo bench --bench tui_keys -- --errors 100000
//! cargo bench --bench tui_keys -- --keep          # leave the database for a look or a rerun
//! cargo bench --bench tui_keys -- --reuse --keep  # fill only if the kept database does not fit
//! cargo bench --bench tui_keys -- --repeat 31     # presses per key (default 15)
//! ```
//!
//! Fills a scratch database `snag_bench_tui_keys` (DATABASE_URL's server
//! when set, else the private cluster): a repository `big` whose one run has
//! 1,000,000 errors, beside another repository's 200,000 (see
//! `support::seed`). Then starts `snag` on it in a 40x140 pseudo-terminal:
//! the binary cargo built beside this bench (`target/release/snag`), or the
//! one `SNAG_BIN` names. It opens the run's error list with `l` and times
//! each key from writing it to the first frame of the screen it settles on:
//! a screen that differs from the one before the key, shows no `loading…`
//! and no row of `…` placeholders, and stays unchanged for the settle
//! window (30 ms, `--settle MS`), which is not counted. Keys: j, k,
//! PageDown, G and g (alternating), a type toggle (1, on and off), the
//! verdict toggle (v), the sort (o), keystrokes typed into the `/` filter,
//! and PageDown, G and g under a `/` filter that every error matches. It
//! prints each key's median and 90th percentile and each median against
//! the 50 ms target.
//!
//! Then a burst: two seconds of PageDown at 30 keys a second from the top,
//! and how long after the last key the list shows loaded rows (it fails
//! when that takes more than ten seconds).

mod support;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};
use snag::store::Store;
use support::seed;

const DATABASE: &str = "snag_bench_tui_keys";
const REPOSITORY: &str = "big";
const NEIGHBOUR_ERRORS: i64 = 200_000;
const ROWS: u16 = 40;
const COLS: u16 = 140;
/// Key to settled screen, for every key (issue 13).
const TARGET: Duration = Duration::from_millis(50);
/// A key whose screen has not settled by then is a failure.
const KEY_TIMEOUT: Duration = Duration::from_secs(30);
const BURST_KEYS: usize = 60;
const BURST_INTERVAL: Duration = Duration::from_nanos(1_000_000_000 / 30);
const BURST_TIMEOUT: Duration = Duration::from_secs(10);
const PAGE_DOWN: &str = "\x1b[6~";
const ESC: &str = "\x1b";
/// Typed into the `/` filter one character at a time.
const SEARCH_TEXT: &str = "src/module77";
/// The `/` filter the list is paged under: every error matches it.
const FILTERED_BY: &str = "src";

struct Options {
    errors: i64,
    repeat: usize,
    settle: Duration,
    keep: bool,
    reuse: bool,
}

impl Options {
    fn parse() -> anyhow::Result<Options> {
        let args: Vec<String> = std::env::args().collect();
        let value = |name: &str| -> anyhow::Result<Option<u64>> {
            match args.iter().position(|a| a == name) {
                Some(at) => Ok(Some(
                    args.get(at + 1)
                        .ok_or_else(|| anyhow::anyhow!("{name} needs a number"))?
                        .replace('_', "")
                        .parse()?,
                )),
                None => Ok(None),
            }
        };
        Ok(Options {
            errors: value("--errors")?.unwrap_or(1_000_000) as i64,
            repeat: value("--repeat")?.unwrap_or(15).max(1) as usize,
            settle: Duration::from_millis(value("--settle")?.unwrap_or(30)),
            keep: args.iter().any(|a| a == "--keep"),
            reuse: args.iter().any(|a| a == "--reuse"),
        })
    }
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(prepare(&options))?;
    let url = support::url(DATABASE)?;
    let measured = measure(&url, &options);
    if options.keep {
        println!("kept the database {DATABASE}");
    } else {
        runtime.block_on(support::drop(DATABASE))?;
    }
    measured
}

/// Fills the database, or with `--reuse` keeps one that holds what this
/// run would fill.
async fn prepare(options: &Options) -> anyhow::Result<()> {
    if options.reuse
        && let Some(existing) = support::existing(DATABASE).await?
    {
        // Opening migrates it, so a kept database gets new indexes too.
        let store = Store::open_with(existing, DATABASE).await?;
        let fits = sqlx::query_scalar::<_, bool>(
            "SELECT (SELECT count(*) FROM index_runs WHERE repository = $1) = 1 \
               AND (SELECT COALESCE(sum(errors), 0) FROM error_counts WHERE repository = $1) = $2 \
               AND (SELECT COALESCE(sum(errors), 0) FROM error_counts \
                    WHERE repository = 'neighbour') = $3",
        )
        .bind(REPOSITORY)
        .bind(options.errors)
        .bind(NEIGHBOUR_ERRORS)
        .fetch_one(store.pool())
        .await?;
        store.close().await;
        if fits {
            println!("reusing the database {DATABASE}");
            return Ok(());
        }
    }
    let started = Instant::now();
    let scratch = support::create(DATABASE).await?;
    let store = Store::open_with(scratch, DATABASE).await?;
    seed::errors(&store, "neighbour", NEIGHBOUR_ERRORS, 1).await?;
    // Its run starts last, so the runs screen opens on it.
    seed::errors(&store, REPOSITORY, options.errors, 1).await?;
    // As autovacuum leaves a store at rest: statistics and visibility known.
    sqlx::query("VACUUM ANALYZE").execute(store.pool()).await?;
    store.close().await;
    println!(
        "stored {} errors in one run of `{REPOSITORY}` beside {NEIGHBOUR_ERRORS} of another \
         repository in {:.1} s",
        options.errors,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The presses of one key: each with what the screen said it did (the
/// state a toggle moved to, how many errors a filter matches).
struct KeyTimes {
    label: String,
    presses: Vec<(String, Duration)>,
}

impl KeyTimes {
    fn new(label: impl Into<String>) -> Self {
        KeyTimes {
            label: label.into(),
            presses: Vec::new(),
        }
    }
}

fn measure(url: &str, options: &Options) -> anyhow::Result<()> {
    let mut ui = Terminal::open(url, options.settle)?;
    ui.wait_for(REPOSITORY)?;
    ui.write("l");
    ui.wait_for(&format!("errors 1/{} ", options.errors))?;
    ui.quiet()?;

    let repeat = options.repeat;
    let mut keys: Vec<KeyTimes> = Vec::new();
    let nothing = |_: &str| String::new();
    time(&mut keys, &mut ui, "j (down)", "j", repeat, &nothing)?;
    time(&mut keys, &mut ui, "k (up)", "k", repeat, &nothing)?;
    time(&mut keys, &mut ui, "PageDown", PAGE_DOWN, repeat, &nothing)?;
    for _ in 0..repeat {
        time(&mut keys, &mut ui, "G (last error)", "G", 1, &nothing)?;
        time(&mut keys, &mut ui, "g (first error)", "g", 1, &nothing)?;
    }
    // A toggle is pressed at least five times into each of its states and
    // a whole number of cycles, so it ends as it began.
    let cycles = |cycle: usize| repeat.max(5 * cycle).div_ceil(cycle) * cycle;
    let parsing = |text: &str| {
        if text.contains("[1:parsing]") {
            "-> parsing only"
        } else {
            "-> all types"
        }
        .to_owned()
    };
    time(
        &mut keys,
        &mut ui,
        "1 (type toggle)",
        "1",
        cycles(2),
        &parsing,
    )?;
    let verdict = |text: &str| match text.split("verdict ").nth(1) {
        Some(rest) => format!("-> {}", rest.split_whitespace().next().unwrap_or("?")),
        None => "?".to_owned(),
    };
    time(
        &mut keys,
        &mut ui,
        "v (verdict toggle)",
        "v",
        cycles(4),
        &verdict,
    )?;
    let sort = |text: &str| match text.split("sort: ").nth(1) {
        Some(rest) => format!("-> {}", rest.split_whitespace().next().unwrap_or("?")),
        None => "?".to_owned(),
    };
    time(&mut keys, &mut ui, "o (sort)", "o", cycles(3), &sort)?;

    let matches = |text: &str| match total(text) {
        Some(n) if counted_short(text) => format!("{n}+ match (counted up to there)"),
        Some(n) => format!("{n} match"),
        None => "none match".to_owned(),
    };
    let mut typed = KeyTimes::new(format!("/ keystroke ({SEARCH_TEXT:?})"));
    let mut cleared = KeyTimes::new("Esc (clear the / filter)");
    while typed.presses.len() < repeat {
        ui.press("/")?;
        for c in SEARCH_TEXT.chars() {
            let took = ui.press(&c.to_string())?;
            typed.presses.push((matches(&ui.text()), took));
        }
        cleared.presses.push((String::new(), ui.press(ESC)?));
    }
    keys.push(typed);
    keys.push(cleared);

    // Paging a list that a `/` filter holds: each page the list loads
    // counts the filter's matches again.
    ui.press("/")?;
    for c in FILTERED_BY.chars() {
        ui.press(&c.to_string())?;
    }
    ui.press("\r")?;
    let filtered = format!("/{FILTERED_BY} active");
    time(
        &mut keys,
        &mut ui,
        &format!("PageDown, {filtered}"),
        PAGE_DOWN,
        repeat,
        &nothing,
    )?;
    for _ in 0..repeat {
        time(
            &mut keys,
            &mut ui,
            &format!("G, {filtered}"),
            "G",
            1,
            &nothing,
        )?;
        time(
            &mut keys,
            &mut ui,
            &format!("g, {filtered}"),
            "g",
            1,
            &nothing,
        )?;
    }
    ui.press("/")?;
    ui.press(ESC)?;

    println!(
        "\nkey to settled screen, {} errors in the list, {repeat} presses or more per key \
         (settle window {} ms, not counted; load average {})\n",
        options.errors,
        options.settle.as_millis(),
        load_average()
    );
    println!(
        "{:<32} {:>7} {:>10} {:>10} {:>10}",
        "key", "presses", "median ms", "p90 ms", "/ target"
    );
    let mut worst: Option<(String, Duration)> = None;
    for key in keys {
        let all: Vec<Duration> = key.presses.iter().map(|(_, d)| *d).collect();
        let median = print_row(&key.label, all);
        if worst.as_ref().is_none_or(|(_, w)| median > *w) {
            worst = Some((key.label.clone(), median));
        }
        // Then by state, when presses differ in what they did.
        let mut states: Vec<&String> = key.presses.iter().map(|(s, _)| s).collect();
        states.sort();
        states.dedup();
        if states.len() > 1 {
            for state in states {
                let some: Vec<Duration> = key
                    .presses
                    .iter()
                    .filter(|(s, _)| s == state)
                    .map(|(_, d)| *d)
                    .collect();
                print_row(&format!("  {state}"), some);
            }
        }
    }
    if let Some((label, median)) = worst {
        println!(
            "\nslowest median: {label}, {:.1} ms = {:.2}x the {} ms target",
            ms(median),
            median.as_secs_f64() / TARGET.as_secs_f64(),
            TARGET.as_millis()
        );
    }

    burst(&mut ui, options)?;
    ui.quit()
}

/// `key` pressed `n` times, each press described by `state`, added to the
/// presses of `label`.
fn time(
    keys: &mut Vec<KeyTimes>,
    ui: &mut Terminal,
    label: &str,
    key: &str,
    n: usize,
    state: &dyn Fn(&str) -> String,
) -> anyhow::Result<()> {
    let at = match keys.iter().position(|k| k.label == label) {
        Some(at) => at,
        None => {
            keys.push(KeyTimes::new(label));
            keys.len() - 1
        }
    };
    for _ in 0..n {
        let took = ui.press(key)?;
        keys[at].presses.push((state(&ui.text()), took));
    }
    Ok(())
}

/// Prints one row of the table and returns the median.
fn print_row(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p90 = samples[(samples.len() * 9).div_ceil(10) - 1];
    println!(
        "{label:<32} {:>7} {:>10.1} {:>10.1} {:>9.2}x",
        samples.len(),
        ms(median),
        ms(p90),
        median.as_secs_f64() / TARGET.as_secs_f64()
    );
    median
}

/// Two seconds of PageDown at 30 keys a second from the top; then the time
/// from the last key until the list shows the last key's rows loaded.
fn burst(ui: &mut Terminal, options: &Options) -> anyhow::Result<()> {
    if position(&ui.text()) != Some(1) {
        ui.press("g")?;
    }
    // How far one PageDown goes, to know where the burst ends.
    ui.press(PAGE_DOWN)?;
    let step = position(&ui.text()).unwrap_or(1) - 1;
    ui.press("g")?;
    anyhow::ensure!(step > 0, "PageDown did not move");
    let expected = (1 + step * BURST_KEYS as i64).min(options.errors);

    let started = Instant::now();
    let mut last_key = started;
    for n in 0..BURST_KEYS {
        let due = started + BURST_INTERVAL * n as u32;
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        last_key = Instant::now();
        ui.write(PAGE_DOWN);
    }
    let keys_took = last_key - started;
    let blank_rows = placeholder_rows(&ui.text());
    let arrived = |text: &str| position(text) == Some(expected);
    let after = ui
        .settled_after(last_key, &arrived, BURST_TIMEOUT)
        .map_err(|e| {
            anyhow::anyhow!(
                "burst: the list did not show error {expected}'s rows loaded within {} s of \
                 the last key: {e}",
                BURST_TIMEOUT.as_secs()
            )
        })?;
    println!(
        "\nburst: {BURST_KEYS} PageDown in {:.2} s ({blank_rows} placeholder rows on screen at \
         the last key); error {expected}'s rows shown loaded {:.1} ms after the last key",
        keys_took.as_secs_f64(),
        ms(after)
    );
    Ok(())
}

/// The list's title, `errors N/TOTAL` (`TOTAL+` when counting stopped
/// there), as (N, TOTAL).
fn title(text: &str) -> Option<(i64, i64)> {
    let rest = text.lines().find_map(|l| l.split(" errors ").nth(1))?;
    let (n, total) = rest.split_whitespace().next()?.split_once('/')?;
    Some((n.parse().ok()?, total.trim_end_matches('+').parse().ok()?))
}

/// Whether the list's count stopped short (`errors N/TOTAL+`).
fn counted_short(text: &str) -> bool {
    text.lines()
        .find_map(|l| l.split(" errors ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|n| n.ends_with('+'))
}

/// The selected error's number.
fn position(text: &str) -> Option<i64> {
    title(text).map(|(n, _)| n)
}

/// How many errors the list holds.
fn total(text: &str) -> Option<i64> {
    title(text).map(|(_, total)| total)
}

/// The machine's 1-minute load average, to judge how noisy the figures are.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Rows of the error list that wait for their page.
fn placeholder_rows(text: &str) -> usize {
    text.lines().filter(|l| l.contains("│…")).count()
}

/// A screen with nothing left to load.
fn is_loaded(text: &str) -> bool {
    !text.contains("loading…") && placeholder_rows(text) == 0
}

/// What the reader thread last saw.
#[derive(Default)]
struct Screen {
    text: String,
    /// When `text` first appeared.
    since: Option<Instant>,
}

/// `snag` in a pseudo-terminal, its output read into a terminal emulator.
struct Terminal {
    screen: Arc<Mutex<Screen>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    settle: Duration,
}

impl Terminal {
    fn open(url: &str, settle: Duration) -> anyhow::Result<Terminal> {
        let pty = native_pty_system().openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })?;
        let binary =
            std::env::var("SNAG_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_snag").into());
        let scratch = std::env::temp_dir();
        let mut command = CommandBuilder::new(binary);
        command.cwd(&scratch);
        command.env("TERM", "xterm-256color");
        command.env("DATABASE_URL", url);
        command.env_remove("NO_COLOR");
        command.env(
            "SNAG_CONFIG",
            scratch.join("snag-bench-no-such-config.toml"),
        );
        let child = pty.slave.spawn_command(command)?;
        drop(pty.slave);

        let screen = Arc::new(Mutex::new(Screen::default()));
        let mut reader = pty.master.try_clone_reader()?;
        {
            let screen = Arc::clone(&screen);
            std::thread::spawn(move || {
                let mut parser = vt100::Parser::new(ROWS, COLS, 0);
                let mut buffer = [0u8; 65536];
                while let Ok(n) = reader.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    parser.process(&buffer[..n]);
                    let text = parser.screen().contents();
                    let mut screen = screen.lock().expect("screen lock");
                    if text != screen.text {
                        screen.text = text;
                        screen.since = Some(Instant::now());
                    }
                }
            });
        }
        Ok(Terminal {
            screen,
            writer: pty.master.take_writer()?,
            child,
            settle,
        })
    }

    fn text(&self) -> String {
        self.screen.lock().expect("screen lock").text.clone()
    }

    fn write(&mut self, keys: &str) {
        // A UI that went away shows up as a screen that never settles.
        let _ = self.writer.write_all(keys.as_bytes());
        let _ = self.writer.flush();
    }

    fn wait_for(&self, needle: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the screen is loaded and still.
    fn quiet(&self) -> anyhow::Result<()> {
        self.settled_after(Instant::now(), &|_| true, KEY_TIMEOUT)
            .map(|_| ())
    }

    /// Writes `key` and returns how long the screen took to settle on its
    /// answer.
    fn press(&mut self, key: &str) -> anyhow::Result<Duration> {
        self.quiet()?;
        let before = self.text();
        let pressed = Instant::now();
        self.write(key);
        self.settled_after(pressed, &|text| text != before, KEY_TIMEOUT)
            .map_err(|e| anyhow::anyhow!("key {key:?}: {e}"))
    }

    /// From `start`, the time to the first frame of a screen that is
    /// loaded, is `accepted` (differs from the one before the key, say) and
    /// stays unchanged for the settle window.
    fn settled_after(
        &self,
        start: Instant,
        accepted: &dyn Fn(&str) -> bool,
        timeout: Duration,
    ) -> anyhow::Result<Duration> {
        loop {
            let now = Instant::now();
            {
                let screen = self.screen.lock().expect("screen lock");
                let since = screen.since.unwrap_or(start);
                if accepted(&screen.text)
                    && is_loaded(&screen.text)
                    && now.saturating_duration_since(since) >= self.settle
                {
                    return Ok(since.saturating_duration_since(start));
                }
                if now - start > timeout {
                    anyhow::bail!(
                        "the screen did not settle in {} s; it shows:\n{}",
                        timeout.as_secs(),
                        screen.text
                    );
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn quit(mut self) -> anyhow::Result<()> {
        self.write("q");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::ensure!(status.success(), "snag exited with {status:?}");
                return Ok(());
            }
            if Instant::now() > deadline {
                self.child.kill()?;
                anyhow::bail!("snag did not quit");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
