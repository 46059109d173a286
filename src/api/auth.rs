//! Bearer authentication: with a token configured, every route (the OpenAPI
//! document too) answers 401 unless `Authorization: Bearer <token>` matches.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;

use super::error::ApiError;

/// Wraps the routes in the token check.
pub fn apply(routes: Router, token: String) -> Router {
    let token: Arc<[u8]> = Arc::from(token.into_bytes());
    routes.layer(middleware::from_fn(move |request: Request, next: Next| {
        let token = Arc::clone(&token);
        async move {
            if presented_token(&request).is_some_and(|given| same(given, &token)) {
                next.run(request).await
            } else {
                ApiError::Unauthorized.into_response()
            }
        }
    }))
}

fn presented_token(request: &Request) -> Option<&[u8]> {
    let value = request.headers().get(AUTHORIZATION)?.as_bytes();
    let scheme = value.get(..7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| value[7..].trim_ascii())
}

/// Compares without stopping at the first difference, so the time taken
/// says nothing about how much of a guess was right.
fn same(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (i, byte) in expected.iter().enumerate() {
        difference |= usize::from(byte ^ given.get(i).copied().unwrap_or(!byte));
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secreT", b"secret"));
        assert!(!same(b"secret2", b"secret"));
        assert!(!same(b"", b"secret"));
        assert!(!same(b"sec", b"secret"));
    }
}
