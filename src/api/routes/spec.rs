//! `GET /api/openapi.json`: the document generated from the handlers.

use axum::Json;
use axum::extract::State;

use crate::api::ApiState;

/// This API's OpenAPI document
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")),
    security((), ("bearer" = []))
)]
pub async fn openapi_json(State(state): State<ApiState>) -> Json<utoipa::openapi::OpenApi> {
    Json(state.openapi.as_ref().clone())
}
