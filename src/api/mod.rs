//! The HTTP API: the original service's endpoints (errors, summary, batch
//! start and status) with their exact bodies, plus runs, error groups and
//! per-file outcomes, and an OpenAPI document generated from the handlers.

pub mod auth;
pub mod error;
pub mod extract;
pub mod health;
pub mod hosts;
pub mod jobs;
pub mod limits;
pub mod openapi;
pub mod original;
pub mod paths;
pub mod pydantic;
pub mod roots;
pub mod routes;
pub mod server;

use std::sync::Arc;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::store::Store;
pub use jobs::Jobs;
pub use limits::Limits;
pub use roots::AllowedRoots;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub jobs: Jobs,
    pub roots: Arc<AllowedRoots>,
    /// The OpenAPI document, served at `/api/openapi.json`.
    pub openapi: Arc<utoipa::openapi::OpenApi>,
}

/// How the server is set up beyond its database.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// Bearer token every request must carry; `None` for no authentication.
    pub token: Option<String>,
    pub roots: AllowedRoots,
    pub limits: Limits,
    /// Without a token: names beyond the loopback ones that requests may
    /// give as their `Host` (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    /// Where the server listens: without a token, its address is one more
    /// allowed `Host` and its port part of the server's own origin (`None`:
    /// any port).
    pub address: Option<std::net::SocketAddr>,
    /// Whether the database answers, kept by [`health::watch`]; while it
    /// does not, requests get 503 at once.
    pub health: Arc<health::DatabaseHealth>,
}

/// The routes and the document that describes them, before state is given.
fn documented_routes() -> OpenApiRouter<ApiState> {
    use routes::{batch, errors, groups, runs, spec};
    OpenApiRouter::with_openapi(openapi::base_document())
        .routes(routes!(errors::list_errors))
        .routes(routes!(errors::error_summary))
        .routes(routes!(errors::list_repository_errors))
        .routes(routes!(batch::start))
        .routes(routes!(batch::status))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::run_files))
        .routes(routes!(runs::run_diff))
        .routes(routes!(groups::list_groups))
        .routes(routes!(
            groups::get_group,
            groups::patch_group,
            groups::post_group
        ))
        .routes(routes!(spec::openapi_json))
}

/// The OpenAPI document of every route [`router`] serves.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented_routes().split_for_parts().1
}

/// The complete application: routes, state, authentication (or, without a
/// token, the Host and Origin checks) and limits.
pub fn router(store: Store, jobs: Jobs, config: ApiConfig) -> Router {
    let (routes, document) = documented_routes().split_for_parts();
    let table = paths::RouteTable::new(&document);
    let state = ApiState {
        store,
        jobs,
        roots: Arc::new(config.roots),
        openapi: Arc::new(document),
    };
    let routes = routes
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(state);
    let routes = paths::apply(routes, table);
    let routes = health::apply(routes, config.health);
    let routes = match config.token {
        Some(token) => auth::apply(routes, token),
        None => hosts::apply(
            routes,
            hosts::HostPolicy::new(config.address, &config.allowed_hosts),
        ),
    };
    limits::apply(routes, &config.limits)
}
