//! `snag db`: the private PostgreSQL cluster.

use std::process::ExitCode;

use super::stdout::{print, print_line};
use crate::cli::DbCommand;
use crate::sanitize;
use crate::store::DatabaseTarget;
use crate::store::cluster::LocalCluster;

pub async fn run(target: &DatabaseTarget, command: DbCommand) -> anyhow::Result<ExitCode> {
    let cluster = LocalCluster::default_for_user(&crate::config::data_dir());
    match command {
        DbCommand::Status => {
            let status = cluster.status();
            let mut text = String::new();
            if let DatabaseTarget::Url(_) = target {
                text.push_str(
                    "DATABASE_URL is set: snag uses that server, not the private cluster below.\n",
                );
            }
            text.push_str(&format!(
                "cluster directory: {}\n",
                sanitize::line(&status.base_dir.display().to_string())
            ));
            text.push_str(&format!(
                "initialised:       {}\n",
                if status.initialized { "yes" } else { "no" }
            ));
            match status.server_pid {
                Some(pid) => text.push_str(&format!("server:            running (pid {pid})\n")),
                None => text.push_str("server:            not running (started on first use)\n"),
            }
            text.push_str(&format!("url:               {}\n", status.url));
            print(&text)?;
        }
        DbCommand::Url => match target {
            // A real URL has no control characters: this changes only
            // text that is not one.
            DatabaseTarget::Url(url) => print_line(&sanitize::line(url))?,
            DatabaseTarget::Local(cluster) => {
                // Starting it makes the URL usable at once.
                target.connect_options().await?;
                print_line(&cluster.url())?;
            }
        },
        DbCommand::Stop => {
            let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await??;
            print_line(if stopped {
                "stopped the private cluster's server"
            } else {
                "the private cluster's server was not running"
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
