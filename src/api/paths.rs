//! Request paths as the original service's router (Starlette) treats them,
//! where its clients can tell the difference:
//! - a `%2F` in the original's routes is a `/` before routes are matched, so
//!   `/errors/a%2Fb` is no route (404) and `/errors/a%2Fsummary` is the
//!   summary of `a`;
//! - a path with a trailing slash that names a route without it is
//!   redirected there (307, query kept);
//! - HEAD on the original's GET routes is 405, as FastAPI answers it;
//! - every 405 says which methods the route has (`Allow`).
//!
//! snag's own routes keep `%2F` inside a segment (repository names with a
//! `/` work there) and answer HEAD.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::OpenApi;

use super::error::method_not_allowed;

/// Where the original service's routes live.
pub const ORIGINAL_PREFIX: &str = "/api/v1/indexing/batch/";

/// Every documented route and its methods.
pub struct RouteTable {
    routes: matchit::Router<Vec<Method>>,
}

impl RouteTable {
    pub fn new(document: &OpenApi) -> Self {
        let mut routes = matchit::Router::new();
        for (path, item) in &document.paths.paths {
            let mut methods = Vec::new();
            let operations = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, operation) in operations {
                if operation.is_some() {
                    methods.push(method);
                }
            }
            // The document's templates are matchit's syntax; a template it
            // refused would only lose these niceties for that route.
            if let Err(e) = routes.insert(path.as_str(), methods) {
                tracing::warn!("route {path} is not in the route table: {e}");
            }
        }
        RouteTable { routes }
    }

    fn methods(&self, path: &str) -> Option<&[Method]> {
        self.routes
            .at(path)
            .ok()
            .map(|found| found.value.as_slice())
    }
}

/// Wraps the whole router: the rewriting must happen before routes are matched.
pub fn apply(routes: Router, table: RouteTable) -> Router {
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(table),
            original_paths,
        ))
}

async fn original_paths(
    State(table): State<Arc<RouteTable>>,
    mut request: Request,
    next: Next,
) -> Response {
    let original = request.uri().path().starts_with(ORIGINAL_PREFIX);
    if original && let Some(uri) = slashes_decoded(request.uri()) {
        *request.uri_mut() = uri;
    }
    let path = request.uri().path().to_owned();
    if table.methods(&path).is_none()
        && path.len() > 1
        && path.ends_with('/')
        && let trimmed = path.trim_end_matches('/')
        && !trimmed.is_empty()
        && table.methods(trimmed).is_some()
    {
        return redirect(&request, trimmed);
    }
    if original && request.method() == Method::HEAD && table.methods(&path).is_some() {
        return with_allow(method_not_allowed().await, table.methods(&path));
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        return with_allow(response, table.methods(&path));
    }
    response
}

/// The URI with `%2F` as `/`, when it has one.
fn slashes_decoded(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    if !path.contains("%2F") && !path.contains("%2f") {
        return None;
    }
    let path = path.replace("%2F", "/").replace("%2f", "/");
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = path_and_query.parse().ok();
    Uri::from_parts(parts).ok()
}

/// Starlette's slash redirect: 307 to the absolute URL without the slash.
fn redirect(request: &Request, path: &str) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let mut location = match host {
        Some(host) => format!("http://{host}{path}"),
        None => path.to_owned(),
    };
    if let Some(query) = request.uri().query() {
        location.push('?');
        location.push_str(query);
    }
    match HeaderValue::from_str(&location) {
        Ok(location) => (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn with_allow(mut response: Response, methods: Option<&[Method]>) -> Response {
    let allow: Vec<&str> = methods
        .unwrap_or_default()
        .iter()
        .map(Method::as_str)
        .collect();
    if !allow.is_empty()
        && let Ok(value) = HeaderValue::from_str(&allow.join(", "))
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_encoded_slashes_are_decoded() {
        let uri: Uri = "/api/v1/indexing/batch/errors/a%2Fb%20c?limit=5"
            .parse()
            .unwrap();
        let decoded = slashes_decoded(&uri).unwrap();
        assert_eq!(decoded.path(), "/api/v1/indexing/batch/errors/a/b%20c");
        assert_eq!(decoded.query(), Some("limit=5"));
        assert!(slashes_decoded(&"/a/b%20c".parse().unwrap()).is_none());
    }

    #[test]
    fn the_table_knows_each_routes_methods() {
        let table = RouteTable::new(&super::super::openapi_document());
        let start = table.methods("/api/v1/indexing/batch/start").unwrap();
        assert_eq!(start, [Method::POST]);
        let summary = table.methods("/api/v1/indexing/batch/errors/web/summary");
        assert_eq!(summary.unwrap(), [Method::GET]);
        assert!(table.methods("/api/v1/indexing/batch/errors/a/b").is_none());
        assert!(
            table
                .methods("/api/v1/indexing/batch/errors/web/")
                .is_none()
        );
    }
}
