//! Whether the database answers, as the server sees it. A watchdog asks it
//! every second; while it does not answer, requests get 503 at once with a
//! sentence saying so (instead of each waiting out the pool's timeout for a
//! 500), and a private cluster whose server died is started again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio_util::sync::CancellationToken;

use super::error::ErrorBody;
use crate::store::{DatabaseTarget, Store};

/// How often the watchdog asks.
const EVERY: Duration = Duration::from_secs(1);
/// How long one question may take before the database counts as gone.
const PATIENCE: Duration = Duration::from_secs(2);
/// What clients are told to wait before asking again.
const RETRY_AFTER_SECONDS: &str = "2";

/// The database's state, shared by the watchdog and the requests.
#[derive(Debug)]
pub struct DatabaseHealth {
    up: AtomicBool,
    /// What is being done about it, for the 503's body.
    state: Mutex<String>,
}

impl Default for DatabaseHealth {
    fn default() -> Self {
        DatabaseHealth {
            up: AtomicBool::new(true),
            state: Mutex::new(String::new()),
        }
    }
}

impl DatabaseHealth {
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    fn set(&self, up: bool, state: &str) {
        if let Ok(mut current) = self.state.lock() {
            state.clone_into(&mut current);
        }
        self.up.store(up, Ordering::Relaxed);
    }

    fn unavailable(&self) -> Response {
        let state = self.state.lock().map(|s| s.clone()).unwrap_or_default();
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(ErrorBody {
                detail: format!("the database is not answering: {state}; try again in a moment"),
            }),
        )
            .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
        response
    }
}

/// Asks the database every second until `stop`. When it does not answer,
/// marks it down and, for the private cluster, starts its server again;
/// once it answers, marks it up.
pub async fn watch(
    store: Store,
    target: DatabaseTarget,
    health: Arc<DatabaseHealth>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
        let answered = tokio::time::timeout(PATIENCE, store.ping()).await;
        if matches!(answered, Ok(Ok(()))) {
            if !health.is_up() {
                tracing::warn!("the database answers again");
                health.set(true, "");
            }
            continue;
        }
        match &target {
            DatabaseTarget::Local(cluster) => {
                if health.is_up() {
                    tracing::error!(
                        "the private cluster's server is not answering; starting it again"
                    );
                }
                health.set(false, "snag is starting its private cluster again");
                let cluster = cluster.clone();
                let started = tokio::task::spawn_blocking(move || cluster.ensure_running()).await;
                if let Ok(Err(e)) = started {
                    tracing::error!("cannot start the private cluster: {e}");
                    health.set(
                        false,
                        "snag cannot start its private cluster; see the server's log",
                    );
                }
            }
            DatabaseTarget::Url(_) => {
                if health.is_up() {
                    tracing::error!("the database server is not answering");
                }
                health.set(false, "its server cannot be reached");
            }
        }
    }
}

/// Answers 503 at once while the database is down.
pub fn apply(routes: Router, health: Arc<DatabaseHealth>) -> Router {
    routes.layer(middleware::from_fn(move |request: Request, next: Next| {
        let health = Arc::clone(&health);
        async move {
            if health.is_up() {
                next.run(request).await
            } else {
                health.unavailable()
            }
        }
    }))
}
