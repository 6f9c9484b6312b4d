use super::users::UserOut;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Auth, ClientIp, SESSION_COOKIE, Via, set_cookie};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use chrono::{DateTime, Utc};
use salesops_app::auth::LoginInput;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    pub email: String,
    pub password: String,
    /// Organisation slug; needed only when the e-mail exists in several organisations.
    pub org: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionOut {
    pub user: UserOut,
    /// Send as `X-CSRF-Token` on every state-changing request made with the session cookie.
    pub csrf_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Signs in and sets the session cookie (HttpOnly, SameSite=Lax).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginIn,
    responses((status = 200, body = SessionOut), (status = 401, body = Problem), (status = 429, body = Problem, headers(("Retry-After" = u64)))))]
pub async fn login(
    State(s): State<AppState>,
    ip: ClientIp,
    ApiJson(b): ApiJson<LoginIn>,
) -> ApiResult<(HeaderMap, Json<SessionOut>)> {
    let session = s
        .app
        .login(LoginInput {
            email: &b.email,
            password: &b.password,
            org: b.org.as_deref(),
            ip: &ip.0,
        })
        .await?;
    let mut h = HeaderMap::new();
    let max_age = (session.expires_at - Utc::now()).num_seconds();
    let cookie = set_cookie(
        SESSION_COOKIE,
        &session.token,
        max_age,
        true,
        s.config.secure_cookies,
    );
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie)
            .map_err(|e| ApiError::App(salesops_app::AppError::Internal(e.to_string())))?,
    );
    let user = s
        .app
        .get_user(&session.actor, session.actor.user_id)
        .await?;
    Ok((
        h,
        Json(SessionOut {
            user: user.into(),
            csrf_token: Some(session.csrf),
            expires_at: Some(session.expires_at),
        }),
    ))
}

/// Ends the session of the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(State(s): State<AppState>, auth: Auth) -> ApiResult<(StatusCode, HeaderMap)> {
    let mut h = HeaderMap::new();
    if let Via::Session { token, .. } = &auth.via {
        s.app.logout(token).await?;
        h.insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&set_cookie(
                SESSION_COOKIE,
                "",
                0,
                true,
                s.config.secure_cookies,
            ))
            .expect("ascii cookie"),
        );
    }
    Ok((StatusCode::NO_CONTENT, h))
}

/// Who am I: the signed-in user (by session or API token).
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = SessionOut), (status = 401, body = Problem)))]
pub async fn me(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<SessionOut>> {
    let user = s.app.get_user(&auth.actor, auth.actor.user_id).await?;
    let csrf = match auth.via {
        Via::Session { csrf, .. } => Some(csrf),
        Via::Token => None,
    };
    Ok(Json(SessionOut {
        user: user.into(),
        csrf_token: csrf,
        expires_at: None,
    }))
}
