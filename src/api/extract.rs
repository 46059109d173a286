//! Extractors whose failures are 4xx answers in the API's own error shape:
//! JSON bodies, path parameters and query strings. Text from a request is
//! checked here, before it reaches the store: PostgreSQL refuses NUL in
//! text, and control characters have no place in a name.

use std::collections::HashMap;
use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{ApiError, FieldError};
use super::pydantic::{self, Field};
use crate::sanitize;

/// Where a name is expected (a repository, a directory, an extension, a
/// filter): no control character at all.
pub fn name_error(loc: [&str; 2], value: &str) -> Option<FieldError> {
    value.chars().any(char::is_control).then(|| {
        FieldError::new(
            "value_error",
            loc,
            "must not contain control characters (NUL, line breaks, tabs, escape sequences)",
            Some(&sanitize::line(value)),
        )
    })
}

/// Free text (a note): line breaks are welcome, NUL is not.
pub fn free_text_error(loc: [&str; 2], value: &str) -> Option<FieldError> {
    value.contains('\0').then(|| {
        FieldError::new(
            "value_error",
            loc,
            "must not contain NUL characters",
            Some(&sanitize::line(value)),
        )
    })
}

/// A JSON body model: its fields as the original service's Pydantic model
/// declares them, and the text checks snag adds.
pub trait BodyModel: DeserializeOwned {
    /// The fields in the model's order (errors are reported in it).
    const FIELDS: &'static [Field];

    /// Every field whose text is not acceptable (see [`name_error`] and
    /// [`free_text_error`]).
    fn text_errors(&self) -> Vec<FieldError>;
}

/// A JSON body read as FastAPI reads one: a body that is not JSON (by its
/// `Content-Type`), not valid JSON, not an object, or whose fields are
/// missing or of the wrong shape is a 422 listing every problem, worded as
/// Pydantic words it. An oversized or slow body gets its own answer.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: BodyModel,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(is_json_type);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| body_read_error(&e))?;
        let invalid = |error: FieldError| ApiError::Validation(vec![error]);
        if bytes.is_empty() {
            return Err(invalid(FieldError::at(
                "missing",
                vec!["body".into()],
                "Field required",
                Value::Null,
            )));
        }
        let text = String::from_utf8_lossy(&bytes);
        let body = if is_json {
            serde_json::from_str::<Value>(&text)
                .map_err(|_| invalid(pydantic::json_invalid(&text)))?
        } else {
            // FastAPI hands a body of another type to the model as text.
            Value::String(text.into_owned())
        };
        let strict = pydantic::validate_body(body, T::FIELDS).map_err(ApiError::Validation)?;
        let value: T = serde_json::from_value(strict).map_err(|e| {
            ApiError::Internal(format!("a validated body did not deserialize: {e}"))
        })?;
        let errors = value.text_errors();
        if errors.is_empty() {
            Ok(ApiJson(value))
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// `application/json` or any `application/*+json`, parameters aside.
fn is_json_type(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = media.split_once('/') else {
        return false;
    };
    let subtype = subtype.to_ascii_lowercase();
    kind.eq_ignore_ascii_case("application") && (subtype == "json" || subtype.ends_with("+json"))
}

/// The body could not be read: too large, too slow, or the connection broke.
fn body_read_error(error: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.is::<super::limits::BodyTimedOut>() {
            return ApiError::Timeout("the request body arrived too slowly".to_owned());
        }
        if e.is::<http_body_util::LengthLimitError>() {
            return ApiError::PayloadTooLarge(super::limits::too_large_message());
        }
        current = e.source();
    }
    if error.to_string().contains("length limit") {
        return ApiError::PayloadTooLarge(super::limits::too_large_message());
    }
    ApiError::BadRequest(format!("cannot read the request body: {error}"))
}

