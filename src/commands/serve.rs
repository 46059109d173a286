//! `snag serve`.

use std::process::ExitCode;

use anyhow::{Context, bail};

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::api::health::{self, DatabaseHealth};
use crate::api::{self, AllowedRoots, ApiConfig, Jobs, Limits};
use crate::cli::ServeArgs;
use crate::store::{DatabaseTarget, Store};

pub async fn run(target: &DatabaseTarget, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let token = args.token.filter(|t| !t.trim().is_empty());
    if token.is_none() && !args.bind.ip().is_loopback() {
        bail!(
            "{} is not a loopback address: anyone who can reach it could read and start runs; \
             pass --token (or SNAG_API_TOKEN) to require a bearer token",
            args.bind
        );
    }
    let roots = if args.allow_roots.is_empty() {
        vec![std::env::current_dir().context("cannot read the current directory")?]
    } else {
        args.allow_roots
    };
    // Refusals above come before the database is touched.
    let store = Store::open(target).await?;
    let roots = AllowedRoots::new(&roots)?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let address = listener.local_addr().unwrap_or(args.bind);
    let limits = Limits::default();
    let health = Arc::new(DatabaseHealth::default());
    let stop_watching = CancellationToken::new();
    let watchdog = tokio::spawn(health::watch(
        store.clone(),
        target.clone(),
        Arc::clone(&health),
        stop_watching.clone(),
    ));
    let config = ApiConfig {
        token,
        roots,
        limits,
        allowed_hosts: args.allow_hosts,
        address: Some(address),
        health,
    };
    let allowed: Vec<String> = config
        .roots
        .roots()
        .iter()
        .map(|r| crate::sanitize::line(&r.display().to_string()).into_owned())
        .collect();
    let jobs = Jobs::default();
    let app = api::router(store, jobs.clone(), config);
    eprintln!(
        "snag: serving http://{address} (OpenAPI at /api/openapi.json); runs may index inside {}; Ctrl-C stops",
        allowed.join(", ")
    );
    api::server::serve(listener, app, limits.header_timeout, stop_signal()).await;
    eprintln!("snag: stopping; runs in progress are cancelled and keep what they finished");
    jobs.shutdown().await;
    stop_watching.cancel();
    let _ = watchdog.await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
