use super::{PageParams, double_option, etag, list_type, page_params, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_app::users::{NewUser, UserUpdate, UserView};
use salesops_domain::{Role, TeamId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserOut {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// admin, ops, manager, rep or viewer.
    pub role: String,
    /// de or en.
    pub locale: String,
    pub time_zone: String,
    pub hire_date: Option<NaiveDate>,
    pub leave_date: Option<NaiveDate>,
    pub active: bool,
    pub team_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Send back in `If-Match` to update.
    pub version: i64,
}

impl From<UserView> for UserOut {
    fn from(v: UserView) -> Self {
        let u = v.user;
        UserOut {
            id: u.id.0,
            email: u.email,
            name: u.name,
            role: u.role.to_string(),
            locale: u.locale.to_string(),
            time_zone: u.time_zone,
            hire_date: u.hire_date,
            leave_date: u.leave_date,
            active: u.active,
            team_ids: v.team_ids.into_iter().map(|t| t.0).collect(),
            created_at: u.created_at,
            updated_at: u.updated_at,
            version: u.version,
        }
    }
}

list_type!(UserList, UserOut);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    pub email: String,
    pub name: String,
    /// admin, ops, manager, rep or viewer.
    pub role: String,
    /// At least 10 characters.
    pub password: String,
    /// de or en (default: the organisation's).
    pub locale: Option<String>,
    /// IANA time zone (default: the organisation's).
    pub time_zone: Option<String>,
    pub hire_date: Option<NaiveDate>,
    pub leave_date: Option<NaiveDate>,
    #[serde(default)]
    pub team_ids: Vec<Uuid>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub hire_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub leave_date: Option<Option<NaiveDate>>,
    pub active: Option<bool>,
    pub team_ids: Option<Vec<Uuid>>,
    /// A new password; changing your own needs `current_password`.
    pub password: Option<String>,
    pub current_password: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilterParams {
    pub role: Option<String>,
    pub active: Option<bool>,
    pub team_id: Option<Uuid>,
    /// Matches name or e-mail.
    pub q: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UserListQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub role: Option<String>,
    pub active: Option<String>,
    pub team_id: Option<String>,
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageParams, UserFilterParams),
    responses((status = 200, body = UserList), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<UserListQuery>,
) -> ApiResult<Json<UserList>> {
    let (cursor, limit) = page_params(q.limit.as_deref(), q.cursor.as_deref())?;
    let mut errs = salesops_domain::Invalid::default();
    let filter = salesops_store::users::Filter {
        visible: None,
        role: q
            .role
            .as_deref()
            .and_then(|r| errs.check("role", r.parse::<Role>())),
        active: q.active.as_deref().and_then(|a| {
            errs.check(
                "active",
                a.parse::<bool>().map_err(|_| "must be true or false"),
            )
        }),
        team: q.team_id.as_deref().and_then(|t| {
            errs.check(
                "team_id",
                t.parse::<TeamId>().map_err(|_| "must be a team id"),
            )
        }),
        q: q.q.filter(|s| !s.trim().is_empty()),
        ids: None,
    };
    errs.into_result()?;
    let page = s.app.list_users(&auth.actor, filter, cursor, limit).await?;
    Ok(Json(UserList::from_page(page, UserOut::from)))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = UserCreate,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first result")),
    responses((status = 201, body = UserOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<UserCreate>,
) -> ApiResult<(StatusCode, HeaderMap, Json<UserOut>)> {
    let v = s
        .app
        .create_user(
            &auth.actor,
            NewUser {
                email: b.email,
                name: b.name,
                role: b.role,
                password: b.password,
                locale: b.locale,
                time_zone: b.time_zone,
                hire_date: b.hire_date,
                leave_date: b.leave_date,
                team_ids: b.team_ids.into_iter().map(TeamId).collect(),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, etag(v.user.version), Json(v.into())))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", params(("id" = Uuid, Path)),
    responses((status = 200, body = UserOut, headers(("ETag" = String))), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<UserOut>)> {
    let v = s.app.get_user(&auth.actor, path_id::<UserId>(&id)?).await?;
    Ok((etag(v.user.version), Json(v.into())))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UserPatch,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The version you read, e.g. \"3\"")),
    responses((status = 200, body = UserOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<UserPatch>,
) -> ApiResult<(HeaderMap, Json<UserOut>)> {
    let id = path_id::<UserId>(&id)?;
    let version = if_match.required()?;
    let v = s
        .app
        .update_user(
            &auth.actor,
            id,
            Some(version),
            UserUpdate {
                email: b.email,
                name: b.name,
                role: b.role,
                locale: b.locale,
                time_zone: b.time_zone,
                hire_date: b.hire_date,
                leave_date: b.leave_date,
                active: b.active,
                team_ids: b.team_ids.map(|v| v.into_iter().map(TeamId).collect()),
                password: b.password,
                current_password: b.current_password,
            },
        )
        .await?;
    Ok((etag(v.user.version), Json(v.into())))
}

/// Users are not deleted (their history stays): this deactivates the account,
/// ends its sessions and revokes its API tokens.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = UserOut), (status = 409, body = Problem), (status = 412, body = Problem)))]
pub async fn deactivate(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<Json<UserOut>> {
    let v = s
        .app
        .deactivate_user(&auth.actor, path_id::<UserId>(&id)?, if_match.0)
        .await?;
    Ok(Json(v.into()))
}
