//! The private PostgreSQL cluster snag runs when no `DATABASE_URL` is given.
//!
//! Layout under the cluster's base directory:
//! `data/` (PGDATA), `run/` (the Unix socket; no TCP), `server.log`, and
//! `cluster.lock`, which serialises every snag that starts, initialises or
//! stops the server so two of them starting at once cannot collide.
//! PostgreSQL refuses to run as root, so as root the server runs as the
//! `postgres` system user, which then owns the base directory.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sqlx::postgres::PgConnectOptions;

/// The superuser and database snag creates in its own cluster.
pub const CLUSTER_USER: &str = "snag";
pub const CLUSTER_DATABASE: &str = "snag";
const PORT: u16 = 5432;
const SERVER_TOOLS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];
/// `sockaddr_un.sun_path` holds 108 bytes including the terminator.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "no PostgreSQL server binaries found (initdb, pg_ctl and postgres, searched via pg_config, \
         PATH and /usr/lib/postgresql/*/bin): install the PostgreSQL server package \
         (e.g. `apt install postgresql`), or set DATABASE_URL to use an existing server"
    )]
    NoServerBinaries,
    #[error(
        "running as root, snag runs its PostgreSQL server as the `postgres` system user, but there \
         is no such user: install the PostgreSQL server package (it creates one), or set DATABASE_URL"
    )]
    NoPostgresUser,
    #[error(
        "the postgres user cannot reach {0}: a directory above it is closed to other users; \
         set SNAG_DATA_DIR to a directory under one it can reach (e.g. /var/lib or /tmp)"
    )]
    Unreachable(PathBuf),
    #[error(
        "the socket path {0} is too long for a Unix socket: set SNAG_DATA_DIR to a shorter directory"
    )]
    SocketPathTooLong(PathBuf),
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{what} failed ({status}){}", detail_suffix(detail))]
    Tool {
        what: String,
        status: String,
        detail: String,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.trim().is_empty() {
        String::new()
    } else {
        format!(":\n{}", detail.trim_end())
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ClusterError + use<> {
    let path = path.to_path_buf();
    move |source| ClusterError::Io {
        action,
        path,
        source,
    }
}

/// Where the installed server binaries are.
#[derive(Debug, Clone)]
pub struct ServerBinaries {
    dir: PathBuf,
}

impl ServerBinaries {
    /// The first directory holding all of initdb, pg_ctl and postgres among:
    /// `pg_config --bindir`, the directories of PATH, `/usr/lib/postgresql/*/bin`
    /// (newest version first).
    pub fn locate() -> Result<Self, ClusterError> {
        Self::locate_in(candidate_dirs())
    }

    pub fn locate_in(candidates: impl IntoIterator<Item = PathBuf>) -> Result<Self, ClusterError> {
        candidates
            .into_iter()
            .find(|dir| SERVER_TOOLS.iter().all(|tool| dir.join(tool).is_file()))
            .map(|dir| ServerBinaries { dir })
            .ok_or(ClusterError::NoServerBinaries)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
    dirs
}

/// The system user that owns and runs the server when snag runs as root.
#[derive(Debug, Clone, Copy)]
struct ServerOwner {
    uid: u32,
    gid: u32,
}

impl ServerOwner {
    /// Who must run the server: the `postgres` user when snag runs as root
    /// (PostgreSQL refuses to), else snag's own user (`None`).
    fn for_this_process() -> Result<Option<Self>, ClusterError> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() == 0 };
        root.then(Self::postgres).transpose()
    }

    fn postgres() -> Result<Self, ClusterError> {
        let name = c"postgres";
        // SAFETY: getpwnam reads a NUL-terminated name and returns a pointer
        // into static storage or NULL; we copy the two ids out at once.
        let entry = unsafe { libc::getpwnam(name.as_ptr()) };
        if entry.is_null() {
            return Err(ClusterError::NoPostgresUser);
        }
        // SAFETY: non-null pointer returned by getpwnam.
        let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
        Ok(ServerOwner { uid, gid })
    }

    fn chown(&self, path: &Path) -> Result<(), ClusterError> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .map_err(io_error("cannot hand to the postgres user", path))
    }
}

/// How careful the server is with the disk. Test clusters trade crash safety
/// for speed; a user's cluster never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    Disposable,
}

/// What `snag db status` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterStatus {
    pub base_dir: PathBuf,
    pub initialized: bool,
    pub server_pid: Option<u32>,
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct LocalCluster {
    base: PathBuf,
    durability: Durability,
}

impl LocalCluster {
    pub fn new(base: impl Into<PathBuf>, durability: Durability) -> Self {
        LocalCluster {
            base: base.into(),
            durability,
        }
    }

    /// The user's cluster, `postgres/` under snag's data directory.
    pub fn default_for_user(data_dir: &Path) -> Self {
        Self::new(data_dir.join("postgres"), Durability::Durable)
    }

    pub fn base_dir(&self) -> &Path {
        &self.base
    }

    fn data_dir(&self) -> PathBuf {
        self.base.join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.base.join("run")
    }

    fn log_file(&self) -> PathBuf {
        self.base.join("server.log")
    }

    fn pid_file(&self) -> PathBuf {
        self.data_dir().join("postmaster.pid")
    }

    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(self.socket_dir())
            .port(PORT)
            .username(CLUSTER_USER)
            .database(database)
    }

    /// A URL for snag's database that psql and sqlx both accept.
    pub fn url(&self) -> String {
        self.url_for(CLUSTER_DATABASE)
    }

    /// A URL for one database of the cluster.
    pub fn url_for(&self, database: &str) -> String {
        const HOST_QUERY: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
        let host = self.socket_dir();
        let host = utf8_percent_encode(&host.to_string_lossy(), HOST_QUERY).to_string();
        let database = utf8_percent_encode(database, HOST_QUERY);
        format!("postgresql:///{database}?host={host}&port={PORT}&user={CLUSTER_USER}")
    }

    pub fn status(&self) -> ClusterStatus {
        ClusterStatus {
            base_dir: self.base.clone(),
            initialized: self.data_dir().join("PG_VERSION").is_file(),
            server_pid: self.live_server_pid(),
            url: self.url(),
        }
    }

    /// Initialises the cluster if needed and starts the server if it is not
    /// running. Safe to call from several processes at once.
    pub fn ensure_running(&self) -> Result<(), ClusterError> {
        let socket = self.socket_dir().join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(ClusterError::SocketPathTooLong(socket));
        }
        let binaries = ServerBinaries::locate()?;
        let owner = ServerOwner::for_this_process()?;
        self.prepare_base(owner)?;
        let _lock = self.lock()?;
        if self.live_server_pid().is_some() {
            return Ok(());
        }
        if !self.data_dir().join("PG_VERSION").is_file() {
            self.initialise(&binaries, owner)?;
        }
        self.write_settings(owner)?;
        self.remove_stale_pid_file()?;
        let log = self.log_file();
        let data = self.data_dir();
        let output = self
            .server_command(&binaries, "pg_ctl", owner)
            .arg("start")
            .arg("--wait")
            .args(["--timeout", "60", "--silent"])
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .output()
            .map_err(io_error("cannot run pg_ctl in", binaries.dir()))?;
        check(&output, "starting the PostgreSQL server", Some(&log))
    }

    /// Stops the server if it runs. Returns whether it was running.
    pub fn stop(&self) -> Result<bool, ClusterError> {
        if self.live_server_pid().is_none() {
            return Ok(false);
        }
        let binaries = ServerBinaries::locate()?;
        let owner = ServerOwner::for_this_process()?;
        let _lock = self.lock()?;
        if self.live_server_pid().is_none() {
            return Ok(false);
        }
        let output = self
            .server_command(&binaries, "pg_ctl", owner)
            .args(["stop", "--wait", "--silent", "-m", "fast", "-D"])
            .arg(self.data_dir())
            .output()
            .map_err(io_error("cannot run pg_ctl in", binaries.dir()))?;
        check(
            &output,
            "stopping the PostgreSQL server",
            Some(&self.log_file()),
        )?;
        Ok(true)
    }

    fn prepare_base(&self, owner: Option<ServerOwner>) -> Result<(), ClusterError> {
        if owner.is_some() {
            self.check_reachable_by_others()?;
        }
        for dir in [&self.base, &self.socket_dir()] {
            fs::create_dir_all(dir).map_err(io_error("cannot create", dir))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io_error("cannot restrict access to", dir))?;
            if let Some(owner) = owner {
                owner.chown(dir)?;
            }
        }
        Ok(())
    }

    /// The server runs as another user than root, so every directory above
    /// the base must let others pass through.
    fn check_reachable_by_others(&self) -> Result<(), ClusterError> {
        for ancestor in self.base.ancestors().skip(1) {
            match fs::metadata(ancestor) {
                Ok(meta) if meta.permissions().mode() & 0o001 == 0 => {
                    return Err(ClusterError::Unreachable(self.base.clone()));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn lock(&self) -> Result<fs::File, ClusterError> {
        let path = self.base.join("cluster.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error("cannot open", &path))?;
        file.lock().map_err(io_error("cannot lock", &path))?;
        Ok(file)
    }

    /// initdb into a scratch directory, then rename: an interrupted initdb
    /// never leaves a half-made cluster behind.
    fn initialise(
        &self,
        binaries: &ServerBinaries,
        owner: Option<ServerOwner>,
    ) -> Result<(), ClusterError> {
        let scratch = self.base.join("data.init");
        if scratch.exists() {
            fs::remove_dir_all(&scratch).map_err(io_error("cannot remove", &scratch))?;
        }
        let mut initdb = self.server_command(binaries, "initdb", owner);
        initdb
            .arg("-D")
            .arg(&scratch)
            .args(["--username", CLUSTER_USER, "--auth", "trust"])
            .args(["--encoding", "UTF8", "--locale", "C", "--no-instructions"]);
        if self.durability == Durability::Disposable {
            initdb.arg("--no-sync");
        }
        let output = initdb
            .output()
            .map_err(io_error("cannot run initdb in", binaries.dir()))?;
        check(&output, "initialising the PostgreSQL cluster", None)?;
        let conf = scratch.join("postgresql.conf");
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(&conf)
            .map_err(io_error("cannot open", &conf))?;
        writeln!(
            file,
            "\n# snag's settings are kept in their own file.\ninclude_if_exists = 'snag.conf'"
        )
        .map_err(io_error("cannot write", &conf))?;
        let data = self.data_dir();
        fs::rename(&scratch, &data).map_err(io_error("cannot move the new cluster to", &data))
    }

    /// Rewritten at every start, so the socket follows the base directory.
    fn write_settings(&self, owner: Option<ServerOwner>) -> Result<(), ClusterError> {
        let socket_dir = self.socket_dir().to_string_lossy().replace('\'', "''");
        let mut settings = format!(
            "listen_addresses = ''\nunix_socket_directories = '{socket_dir}'\nport = {PORT}\n\
             max_connections = 200\n"
        );
        if self.durability == Durability::Disposable {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let path = self.data_dir().join("snag.conf");
        fs::write(&path, settings).map_err(io_error("cannot write", &path))?;
        if let Some(owner) = owner {
            owner.chown(&path)?;
        }
        Ok(())
    }

    /// The pid of our server if it is alive: the pid file names a live
    /// postgres process serving this data directory.
    fn live_server_pid(&self) -> Option<u32> {
        let contents = fs::read_to_string(self.pid_file()).ok()?;
        let pid: u32 = contents.lines().next()?.trim().parse().ok()?;
        let data = self.data_dir();
        is_our_server(pid, &data).then_some(pid)
    }

    /// A pid file whose process is gone, or is some other program that got
    /// the same pid after a crash or reboot, would make postgres refuse to
    /// start. Called with the lock held and the server known not to run.
    fn remove_stale_pid_file(&self) -> Result<(), ClusterError> {
        let path = self.pid_file();
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(io_error("cannot remove stale", &path)(e))
            }
            _ => Ok(()),
        }
    }

    fn server_command(
        &self,
        binaries: &ServerBinaries,
        tool: &str,
        owner: Option<ServerOwner>,
    ) -> Command {
        let mut cmd = Command::new(binaries.tool(tool));
        cmd.current_dir(&self.base)
            .env_remove("PGDATA")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            // Our own process group: a Ctrl-C meant for snag must not reach
            // the server it leaves running.
            .process_group(0);
        if let Some(owner) = owner {
            cmd.uid(owner.uid).gid(owner.gid);
        }
        cmd
    }
}

fn is_our_server(pid: u32, data_dir: &Path) -> bool {
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let alive = unsafe { libc::kill(pid_t, 0) } == 0
        || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !alive {
        return false;
    }
    match fs::read(format!("/proc/{pid}/cmdline")) {
        // pg_ctl starts the server with `-D <data dir>` on its command line.
        Ok(cmdline) => {
            let wanted = data_dir.as_os_str().as_encoded_bytes();
            cmdline.split(|b| *b == 0).any(|arg| arg == wanted)
        }
        // Without /proc, a live pid is the best evidence there is.
        Err(_) => !Path::new("/proc/self").exists(),
    }
}

fn check(output: &Output, what: &str, log: Option<&Path>) -> Result<(), ClusterError> {
    if output.status.success() {
        return Ok(());
    }
    let mut detail = String::from_utf8_lossy(&output.stderr).into_owned();
    detail.push_str(&String::from_utf8_lossy(&output.stdout));
    if let Some(log) = log
        && let Ok(text) = fs::read_to_string(log)
    {
        let tail: Vec<&str> = text.lines().rev().take(10).collect();
        detail.push_str(&format!("\nlast lines of {}:\n", log.display()));
        for line in tail.into_iter().rev() {
            detail.push_str(line);
            detail.push('\n');
        }
    }
    Err(ClusterError::Tool {
        what: what.to_owned(),
        status: output.status.to_string(),
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_binaries_is_one_clear_sentence_naming_both_remedies() {
        let err = ServerBinaries::locate_in(vec![PathBuf::from("/nonexistent")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("install the PostgreSQL server package"),
            "{text}"
        );
        assert!(text.contains("DATABASE_URL"), "{text}");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn url_encodes_the_socket_directory() {
        let cluster = LocalCluster::new("/var/lib/my snag", Durability::Durable);
        assert_eq!(
            cluster.url(),
            "postgresql:///snag?host=%2Fvar%2Flib%2Fmy%20snag%2Frun&port=5432&user=snag"
        );
    }

    #[test]
    fn a_dead_pid_is_not_our_server() {
        let cluster = LocalCluster::new(tempfile::tempdir().unwrap().path(), Durability::Durable);
        assert!(!is_our_server(u32::MAX / 2, &cluster.data_dir()));
        // Our own process is alive but is not a postgres serving that directory.
        assert!(!is_our_server(std::process::id(), &cluster.data_dir()));
    }
}
