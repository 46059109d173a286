//! The private cluster through the real binary: cold start by several snags
//! at once, the `db` commands, a crashed server and a stale pid file.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output};

use support::snag;

fn run(data_dir: &std::path::Path, args: &[&str]) -> Output {
    snag()
        .env("SNAG_DATA_DIR", data_dir)
        .args(args)
        .output()
        .expect("run snag")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "snag failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn server_pid(data_dir: &std::path::Path) -> u32 {
    let pid =
        std::fs::read_to_string(data_dir.join("postgres/data/postmaster.pid")).expect("pid file");
    pid.lines().next().unwrap().trim().parse().unwrap()
}

#[test]
fn private_cluster_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    // As root the server runs as `postgres`, which must be able to get in.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data_dir = dir.path().join("snag data");

    // Three snags start on a cluster that does not exist yet.
    let children: Vec<_> = (0..3)
        .map(|_| {
            snag()
                .env("SNAG_DATA_DIR", &data_dir)
                .args(["errors", "nonexistent_repo", "--format", "json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = stdout(&child.wait_with_output().unwrap());
        let body: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"errors": [], "total": 0, "repository": "nonexistent_repo",
                               "filters": {"error_type": null, "limit": 100, "offset": 0}})
        );
    }

    let status = stdout(&run(&data_dir, &["db", "status"]));
    assert!(status.contains("running (pid"), "{status}");

    // The URL works for sqlx, and for psql where it is installed.
    let url = stdout(&run(&data_dir, &["db", "url"])).trim().to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let columns: Vec<String> = runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&url).await.expect("connect with `snag db url`");
        sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'indexing_errors' ORDER BY ordinal_position",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    });
    assert_eq!(
        &columns[..9],
        [
            "error_id",
            "repository",
            "file_path",
            "error_type",
            "error_message",
            "error_traceback",
            "chunk_type",
            "language",
            "occurred_at"
        ]
    );
    if let Ok(psql) = Command::new("psql")
        .arg(&url)
        .args(["-At", "-c", "SELECT count(*) FROM indexing_errors"])
        .output()
    {
        assert_eq!(
            String::from_utf8_lossy(&psql.stdout).trim(),
            "0",
            "{}",
            String::from_utf8_lossy(&psql.stderr)
        );
    }

    // A crashed server is restarted (PostgreSQL recovers on its own).
    let pid = server_pid(&data_dir);
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    wait_until_gone(pid);
    stdout(&run(
        &data_dir,
        &["summary", "nonexistent_repo", "--format", "json"],
    ));
    assert_ne!(server_pid(&data_dir), pid);

    // A stale pid file naming some other live process does not block a start.
    assert!(stdout(&run(&data_dir, &["db", "stop"])).contains("stopped"));
    let mut impostor = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(
        data_dir.join("postgres/data/postmaster.pid"),
        format!(
            "{}\n{}\n",
            impostor.id(),
            data_dir.join("postgres/data").display()
        ),
    )
    .unwrap();
    assert!(stdout(&run(&data_dir, &["db", "status"])).contains("not running"));
    stdout(&run(
        &data_dir,
        &["errors", "nonexistent_repo", "--format", "json"],
    ));
    impostor.kill().unwrap();
    impostor.wait().unwrap();

    assert!(stdout(&run(&data_dir, &["db", "stop"])).contains("stopped the private cluster"));
    assert!(stdout(&run(&data_dir, &["db", "status"])).contains("not running"));
    assert!(stdout(&run(&data_dir, &["db", "stop"])).contains("was not running"));
}

fn wait_until_gone(pid: u32) {
    for _ in 0..100 {
        if unsafe { libc::kill(pid as i32, 0) } != 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("process {pid} did not exit");
}
