//! What a client may cost the server: body size, how long a body may take to
//! arrive, how long a request may take in all. Every error answer is JSON,
//! including those the layers below produce on their own.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use super::error::ApiError;

/// Request bodies are small JSON documents.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// From the first byte of the body to its last.
    pub body_timeout: Duration,
    /// From the request's arrival to the end of its answer.
    pub request_timeout: Duration,
    /// For a connection to send its request line and headers.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: MAX_BODY_BYTES,
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
        }
    }
}

pub fn too_large_message() -> String {
    format!(
        "the request body is larger than {} KiB",
        MAX_BODY_BYTES / 1024
    )
}

pub fn apply(routes: Router, limits: &Limits) -> Router {
    routes
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::map_response(json_errors))
}

/// Layers such as the body limit and the timeouts answer with an empty or
/// plain-text body; give those the same `{"detail": ...}` shape.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(too_large_message()),
        StatusCode::REQUEST_TIMEOUT => {
            ApiError::Timeout("the request took too long and was abandoned".to_owned())
        }
        _ => {
            let detail = status.canonical_reason().unwrap_or("Error").to_owned();
            return (status, axum::Json(super::error::ErrorBody { detail })).into_response();
        }
    };
    error.into_response()
}
