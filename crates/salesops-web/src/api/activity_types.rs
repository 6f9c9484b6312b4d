//! Activity types and their outcomes.

use super::{etag, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use salesops_app::activity_types::{OutcomeInput, TypeInput, TypeView};
use salesops_domain::{ActivityTypeId, OutcomeId};
use salesops_store::activity_types::Outcome;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutcomeOut {
    pub id: Uuid,
    pub name: String,
    pub colour: String,
    /// A good result (answered, held) or not (unanswered, no-show).
    pub positive: bool,
    pub archived: bool,
    pub position: i32,
    pub version: i64,
}

impl From<Outcome> for OutcomeOut {
    fn from(o: Outcome) -> Self {
        OutcomeOut {
            id: o.id.0,
            name: o.name,
            colour: o.colour,
            positive: o.positive,
            archived: o.archived,
            position: o.position,
            version: o.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityTypeOut {
    pub id: Uuid,
    pub name: String,
    /// call, email, email_received, meeting, proposal, task or other.
    pub kind: String,
    pub colour: String,
    pub icon: String,
    /// Whether time spent on it counts as selling time.
    pub counts_as_selling: bool,
    pub archived: bool,
    pub position: i32,
    pub outcomes: Vec<OutcomeOut>,
    pub version: i64,
}

impl From<TypeView> for ActivityTypeOut {
    fn from(v: TypeView) -> Self {
        let t = v.activity_type;
        ActivityTypeOut {
            id: t.id.0,
            name: t.name,
            kind: t.kind.to_string(),
            colour: t.colour,
            icon: t.icon,
            counts_as_selling: t.counts_as_selling,
            archived: t.archived,
            position: t.position,
            outcomes: v.outcomes.into_iter().map(OutcomeOut::from).collect(),
            version: t.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityTypeList {
    pub items: Vec<ActivityTypeOut>,
    /// Always null: every type is on one page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeIn {
    pub name: Option<String>,
    pub colour: Option<String>,
    pub positive: Option<bool>,
    pub archived: Option<bool>,
}

impl From<&OutcomeIn> for OutcomeInput {
    fn from(b: &OutcomeIn) -> Self {
        OutcomeInput {
            name: b.name.clone(),
            colour: b.colour.clone(),
            positive: b.positive,
            archived: b.archived,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityTypeIn {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub colour: Option<String>,
    /// phone, mail, inbox, users, file-text, check-square, calendar, message, star or circle.
    pub icon: Option<String>,
    pub counts_as_selling: Option<bool>,
    /// PATCH: archive (hide from new activities) or restore.
    pub archived: Option<bool>,
    /// POST only: the outcomes, in order.
    #[serde(default)]
    pub outcomes: Vec<OutcomeIn>,
}

impl From<&ActivityTypeIn> for TypeInput {
    fn from(b: &ActivityTypeIn) -> Self {
        TypeInput {
            name: b.name.clone(),
            kind: b.kind.clone(),
            colour: b.colour.clone(),
            icon: b.icon.clone(),
            counts_as_selling: b.counts_as_selling,
            archived: b.archived,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub include_archived: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/activity-types", tag = "activity-types",
    params(("include_archived" = Option<bool>, Query)),
    responses((status = 200, body = ActivityTypeList), (status = 401, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ActivityTypeList>> {
    let mut errs = salesops_domain::Invalid::default();
    let archived = q
        .include_archived
        .as_deref()
        .and_then(|a| {
            errs.check(
                "include_archived",
                a.parse::<bool>().map_err(|_| "must be true or false"),
            )
        })
        .unwrap_or(false);
    errs.into_result()?;
    let items = s
        .app
        .list_activity_types(&auth.actor, archived)
        .await?
        .into_iter()
        .map(ActivityTypeOut::from)
        .collect();
    Ok(Json(ActivityTypeList {
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/activity-types", tag = "activity-types", request_body = ActivityTypeIn,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ActivityTypeOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ActivityTypeIn>,
) -> ApiResult<(StatusCode, HeaderMap, Json<ActivityTypeOut>)> {
    if b.archived.is_some() {
        return Err(
            salesops_domain::Invalid::one("archived", "a new type cannot be archived").into(),
        );
    }
    let outcomes = b.outcomes.iter().map(OutcomeInput::from).collect();
    let v = s
        .app
        .create_activity_type(&auth.actor, TypeInput::from(&b), outcomes)
        .await?;
    Ok((
        StatusCode::CREATED,
        etag(v.activity_type.version),
        Json(v.into()),
    ))
}

#[utoipa::path(get, path = "/api/v1/activity-types/{id}", tag = "activity-types", params(("id" = Uuid, Path)),
    responses((status = 200, body = ActivityTypeOut), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<ActivityTypeOut>)> {
    let v = s
        .app
        .get_activity_type(&auth.actor, path_id::<ActivityTypeId>(&id)?)
        .await?;
    Ok((etag(v.activity_type.version), Json(v.into())))
}

#[utoipa::path(patch, path = "/api/v1/activity-types/{id}", tag = "activity-types", request_body = ActivityTypeIn,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = ActivityTypeOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<ActivityTypeIn>,
) -> ApiResult<(HeaderMap, Json<ActivityTypeOut>)> {
    let id = path_id::<ActivityTypeId>(&id)?;
    let version = if_match.required()?;
    if !b.outcomes.is_empty() {
        return Err(salesops_domain::Invalid::one(
            "outcomes",
            "change outcomes through /activity-types/{id}/outcomes",
        )
        .into());
    }
    let v = s
        .app
        .update_activity_type(&auth.actor, id, Some(version), TypeInput::from(&b))
        .await?;
    Ok((etag(v.activity_type.version), Json(v.into())))
}

/// Deletes an unused type (409 once activities use it: archive it instead).
#[utoipa::path(delete, path = "/api/v1/activity-types/{id}", tag = "activity-types", params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_activity_type(&auth.actor, path_id::<ActivityTypeId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/activity-types/{id}/outcomes", tag = "activity-types", request_body = OutcomeIn,
    params(("id" = Uuid, Path)),
    responses((status = 201, body = ActivityTypeOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn add_outcome(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<OutcomeIn>,
) -> ApiResult<(StatusCode, Json<ActivityTypeOut>)> {
    if b.archived.is_some() {
        return Err(
            salesops_domain::Invalid::one("archived", "a new outcome cannot be archived").into(),
        );
    }
    let v = s
        .app
        .add_outcome(
            &auth.actor,
            path_id::<ActivityTypeId>(&id)?,
            OutcomeInput::from(&b),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

#[utoipa::path(patch, path = "/api/v1/activity-types/{id}/outcomes/{outcome_id}", tag = "activity-types", request_body = OutcomeIn,
    params(("id" = Uuid, Path), ("outcome_id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = OutcomeOut), (status = 404, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_outcome(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, outcome)): Path<(String, String)>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<OutcomeIn>,
) -> ApiResult<(HeaderMap, Json<OutcomeOut>)> {
    let (id, outcome) = (
        path_id::<ActivityTypeId>(&id)?,
        path_id::<OutcomeId>(&outcome)?,
    );
    let version = if_match.required()?;
    let o = s
        .app
        .update_outcome(
            &auth.actor,
            id,
            outcome,
            Some(version),
            OutcomeInput::from(&b),
        )
        .await?;
    Ok((etag(o.version), Json(o.into())))
}

#[utoipa::path(delete, path = "/api/v1/activity-types/{id}/outcomes/{outcome_id}", tag = "activity-types",
    params(("id" = Uuid, Path), ("outcome_id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete_outcome(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, outcome)): Path<(String, String)>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    let (id, outcome) = (
        path_id::<ActivityTypeId>(&id)?,
        path_id::<OutcomeId>(&outcome)?,
    );
    s.app
        .delete_outcome(&auth.actor, id, outcome, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
