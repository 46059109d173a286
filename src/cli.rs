//! The command line, as clap definitions only.

use clap::{Args, Parser, Subcommand, ValueEnum};

use std::path::PathBuf;
use std::str::FromStr;

use crate::index::grammar::GrammarSource;
use crate::index::outcome::{ErrorType, Outcome, Verdict};
use crate::store::PageRequest;

#[derive(Debug, Parser)]
#[command(
    name = "snag",
    version,
    about = "Index TypeScript/JavaScript repositories into PostgreSQL and triage every file that fails",
    long_about = "Index TypeScript/JavaScript repositories into PostgreSQL and triage every file that fails.\n\n\
        Without DATABASE_URL (or --database-url), snag runs a private PostgreSQL cluster under its data \
        directory ($SNAG_DATA_DIR, /var/lib/snag for root, else the user's data directory), started on \
        first use. See `snag db --help`."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// UI theme: dark, light, or a themes/NAME.toml in the config directory (NO_COLOR turns colour off)
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Without a command, snag opens the triage UI (`snag tui`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// PostgreSQL to use instead of the private cluster, e.g. postgres://user:pass@host/db
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the triage UI; with PATH, start indexing it at once (the default command)
    Tui(TuiArgs),
    /// Index a repository without the UI, for CI: progress, summary, exit codes (alias: --index)
    #[command(long_flag = "index")]
    Index(IndexArgs),
    /// List the per-file outcomes of a run (the repository's latest by default)
    Files(FilesArgs),
    /// List a repository's recorded errors, newest first
    Errors(ErrorsArgs),
    /// Count a repository's recorded errors by type
    Summary(SummaryArgs),
    /// Manage the private PostgreSQL cluster (status, url, stop)
    Db(DbArgs),
    /// Serve the HTTP API (the original service's endpoints, runs, groups; OpenAPI at /api/openapi.json)
    Serve(ServeArgs),
    /// Write the analysis report of a run: rates, error distribution, patterns, recommendations
    Report(ReportArgs),
    /// Cut a grammar-gap group's example file down to a minimal reproduction and print it (--format issue: as an upstream Markdown issue)
    Repro(ReproArgs),
    /// What changed between two runs: files newly failing, fixed, gone, or failing with another problem or verdict
    Diff(DiffArgs),
    /// Delete old runs and the rows only they reference (--keep-runs N, --older-than AGE)
    Gc(GcArgs),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for the terminal
    #[default]
    Table,
    /// The JSON body of the HTTP API
    Json,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum IndexFormat {
    /// A summary for people
    #[default]
    Text,
    /// One JSON document with the run's counts
    Json,
    /// SARIF 2.1.0: one result per problem of a syntax error (per site without a verdict), one rule per group
    Sarif,
    /// JUnit XML: one test case per file, failures with their messages
    Junit,
    /// GitHub Actions annotations (one per problem, 50 at most) and a summary in $GITHUB_STEP_SUMMARY
    Github,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Syntax errors get a verdict from a second parser: grammar_gap (the code is valid), \
    invalid_source or unknown. One run of a repository goes at a time, across every process and machine \
    sharing the database: while another runs, snag says whose run it is and exits 2, or waits with --wait. \
    Exit status: 0 success, 1 a threshold (--max-failure-rate, --max-errors) was crossed, \
    2 usage, configuration or database trouble (a run of the repository already going included), \
    130 interrupted (Ctrl-C; files done so far are kept)."
)]
pub struct IndexArgs {
    /// The repository's root directory
    pub path: PathBuf,
    /// Name to store the results under [default: the directory's name]
    #[arg(long = "repo", value_name = "NAME")]
    pub repository: Option<String>,
    /// Index test files (*.test.*, *.spec.*, __tests__/) like any other file
    #[arg(long)]
    pub include_tests: bool,
    /// Index files that .gitignore, .ignore or git's excludes hide
    #[arg(long)]
    pub no_ignore: bool,
    /// Parse every file. By default a file whose text, snag version, grammars and
    /// settings are those of its last stored result keeps that result (its outcome,
    /// errors and chunks carry over), and only changed files are parsed
    #[arg(long)]
    pub full: bool,
    /// Extensions to index, comma-separated [default: ts,tsx,mts,cts,js,jsx,mjs,cjs,vue,svelte].
    /// For .vue and .svelte components, the <script> blocks are parsed (template
    /// expressions are not)
    #[arg(long = "ext", value_name = "EXT", value_delimiter = ',')]
    pub extensions: Vec<String>,
    /// Skip paths matching this glob, relative to the root (repeatable), e.g. 'src/generated/**'
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Parsing threads [default: the number of CPUs]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Parse with the tree-sitter grammar in DIR instead of the built-in one for its language
    /// (repeatable): a grammar folder (src/parser.c, optional src/scanner.c, src/grammar.json
    /// naming it typescript, tsx or javascript) or a repository of them such as
    /// tree-sitter-typescript. Built with the C compiler ($CC, else cc) and cached by the
    /// sources' hash under the data directory
    #[arg(long = "grammar", value_name = "DIR")]
    pub grammars: Vec<PathBuf>,
    /// Parse with a prebuilt grammar library (`tree-sitter build` output; repeatable): it
    /// replaces the grammars whose tree_sitter_typescript, _tsx or _javascript it exports
    #[arg(long = "grammar-lib", value_name = "FILE")]
    pub grammar_libs: Vec<PathBuf>,
    /// Files larger than this are skipped (too_large); accepts K, M, G suffixes
    #[arg(long, value_name = "SIZE", default_value = "2M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Time budget for parsing one file, in seconds; beyond it the file is a timeout_error
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = parse_seconds)]
    pub parse_timeout: f64,
    #[arg(long, value_enum, default_value_t)]
    pub format: IndexFormat,
    /// Write the result document to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when more than this share of the files (skipped ones aside) failed or were
    /// partial: a fraction (0.05) or a percentage (5%)
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub max_failure_rate: Option<f64>,
    /// Exit 1 when the run recorded more than N errors
    #[arg(long, value_name = "N")]
    pub max_errors: Option<u64>,
    /// Leave files whose only failure is a grammar gap (valid code the tree-sitter grammar
    /// cannot parse, as the reference parser confirms) out of --max-failure-rate and
    /// --max-errors
    #[arg(long)]
    pub ignore_grammar_gaps: bool,
    /// Count only failures that are not in this earlier run (or whose group was resolved)
    /// toward --max-failure-rate, --max-errors and the exit status: a run id, or `latest` for
    /// the repository's run before this one
    #[arg(long, value_name = "RUN|latest", value_parser = parse_baseline)]
    pub baseline: Option<Baseline>,
    /// Files expected to fail (tree-sitter's known_failures.txt: one path per line, relative
    /// to PATH, `#` comments): exit 1 when a file not on the list fails (failed or partial,
    /// grammar gaps included) or a listed file now passes
    #[arg(long, value_name = "FILE")]
    pub known_failures: Option<PathBuf>,
    /// Write the files that fail in this run to FILE, in the --known-failures format
    #[arg(long, value_name = "FILE")]
    pub write_known_failures: Option<PathBuf>,
    /// When a run of the repository is already going (here or on another machine using the
    /// same database), wait for it to end instead of exiting 2
    #[arg(long)]
    pub wait: bool,
}

