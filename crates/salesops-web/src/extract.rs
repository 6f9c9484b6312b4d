//! Extractors shared by the API handlers and the UI pages.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use salesops_app::Actor;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "salesops_session";
pub const LANG_COOKIE: &str = "salesops_lang";
pub const PRE_CSRF_COOKIE: &str = "salesops_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of one cookie of the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with the attributes every cookie of ours carries.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age_secs: i64,
    http_only: bool,
    secure: bool,
) -> String {
    let mut c = format!("{name}={value}; Path=/; SameSite=Lax; Max-Age={max_age_secs}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum Via {
    /// A browser session: its cookie value and CSRF token.
    Session { token: String, csrf: String },
    /// An API token.
    Token,
}

/// The authenticated caller. Resolved once per request by [`resolve_auth`].
#[derive(Clone, Debug)]
pub struct Auth {
    pub actor: Actor,
    pub via: Via,
}

/// The outcome of looking at a request's credentials.
#[derive(Clone, Debug)]
pub enum Caller {
    Anonymous,
    /// Credentials were sent but are not valid (unknown, expired or revoked token).
    BadCredentials(&'static str),
    Known(Auth),
}

/// Reads the bearer token or session cookie once per request.
pub async fn resolve_auth(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    if let Some(h) = headers.get(header::AUTHORIZATION) {
        let v = h.to_str().unwrap_or("");
        let Some(secret) = v.strip_prefix("Bearer ").map(str::trim) else {
            return Ok(Caller::BadCredentials(
                "the Authorization header must be `Bearer <token>`",
            ));
        };
        return Ok(match state.app.token_actor(secret).await? {
            Some(actor) => Caller::Known(Auth {
                actor,
                via: Via::Token,
            }),
            None => Caller::BadCredentials("the API token is unknown, expired or revoked"),
        });
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE)
        && let Some((actor, csrf)) = state.app.session(&token).await?
    {
        return Ok(Caller::Known(Auth {
            actor,
            via: Via::Session { token, csrf },
        }));
    }
    Ok(Caller::Anonymous)
}

fn is_safe(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let caller = match parts.extensions.get::<Caller>() {
            Some(c) => c.clone(),
            None => resolve_auth(state, &parts.headers).await?,
        };
        match caller {
            Caller::Known(auth) => {
                // A browser session must prove the request came from our pages.
                if let Via::Session { csrf, .. } = &auth.via
                    && !is_safe(&parts.method)
                {
                    let sent = parts
                        .headers
                        .get(CSRF_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if !crate::csrf_eq(sent, csrf) {
                        return Err(ApiError::CsrfFailed);
                    }
                }
                Ok(auth)
            }
            Caller::BadCredentials(m) => Err(ApiError::Unauthorized(m.into())),
            Caller::Anonymous => Err(ApiError::App(salesops_app::AppError::Unauthenticated)),
        }
    }
}

/// The client's address, for per-address limits.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_for
            && let Some(first) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                // The last entry is the one our own proxy appended; earlier
                // ones come from the client and can be forged.
                .and_then(|v| v.rsplit(',').next())
        {
            return Ok(ClientIp(first.trim().to_string()));
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientIp(ip))
    }
}

/// A JSON body: 415 without `application/json`, 413 when too large, 400 when
/// it is not JSON, 422 naming the field when a value or field is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(format!("could not read the body: {e}"))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let msg = inner.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                    let field = match msg
                        .strip_prefix("unknown field `")
                        .and_then(|r| r.split('`').next())
                    {
                        Some(name) if path == "." => name.to_string(),
                        _ if path == "." => String::new(),
                        _ => path,
                    };
                    Err(ApiError::invalid(&field, msg))
                }
                _ => Err(ApiError::BadRequest(format!(
                    "the body is not valid JSON: {inner}"
                ))),
            }
        }
    }
}

/// `If-Match: "<version>"`, as sent back from an `ETag`.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let Some(v) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let s = v.to_str().unwrap_or("").trim();
        let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
        s.parse::<i64>().map(|v| IfMatch(Some(v))).map_err(|_| {
            ApiError::BadRequest(
                "If-Match must be the record's version in quotes, e.g. \"3\"".into(),
            )
        })
    }
}

impl IfMatch {
    /// The version, or 428 when the header is missing.
    pub fn required(&self) -> ApiResult<i64> {
        self.0.ok_or(ApiError::PreconditionRequired)
    }
}

/// An opaque cursor: the last id of the previous page.
pub fn encode_cursor(id: uuid::Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(s: Option<&str>) -> ApiResult<Option<uuid::Uuid>> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| uuid::Uuid::from_slice(&b).ok())
        .map(Some)
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API returned"))
}

/// Query parameters: 400 naming the parameter on a wrong value.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<T>(q)
            .map(Query)
            .map_err(|e| ApiError::BadRequest(format!("invalid query parameters: {e}")))
    }
}

/// A JSON body that may also be empty (for actions with optional input):
/// empty is `T::default()`, anything else is parsed like [`ApiJson`].
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(format!("could not read the body: {e}"))
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}
