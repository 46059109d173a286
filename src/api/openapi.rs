//! The parts of the OpenAPI document that no handler describes: title,
//! version, the bearer scheme and the tags.

use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "snag",
        description = "Indexing failures of TypeScript/JavaScript repositories: the original batch \
            indexing service's endpoints, runs, error groups and per-file outcomes. When the server \
            was started with a token, every route requires `Authorization: Bearer <token>`."
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "Batch Indexing", description = "Starting runs and following them (the original service's endpoints)"),
        (name = "error-tracking", description = "Recorded errors (the original service's endpoints)"),
        (name = "runs", description = "Runs and their per-file outcomes"),
        (name = "groups", description = "Errors grouped by fingerprint, with triage status and note"),
        (name = "meta", description = "This document")
    )
)]
struct BaseDocument;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document the routes are added to.
pub fn base_document() -> utoipa::openapi::OpenApi {
    let mut document = BaseDocument::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document
}