/// The run `snag index --baseline` compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// The repository's run before this one.
    Latest,
    Run(i64),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Without --token the server binds only loopback addresses, and answers only \
    requests whose Host is localhost, a loopback address (127.0.0.1, [::1]) or a name given with \
    --allow-host, with or without the port (403 otherwise); POST, PATCH, PUT and DELETE requests \
    whose Origin is not the server's own (http://localhost:PORT and the like) are refused too. \
    This keeps web pages in a browser from reaching the server through DNS rebinding or \
    cross-site requests. With a token, every request needs `Authorization: Bearer TOKEN`. \
    Ctrl-C stops the server and cancels the runs it started (what they finished is kept)."
)]
pub struct ServeArgs {
    /// Address and port to listen on; an address other than loopback requires --token
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8001")]
    pub bind: std::net::SocketAddr,
    /// Require `Authorization: Bearer TOKEN` on every request
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SNAG_API_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Directory inside which the start endpoint may index (repeatable)
    /// [default: the current directory]
    #[arg(long = "allow-root", value_name = "DIR")]
    pub allow_roots: Vec<PathBuf>,
    /// Without --token, also answer requests whose Host is NAME, e.g. a name in /etc/hosts
    /// for 127.0.0.1 (repeatable; a host name or IP address, without a port)
    #[arg(long = "allow-host", value_name = "NAME", value_parser = parse_host_name)]
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Delta debugging over lines, then tokens: the printed text still makes tree-sitter \
    report a syntax error while the reference parser accepts it (and, for a known gap, names the same construct). \
    The example file is read from the indexed root of the run that recorded it. Deterministic; \
    the reduction so far is printed when the time runs out."
)]
pub struct ReproArgs {
    /// The group: its id, or its fingerprint (16 hex digits)
    pub group: String,
    /// The repository, when a fingerprint names groups in several
    #[arg(long = "repo", value_name = "NAME")]
    pub repository: Option<String>,
    /// Time budget in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = parse_seconds)]
    pub timeout: f64,
    #[arg(long, value_enum, default_value_t)]
    pub format: ReproFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReproFormat {
    /// The reduced text alone
    #[default]
    Text,
    /// A Markdown issue for the grammar's tracker: the grammar's name, version and hash, the
    /// reduced input, tree-sitter's tree around the error, the reference parser's acceptance
    /// and the construct
    Issue,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A Markdown document
    #[default]
    Markdown,
    /// The same content as one JSON document
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Repository name, as given to `snag index --repo`
    pub repository: String,
    /// The run to report on [default: the repository's latest]
    #[arg(long = "run", value_name = "ID")]
    pub run_id: Option<i64>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
    /// Write the report to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Default, Args)]
#[command(
    after_help = "Press ? in the UI for every key. Keys and the theme can be set in the config \
    file (~/.config/snag/config.toml, or $SNAG_CONFIG): theme = \"light\" and [keys.list] x = \"mark_resolved\"."
)]
pub struct TuiArgs {
    /// A repository to index at once
    pub path: Option<PathBuf>,
    /// UI theme: dark, light, or a themes/NAME.toml in the config directory (NO_COLOR turns colour off)
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Name to store the results under [default: the directory's name]
    #[arg(long = "repo", value_name = "NAME", requires = "path")]
    pub repository: Option<String>,
    /// Index test files too
    #[arg(long, requires = "path")]
    pub include_tests: bool,
    /// Index files that .gitignore, .ignore or git's excludes hide
    #[arg(long, requires = "path")]
    pub no_ignore: bool,
    /// Extensions to index, comma-separated (see `snag index --help`)
    #[arg(
        long = "ext",
        value_name = "EXT",
        value_delimiter = ',',
        requires = "path"
    )]
    pub extensions: Vec<String>,
    /// Parse with the tree-sitter grammar in DIR (see `snag index --help`)
    #[arg(long = "grammar", value_name = "DIR", requires = "path")]
    pub grammars: Vec<PathBuf>,
    /// Parse with a prebuilt grammar library (see `snag index --help`)
    #[arg(long = "grammar-lib", value_name = "FILE", requires = "path")]
    pub grammar_libs: Vec<PathBuf>,
}

