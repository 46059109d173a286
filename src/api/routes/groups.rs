//! Error groups: listing with filters, and triage (status and note).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::ApiState;
use crate::api::error::{ApiError, ErrorBody, FieldError, ValidationBody};
use crate::api::extract::{ApiJson, ApiPath, BodyModel, QueryParams, free_text_error};
use crate::api::pydantic::{Field, Shape};
use crate::index::outcome::ErrorType;
use crate::store::groups::{GroupQuery, GroupRecord, GroupStatus};

const DEFAULT_GROUPS: i64 = 100;
const MAX_GROUPS: i64 = 1000;

/// Body of `GET /api/v1/repositories/{repository}/groups`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupListBody {
    pub groups: Vec<GroupRecord>,
    /// Groups matching the filters, over all pages.
    pub total: i64,
    pub repository: String,
    pub filters: GroupFilters,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupFilters {
    pub error_type: Vec<ErrorType>,
    pub status: Option<GroupStatus>,
    pub q: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A change to a group; at least one member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupUpdate {
    pub status: Option<GroupStatus>,
    /// Replaces the note (several lines are fine, NUL is not); an empty
    /// note removes it.
    pub note: Option<String>,
}

/// The words of [`GroupStatus`], for the body's validation.
const STATUS_WORDS: &[&str] = &["open", "ignored", "resolved", "regressed"];

impl BodyModel for GroupUpdate {
    const FIELDS: &'static [Field] = &[
        Field::optional("status", Shape::Choice(STATUS_WORDS)),
        Field::optional("note", Shape::Text),
    ];

    fn text_errors(&self) -> Vec<FieldError> {
        self.note
            .as_deref()
            .and_then(|note| free_text_error(["body", "note"], note))
            .into_iter()
            .collect()
    }
}

/// A repository's error groups, those affecting the most files first
#[utoipa::path(
    get,
    path = "/api/v1/repositories/{repository}/groups",
    tag = "groups",
    params(
        ("repository" = String, Path, description = "Repository name; URL-encode a `/` as `%2F`"),
        ("error_type" = Option<String>, Query, description = "Only these error types, comma-separated"),
        ("status" = Option<GroupStatus>, Query, description = "Only groups with this triage status"),
        ("q" = Option<String>, Query, description = "Case-insensitive text the title contains"),
        ("limit" = Option<i64>, Query, description = "Page size, 1 to 1000 (default 100)", minimum = 1, maximum = 1000),
        ("offset" = Option<i64>, Query, description = "Groups to skip (default 0)", minimum = 0),
    ),
    responses(
        (status = 200, description = "A page of groups", body = GroupListBody),
        (status = 422, description = "A parameter is out of range or unknown, or text with control characters", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn list_groups(
    State(state): State<ApiState>,
    ApiPath(repository): ApiPath<String>,
    mut query: QueryParams,
) -> Result<Json<GroupListBody>, ApiError> {
    let error_types = error_types(&query)?;
    let status = query.parsed::<GroupStatus>("status", &GroupStatus::ALL.map(GroupStatus::as_str));
    let text = query.text("q").map(str::to_owned);
    let limit = query.integer("limit", DEFAULT_GROUPS, 1, Some(MAX_GROUPS));
    let offset = query.integer("offset", 0, 0, None);
    query.finish()?;
    let filter = GroupQuery {
        error_types: error_types.clone(),
        statuses: status.into_iter().collect(),
        text: text.clone(),
        ..GroupQuery::default()
    };
    let (groups, total) = state
        .store
        .list_groups(&repository, &filter, limit, offset)
        .await?;
    Ok(Json(GroupListBody {
        groups,
        total,
        repository,
        filters: GroupFilters {
            error_type: error_types,
            status,
            q: text,
            limit,
            offset,
        },
    }))
}

fn error_types(query: &QueryParams) -> Result<Vec<ErrorType>, ApiError> {
    let Some(raw) = query.text("error_type") else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            name.parse::<ErrorType>().map_err(|e| {
                ApiError::Validation(vec![FieldError::new(
                    "enum",
                    ["query", "error_type"],
                    e.to_string(),
                    Some(raw),
                )])
            })
        })
        .collect()
}

/// One error group
#[utoipa::path(
    get,
    path = "/api/v1/groups/{group_id}",
    tag = "groups",
    params(("group_id" = i64, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group", body = GroupRecord),
        (status = 404, description = "No such group", body = ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn get_group(
    State(state): State<ApiState>,
    ApiPath(group_id): ApiPath<i64>,
) -> Result<Json<GroupRecord>, ApiError> {
    state
        .store
        .get_group(group_id)
        .await?
        .map(Json)
        .ok_or_else(|| no_group(group_id))
}

/// Change a group's triage status and/or note
#[utoipa::path(
    patch,
    path = "/api/v1/groups/{group_id}",
    tag = "groups",
    params(("group_id" = i64, Path, description = "The group's id")),
    request_body = GroupUpdate,
    responses(
        (status = 200, description = "The group as changed", body = GroupRecord),
        (status = 404, description = "No such group", body = ErrorBody),
        (status = 422, description = "Neither status nor note, an unknown status, or NUL in the note", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn patch_group(
    state: State<ApiState>,
    group_id: ApiPath<i64>,
    update: ApiJson<GroupUpdate>,
) -> Result<Json<GroupRecord>, ApiError> {
    update_group(state, group_id, update).await
}

/// Change a group's triage status and/or note (for clients without PATCH)
#[utoipa::path(
    post,
    path = "/api/v1/groups/{group_id}",
    tag = "groups",
    params(("group_id" = i64, Path, description = "The group's id")),
    request_body = GroupUpdate,
    responses(
        (status = 200, description = "The group as changed", body = GroupRecord),
        (status = 404, description = "No such group", body = ErrorBody),
        (status = 422, description = "Neither status nor note, an unknown status, or NUL in the note", body = ValidationBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn post_group(
    state: State<ApiState>,
    group_id: ApiPath<i64>,
    update: ApiJson<GroupUpdate>,
) -> Result<Json<GroupRecord>, ApiError> {
    update_group(state, group_id, update).await
}

async fn update_group(
    State(state): State<ApiState>,
    ApiPath(group_id): ApiPath<i64>,
    ApiJson(update): ApiJson<GroupUpdate>,
) -> Result<Json<GroupRecord>, ApiError> {
    if update.status.is_none() && update.note.is_none() {
        return Err(ApiError::invalid(
            "missing",
            ["body"],
            "give `status`, `note` or both",
            None,
        ));
    }
    let mut group = None;
    if let Some(status) = update.status {
        group = state.store.set_group_status(group_id, status).await?;
        if group.is_none() {
            return Err(no_group(group_id));
        }
    }
    if let Some(note) = &update.note {
        group = state.store.set_group_note(group_id, note).await?;
    }
    group.map(Json).ok_or_else(|| no_group(group_id))
}

fn no_group(group_id: i64) -> ApiError {
    ApiError::NotFound(format!("there is no group {group_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_knows_every_status() {
        assert_eq!(STATUS_WORDS, GroupStatus::ALL.map(GroupStatus::as_str));
    }
}
