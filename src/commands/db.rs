//! `snag db`: the private PostgreSQL cluster.

use std::process::ExitCode;

use crate::cli::DbCommand;
use crate::sanitize;
use crate::store::DatabaseTarget;
use crate::store::cluster::LocalCluster;

pub async fn run(target: &DatabaseTarget, command: DbCommand) -> anyhow::Result<ExitCode> {
    let cluster = LocalCluster::default_for_user(&crate::config::data_dir());
    match command {
        DbCommand::Status => {
            let status = cluster.status();
            if let DatabaseTarget::Url(_) = target {
                println!(
                    "DATABASE_URL is set: snag uses that server, not the private cluster below."
                );
            }
            println!(
                "cluster directory: {}",
                sanitize::line(&status.base_dir.display().to_string())
            );
            println!(
                "initialised:       {}",
                if status.initialized { "yes" } else { "no" }
            );
            match status.server_pid {
                Some(pid) => println!("server:            running (pid {pid})"),
                None => println!("server:            not running (started on first use)"),
            }
            println!("url:               {}", status.url);
        }
        DbCommand::Url => match target {
            // A real URL has no control characters: this changes only
            // text that is not one.
            DatabaseTarget::Url(url) => println!("{}", sanitize::line(url)),
            DatabaseTarget::Local(cluster) => {
                // Starting it makes the URL usable at once.
                target.connect_options().await?;
                println!("{}", cluster.url());
            }
        },
        DbCommand::Stop => {
            let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await??;
            println!(
                "{}",
                if stopped {
                    "stopped the private cluster's server"
                } else {
                    "the private cluster's server was not running"
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