/// The grammars `--grammar` and `--grammar-lib` name, folders first.
pub fn grammar_sources(folders: &[PathBuf], libraries: &[PathBuf]) -> Vec<GrammarSource> {
    let folders = folders.iter().cloned().map(GrammarSource::Folder);
    let libraries = libraries.iter().cloned().map(GrammarSource::Library);
    folders.chain(libraries).collect()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Lines for the terminal, grouped by problem group
    #[default]
    Text,
    /// The JSON body of `GET /api/v1/runs/{a}/diff/{b}`
    Json,
    /// Markdown, for a pull request comment or a CI summary
    Markdown,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  snag diff --repo web     the repository's previous run against its latest\n  \
    snag diff 13             run 13 against the run of its repository before it\n  \
    snag diff 12 15          run 12 against run 15\n\n\
    Files are compared by their outcome in each run: newly failing (+), fixed or gone (-), failing \
    with another problem group or another verdict (~). \
    Exit status: 0, 1 with --fail-on-new when a file fails that did not or fails with another problem, \
    2 usage or database trouble."
)]
pub struct DiffArgs {
    /// The earlier run [default: the run of the same repository before the later one]
    #[arg(value_name = "RUN_A")]
    pub from: Option<i64>,
    /// The later run [default: the repository's latest]
    #[arg(value_name = "RUN_B")]
    pub to: Option<i64>,
    /// The repository, as given to `snag index --repo` (required when no run is given)
    #[arg(long = "repo", value_name = "NAME")]
    pub repository: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
    /// Exit 1 when a file fails that did not, or fails with another problem
    #[arg(long)]
    pub fail_on_new: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "A run goes when no option keeps it: it is beyond its repository's --keep-runs newest \
    and started more than --older-than ago. Never deleted: a run going on and a repository's latest \
    run. Rows only deleted runs saw go with them; rows a later run still reads stay, so every \
    remaining run reads as before. Runs are deleted a few thousand rows at a time, so runs going on \
    are not held up.\n\n\
    Examples:\n  snag gc --keep-runs 20\n  snag gc --repo web --older-than 30d --dry-run"
)]
pub struct GcArgs {
    /// Keep each repository's N newest runs
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_runs: Option<u32>,
    /// Keep runs started less than this long ago: 30d, 12h, 2w
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: Option<chrono::Duration>,
    /// Only this repository's runs
    #[arg(long = "repo", value_name = "NAME")]
    pub repository: Option<String>,
    /// Say which runs would go, and delete nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct FilesArgs {
    /// Repository name, as given to `snag index --repo`
    pub repository: String,
    /// The run to list [default: the repository's latest]
    #[arg(long = "run", value_name = "ID")]
    pub run_id: Option<i64>,
    /// Only files with this outcome (indexed, partial, failed, skipped)
    #[arg(long, value_parser = Outcome::from_str)]
    pub outcome: Option<Outcome>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ErrorsArgs {
    /// Repository name, as given to `snag index --repo`
    pub repository: String,
    /// Only errors of this type (parsing_error, encoding_error, chunking_error, embedding_error,
    /// persistence_error, io_error, timeout_error, unexpected_error)
    #[arg(long = "type", value_name = "TYPE", value_parser = ErrorType::from_str)]
    pub error_type: Option<ErrorType>,
    /// Only syntax errors with this verdict of the reference parser (grammar_gap,
    /// invalid_source, unknown)
    #[arg(long, value_name = "VERDICT", value_parser = Verdict::from_str)]
    pub verdict: Option<Verdict>,
    /// Page size
    #[arg(long, default_value_t = PageRequest::DEFAULT_LIMIT, value_parser = clap::value_parser!(i64).range(1..=PageRequest::MAX_LIMIT))]
    pub limit: i64,
    /// Errors to skip before the page starts
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    pub offset: i64,
    /// Only this run's errors, as the run left them
    #[arg(long = "run", value_name = "ID")]
    pub run_id: Option<i64>,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Repository name, as given to `snag index --repo`
    pub repository: String,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Show where the private cluster lives and whether its server runs
    Status,
    /// Print a connection URL for the private cluster (psql "$(snag db url)"), starting it if needed
    Url,
    /// Stop the private cluster's server
    Stop,
}

/// "2M", "512K", "1G", "1000" (bytes).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit() && *c != '.')
    {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let number: f64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size like 2M, 512K or 1000"))?;
    let factor = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches(['B', 'I'])
    {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("`{text}` has an unknown unit; use K, M or G")),
    };
    Ok((number * factor) as u64)
}

