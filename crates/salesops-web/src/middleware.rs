//! Request middleware: resolve the caller once, and replay POSTs that carry
//! an `Idempotency-Key`.

use crate::error::ApiError;
use crate::extract::{Caller, resolve_auth};
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use salesops_store::{idempotency, now};
use sha2::{Digest, Sha256};

/// Looks at the credentials once and leaves the result for the extractors.
pub async fn resolve_caller(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    match resolve_auth(&s, req.headers()).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// Marks a response that must not be stored for replay because it holds a
/// secret shown only once (a new API token). A retry with the same key runs
/// again instead.
#[derive(Clone, Copy, Debug)]
pub struct NotReplayable;

/// A claim whose request has not finished after this long was cut off (the
/// request timeout is 30 s) and may be taken over by a retry.
const ABANDONED_AFTER: chrono::Duration = chrono::Duration::seconds(60);

/// A retried POST with the same key and the same body returns the first
/// response and creates nothing twice; the same key with another body is a
/// 422; a key whose first request is still running is a 409.
pub async fn idempotency(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(IDEMPOTENCY_HEADER) else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k.to_string(),
        _ => {
            return ApiError::BadRequest(
                "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            )
            .into_response();
        }
    };
    let Some(Caller::Known(auth)) = req.extensions().get::<Caller>().cloned() else {
        // Not signed in: the handler answers 401; nothing to remember.
        return next.run(req).await;
    };
    let (org, user) = (auth.actor.org_id, auth.actor.user_id);
    let (parts, body) = req.into_parts();
    // CSV uploads have a limit of their own; the key covers them too.
    let limit = if parts.uri.path().ends_with("/imports") {
        crate::api::imports::UPLOAD_LIMIT
    } else {
        s.config.body_limit
    };
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return ApiError::PayloadTooLarge.into_response(),
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str().as_bytes());
    h.update(b" ");
    h.update(parts.uri.path().as_bytes());
    h.update(b"?");
    h.update(parts.uri.query().unwrap_or("").as_bytes());
    h.update(b"\n");
    h.update(&bytes);
    let hash = h.finalize().to_vec();

    let mut db = s.app.db.clone();
    let at = now();
    match idempotency::claim(&mut db, org, user, &key, &hash, at, at - ABANDONED_AFTER).await {
        Ok(true) => {}
        Ok(false) => return replay(&s, org, user, &key, &hash).await,
        Err(e) => return ApiError::App(e.into()).into_response(),
    }
    let resp = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = resp.status();
    if status.is_server_error() || resp.extensions().get::<NotReplayable>().is_some() {
        // Let a retry run again.
        let _ = idempotency::release(&mut db, org, user, &key).await;
        return resp;
    }
    let (rparts, rbody) = resp.into_parts();
    let rbytes = match to_bytes(rbody, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let _ = idempotency::release(&mut db, org, user, &key).await;
            return ApiError::App(salesops_app::AppError::Internal(e.to_string())).into_response();
        }
    };
    let ct = rparts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Err(e) = idempotency::complete(
        &mut db,
        org,
        user,
        &key,
        status.as_u16(),
        &rbytes,
        ct.as_deref(),
    )
    .await
    {
        tracing::error!(error = %e, "could not store the idempotent response");
    }
    Response::from_parts(rparts, Body::from(rbytes))
}

async fn replay(
    s: &AppState,
    org: salesops_domain::OrgId,
    user: salesops_domain::UserId,
    key: &str,
    hash: &[u8],
) -> Response {
    let rec = match idempotency::get(&mut s.app.db.clone(), org, user, key).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return ApiError::Conflict(
                "the request with this Idempotency-Key failed; retry it".into(),
            )
            .into_response();
        }
        Err(e) => return ApiError::App(e.into()).into_response(),
    };
    if rec.request_hash != hash {
        return ApiError::invalid(
            "Idempotency-Key",
            "was already used for a different request",
        )
        .into_response();
    }
    let (Some(code), Some(body)) = (rec.status_code, rec.response_body) else {
        return ApiError::Conflict(
            "a request with this Idempotency-Key is still being processed".into(),
        )
        .into_response();
    };
    let mut resp = (
        StatusCode::from_u16(code as u16).unwrap_or(StatusCode::OK),
        body,
    )
        .into_response();
    if let Some(ct) = rec
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    resp
}