/// A path parameter; one that does not parse, is not UTF-8 or holds a
/// control character is a 422 naming it.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Percent-decoded segments; text that is not UTF-8 is reported below.
        if let Ok(params) = axum::extract::RawPathParams::from_request_parts(parts, state).await {
            let errors: Vec<FieldError> = params
                .iter()
                .filter_map(|(key, value)| name_error(["path", key], value))
                .collect();
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                use axum::extract::path::ErrorKind;
                let error = match e.kind() {
                    ErrorKind::ParseErrorAtKey {
                        key,
                        value,
                        expected_type,
                    } => FieldError::new(
                        "parsing",
                        ["path", key],
                        format!("Input should be a valid {}", friendly_type(expected_type)),
                        Some(value),
                    ),
                    ErrorKind::ParseError {
                        value,
                        expected_type,
                    } => FieldError::new(
                        "parsing",
                        ["path", &param_named(parts, state, value).await],
                        format!("Input should be a valid {}", friendly_type(expected_type)),
                        Some(value),
                    ),
                    ErrorKind::InvalidUtf8InPathParam { key } => FieldError::new(
                        "string_unicode",
                        ["path", key],
                        "Input should be valid UTF-8 text",
                        None,
                    ),
                    _ => FieldError::new("parsing", ["path", "$"], e.body_text(), None),
                };
                Err(ApiError::Validation(vec![error]))
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// The name of the path parameter that holds `value` (a lone parameter's
/// parse error does not say which it was).
async fn param_named<S: Send + Sync>(parts: &mut Parts, state: &S, value: &str) -> String {
    match axum::extract::RawPathParams::from_request_parts(parts, state).await {
        Ok(params) => params
            .iter()
            .find(|(_, v)| *v == value)
            .map_or_else(|| "$".to_owned(), |(key, _)| key.to_owned()),
        Err(_) => "$".to_owned(),
    }
}

fn friendly_type(rust_type: &str) -> &str {
    match rust_type {
        "i64" | "i32" | "u64" | "u32" => "integer",
        other => other,
    }
}

/// The query string, read parameter by parameter so every invalid one is
/// reported at once. Values that are not UTF-8 or hold a control character
/// are refused as it is extracted (no parameter is free text).
#[derive(Debug, Default)]
pub struct QueryParams {
    values: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let mut values = HashMap::new();
        let mut errors = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = String::from_utf8_lossy(&form_decoded(key)).into_owned();
            match String::from_utf8(form_decoded(value)) {
                Err(_) => errors.push(FieldError::new(
                    "string_unicode",
                    ["query", &key],
                    "Input should be valid UTF-8 text",
                    None,
                )),
                Ok(value) => match name_error(["query", &key], &value) {
                    Some(error) => errors.push(error),
                    // The last occurrence wins, as in FastAPI for single values.
                    None => {
                        values.insert(key, value);
                    }
                },
            }
        }
        if errors.is_empty() {
            Ok(QueryParams {
                values,
                errors: Vec::new(),
            })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// One `application/x-www-form-urlencoded` component: `+` is a space, then
/// percent escapes are decoded, to bytes that may not be UTF-8.
fn form_decoded(component: &str) -> Vec<u8> {
    let spaced = component.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).collect()
}

impl QueryParams {
    /// The raw text of a parameter; an empty value counts as absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The raw text of a parameter, empty if it was given empty.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// An integer from `min` up to `max`, `default` when absent; read and
    /// refused as Pydantic does (an empty value is not an integer).
    pub fn integer(&mut self, name: &str, default: i64, min: i64, max: Option<i64>) -> i64 {
        let Some(raw) = self.raw(name).map(str::to_owned) else {
            return default;
        };
        let loc = ["query", name];
        match pydantic::lax_int(&raw) {
            None => self.errors.push(FieldError::new(
                "int_parsing",
                loc,
                "Input should be a valid integer, unable to parse string as an integer",
                Some(&raw),
            )),
            Some(n) if n < min => self.errors.push(
                FieldError::new(
                    "greater_than_equal",
                    loc,
                    format!("Input should be greater than or equal to {min}"),
                    Some(&raw),
                )
                .with_ctx(serde_json::json!({ "ge": min })),
            ),
            Some(n) if max.is_some_and(|max| n > max) => {
                let max = max.unwrap_or(n);
                self.errors.push(
                    FieldError::new(
                        "less_than_equal",
                        loc,
                        format!("Input should be less than or equal to {max}"),
                        Some(&raw),
                    )
                    .with_ctx(serde_json::json!({ "le": max })),
                )
            }
            Some(n) => return n,
        }
        default
    }

    /// A value of a closed vocabulary (error types, outcomes, statuses).
    pub fn parsed<T: FromStr>(&mut self, name: &str, expected: &[&str]) -> Option<T> {
        let raw = self.text(name)?.to_owned();
        match raw.parse::<T>() {
            Ok(value) => Some(value),
            Err(_) => {
                self.errors.push(FieldError::new(
                    "enum",
                    ["query", name],
                    format!("Input should be one of: {}", expected.join(", ")),
                    Some(&raw),
                ));
                None
            }
        }
    }

    /// Every invalid parameter as one 422, or nothing.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_control_characters_and_notes_only_nul() {
        let loc = ["body", "repository"];
        assert!(name_error(loc, "acme/web-ü").is_none());
        for bad in ["a\0b", "a\nb", "a\tb", "\x1b]0;x\x07", "a\u{9b}b"] {
            let error = name_error(loc, bad).expect(bad);
            assert_eq!(error.loc, ["body", "repository"]);
            let input = error.input.as_str().unwrap();
            assert!(!input.chars().any(char::is_control), "{input:?}");
        }
        assert!(free_text_error(loc, "line one\n\tline two\r\n").is_none());
        assert!(free_text_error(loc, "a\0b").is_some());
    }

    #[test]
    fn form_components_decode_to_bytes() {
        assert_eq!(form_decoded("a+b%2Fc"), b"a b/c");
        assert_eq!(form_decoded("%00"), b"\0");
        assert_eq!(form_decoded("%FF"), [0xFF]);
    }

    #[test]
    fn query_integers_are_bounded() {
        let mut params = QueryParams::default();
        params.values.insert("limit".into(), "5000".into());
        params.values.insert("offset".into(), "-1".into());
        params.values.insert("page".into(), "x".into());
        assert_eq!(params.integer("limit", 100, 1, Some(1000)), 100);
        assert_eq!(params.integer("offset", 0, 0, None), 0);
        assert_eq!(params.integer("page", 1, 1, None), 1);
        assert_eq!(params.integer("absent", 7, 1, None), 7);
        let Err(ApiError::Validation(errors)) = params.finish() else {
            panic!("expected a validation error")
        };
        let kinds: Vec<&str> = errors.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["less_than_equal", "greater_than_equal", "int_parsing"]
        );
        assert_eq!(errors[0].loc, ["query", "limit"]);
        assert_eq!(errors[0].ctx, Some(serde_json::json!({"le": 1000})));
        assert_eq!(errors[1].ctx, Some(serde_json::json!({"ge": 0})));
    }

    #[test]
    fn an_empty_integer_is_not_the_default() {
        let mut params = QueryParams::default();
        params.values.insert("limit".into(), String::new());
        params.values.insert("offset".into(), "1_0".into());
        assert_eq!(params.integer("offset", 0, 0, None), 10);
        params.integer("limit", 100, 1, Some(1000));
        let Err(ApiError::Validation(errors)) = params.finish() else {
            panic!("expected a validation error")
        };
        assert_eq!(errors[0].kind, "int_parsing");
        assert_eq!(errors[0].input, "");
    }
}
