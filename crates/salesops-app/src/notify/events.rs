//! The events webhooks carry, written to the outbox in the transaction of
//! the change they report: committed with it, or not at all.

use crate::error::Result;
use chrono::{DateTime, SecondsFormat, Utc};
use salesops_domain::OrgId;
use salesops_store::Conn;
use salesops_store::leads::Lead;
use salesops_store::webhooks::{self, EventRow};
use serde_json::{Value, json};
use uuid::Uuid;

/// The event types endpoints subscribe to.
pub const EVENT_TYPES: [&str; 7] = [
    "lead.created",
    "lead.moved",
    "lead.won",
    "lead.lost",
    "activity.created",
    "goal.achieved",
    "prospect.converted",
];

/// The type of the event "send test event" sends.
pub const TEST_EVENT: &str = "webhook.test";

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The envelope every payload has: `id`, `type`, `created_at`, `data`.
pub fn envelope(id: Uuid, kind: &str, at: DateTime<Utc>, data: Value) -> Value {
    json!({ "id": id, "type": kind, "created_at": ts(at), "data": data })
}

/// Whether an endpoint subscribes to `kind` (events nobody subscribes to
/// are not written).
pub(crate) async fn wanted(c: &mut impl Conn, org: OrgId, kind: &str) -> Result<bool> {
    Ok(webhooks::subscribed(c, org, kind).await?)
}

/// Writes an event about `record` to the outbox, with a delivery for each
/// subscribed endpoint, if there is one.
pub(crate) async fn publish(
    c: &mut impl Conn,
    org: OrgId,
    kind: &str,
    record: Uuid,
    data: impl FnOnce() -> Value,
) -> Result<()> {
    if wanted(c, org, kind).await? {
        emit(c, org, kind, record, data(), None).await?;
    }
    Ok(())
}

/// Writes an event about `record` to the outbox, with a delivery for each
/// subscribed endpoint (`only`: for that endpoint alone).
pub(crate) async fn emit(
    c: &mut impl Conn,
    org: OrgId,
    kind: &str,
    record: Uuid,
    data: Value,
    only: Option<Uuid>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let at = salesops_store::now();
    let payload = envelope(id, kind, at, data).to_string();
    webhooks::insert_event(
        c,
        &EventRow {
            org_id: org.0,
            id,
            event_type: kind.to_string(),
            record_id: record,
            payload,
            created_at: at,
        },
        only,
    )
    .await?;
    Ok(id)
}

/// A lead as events carry it.
pub fn lead_data(l: &Lead) -> Value {
    let amount = match (l.amount_minor, l.currency.as_deref()) {
        (Some(m), Some(c)) => match c.parse::<salesops_domain::Currency>() {
            Ok(cur) => json!(salesops_domain::MoneyJson::from(
                salesops_domain::Money::new(m, cur)
            )),
            Err(_) => Value::Null,
        },
        _ => Value::Null,
    };
    json!({
        "id": l.id.0,
        "title": l.title,
        "pipeline_id": l.pipeline_id.0,
        "stage_id": l.stage_id.0,
        "status": l.status.as_str(),
        "amount": amount,
        "probability": l.probability,
        "expected_close_date": l.expected_close_date,
        "owner_id": l.owner_id,
        "company_id": l.company_id,
        "contact_id": l.contact_id,
        "source": l.source,
        "closed_at": l.closed_at.map(ts),
        "lost_reason": l.lost_reason,
        "competitor": l.competitor,
        "created_at": ts(l.created_at),
        "updated_at": ts(l.updated_at),
        "version": l.version,
    })
}

/// An activity as events carry it.
pub fn activity_data(a: &salesops_store::activities::Activity) -> Value {
    json!({
        "id": a.id.0,
        "type_id": a.type_id.0,
        "outcome_id": a.outcome_id,
        "user_id": a.user_id.0,
        "lead_id": a.lead_id,
        "company_id": a.company_id,
        "contact_id": a.contact_id,
        "prospect_id": a.prospect_id,
        "done": a.done,
        "happened_at": a.happened_at.map(ts),
        "due_at": a.due_at.map(ts),
        "duration_minutes": a.duration_minutes,
        "notes": a.notes,
        "created_at": ts(a.created_at),
    })
}
