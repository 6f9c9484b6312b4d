//! Webhooks (migration 0013): endpoints and the events they subscribe
//! to; the outbox of events, written in the transaction of the change
//! together with one delivery per subscribed endpoint; the deliveries,
//! claimed before they are attempted, and the log of their attempts.

use crate::db::{Conn, Result};
use chrono::{DateTime, Utc};
use salesops_domain::OrgId;
use sea_query::{Expr, ExprTrait, Order, Query};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WebhookRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub secret: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const HOOK_COLS: [&str; 9] = [
    "org_id",
    "id",
    "url",
    "description",
    "secret",
    "active",
    "created_at",
    "updated_at",
    "version",
];

pub async fn insert_webhook(c: &mut impl Conn, w: &WebhookRow) -> Result<()> {
    let q = Query::insert()
        .into_table("webhooks")
        .columns(HOOK_COLS)
        .values_panic([
            w.org_id.into(),
            w.id.into(),
            w.url.clone().into(),
            w.description.clone().into(),
            w.secret.clone().into(),
            w.active.into(),
            w.created_at.into(),
            w.updated_at.into(),
            w.version.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

/// Writes url, description and active if the version is still
/// `w.version - 1`; false when someone changed it first.
pub async fn update_webhook(c: &mut impl Conn, w: &WebhookRow) -> Result<bool> {
    let q = Query::update()
        .table("webhooks")
        .value("url", w.url.clone())
        .value("description", w.description.clone())
        .value("active", w.active)
        .value("updated_at", w.updated_at)
        .value("version", w.version)
        .and_where(Expr::col("org_id").eq(w.org_id))
        .and_where(Expr::col("id").eq(w.id))
        .and_where(Expr::col("version").eq(w.version - 1))
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

pub async fn delete_webhook(c: &mut impl Conn, org: OrgId, id: Uuid) -> Result<u64> {
    for table in [
        "webhook_attempts",
        "webhook_deliveries",
        "webhook_subscriptions",
    ] {
        let q = Query::delete()
            .from_table(table)
            .and_where(Expr::col("org_id").eq(org.0))
            .and_where(Expr::col("webhook_id").eq(id))
            .to_owned();
        c.exec(&q).await?;
    }
    let q = Query::delete()
        .from_table("webhooks")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.exec(&q).await
}

pub async fn get_webhook(c: &mut impl Conn, org: OrgId, id: Uuid) -> Result<WebhookRow> {
    let q = Query::select()
        .columns(HOOK_COLS)
        .from("webhooks")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.one(&q).await
}

pub async fn list_webhooks(c: &mut impl Conn, org: OrgId) -> Result<Vec<WebhookRow>> {
    let q = Query::select()
        .columns(HOOK_COLS)
        .from("webhooks")
        .and_where(Expr::col("org_id").eq(org.0))
        .order_by("created_at", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    c.all(&q).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Subscription {
    pub webhook_id: Uuid,
    pub event_type: String,
}

/// Replaces the events an endpoint subscribes to.
pub async fn set_subscriptions(
    c: &mut impl Conn,
    org: OrgId,
    webhook: Uuid,
    events: &[String],
) -> Result<()> {
    let q = Query::delete()
        .from_table("webhook_subscriptions")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("webhook_id").eq(webhook))
        .to_owned();
    c.exec(&q).await?;
    if events.is_empty() {
        return Ok(());
    }
    let mut q = Query::insert()
        .into_table("webhook_subscriptions")
        .columns(["org_id", "webhook_id", "event_type"])
        .to_owned();
    for e in events {
        q.values_panic([org.0.into(), webhook.into(), e.clone().into()]);
    }
    c.exec(&q).await?;
    Ok(())
}

pub async fn subscriptions(c: &mut impl Conn, org: OrgId) -> Result<Vec<Subscription>> {
    let q = Query::select()
        .columns(["webhook_id", "event_type"])
        .from("webhook_subscriptions")
        .and_where(Expr::col("org_id").eq(org.0))
        .order_by("event_type", Order::Asc)
        .to_owned();
    c.all(&q).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub event_type: String,
    pub record_id: Uuid,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

const EVENT_COLS: [&str; 6] = [
    "org_id",
    "id",
    "event_type",
    "record_id",
    "payload",
    "created_at",
];

/// Writes an event to the outbox, with a pending delivery for every active
/// endpoint subscribed to its type (or only for `only`, a test event).
/// Returns the number of deliveries.
pub async fn insert_event(c: &mut impl Conn, e: &EventRow, only: Option<Uuid>) -> Result<u64> {
    let q = Query::insert()
        .into_table("webhook_events")
        .columns(EVENT_COLS)
        .values_panic([
            e.org_id.into(),
            e.id.into(),
            e.event_type.clone().into(),
            e.record_id.into(),
            e.payload.clone().into(),
            e.created_at.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    let cols = [
        "org_id",
        "webhook_id",
        "event_id",
        "record_id",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ];
    let mut select = Query::select()
        .expr(Expr::val(e.org_id))
        .column(("webhooks", "id"))
        .expr(Expr::val(e.id))
        .expr(Expr::val(e.record_id))
        .expr(Expr::val("pending"))
        .expr(Expr::val(0i32))
        .expr(Expr::val(e.created_at))
        .expr(Expr::val(e.created_at))
        .from("webhooks")
        .and_where(Expr::col(("webhooks", "org_id")).eq(e.org_id))
        .to_owned();
    match only {
        Some(id) => {
            select.and_where(Expr::col(("webhooks", "id")).eq(id));
        }
        None => {
            select
                .inner_join(
                    "webhook_subscriptions",
                    Expr::col(("webhook_subscriptions", "org_id"))
                        .equals(("webhooks", "org_id"))
                        .and(
                            Expr::col(("webhook_subscriptions", "webhook_id"))
                                .equals(("webhooks", "id")),
                        ),
                )
                .and_where(Expr::col(("webhooks", "active")).eq(true))
                .and_where(
                    Expr::col(("webhook_subscriptions", "event_type")).eq(e.event_type.clone()),
                );
        }
    }
    let q = Query::insert()
        .into_table("webhook_deliveries")
        .columns(cols)
        .select_from(select)
        .expect("as many columns as values")
        .to_owned();
    c.exec(&q).await
}

pub async fn get_event(c: &mut impl Conn, org: Uuid, id: Uuid) -> Result<EventRow> {
    let q = Query::select()
        .columns(EVENT_COLS)
        .from("webhook_events")
        .and_where(Expr::col("org_id").eq(org))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.one(&q).await
}

/// The events of a type, oldest first (tests and the API's event list).
pub async fn list_events(c: &mut impl Conn, org: OrgId, limit: u64) -> Result<Vec<EventRow>> {
    let q = Query::select()
        .columns(EVENT_COLS)
        .from("webhook_events")
        .and_where(Expr::col("org_id").eq(org.0))
        .order_by("id", Order::Desc)
        .limit(limit)
        .to_owned();
    c.all(&q).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeliveryRow {
    pub org_id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: Uuid,
    pub record_id: Uuid,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

const DELIVERY_COLS: [&str; 12] = [
    "org_id",
    "webhook_id",
    "event_id",
    "record_id",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_until",
    "last_status",
    "last_error",
    "created_at",
    "delivered_at",
];

fn claimable(now: DateTime<Utc>) -> sea_query::Condition {
    sea_query::Condition::any()
        .add(
            Expr::col("status")
                .eq("pending")
                .and(Expr::col("next_attempt_at").lte(now)),
        )
        .add(
            Expr::col("status")
                .eq("sending")
                .and(Expr::col("claimed_until").lt(now)),
        )
}

/// Deliveries to active endpoints that may be attempted now, oldest
/// event first (a switched-off endpoint's wait until it is on again).
pub async fn due_deliveries(
    c: &mut impl Conn,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<DeliveryRow>> {
    let d = "webhook_deliveries";
    let mut q = Query::select();
    for col in DELIVERY_COLS {
        q.column((d, col));
    }
    q.from(d)
        .inner_join(
            "webhooks",
            Expr::col(("webhooks", "org_id"))
                .equals((d, "org_id"))
                .and(Expr::col(("webhooks", "id")).equals((d, "webhook_id"))),
        )
        .and_where(Expr::col(("webhooks", "active")).eq(true))
        .cond_where(
            sea_query::Condition::any()
                .add(
                    Expr::col((d, "status"))
                        .eq("pending")
                        .and(Expr::col((d, "next_attempt_at")).lte(now)),
                )
                .add(
                    Expr::col((d, "status"))
                        .eq("sending")
                        .and(Expr::col((d, "claimed_until")).lt(now)),
                ),
        )
        .order_by((d, "event_id"), Order::Asc)
        .limit(limit);
    c.all(&q).await
}

#[derive(sqlx::FromRow)]
struct Attempts {
    attempts: i32,
}

/// Takes a delivery until `until` and returns its attempt number (the
/// stored count after this claim); `None` when another instance has it.
pub async fn claim_delivery(
    c: &mut impl Conn,
    d: &DeliveryRow,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<i32>> {
    let q = Query::update()
        .table("webhook_deliveries")
        .value("status", "sending")
        .value("claimed_until", until)
        .value("attempts", Expr::col("attempts").add(1))
        .and_where(Expr::col("org_id").eq(d.org_id))
        .and_where(Expr::col("webhook_id").eq(d.webhook_id))
        .and_where(Expr::col("event_id").eq(d.event_id))
        .cond_where(claimable(now))
        .returning_col("attempts")
        .to_owned();
    Ok(c.opt::<Attempts>(&q).await?.map(|a| a.attempts))
}

/// One attempt's outcome.
#[derive(Clone, Debug)]
pub struct AttemptRow {
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Records an attempt and what follows from it: `delivered`, `pending`
/// again at `next_attempt_at`, or `failed` (given up). Only the holder of
/// attempt `a.attempt` changes the delivery (false when the claim was
/// lost); the attempt is logged either way. Run it in a transaction.
pub async fn finish_delivery(
    c: &mut impl Conn,
    d: &DeliveryRow,
    a: &AttemptRow,
    status: &str,
    next_attempt_at: DateTime<Utc>,
) -> Result<bool> {
    let q = Query::insert()
        .into_table("webhook_attempts")
        .columns([
            "org_id",
            "webhook_id",
            "event_id",
            "attempt",
            "attempted_at",
            "status_code",
            "error",
            "duration_ms",
        ])
        .values_panic([
            d.org_id.into(),
            d.webhook_id.into(),
            d.event_id.into(),
            a.attempt.into(),
            a.attempted_at.into(),
            a.status_code.into(),
            a.error.clone().into(),
            a.duration_ms.into(),
        ])
        .on_conflict(
            sea_query::OnConflict::columns(["org_id", "webhook_id", "event_id", "attempt"])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    c.exec(&q).await?;
    let q = Query::update()
        .table("webhook_deliveries")
        .value("status", status)
        .value("next_attempt_at", next_attempt_at)
        .value("claimed_until", Option::<DateTime<Utc>>::None)
        .value("last_status", a.status_code)
        .value("last_error", a.error.clone())
        .value(
            "delivered_at",
            (status == "delivered").then_some(a.attempted_at),
        )
        .and_where(Expr::col("org_id").eq(d.org_id))
        .and_where(Expr::col("webhook_id").eq(d.webhook_id))
        .and_where(Expr::col("event_id").eq(d.event_id))
        .and_where(Expr::col("status").eq("sending"))
        .and_where(Expr::col("attempts").eq(a.attempt))
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

/// Puts a failed delivery back in the queue, due now.
pub async fn redeliver(
    c: &mut impl Conn,
    org: OrgId,
    webhook: Uuid,
    event: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let q = Query::update()
        .table("webhook_deliveries")
        .value("status", "pending")
        .value("next_attempt_at", now)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("webhook_id").eq(webhook))
        .and_where(Expr::col("event_id").eq(event))
        .and_where(Expr::col("status").eq("failed"))
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

/// A delivery with its event's type, for the delivery log.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LogRow {
    pub event_id: Uuid,
    pub event_type: String,
    pub record_id: Uuid,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The latest deliveries to an endpoint, newest first.
pub async fn delivery_log(
    c: &mut impl Conn,
    org: OrgId,
    webhook: Uuid,
    limit: u64,
) -> Result<Vec<LogRow>> {
    let d = "webhook_deliveries";
    let q = Query::select()
        .column((d, "event_id"))
        .column(("webhook_events", "event_type"))
        .column((d, "record_id"))
        .column((d, "status"))
        .column((d, "attempts"))
        .column((d, "next_attempt_at"))
        .column((d, "last_status"))
        .column((d, "last_error"))
        .column((d, "created_at"))
        .column((d, "delivered_at"))
        .from(d)
        .inner_join(
            "webhook_events",
            Expr::col(("webhook_events", "org_id"))
                .equals((d, "org_id"))
                .and(Expr::col(("webhook_events", "id")).equals((d, "event_id"))),
        )
        .and_where(Expr::col((d, "org_id")).eq(org.0))
        .and_where(Expr::col((d, "webhook_id")).eq(webhook))
        .order_by((d, "event_id"), Order::Desc)
        .limit(limit)
        .to_owned();
    c.all(&q).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptLog {
    pub event_id: Uuid,
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// The attempts at an endpoint's deliveries, newest first.
pub async fn attempts(
    c: &mut impl Conn,
    org: OrgId,
    webhook: Uuid,
    event: Option<Uuid>,
    limit: u64,
) -> Result<Vec<AttemptLog>> {
    let mut q = Query::select()
        .columns([
            "event_id",
            "attempt",
            "attempted_at",
            "status_code",
            "error",
            "duration_ms",
        ])
        .from("webhook_attempts")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("webhook_id").eq(webhook))
        .order_by("attempted_at", Order::Desc)
        .order_by("attempt", Order::Desc)
        .limit(limit)
        .to_owned();
    if let Some(e) = event {
        q.and_where(Expr::col("event_id").eq(e));
    }
    c.all(&q).await
}

/// Whether an active endpoint of the organisation subscribes to `event_type`.
pub async fn subscribed(c: &mut impl Conn, org: OrgId, event_type: &str) -> Result<bool> {
    #[derive(sqlx::FromRow)]
    struct One {
        #[allow(dead_code)]
        webhook_id: Uuid,
    }
    let q = Query::select()
        .column(("webhook_subscriptions", "webhook_id"))
        .from("webhook_subscriptions")
        .inner_join(
            "webhooks",
            Expr::col(("webhooks", "org_id"))
                .equals(("webhook_subscriptions", "org_id"))
                .and(Expr::col(("webhooks", "id")).equals(("webhook_subscriptions", "webhook_id"))),
        )
        .and_where(Expr::col(("webhook_subscriptions", "org_id")).eq(org.0))
        .and_where(Expr::col(("webhook_subscriptions", "event_type")).eq(event_type))
        .and_where(Expr::col(("webhooks", "active")).eq(true))
        .limit(1)
        .to_owned();
    Ok(c.opt::<One>(&q).await?.is_some())
}

/// Removes what is settled and older than `before`: attempts, delivered or
/// given-up deliveries, and events no delivery refers to any more.
pub async fn purge(c: &mut impl Conn, before: DateTime<Utc>) -> Result<u64> {
    let q = Query::delete()
        .from_table("webhook_attempts")
        .and_where(Expr::col("attempted_at").lt(before))
        .to_owned();
    let mut n = c.exec(&q).await?;
    let q = Query::delete()
        .from_table("webhook_deliveries")
        .and_where(Expr::col("created_at").lt(before))
        .and_where(Expr::col("status").is_in(["delivered", "failed"]))
        .to_owned();
    n += c.exec(&q).await?;
    let waiting = Query::select()
        .expr(Expr::val(1))
        .from("webhook_deliveries")
        .and_where(Expr::col(("webhook_deliveries", "org_id")).equals(("webhook_events", "org_id")))
        .and_where(Expr::col(("webhook_deliveries", "event_id")).equals(("webhook_events", "id")))
        .to_owned();
    let q = Query::delete()
        .from_table("webhook_events")
        .and_where(Expr::col(("webhook_events", "created_at")).lt(before))
        .and_where(Expr::exists(waiting).not())
        .to_owned();
    n += c.exec(&q).await?;
    Ok(n)
}

/// For each of `records`, the oldest event still waiting (pending or
/// sending) for the endpoint: only that one may go out (order per record).
pub async fn oldest_waiting(
    c: &mut impl Conn,
    org: Uuid,
    webhook: Uuid,
    records: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>> {
    #[derive(sqlx::FromRow)]
    struct Waiting {
        record_id: Uuid,
        event_id: Uuid,
    }
    // (PostgreSQL has no MIN over uuid: the first of each record is taken here.)
    let q = Query::select()
        .columns(["record_id", "event_id"])
        .from("webhook_deliveries")
        .and_where(Expr::col("org_id").eq(org))
        .and_where(Expr::col("webhook_id").eq(webhook))
        .and_where(Expr::col("record_id").is_in(records.iter().copied()))
        .and_where(Expr::col("status").is_in(["pending", "sending"]))
        .order_by("record_id", Order::Asc)
        .order_by("event_id", Order::Asc)
        .to_owned();
    let mut out: Vec<(Uuid, Uuid)> = vec![];
    for w in c.all::<Waiting>(&q).await? {
        if out.last().is_none_or(|(r, _)| *r != w.record_id) {
            out.push((w.record_id, w.event_id));
        }
    }
    Ok(out)
}

/// Gives back a claimed delivery that was not attempted (its attempt is
/// not counted).
pub async fn release_delivery(c: &mut impl Conn, d: &DeliveryRow, attempt: i32) -> Result<bool> {
    let q = Query::update()
        .table("webhook_deliveries")
        .value("status", "pending")
        .value("claimed_until", Option::<DateTime<Utc>>::None)
        .value("attempts", attempt - 1)
        .and_where(Expr::col("org_id").eq(d.org_id))
        .and_where(Expr::col("webhook_id").eq(d.webhook_id))
        .and_where(Expr::col("event_id").eq(d.event_id))
        .and_where(Expr::col("status").eq("sending"))
        .and_where(Expr::col("attempts").eq(attempt))
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}