/// A name for `--allow-host`: a host name or IP address, without a port.
fn parse_host_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Ok(bare.to_owned());
    }
    let valid = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if valid {
        Ok(bare.to_owned())
    } else {
        Err(format!(
            "`{text}` is not a host name or IP address (give the name without a scheme, port or path)"
        ))
    }
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s.is_finite() => Ok(s),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

/// "30d", "12h", "2w", "90m": an age.
fn parse_age(text: &str) -> Result<chrono::Duration, String> {
    let wrong = || format!("`{text}` is not an age like 30d, 12h, 2w or 90m");
    let text = text.trim();
    let unit = text.chars().last().ok_or_else(wrong)?;
    let number: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| wrong())?;
    let age = match unit {
        'm' => chrono::Duration::try_minutes(number),
        'h' => chrono::Duration::try_hours(number),
        'd' => chrono::Duration::try_days(number),
        'w' => chrono::Duration::try_weeks(number),
        _ => None,
    };
    age.filter(|a| *a >= chrono::Duration::zero())
        .ok_or_else(wrong)
}

/// "0.05" or "5%".
fn parse_rate(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.strip_suffix('%') {
        Some(percent) => (percent, 100.0),
        None => (text, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(r) if (0.0..=scale).contains(&r) => Ok(r / scale),
        _ => Err(format!(
            "`{text}` is not a rate between 0 and 1 (or 0% and 100%)"
        )),
    }
}

fn parse_baseline(text: &str) -> Result<Baseline, String> {
    match text {
        "latest" => Ok(Baseline::Latest),
        id => id
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Baseline::Run)
            .ok_or_else(|| format!("`{text}` is neither a run id nor `latest`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn ages_read_with_their_unit() {
        assert_eq!(parse_age("30d"), Ok(chrono::Duration::days(30)));
        assert_eq!(parse_age("12h"), Ok(chrono::Duration::hours(12)));
        assert_eq!(parse_age("2w"), Ok(chrono::Duration::weeks(2)));
        assert_eq!(parse_age("90m"), Ok(chrono::Duration::minutes(90)));
        for bad in ["", "d", "30", "30y", "-1d", "1.5d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn unknown_error_type_is_a_usage_error() {
        let err = Cli::try_parse_from(["snag", "errors", "repo", "--type", "bogus"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().contains("unknown error type `bogus`"),
            "{err}"
        );
    }

    #[test]
    fn index_alias_and_values() {
        let cli = Cli::try_parse_from([
            "snag",
            "--index",
            "repo",
            "--max-failure-rate",
            "5%",
            "--max-file-size",
            "512K",
        ])
        .unwrap();
        let Some(Command::Index(args)) = cli.command else {
            panic!("not index")
        };
        assert_eq!(args.path, PathBuf::from("repo"));
        assert_eq!(args.max_failure_rate, Some(0.05));
        assert_eq!(args.max_file_size, 512 * 1024);
        assert_eq!(parse_size("2M"), Ok(2 * 1024 * 1024));
        assert!(parse_size("2X").is_err());
        assert_eq!(parse_rate("0.1"), Ok(0.1));
        assert!(parse_rate("150%").is_err());
        assert!(parse_seconds("0").is_err());
    }

    #[test]
    fn serve_report_and_baseline() {
        let cli = Cli::try_parse_from(["snag", "serve"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.bind.to_string(), "127.0.0.1:8001");
        assert!(args.allow_hosts.is_empty());
        let cli = Cli::try_parse_from([
            "snag",
            "serve",
            "--allow-host",
            "snag.test",
            "--allow-host",
            "[::1]",
        ])
        .unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(args.allow_hosts, ["snag.test", "::1"]);
        for wrong in ["snag.test:8001", "http://snag.test", "", "a b"] {
            assert!(
                Cli::try_parse_from(["snag", "serve", "--allow-host", wrong]).is_err(),
                "{wrong}"
            );
        }
        let cli = Cli::try_parse_from([
            "snag",
            "index",
            "r",
            "--baseline",
            "latest",
            "--format",
            "sarif",
        ])
        .unwrap();
        let Some(Command::Index(args)) = cli.command else {
            panic!("not index")
        };
        assert_eq!(args.baseline, Some(Baseline::Latest));
        assert_eq!(args.format, IndexFormat::Sarif);
        assert_eq!(parse_baseline("12"), Ok(Baseline::Run(12)));
        assert!(parse_baseline("yesterday").is_err());
        assert!(Cli::try_parse_from(["snag", "report", "r", "--format", "pdf"]).is_err());
    }

    #[test]
    fn limit_is_bounded() {
        assert!(Cli::try_parse_from(["snag", "errors", "r", "--limit", "1001"]).is_err());
        assert!(Cli::try_parse_from(["snag", "errors", "r", "--limit", "0"]).is_err());
        assert!(Cli::try_parse_from(["snag", "errors", "r", "--limit", "1000"]).is_ok());
    }
}
