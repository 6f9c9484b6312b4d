//! Alerts, the digest preview, the digest and alert settings with the
//! e-mails sent (ops and admins), and webhooks with their delivery log.

use super::{FieldErrors, Form, PageCtx, Session, UiError, parse_id, query, render};
use crate::api::notify::parse_ratio_pct;
use crate::mail;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use fluent_templates::fluent_bundle::FluentValue;
use salesops_app::AppError;
use salesops_app::notify::digest::DigestRenderer;
use salesops_app::notify::events::EVENT_TYPES;
use salesops_app::notify::webhooks::WebhookInput;
use salesops_app::notify::{NotifySettings, alerts::Alert};
use salesops_domain::{Invalid, UserId};
use uuid::Uuid;

/// A form's CSRF token checked and the record id of its path parsed.
fn checked_id(session: &Session, form: &Form, id: &str) -> Result<Uuid, UiError> {
    form.check_csrf(session)?;
    parse_id(session, id)
}

fn fail(session: &Session, e: AppError) -> Response {
    UiError::new(session.actor().locale, e).into_response()
}

fn when(ctx: &PageCtx, t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    let l = t.with_timezone(&tz);
    match ctx.lang {
        salesops_domain::Locale::De => l.format("%d.%m.%Y %H:%M").to_string(),
        salesops_domain::Locale::En => l.format("%Y-%m-%d %H:%M").to_string(),
    }
}

pub struct AlertRow {
    pub id: Uuid,
    pub kind: String,
    pub text: String,
    pub link: String,
    pub raised: String,
    pub dismissed: bool,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    ctx: PageCtx,
    rows: Vec<AlertRow>,
    show_dismissed: bool,
    can_dismiss: bool,
}

fn rows(ctx: &PageCtx, tz: chrono_tz::Tz, alerts: Vec<Alert>) -> Vec<AlertRow> {
    alerts
        .into_iter()
        .map(|a| AlertRow {
            text: mail::alert_text(ctx.lang, &a),
            link: mail::alert_link(&a),
            raised: when(ctx, a.raised_at, tz),
            dismissed: a.dismissed_at.is_some(),
            kind: a.kind,
            id: a.id,
        })
        .collect()
}

pub async fn alerts(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = query(&uri);
    let show_dismissed = q.get("dismissed").is_some_and(|v| v == "1");
    let a = session.actor();
    match s.app.list_alerts(a, None, None, show_dismissed, 500).await {
        Ok(list) => {
            let mut ctx = session.ctx("alerts");
            if q.contains_key("done") {
                ctx.notice = Some(ctx.t("alerts-dismissed"));
            }
            let rows = rows(&ctx, a.tz(), list);
            render(&AlertsPage {
                ctx,
                rows,
                show_dismissed,
                can_dismiss: a.role != salesops_domain::Role::Viewer,
            })
        }
        Err(e) => fail(&session, e),
    }
}

pub async fn dismiss(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let id = match checked_id(&session, &form, &id) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    match s.app.dismiss_alert(session.actor(), id).await {
        Ok(_) => Redirect::to("/alerts?done=1").into_response(),
        Err(e) => fail(&session, e),
    }
}

pub struct Choice {
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "digest_preview.html")]
struct PreviewPage {
    ctx: PageCtx,
    date: String,
    user: String,
    people: Vec<Choice>,
    subject: String,
    email: String,
    html: String,
    text: String,
}

pub async fn preview(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = query(&uri);
    let a = session.actor();
    let mut errs = Invalid::default();
    let date = match q.get("date").filter(|d| !d.is_empty()) {
        Some(d) => match d.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                errs.push("date", "must be a date like 2026-11-23");
                None
            }
        },
        None => None,
    };
    let user = match q.get("user").filter(|u| !u.is_empty()) {
        Some(u) => match u.parse::<Uuid>() {
            Ok(u) => Some(UserId(u)),
            Err(_) => return fail(&session, AppError::NotFound),
        },
        None => None,
    };
    if !errs.is_empty() {
        return fail(&session, AppError::Invalid(errs));
    }
    let d = match s.app.preview_digest(a, user, date).await {
        Ok(d) => d,
        Err(e) => return fail(&session, e),
    };
    // Whose digest the caller may look at: the people they see.
    let people = match s.app.analytics_ctx(a).await {
        Ok(ctx) => {
            let mut v: Vec<Choice> = ctx
                .people
                .iter()
                .filter(|p| p.active)
                .filter(|p| {
                    p.id == a.user_id
                        || a.sees_all()
                        || a.manages.iter().any(|t| ctx.members_of(*t).contains(&p.id))
                })
                .map(|p| Choice {
                    id: p.id.0.to_string(),
                    name: p.name.clone(),
                })
                .collect();
            v.sort_by_key(|x| x.name.to_lowercase());
            v
        }
        Err(e) => return fail(&session, e),
    };
    let r = mail::Renderer.render(&d);
    render(&PreviewPage {
        ctx: session.ctx("alerts"),
        date: d.date.to_string(),
        user: d.recipient_id.to_string(),
        people,
        subject: r.subject,
        email: d.email,
        html: r.html,
        text: r.text,
    })
}

