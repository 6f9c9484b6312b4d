use super::{PageParams, list_type, page_params, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, Query};
use crate::middleware::NotReplayable;
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use salesops_domain::{ApiTokenId, UserId};
use salesops_store::auth::ApiToken;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenOut {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenOut {
    fn from(t: ApiToken) -> Self {
        TokenOut {
            id: t.id.0,
            user_id: t.user_id.0,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

list_type!(TokenList, TokenOut);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenCreated {
    /// Shown only now: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
    pub token: TokenOut,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenListQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub user_id: Option<String>,
    pub all: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "api-tokens",
    params(PageParams, ("user_id" = Option<Uuid>, Query, description = "admins: one user's tokens"),
        ("all" = Option<bool>, Query, description = "admins: everybody's tokens")),
    responses((status = 200, body = TokenList), (status = 401, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<TokenListQuery>,
) -> ApiResult<Json<TokenList>> {
    let (cursor, limit) = page_params(q.limit.as_deref(), q.cursor.as_deref())?;
    let mut errs = salesops_domain::Invalid::default();
    let user = q.user_id.as_deref().and_then(|u| {
        errs.check(
            "user_id",
            u.parse::<UserId>().map_err(|_| "must be a user id"),
        )
    });
    let all = q
        .all
        .as_deref()
        .and_then(|a| {
            errs.check(
                "all",
                a.parse::<bool>().map_err(|_| "must be true or false"),
            )
        })
        .unwrap_or(false);
    errs.into_result()?;
    let page = s
        .app
        .list_tokens(&auth.actor, user, all, cursor, limit)
        .await?;
    Ok(Json(TokenList::from_page(page, TokenOut::from)))
}

#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "api-tokens", request_body = TokenCreate,
    params(("Idempotency-Key" = Option<String>, Header, description = "Accepted, but the response is not replayed: the secret is never stored, so a retry creates another token")),
    responses((status = 201, body = TokenCreated), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<TokenCreate>,
) -> ApiResult<(StatusCode, Extension<NotReplayable>, Json<TokenCreated>)> {
    let t = s
        .app
        .create_token(&auth.actor, &b.name, b.expires_at)
        .await?;
    // The secret is never stored, not even for an idempotent replay.
    Ok((
        StatusCode::CREATED,
        Extension(NotReplayable),
        Json(TokenCreated {
            secret: t.secret,
            token: t.token.into(),
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/api-tokens/{id}", tag = "api-tokens", params(("id" = Uuid, Path)),
    responses((status = 200, body = TokenOut), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenOut>> {
    Ok(Json(
        s.app
            .get_token(&auth.actor, path_id::<ApiTokenId>(&id)?)
            .await?
            .into(),
    ))
}

/// Revokes the token; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "api-tokens", params(("id" = Uuid, Path)),
    responses((status = 200, body = TokenOut), (status = 404, body = Problem)))]
pub async fn revoke(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenOut>> {
    Ok(Json(
        s.app
            .revoke_token(&auth.actor, path_id::<ApiTokenId>(&id)?)
            .await?
            .into(),
    ))
}
