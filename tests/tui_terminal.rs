//! The real binary in a pseudo-terminal, read back through a terminal
//! emulator: index the hostile corpus from the UI, filter to parsing errors
//! with one key, open `broken/missing-brace.ts`, and check that nothing from
//! `broken/escapes.ts` reached the terminal raw.

mod support;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use support::{TestDb, hostile_corpus, many_files, snag};

const ROWS: u16 = 40;
const COLS: u16 = 140;

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
}

impl Screen {
    fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `needle`.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// `snag ARGS` in a pseudo-terminal, started in `cwd`.
fn open(
    args: &[&str],
    cwd: &std::path::Path,
) -> (Screen, Box<dyn portable_pty::Child + Send + Sync>) {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_snag"));
    command.args(args);
    command.cwd(cwd);
    command.env("TERM", "xterm-256color");
    command.env_remove("NO_COLOR");
    command.env_remove("DATABASE_URL");
    command.env("SNAG_CONFIG", cwd.join("no-such-config.toml"));
    let child = pty.slave.spawn_command(command).unwrap();
    drop(pty.slave);

    let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
    let raw = Arc::new(Mutex::new(Vec::new()));
    let mut reader = pty.master.try_clone_reader().unwrap();
    {
        let (parser, raw) = (Arc::clone(&parser), Arc::clone(&raw));
        std::thread::spawn(move || {
            let mut buffer = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buffer[..n]);
                raw.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
    }
    let screen = Screen {
        parser,
        raw,
        writer: pty.master.take_writer().unwrap(),
    };
    (screen, child)
}

/// Quits with `q` and checks that snag ends well.
fn quit(screen: &mut Screen, mut child: Box<dyn portable_pty::Child + Send + Sync>) {
    screen.send("q");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "snag did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn triage_the_hostile_corpus_in_a_real_terminal() {
    let corpus = tempfile::tempdir().unwrap();
    hostile_corpus(corpus.path());
    let db = TestDb::new().await;
    let path = corpus.path().display().to_string();
    let url = db.url();
    let (mut screen, child) = open(
        &["--database-url", &url, "tui", &path, "--repo", "hostile"],
        corpus.path(),
    );

    // The run starts at once and its dashboard shows the outcome.
    let dashboard = screen.wait_for("hostile · completed");
    assert!(
        dashboard.contains("run ") && dashboard.contains("hostile"),
        "{dashboard}"
    );
    let dashboard = screen.wait_for("errors by type");
    assert!(dashboard.contains("parsing"), "{dashboard}");

    // The error list, filtered to parsing errors with one key.
    screen.send("l");
    screen.wait_for("FILE:LINE");
    screen.send("1");
    let list = screen.wait_for("[1:parsing");
    assert!(!list.contains("encoding    enc/latin1.ts"), "{list}");
    // Located where the reference parser puts the mistake.
    let list = screen.wait_for("broken/missing-brace.ts:4");

    // Move to missing-brace.ts and open it.
    let rows: Vec<&str> = list
        .lines()
        .filter(|l| l.starts_with('│') && l.contains("parsing "))
        .collect();
    let target = rows
        .iter()
        .position(|l| l.contains("broken/missing-brace.ts"))
        .expect("row listed");
    for _ in 0..target {
        screen.send("j");
    }
    screen.send("\r");
    let detail = screen.wait_for("export function bad( {");
    assert!(detail.contains("4 ▶"), "{detail}");
    assert!(
        detail.contains("parsing_error") && detail.contains("traceback"),
        "{detail}"
    );

    // The escapes file: shown, but inert.
    screen.send("\x1b");
    screen.wait_for("FILE:LINE");
    screen.send("/escapes\r");
    screen.wait_for("broken/escapes.ts:3");
    screen.send("\r");
    let escapes = screen.wait_for("pwned");
    assert!(escapes.contains("␛]0;pwned␇"), "{escapes}");
    {
        let raw = screen.raw.lock().unwrap();
        let window = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
        assert!(
            !window(b"\x1b]0;pwned"),
            "the title escape reached the terminal"
        );
        assert!(!window(b"\x1b[5m"), "the blink escape reached the terminal");
    }

    quit(&mut screen, child);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_run_of_a_repository_being_indexed_elsewhere_says_by_whom() {
    let corpus = tempfile::tempdir().unwrap();
    many_files(corpus.path(), 3_000);
    let db = TestDb::new().await;
    let mut headless = snag()
        .args(["index", "--jobs", "1", "--repo", "shared"])
        .arg(corpus.path())
        .env("DATABASE_URL", db.url())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let run_id = loop {
        let running: Option<i64> =
            sqlx::query_scalar("SELECT run_id FROM index_runs WHERE status = 'running'")
                .fetch_optional(db.store.pool())
                .await
                .unwrap();
        if let Some(id) = running {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // `n` in the UI started in the corpus, whose path the form fills in.
    let url = db.url();
    let (mut screen, child) = open(&["--database-url", &url], corpus.path());
    screen.wait_for("runs");
    screen.send("n");
    screen.wait_for("repository");
    screen.send("\t");
    screen.send("shared");
    screen.send("\r");
    let said = screen.wait_for(&format!("is being indexed by run {run_id}"));
    assert!(
        said.contains("repository `shared`") && said.contains(" by pid "),
        "{said}"
    );
    quit(&mut screen, child);

    headless.wait().unwrap();
    let runs = support::count(&db, "SELECT count(*) FROM index_runs").await;
    assert_eq!(runs, 1, "the UI started no second run");
}

/// PageDown held down over a long list, end to end: once the keys stop,
/// the list shows the selection's rows without another key. (At this size
/// pages load between keys; `tests/tui.rs` has the burst that outruns them,
/// deterministically.)
#[tokio::test(flavor = "multi_thread")]
async fn holding_page_down_ends_on_loaded_rows() {
    let corpus = tempfile::tempdir().unwrap();
    for i in 0..1_500 {
        let sub = corpus.path().join(format!("pkg{}", i % 10));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join(format!("m{i:04}.ts")),
            "export function f(a: number {\n  return a;\n}\n",
        )
        .unwrap();
    }
    let db = TestDb::new().await;
    let indexed = snag()
        .args(["index", "--repo", "burst", "--format", "json"])
        .arg(corpus.path())
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert!(indexed.status.code().is_some(), "{indexed:?}");

    let url = db.url();
    let (mut screen, child) = open(&["--database-url", &url], corpus.path());
    screen.wait_for("burst");
    screen.send("l");
    screen.wait_for("errors 1/1500");
    // Forty PageDowns in one burst, faster than pages load.
    screen.send(&"\x1b[6~".repeat(40));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = screen.text();
        let on_a_late_row = text
            .lines()
            .find_map(|l| l.split(" errors ").nth(1))
            .and_then(|rest| rest.split('/').next())
            .and_then(|n| n.trim().parse::<u32>().ok())
            .is_some_and(|n| n > 1_000);
        // A row not loaded yet shows `…` where its type goes.
        let placeholders = text
            .lines()
            .filter(|l| l.trim_start_matches('│').trim_start().starts_with('…'))
            .count();
        if on_a_late_row && placeholders == 0 && text.contains("parsing ") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the list did not settle on loaded rows:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    quit(&mut screen, child);
}
