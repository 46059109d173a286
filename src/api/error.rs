//! Error answers, always JSON with a `detail` member as the original
//! (FastAPI) service gave them: a sentence for most errors, and for 422 a
//! list saying which parameter was wrong and why.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::StoreError;

/// `{"detail": "..."}`
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    pub detail: String,
}

/// One invalid input, as FastAPI reports it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldError {
    /// What kind of problem: `int_parsing`, `greater_than_equal`, `enum`, `json_invalid`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `["query", "limit"]`, `["body", "directory"]`, `["path", "run_id"]`.
    pub loc: Vec<String>,
    pub msg: String,
    /// The value that was given, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
}

impl FieldError {
    pub fn new(kind: &str, loc: [&str; 2], msg: impl Into<String>, input: Option<&str>) -> Self {
        FieldError {
            kind: kind.to_owned(),
            loc: loc.iter().map(|s| (*s).to_owned()).collect(),
            msg: msg.into(),
            input: input.map(str::to_owned),
        }
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
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(
        kind: &str,
        loc: [&str; 2],
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
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
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
