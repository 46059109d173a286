//! Test harness: a real PostgreSQL for every test that touches storage.
//!
//! With `DATABASE_URL` set, tests use that server; otherwise they start a
//! disposable private cluster in the temporary directory (shared by all test
//! processes of this checkout, kept on disk between runs, and stopped by the
//! last test process to end, so a test run leaves no server behind). Each
//! test gets a fresh database of its own, dropped when the test ends, so
//! tests run in parallel without seeing each other's rows.
#![allow(dead_code)]

use std::hash::{DefaultHasher, Hash, Hasher};
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use snag::store::Store;
use snag::store::cluster::{Durability, LocalCluster};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// Where the test databases are created.
#[derive(Debug, Clone)]
enum Server {
    Url(url::Url),
    Cluster(LocalCluster),
}

impl Server {
    fn options(&self, database: &str) -> PgConnectOptions {
        match self {
            Server::Url(url) => PgConnectOptions::from_str(url.as_str())
                .expect("DATABASE_URL is a valid PostgreSQL URL")
                .database(database),
            Server::Cluster(cluster) => cluster.connect_options(database),
        }
    }

    fn url(&self, database: &str) -> String {
        match self {
            Server::Url(url) => {
                let mut url = url.clone();
                url.set_path(&format!("/{database}"));
                url.to_string()
            }
            Server::Cluster(cluster) => cluster.url_for(database),
        }
    }

    fn admin_database(&self) -> String {
        match self {
            Server::Url(url) => url.path().trim_start_matches('/').to_owned(),
            Server::Cluster(_) => "postgres".to_owned(),
        }
    }
}

/// The disposable cluster used when no DATABASE_URL is given.
pub fn test_cluster() -> LocalCluster {
    let mut hasher = DefaultHasher::new();
    env!("CARGO_MANIFEST_DIR").hash(&mut hasher);
    let name = format!("snag-test-cluster-{:x}", hasher.finish() & 0xffff_ffff);
    LocalCluster::new(std::env::temp_dir().join(name), Durability::Disposable)
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => {
            Server::Url(url::Url::parse(&url).expect("DATABASE_URL must be a URL"))
        }
        _ => {
            let cluster = test_cluster();
            use_until_exit(&cluster);
            cluster.ensure_running().expect("start the test cluster");
            Server::Cluster(cluster)
        }
    })
}

/// This process and the cluster, while the process lives: a shared lock on
/// the cluster's `users.lock`.
static USER: OnceLock<(LocalCluster, std::fs::File)> = OnceLock::new();

/// Takes this process's share of the test cluster before it is started
/// (a process that is stopping it holds the lock whole, so the server is
/// started again after that), and has the process stop the server at its
/// exit when no other test process holds a share.
fn use_until_exit(cluster: &LocalCluster) {
    let base = cluster.base_dir();
    std::fs::create_dir_all(base).expect("create the test cluster's directory");
    let users = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(base.join("users.lock"))
        .expect("open the test cluster's users.lock");
    users.lock_shared().expect("share the test cluster");
    if USER.set((cluster.clone(), users)).is_ok() {
        // SAFETY: registers a function without arguments that only runs
        // processes and touches a lock file; the C runtime calls it once,
        // after the test harness is done.
        unsafe { libc::atexit(stop_if_last) };
    }
}

extern "C" fn stop_if_last() {
    let Some((cluster, users)) = USER.get() else {
        return;
    };
    // The lock made whole only when no other process shares it.
    if users.try_lock().is_ok() {
        let _ = cluster.stop();
    }
}

/// A fresh, migrated database that is dropped when this value is.
pub struct TestDb {
    pub store: Store,
    pub name: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let server = tokio::task::spawn_blocking(server)
            .await
            .expect("test server");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "snag_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect_with(&server.options(&server.admin_database()))
            .await
            .expect("connect to the test server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let store = Store::open_with(server.options(&name), &name)
            .await
            .expect("open the test database");
        TestDb { store, name }
    }

    /// Another store on this database, with its own connections: what a
    /// second snag process sees.
    pub async fn another_store(&self) -> Store {
        Store::open_with(server().options(&self.name), &self.name)
            .await
            .expect("open the test database again")
    }

    /// A URL for this database, to hand to the snag binary.
    pub fn url(&self) -> String {
        server().url(&self.name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = server().clone();
        // Drop runs inside the test's runtime, which cannot be blocked on:
        // clean up from a thread with a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin =
                    PgConnection::connect_with(&server.options(&server.admin_database()))
                        .await
                        .ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        });
        let _ = cleanup.join();
    }
}

/// The snag binary under test.
pub fn snag() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_snag"));
    cmd.env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

/// Writes `files` (path, text) under `root`, making folders as needed.
pub fn write_files(root: &std::path::Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// `snag index ROOT --repo REPOSITORY EXTRA...` on the test's database, as
/// its own process; its summary on standard output. Exit 1 (a threshold)
/// is fine, anything worse fails the test.
pub fn snag_index(db: &TestDb, root: &std::path::Path, repository: &str, extra: &[&str]) -> String {
    let output = snag()
        .args(["--database-url", &db.url(), "index"])
        .arg(root)
        .args(["--repo", repository])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `snag ARGS...` on the test's database, as its own process, which must
/// succeed: its standard output, parsed as JSON.
pub fn snag_json(db: &TestDb, args: &[&str]) -> serde_json::Value {
    let output = snag()
        .args(["--database-url", &db.url()])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "snag {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Writes the hostile corpus into `dir` and returns its EXPECTED.json.
/// The shared generator beside the checkout is preferred (it is the
/// reference); the copy under scripts/ serves a lone checkout.
pub fn hostile_corpus(dir: &std::path::Path) -> serde_json::Value {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = manifest.join("../shared/scripts/make-hostile-corpus.py");
    let script = if shared.is_file() {
        shared
    } else {
        manifest.join("scripts/make-hostile-corpus.py")
    };
    let status = std::process::Command::new("python3")
        .arg(&script)
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs the hostile corpus generator");
    assert!(status.success(), "{} failed", script.display());
    let expected = std::fs::read_to_string(dir.join("EXPECTED.json")).expect("EXPECTED.json");
    serde_json::from_str(&expected).expect("EXPECTED.json is JSON")
}

/// `n` valid TypeScript files of a few KiB under `dir`, in ten packages.
pub fn many_files(dir: &std::path::Path, n: usize) {
    let body = "export function f(a: number): number {\n  return [a, a + 1].map((x) => x * 2).reduce((s, x) => s + x, 0);\n}\n".repeat(40);
    for i in 0..n {
        let sub = dir.join(format!("pkg{}", i % 10));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("m{i}.ts")), &body).unwrap();
    }
}

/// The one number `sql` answers.
pub async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// `GET path` on a server at `address`: its status code and body.
pub fn http_get(address: std::net::SocketAddr, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

/// Waits until something listens at `address` (a server just spawned),
/// failing the test after `within`.
pub fn wait_for_listener(address: std::net::SocketAddr, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    while std::net::TcpStream::connect(address).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing listens at {address}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A loopback address no one listens on yet.
pub fn free_address() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}
