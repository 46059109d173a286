//! The command line, as clap definitions only.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::index::outcome::ErrorType;
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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// PostgreSQL to use instead of the private cluster, e.g. postgres://user:pass@host/db
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List a repository's recorded errors, newest first
    Errors(ErrorsArgs),
    /// Count a repository's recorded errors by type
    Summary(SummaryArgs),
    /// Manage the private PostgreSQL cluster (status, url, stop)
    Db(DbArgs),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for the terminal
    #[default]
    Table,
    /// The JSON body of the HTTP API
    Json,
}

#[derive(Debug, Args)]
pub struct ErrorsArgs {
    /// Repository name, as given to `snag index --repo`
    pub repository: String,
    /// Only errors of this type (parsing_error, encoding_error, chunking_error, embedding_error,
    /// persistence_error, io_error, timeout_error, unexpected_error)
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_error_type)]
    pub error_type: Option<ErrorType>,
    /// Page size
    #[arg(long, default_value_t = PageRequest::DEFAULT_LIMIT, value_parser = clap::value_parser!(i64).range(1..=PageRequest::MAX_LIMIT))]
    pub limit: i64,
    /// Errors to skip before the page starts
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i64).range(0..))]
    pub offset: i64,
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

fn parse_error_type(name: &str) -> Result<ErrorType, String> {
    name.parse()
        .map_err(|e: crate::index::outcome::UnknownErrorType| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
    fn limit_is_bounded() {
        assert!(Cli::try_parse_from(["snag", "errors", "r", "--limit", "1001"]).is_err());
        assert!(Cli::try_parse_from(["snag", "errors", "r", "--limit", "0"]).is_err());
        assert!(Cli::try_parse_from(["snag", "errors", "r", "--limit", "1000"]).is_ok());
    }
}
