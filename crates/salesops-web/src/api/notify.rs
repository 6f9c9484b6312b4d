//! Webhooks, alerts, the digest (preview, sends, settings) and each
//! user's digest choice.

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, Query};
use crate::mail;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_app::notify::alerts::Alert;
use salesops_app::notify::digest::{DigestRenderer, DigestSend};
use salesops_app::notify::webhooks::{Webhook, WebhookInput};
use salesops_app::notify::{DigestChoice, NotifySettings};
use salesops_domain::{TeamId, UserId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::path_id;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookOut {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// Signs each delivery (HMAC-SHA256; see `Salesops-Signature`).
    pub secret: String,
    pub active: bool,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Webhook> for WebhookOut {
    fn from(w: Webhook) -> Self {
        WebhookOut {
            id: w.id,
            url: w.url,
            description: w.description,
            secret: w.secret,
            active: w.active,
            events: w.events,
            created_at: w.created_at,
            updated_at: w.updated_at,
            version: w.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookOut>,
}

/// An endpoint: `events` from `lead.created`, `lead.moved`, `lead.won`,
/// `lead.lost`, `activity.created`, `goal.achieved`, `prospect.converted`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookIn {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

impl From<WebhookIn> for WebhookInput {
    fn from(w: WebhookIn) -> Self {
        WebhookInput {
            url: w.url,
            description: w.description,
            events: w.events,
            active: w.active,
        }
    }
}

fn with_etag(version: i64, body: impl IntoResponse) -> Response {
    ([(header::ETAG, format!("\"{version}\""))], body).into_response()
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", responses((status = 200, body = WebhookList), (status = 403, body = Problem)))]
pub async fn list_webhooks(State(s): State<AppState>, auth: Auth) -> ApiResult<Json<WebhookList>> {
    let items = s.app.list_webhooks(&auth.actor).await?;
    Ok(Json(WebhookList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Registers an endpoint. Loopback, private and link-local addresses are
/// refused unless the configuration allows them.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookIn,
    responses((status = 201, body = WebhookOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_webhook(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<WebhookIn>,
) -> ApiResult<Response> {
    let w = s.app.create_webhook(&auth.actor, b.into()).await?;
    let v = w.version;
    Ok((StatusCode::CREATED, with_etag(v, Json(WebhookOut::from(w)))).into_response())
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookOut), (status = 404, body = Problem)))]
pub async fn get_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let w = s.app.get_webhook(&auth.actor, path_id(&id)?).await?;
    Ok(with_etag(w.version, Json(WebhookOut::from(w))))
}

/// Changes an endpoint; `If-Match` with its version is required.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = WebhookIn, params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<WebhookIn>,
) -> ApiResult<Response> {
    let version = if_match.required()?;
    let w = s
        .app
        .update_webhook(&auth.actor, path_id(&id)?, b.into(), Some(version))
        .await?;
    Ok(with_etag(w.version, Json(WebhookOut::from(w))))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_webhook(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_webhook(&auth.actor, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptOut {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryOut {
    pub event_id: Uuid,
    pub event_type: String,
    pub record_id: Uuid,
    /// `pending`, `sending`, `delivered` or `failed` (given up).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub attempt_log: Vec<AttemptOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryOut>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LimitQuery {
    pub limit: Option<u64>,
}

/// The delivery log: the latest deliveries, newest first, with their attempts.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = Uuid, Path), LimitQuery),
    responses((status = 200, body = DeliveryList), (status = 404, body = Problem)))]
pub async fn deliveries(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<LimitQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let (log, attempts) = s.app.webhook_log(&auth.actor, path_id(&id)?, limit).await?;
    let items = log
        .into_iter()
        .map(|l| DeliveryOut {
            attempt_log: attempts
                .iter()
                .filter(|a| a.event_id == l.event_id)
                .map(|a| AttemptOut {
                    attempt: a.attempt,
                    attempted_at: a.attempted_at,
                    status_code: a.status_code,
                    error: a.error.clone(),
                    duration_ms: a.duration_ms,
                })
                .collect(),
            next_attempt_at: (l.status == "pending").then_some(l.next_attempt_at),
            event_id: l.event_id,
            event_type: l.event_type,
            record_id: l.record_id,
            status: l.status,
            attempts: l.attempts,
            last_status: l.last_status,
            last_error: l.last_error,
            created_at: l.created_at,
            delivered_at: l.delivered_at,
        })
        .collect();
    Ok(Json(DeliveryList { items }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub event_id: Uuid,
}

/// Queues a `webhook.test` event for this endpoint alone.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 202, body = Queued), (status = 404, body = Problem)))]
pub async fn test_event(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    let event_id = s.app.send_test_event(&auth.actor, path_id(&id)?).await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { event_id })))
}

/// Queues a delivery that was given up again.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{event_id}/retry", tag = "webhooks",
    params(("id" = Uuid, Path), ("event_id" = Uuid, Path)),
    responses((status = 202, body = Queued), (status = 409, body = Problem)))]
pub async fn redeliver(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, event)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    let event_id: Uuid = path_id(&event)?;
    s.app
        .redeliver(&auth.actor, path_id(&id)?, event_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { event_id })))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertOut {
    pub id: Uuid,
    /// `rotting`, `idle`, `close_date_passed`, `behind_pace`, `low_coverage`.
    pub kind: String,
    /// The alert as a sentence in the caller's language.
    pub message: String,
    pub title: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    /// The figures behind the message.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The record in the app.
    pub link: String,
    pub raised_at: DateTime<Utc>,
    pub dismissed_at: Option<DateTime<Utc>>,
}

fn alert_out(lang: salesops_domain::Locale, a: Alert) -> AlertOut {
    AlertOut {
        message: mail::alert_text(lang, &a),
        link: mail::alert_link(&a),
        id: a.id,
        kind: a.kind,
        title: a.title,
        user_id: a.user_id,
        team_id: a.team_id,
        lead_id: a.lead_id,
        goal_id: a.goal_id,
        detail: a.detail,
        raised_at: a.raised_at,
        dismissed_at: a.dismissed_at,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertList {
    pub items: Vec<AlertOut>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AlertQuery {
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    /// Include dismissed alerts.
    pub dismissed: Option<bool>,
    pub limit: Option<u64>,
}

/// The open alerts the caller sees: their own, their teams' as a
/// manager, everybody's for admins, ops and viewers.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, body = AlertList), (status = 404, body = Problem)))]
pub async fn list_alerts(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<AlertQuery>,
) -> ApiResult<Json<AlertList>> {
    let items = s
        .app
        .list_alerts(
            &auth.actor,
            q.user_id.map(UserId),
            q.team_id.map(TeamId),
            q.dismissed.unwrap_or(false),
            q.limit.unwrap_or(200),
        )
        .await?;
    let lang = auth.actor.locale;
    Ok(Json(AlertList {
        items: items.into_iter().map(|a| alert_out(lang, a)).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/dismiss", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 200, body = AlertOut), (status = 404, body = Problem)))]
pub async fn dismiss_alert(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertOut>> {
    let a = s.app.dismiss_alert(&auth.actor, path_id(&id)?).await?;
    Ok(Json(alert_out(auth.actor.locale, a)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DigestPreview {
    pub recipient_id: Uuid,
    pub email: String,
    pub date: NaiveDate,
    pub weekly: bool,
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PreviewQuery {
    /// Whose digest (default: the caller's).
    pub user_id: Option<Uuid>,
    /// The day it is sent (default: today).
    pub date: Option<NaiveDate>,
}

/// The digest e-mail a user would get on a day.
#[utoipa::path(get, path = "/api/v1/digest/preview", tag = "digest", params(PreviewQuery),
    responses((status = 200, body = DigestPreview), (status = 404, body = Problem)))]
pub async fn preview(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<Json<DigestPreview>> {
    let d = s
        .app
        .preview_digest(&auth.actor, q.user_id.map(UserId), q.date)
        .await?;
    let r = mail::Renderer.render(&d);
    Ok(Json(DigestPreview {
        recipient_id: d.recipient_id,
        email: d.email,
        date: d.date,
        weekly: d.weekly,
        subject: r.subject,
        html: r.html,
        text: r.text,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SendOut {
    pub id: Uuid,
    pub user_id: Uuid,
    pub digest_date: NaiveDate,
    pub frequency: String,
    /// `pending`, `sending`, `sent`, `retrying`, `failed` or `skipped`.
    pub status: String,
    pub attempts: i32,
    pub email: String,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<DigestSend> for SendOut {
    fn from(x: DigestSend) -> Self {
        SendOut {
            next_attempt_at: matches!(x.status.as_str(), "pending" | "retrying")
                .then_some(x.next_attempt_at),
            id: x.id,
            user_id: x.user_id,
            digest_date: x.digest_date,
            frequency: x.frequency,
            status: x.status,
            attempts: x.attempts,
            email: x.email,
            last_error: x.last_error,
            sent_at: x.sent_at,
            updated_at: x.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SendList {
    pub items: Vec<SendOut>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SendQuery {
    pub status: Option<String>,
    pub limit: Option<u64>,
}

/// The digest e-mails planned, sent, retrying or failed (ops and admins).
#[utoipa::path(get, path = "/api/v1/digest/sends", tag = "digest", params(SendQuery),
    responses((status = 200, body = SendList), (status = 403, body = Problem)))]
pub async fn sends(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<SendQuery>,
) -> ApiResult<Json<SendList>> {
    if let Some(st) = &q.status
        && ![
            "pending", "sending", "sent", "retrying", "failed", "skipped",
        ]
        .contains(&st.as_str())
    {
        return Err(ApiError::invalid(
            "status",
            "must be pending, sending, sent, retrying, failed or skipped",
        ));
    }
    let items = s
        .app
        .digest_sends(&auth.actor, q.status.as_deref(), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(SendList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/digest/sends/{id}/retry", tag = "digest", params(("id" = Uuid, Path)),
    responses((status = 200, body = SendOut), (status = 409, body = Problem)))]
pub async fn retry_send(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<SendOut>> {
    Ok(Json(
        s.app
            .retry_digest_send(&auth.actor, path_id(&id)?)
            .await?
            .into(),
    ))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsDto {
    pub digest_enabled: bool,
    /// 0–23, in the organisation's time zone.
    pub digest_hour: i32,
    pub digest_alerts: bool,
    pub idle_days: i32,
    /// Decimal string, e.g. "3" or "2.5".
    pub coverage_target: String,
    #[serde(default)]
    pub version: i64,
}

impl From<NotifySettings> for SettingsDto {
    fn from(n: NotifySettings) -> Self {
        SettingsDto {
            digest_enabled: n.digest_enabled,
            digest_hour: n.digest_hour,
            digest_alerts: n.digest_alerts,
            idle_days: n.idle_days,
            coverage_target: salesops_app::notify::ratio_of_pct(n.coverage_target_pct).to_string(),
            version: n.version,
        }
    }
}

/// A ratio such as "3" or "2,5" in per cent (300, 250).
pub fn parse_ratio_pct(s: &str) -> Option<i32> {
    let d: rust_decimal::Decimal = s.trim().replace(',', ".").parse().ok()?;
    let pct = d.checked_mul(rust_decimal::Decimal::from(100))?.round();
    i32::try_from(rust_decimal::prelude::ToPrimitive::to_i64(&pct)?).ok()
}

#[utoipa::path(get, path = "/api/v1/notification-settings", tag = "digest",
    responses((status = 200, body = SettingsDto)))]
pub async fn get_settings(State(s): State<AppState>, auth: Auth) -> ApiResult<Response> {
    let n = s.app.notification_settings(&auth.actor).await?;
    Ok(with_etag(n.version, Json(SettingsDto::from(n))))
}

/// Saves the settings; `If-Match` (the version read, "0" before the first
/// save) is required.
#[utoipa::path(put, path = "/api/v1/notification-settings", tag = "digest", request_body = SettingsDto,
    responses((status = 200, body = SettingsDto), (status = 403, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn put_settings(
    State(s): State<AppState>,
    auth: Auth,
    if_match: IfMatch,
    ApiJson(b): ApiJson<SettingsDto>,
) -> ApiResult<Response> {
    let version = if_match.required()?;
    let Some(pct) = parse_ratio_pct(&b.coverage_target) else {
        return Err(ApiError::invalid(
            "coverage_target",
            "must be a decimal number such as 3 or 2.5",
        ));
    };
    let n = s
        .app
        .save_notification_settings(
            &auth.actor,
            &NotifySettings {
                digest_enabled: b.digest_enabled,
                digest_hour: b.digest_hour,
                digest_alerts: b.digest_alerts,
                idle_days: b.idle_days,
                coverage_target_pct: pct,
                version,
            },
        )
        .await?;
    Ok(with_etag(n.version, Json(SettingsDto::from(n))))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DigestChoiceDto {
    /// `daily`, `weekly`, `off`, or null for the default (daily for team
    /// managers, off otherwise).
    pub digest: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/users/{id}/digest", tag = "digest", params(("id" = Uuid, Path)),
    responses((status = 200, body = DigestChoiceDto), (status = 403, body = Problem)))]
pub async fn get_choice(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<DigestChoiceDto>> {
    let c = s
        .app
        .digest_choice(&auth.actor, UserId(path_id(&id)?))
        .await?;
    Ok(Json(DigestChoiceDto {
        digest: c.map(|c| c.as_str().to_string()),
    }))
}

/// Sets a user's digest choice: one's own, or anyone's for admins.
#[utoipa::path(put, path = "/api/v1/users/{id}/digest", tag = "digest", request_body = DigestChoiceDto, params(("id" = Uuid, Path)),
    responses((status = 200, body = DigestChoiceDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_choice(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<DigestChoiceDto>,
) -> ApiResult<Json<DigestChoiceDto>> {
    let choice = match b.digest.as_deref() {
        None => None,
        Some(x) => Some(
            DigestChoice::parse(x)
                .ok_or_else(|| ApiError::invalid("digest", "must be daily, weekly, off or null"))?,
        ),
    };
    s.app
        .set_digest_choice(&auth.actor, UserId(path_id(&id)?), choice)
        .await?;
    Ok(Json(b))
}
