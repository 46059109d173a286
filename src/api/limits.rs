//! What a client may cost the server: body size, how long a body may take to
//! arrive, how long a request may take in all. Every error answer is JSON,
//! including those the layers below produce on their own.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tower::util::MapRequestLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::error::ApiError;

/// Request bodies are small JSON documents.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// From the request's arrival (its headers read) to the last byte of
    /// its body, however the body is spread out over that time.
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
    let body_timeout = limits.body_timeout;
    routes
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(MapRequestLayer::new(move |request: Request| {
            request.map(|body| Body::new(DeadlineBody::new(body, body_timeout)))
        }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::map_response(json_errors))
}

/// The request body did not arrive in full within [`Limits::body_timeout`].
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// A request body that must have arrived in full by a deadline set when the
/// request came in. (A timeout that starts again with every chunk, as
/// tower-http's does, lets a client that sends a byte now and then hold the
/// request until the request timeout.)
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl DeadlineBody {
    fn new(inner: Body, timeout: Duration) -> Self {
        DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Pin::new(&mut this.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let limits = Limits::default();
        assert_eq!(limits.max_body_bytes, 64 * 1024);
        assert_eq!(limits.body_timeout, Duration::from_secs(10));
        assert_eq!(limits.request_timeout, Duration::from_secs(30));
        assert_eq!(limits.header_timeout, Duration::from_secs(10));
    }
}