pub struct SendRow {
    pub id: Uuid,
    pub day: String,
    pub name: String,
    pub email: String,
    pub frequency: String,
    pub status: String,
    pub attempts: i32,
    pub error: String,
    pub when: String,
    pub retryable: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    ctx: PageCtx,
    settings: NotifySettings,
    coverage: String,
    mail: String,
    mail_off: bool,
    sends: Vec<SendRow>,
    errors: FieldErrors,
}

async fn notifications_page(
    s: &AppState,
    session: &Session,
    settings: Option<NotifySettings>,
    errors: FieldErrors,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    let settings = match settings {
        Some(x) => x,
        None => match s.app.notification_settings(a).await {
            Ok(x) => x,
            Err(e) => return fail(session, e),
        },
    };
    let list = match s.app.digest_sends(a, None, 200).await {
        Ok(l) => l,
        Err(e) => return fail(session, e),
    };
    let ctx_people = match s.app.analytics_ctx(a).await {
        Ok(c) => c,
        Err(e) => return fail(session, e),
    };
    let mut ctx = session.ctx("notifications");
    ctx.notice = notice;
    let sends = list
        .into_iter()
        .map(|x| SendRow {
            id: x.id,
            day: x.digest_date.to_string(),
            name: ctx_people.name_of(UserId(x.user_id)),
            email: x.email,
            frequency: x.frequency,
            retryable: matches!(x.status.as_str(), "failed" | "skipped" | "retrying"),
            when: when(&ctx, x.sent_at.unwrap_or(x.updated_at), a.tz()),
            status: x.status,
            attempts: x.attempts,
            error: x.last_error.unwrap_or_default(),
        })
        .collect();
    let mail_cfg = &s.app.settings.notify.mail;
    let coverage = salesops_app::notify::ratio_of_pct(settings.coverage_target_pct).to_string();
    let coverage = if ctx.lang == salesops_domain::Locale::De {
        coverage.replace('.', ",")
    } else {
        coverage
    };
    let page = NotificationsPage {
        coverage,
        mail: mail_cfg.describe(),
        mail_off: *mail_cfg == salesops_app::notify::mail::MailConfig::Off,
        ctx,
        settings,
        sends,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn notifications(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = query(&uri);
    let lang = session.actor().locale;
    let notice = if q.contains_key("saved") {
        Some(crate::i18n::t(lang, "notifications-saved"))
    } else if q.contains_key("retried") {
        Some(crate::i18n::t(lang, "notifications-retried"))
    } else if let (Some(o), Some(r)) = (q.get("open"), q.get("resolved")) {
        Some(crate::i18n::t_args(
            lang,
            "notifications-alerts-run",
            &[
                ("open", FluentValue::from(o.parse::<i64>().unwrap_or(0))),
                ("resolved", FluentValue::from(r.parse::<i64>().unwrap_or(0))),
            ],
        ))
    } else {
        None
    };
    notifications_page(
        &s,
        &session,
        None,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn save_notifications(
    State(s): State<AppState>,
    session: Session,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let int = |errs: &mut Invalid, k: &str, msg: &str| match form.str(k).trim().parse::<i32>() {
        Ok(v) => v,
        Err(_) => {
            errs.push(k, msg);
            -1
        }
    };
    let digest_hour = int(&mut errs, "digest_hour", "must be an hour from 0 to 23");
    let idle_days = int(&mut errs, "idle_days", "must be a number of days");
    let coverage_target_pct = parse_ratio_pct(&form.str("coverage_target")).unwrap_or_else(|| {
        errs.push(
            "coverage_target",
            "must be a decimal number such as 3 or 2,5",
        );
        -1
    });
    let settings = NotifySettings {
        digest_enabled: form.get("digest_enabled").is_some(),
        digest_hour,
        digest_alerts: form.get("digest_alerts").is_some(),
        idle_days,
        coverage_target_pct,
        version: form.str("version").parse().unwrap_or(0),
    };
    let result = if errs.is_empty() {
        s.app
            .save_notification_settings(session.actor(), &settings)
            .await
    } else {
        Err(AppError::Invalid(errs))
    };
    match result {
        Ok(_) => Redirect::to("/admin/notifications?saved=1").into_response(),
        Err(AppError::Invalid(i)) => {
            notifications_page(
                &s,
                &session,
                Some(settings),
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => fail(&session, e),
    }
}

pub async fn retry_send(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let id = match checked_id(&session, &form, &id) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    match s.app.retry_digest_send(session.actor(), id).await {
        Ok(_) => Redirect::to("/admin/notifications?retried=1").into_response(),
        Err(e) => fail(&session, e),
    }
}

/// Runs the alert job now (ops and admins).
pub async fn run_alerts(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let a = session.actor();
    if !a.sees_all() {
        return fail(&session, AppError::Forbidden);
    }
    match s.app.run_alerts(a.org_id).await {
        Ok(r) => Redirect::to(&format!(
            "/admin/notifications?open={}&resolved={}",
            r.open, r.resolved
        ))
        .into_response(),
        Err(e) => fail(&session, e),
    }
}

pub struct HookRow {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub events: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    ctx: PageCtx,
    rows: Vec<HookRow>,
    /// Each event type and whether it is ticked.
    all_events: Vec<(&'static str, bool)>,
    url: String,
    description: String,
    errors: FieldErrors,
}

async fn webhooks_page(
    s: &AppState,
    session: &Session,
    form: Option<&Form>,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let list = match s.app.list_webhooks(session.actor()).await {
        Ok(l) => l,
        Err(e) => return fail(session, e),
    };
    let mut ctx = session.ctx("webhooks");
    ctx.notice = notice.map(|k| ctx.t(k));
    let page = WebhooksPage {
        ctx,
        rows: list
            .into_iter()
            .map(|w| HookRow {
                id: w.id,
                url: w.url,
                description: w.description,
                events: w.events.join(", "),
                active: w.active,
            })
            .collect(),
        all_events: ticked(
            &form
                .map(|f| {
                    f.all("events")
                        .into_iter()
                        .map(String::from)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        ),
        url: form.map(|f| f.str("url")).unwrap_or_default(),
        description: form.map(|f| f.str("description")).unwrap_or_default(),
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn webhooks(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = query(&uri);
    let notice = if q.contains_key("deleted") {
        Some("webhooks-deleted")
    } else {
        None
    };
    webhooks_page(
        &s,
        &session,
        None,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

fn ticked(chosen: &[String]) -> Vec<(&'static str, bool)> {
    EVENT_TYPES
        .iter()
        .map(|e| (*e, chosen.iter().any(|c| c == e)))
        .collect()
}

fn input(form: &Form) -> WebhookInput {
    WebhookInput {
        url: Some(form.str("url")),
        description: Some(form.str("description")),
        events: Some(form.all("events").into_iter().map(String::from).collect()),
        active: Some(form.get("active").is_some()),
    }
}

pub async fn create_webhook(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut i = input(&form);
    i.active = Some(true);
    match s.app.create_webhook(session.actor(), i).await {
        Ok(w) => Redirect::to(&format!("/admin/webhooks/{}?created=1", w.id)).into_response(),
        Err(AppError::Invalid(i)) => {
            webhooks_page(
                &s,
                &session,
                Some(&form),
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => fail(&session, e),
    }
}

pub struct LogRow {
    pub event_id: Uuid,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub response: String,
    pub when: String,
    pub failed: bool,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    ctx: PageCtx,
    id: Uuid,
    url: String,
    description: String,
    secret: String,
    active: bool,
    version: i64,
    /// Each event type and whether it is ticked.
    all_events: Vec<(&'static str, bool)>,
    log: Vec<LogRow>,
    errors: FieldErrors,
}

async fn webhook_page(
    s: &AppState,
    session: &Session,
    id: Uuid,
    form: Option<&Form>,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    let w = match s.app.get_webhook(a, id).await {
        Ok(w) => w,
        Err(e) => return fail(session, e),
    };
    let (log, attempts) = match s.app.webhook_log(a, id, 100).await {
        Ok(l) => l,
        Err(e) => return fail(session, e),
    };
    let mut ctx = session.ctx("webhooks");
    ctx.notice = notice.map(|k| ctx.t(k));
    let log = log
        .into_iter()
        .map(|l| {
            let last = attempts.iter().find(|x| x.event_id == l.event_id);
            let response = match (l.last_status, &l.last_error) {
                (_, Some(e)) => e.clone(),
                (Some(c), None) => format!("HTTP {c}"),
                _ => String::new(),
            };
            LogRow {
                when: when(
                    &ctx,
                    last.map(|x| x.attempted_at).unwrap_or(l.created_at),
                    a.tz(),
                ),
                failed: l.status == "failed",
                event_id: l.event_id,
                event_type: l.event_type,
                status: l.status,
                attempts: l.attempts,
                response,
            }
        })
        .collect();
    let page = WebhookPage {
        ctx,
        id: w.id,
        url: form.map(|f| f.str("url")).unwrap_or(w.url),
        description: form.map(|f| f.str("description")).unwrap_or(w.description),
        secret: w.secret,
        active: form.map(|f| f.get("active").is_some()).unwrap_or(w.active),
        version: w.version,
        all_events: ticked(
            &form
                .map(|f| {
                    f.all("events")
                        .into_iter()
                        .map(String::from)
                        .collect::<Vec<_>>()
                })
                .unwrap_or(w.events),
        ),
        log,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn webhook(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id: Uuid = match parse_id(&session, &id) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let q = query(&uri);
    let notice = [
        ("created", "webhooks-created"),
        ("saved", "webhooks-saved"),
        ("tested", "webhook-test-queued"),
        ("redelivered", "webhook-redelivered"),
    ]
    .into_iter()
    .find(|(k, _)| q.contains_key(*k))
    .map(|(_, v)| v);
    webhook_page(
        &s,
        &session,
        id,
        None,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// Saves, deletes (`delete`), tests (`test`) or re-sends (`redeliver=<event>`).
pub async fn webhook_post(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let id = match checked_id(&session, &form, &id) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let a = session.actor();
    if form.get("delete").is_some() {
        return match s.app.delete_webhook(a, id).await {
            Ok(()) => Redirect::to("/admin/webhooks?deleted=1").into_response(),
            Err(e) => fail(&session, e),
        };
    }
    if form.get("test").is_some() {
        return match s.app.send_test_event(a, id).await {
            Ok(_) => Redirect::to(&format!("/admin/webhooks/{id}?tested=1")).into_response(),
            Err(e) => fail(&session, e),
        };
    }
    if let Some(ev) = form.get("redeliver") {
        let ev: Uuid = match parse_id(&session, ev) {
            Ok(i) => i,
            Err(e) => return e.into_response(),
        };
        return match s.app.redeliver(a, id, ev).await {
            Ok(()) => Redirect::to(&format!("/admin/webhooks/{id}?redelivered=1")).into_response(),
            Err(e) => fail(&session, e),
        };
    }
    let version = form.str("version").parse::<i64>().ok();
    match s.app.update_webhook(a, id, input(&form), version).await {
        Ok(_) => Redirect::to(&format!("/admin/webhooks/{id}?saved=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            webhook_page(
                &s,
                &session,
                id,
                Some(&form),
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => fail(&session, e),
    }
}

/// The signed-in user's digest choice (from the settings page).
pub async fn save_choice(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let a = session.actor();
    let choice = match form.str("digest").as_str() {
        "" | "default" => None,
        x => match salesops_app::notify::DigestChoice::parse(x) {
            Some(c) => Some(c),
            None => {
                return fail(
                    &session,
                    AppError::Invalid(Invalid::one("digest", "must be daily, weekly or off")),
                );
            }
        },
    };
    match s.app.set_digest_choice(a, a.user_id, choice).await {
        Ok(()) => Redirect::to("/settings?digest=1#digest").into_response(),
        Err(e) => fail(&session, e),
    }
}
