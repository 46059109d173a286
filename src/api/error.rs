//! Error answers, always JSON with a `detail` member as the original
//! (FastAPI) service gave them: a sentence for most errors, and for 422 a
//! list saying which parameter was wrong and why.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::store::StoreError;

/// `{"detail": "..."}`
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    pub detail: String,
}

/// One invalid input, as FastAPI (Pydantic 2) reports it: `type`, `loc`,
/// `msg`, `input`, and `ctx` when the rule has parameters.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldError {
    /// What kind of problem: `missing`, `int_parsing`, `greater_than_equal`,
    /// `string_type`, `json_invalid`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `["query", "limit"]`, `["body", "directory"]`,
    /// `["body", "extensions", 0]`, `["body", 1]` (a JSON syntax error's
    /// character position).
    #[schema(value_type = Vec<Object>)]
    pub loc: Vec<Value>,
    pub msg: String,
    /// The value that was given: the parameter's text, the body's field, or
    /// the whole body for a missing field; null when there was none.
    #[schema(value_type = Object)]
    pub input: Value,
    /// The rule's parameters, e.g. `{"ge": 1}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ctx: Option<Value>,
}

impl FieldError {
    pub fn new<'a>(
        kind: &str,
        loc: impl IntoIterator<Item = &'a str>,
        msg: impl Into<String>,
        input: Option<&str>,
    ) -> Self {
        FieldError::at(
            kind,
            loc.into_iter().map(Value::from).collect(),
            msg,
            input.map_or(Value::Null, Value::from),
        )
    }

    /// An error anywhere, with any input.
    pub fn at(kind: &str, loc: Vec<Value>, msg: impl Into<String>, input: Value) -> Self {
        FieldError {
            kind: kind.to_owned(),
            loc,
            msg: msg.into(),
            input,
            ctx: None,
        }
    }

    pub fn with_ctx(mut self, ctx: Value) -> Self {
        self.ctx = Some(ctx);
        self
    }
}

/// `{"detail": [{"type", "loc", "msg", "input"}]}`
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct ValidationBody {
    pub detail: Vec<FieldError>,
}

/// What a client is told when the server fails: never the cause itself.
pub const INTERNAL_ERROR_DETAIL: &str =
    "the server could not answer this request; the cause is in the server's log";

/// What a request that lost the database is told.
pub const UNAVAILABLE_DETAIL: &str = "the database is not answering; try again in a moment";

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid<'a>(
        kind: &str,
        loc: impl IntoIterator<Item = &'a str>,
        msg: impl Into<String>,
        input: Option<&str>,
    ) -> Self {
        ApiError::Validation(vec![FieldError::new(kind, loc, msg, input)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Store(StoreError::BadRequest(_)) => StatusCode::BAD_REQUEST,
            ApiError::Store(StoreError::RepositoryBusy { .. }) => StatusCode::CONFLICT,
            ApiError::Store(e) if e.is_connection_lost() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The cause (a database error, say) is for the server's log: it
            // can name tables, hosts or the request's own text.
            tracing::error!("request failed: {self}");
            let detail = if status == StatusCode::SERVICE_UNAVAILABLE {
                UNAVAILABLE_DETAIL
            } else {
                INTERNAL_ERROR_DETAIL
            };
            let mut response = (
                status,
                Json(ErrorBody {
                    detail: detail.to_owned(),
                }),
            )
                .into_response();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from_static("2"),
                );
            }
            return response;
        }
        match self {
            ApiError::Validation(detail) => {
                (status, Json(ValidationBody { detail })).into_response()
            }
            ApiError::Unauthorized => {
                let mut response = (
                    status,
                    Json(ErrorBody {
                        detail: "Not authenticated: send `Authorization: Bearer <token>`"
                            .to_owned(),
                    }),
                )
                    .into_response();
                response.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer"),
                );
                response
            }
            other => (
                status,
                Json(ErrorBody {
                    detail: other.to_string(),
                }),
            )
                .into_response(),
        }
    }
}

/// Unknown paths: `{"detail": "Not Found"}`, as FastAPI says it.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("Not Found".to_owned())
}

pub async fn method_not_allowed() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(ErrorBody {
            detail: "Method Not Allowed".to_owned(),
        }),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_answer_400_for_the_request_and_500_for_the_server() {
        let status = |error: StoreError| ApiError::Store(error).status();
        assert_eq!(
            status(StoreError::BadRequest(
                "limit must be between 1 and 1000, got 0".into()
            )),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(StoreError::Corrupt(
                "an indexing_errors row has unknown error type".into()
            )),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            status(StoreError::Internal(
                "starting the private cluster panicked".into()
            )),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            status(StoreError::InvalidUrl("not a url".into())),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn a_bad_request_from_the_store_keeps_its_message() {
        let error = ApiError::from(StoreError::BadRequest(
            "offset must be 0 or more, got -1".into(),
        ));
        assert_eq!(error.to_string(), "offset must be 0 or more, got -1");
    }
}
