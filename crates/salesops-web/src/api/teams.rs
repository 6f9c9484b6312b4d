use super::{PageParams, double_option, etag, list_type, page_params, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use salesops_app::teams::{NewTeam, TeamUpdate, TeamView};
use salesops_domain::{Segment, TeamId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamOut {
    pub id: Uuid,
    pub name: String,
    /// marketing, prospecting, sales or account_management.
    pub segment: String,
    pub manager_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub member_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<TeamView> for TeamOut {
    fn from(v: TeamView) -> Self {
        let t = v.team;
        TeamOut {
            id: t.id.0,
            name: t.name,
            segment: t.segment.to_string(),
            manager_id: t.manager_id,
            parent_id: t.parent_id,
            member_ids: v.member_ids.into_iter().map(|u| u.0).collect(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        }
    }
}

list_type!(TeamList, TeamOut);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamCreate {
    pub name: String,
    /// marketing, prospecting, sales or account_management.
    pub segment: String,
    pub manager_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub member_ids: Vec<Uuid>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub segment: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub manager_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    /// Replaces the members.
    pub member_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TeamListQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub segment: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "teams",
    params(PageParams, ("segment" = Option<String>, Query)),
    responses((status = 200, body = TeamList), (status = 401, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<TeamListQuery>,
) -> ApiResult<Json<TeamList>> {
    let (cursor, limit) = page_params(q.limit.as_deref(), q.cursor.as_deref())?;
    let mut errs = salesops_domain::Invalid::default();
    let segment = q
        .segment
        .as_deref()
        .and_then(|x| errs.check("segment", x.parse::<Segment>()));
    errs.into_result()?;
    let page = s
        .app
        .list_teams(&auth.actor, segment, cursor, limit)
        .await?;
    Ok(Json(TeamList::from_page(page, TeamOut::from)))
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = TeamCreate,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TeamOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<TeamCreate>,
) -> ApiResult<(StatusCode, HeaderMap, Json<TeamOut>)> {
    let v = s
        .app
        .create_team(
            &auth.actor,
            NewTeam {
                name: b.name,
                segment: b.segment,
                manager_id: b.manager_id.map(UserId),
                parent_id: b.parent_id.map(TeamId),
                member_ids: b.member_ids.into_iter().map(UserId).collect(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, etag(v.team.version), Json(v.into())))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams", params(("id" = Uuid, Path)),
    responses((status = 200, body = TeamOut), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<TeamOut>)> {
    let v = s.app.get_team(&auth.actor, path_id::<TeamId>(&id)?).await?;
    Ok((etag(v.team.version), Json(v.into())))
}

#[utoipa::path(patch, path = "/api/v1/teams/{id}", tag = "teams", request_body = TeamPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = TeamOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<TeamPatch>,
) -> ApiResult<(HeaderMap, Json<TeamOut>)> {
    let id = path_id::<TeamId>(&id)?;
    let version = if_match.required()?;
    let v = s
        .app
        .update_team(
            &auth.actor,
            id,
            Some(version),
            TeamUpdate {
                name: b.name,
                segment: b.segment,
                manager_id: b.manager_id.map(|m| m.map(UserId)),
                parent_id: b.parent_id.map(|p| p.map(TeamId)),
                member_ids: b.member_ids.map(|v| v.into_iter().map(UserId).collect()),
            },
        )
        .await?;
    Ok((etag(v.team.version), Json(v.into())))
}

#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "Delete only if the version is still this one")),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_team(&auth.actor, path_id::<TeamId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
