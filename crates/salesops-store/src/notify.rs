//! The digest and alerts side of the database (migration 0013): the
//! organisation's notification settings, each user's digest choice, the
//! digest plan of each day and one send per recipient and day (claimed
//! before it is sent, so two instances never send it twice), and alerts
//! (one row per occurrence of a condition, resolved when it ends).

use crate::db::{Conn, Result};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_domain::OrgId;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SettingsRow {
    pub digest_enabled: bool,
    pub digest_hour: i32,
    pub digest_alerts: bool,
    pub idle_days: i32,
    pub coverage_target_pct: i32,
    pub version: i64,
}

impl Default for SettingsRow {
    fn default() -> Self {
        SettingsRow {
            digest_enabled: true,
            digest_hour: 7,
            digest_alerts: true,
            idle_days: 14,
            coverage_target_pct: 300,
            version: 0,
        }
    }
}

const SETTINGS_COLS: [&str; 6] = [
    "digest_enabled",
    "digest_hour",
    "digest_alerts",
    "idle_days",
    "coverage_target_pct",
    "version",
];

/// The organisation's settings (the defaults, version 0, when never saved).
pub async fn settings(c: &mut impl Conn, org: OrgId) -> Result<SettingsRow> {
    let q = Query::select()
        .columns(SETTINGS_COLS)
        .from("notification_settings")
        .and_where(Expr::col("org_id").eq(org.0))
        .to_owned();
    Ok(c.opt(&q).await?.unwrap_or_default())
}

/// Saves the settings if their version is still `s.version` (0: never
/// saved); false when someone saved them first.
pub async fn save_settings(
    c: &mut impl Conn,
    org: OrgId,
    s: &SettingsRow,
    at: DateTime<Utc>,
) -> Result<bool> {
    if s.version == 0 {
        let q = Query::insert()
            .into_table("notification_settings")
            .columns([
                "org_id",
                "digest_enabled",
                "digest_hour",
                "digest_alerts",
                "idle_days",
                "coverage_target_pct",
                "updated_at",
                "version",
            ])
            .values_panic([
                org.0.into(),
                s.digest_enabled.into(),
                s.digest_hour.into(),
                s.digest_alerts.into(),
                s.idle_days.into(),
                s.coverage_target_pct.into(),
                at.into(),
                1i64.into(),
            ])
            .on_conflict(OnConflict::column("org_id").do_nothing().to_owned())
            .to_owned();
        return Ok(c.exec(&q).await? == 1);
    }
    let q = Query::update()
        .table("notification_settings")
        .value("digest_enabled", s.digest_enabled)
        .value("digest_hour", s.digest_hour)
        .value("digest_alerts", s.digest_alerts)
        .value("idle_days", s.idle_days)
        .value("coverage_target_pct", s.coverage_target_pct)
        .value("updated_at", at)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("version").eq(s.version))
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

/// A user's digest choice (`daily`, `weekly`, `off`; `None`: the default).
pub async fn set_user_digest(
    c: &mut impl Conn,
    org: OrgId,
    user: Uuid,
    digest: Option<&str>,
    at: DateTime<Utc>,
) -> Result<u64> {
    let q = Query::update()
        .table("users")
        .value("digest", digest.map(str::to_string))
        .value("updated_at", at)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(user))
        .to_owned();
    c.exec(&q).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserDigest {
    pub id: Uuid,
    pub digest: Option<String>,
}

/// Every user's digest choice.
pub async fn user_digests(c: &mut impl Conn, org: OrgId) -> Result<Vec<UserDigest>> {
    let q = Query::select()
        .columns(["id", "digest"])
        .from("users")
        .and_where(Expr::col("org_id").eq(org.0))
        .to_owned();
    c.all(&q).await
}

/// One user's digest choice (`NotFound` for no such user).
pub async fn user_digest(c: &mut impl Conn, org: OrgId, user: Uuid) -> Result<Option<String>> {
    let q = Query::select()
        .columns(["id", "digest"])
        .from("users")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(user))
        .to_owned();
    Ok(c.one::<UserDigest>(&q).await?.digest)
}

#[derive(sqlx::FromRow)]
struct DateRow {
    digest_date: NaiveDate,
}

/// The latest day up to `up_to` whose digest was planned.
pub async fn last_plan(
    c: &mut impl Conn,
    org: OrgId,
    up_to: NaiveDate,
) -> Result<Option<NaiveDate>> {
    let q = Query::select()
        .column("digest_date")
        .from("digest_plans")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("digest_date").lte(up_to))
        .order_by("digest_date", Order::Desc)
        .limit(1)
        .to_owned();
    Ok(c.opt::<DateRow>(&q).await?.map(|r| r.digest_date))
}

/// Records that the sends of `date` are planned; false if they already were.
pub async fn insert_plan(
    c: &mut impl Conn,
    org: OrgId,
    date: NaiveDate,
    recipients: i64,
    at: DateTime<Utc>,
) -> Result<bool> {
    let q = Query::insert()
        .into_table("digest_plans")
        .columns(["org_id", "digest_date", "planned_at", "recipients"])
        .values_panic([org.0.into(), date.into(), at.into(), recipients.into()])
        .on_conflict(
            OnConflict::columns(["org_id", "digest_date"])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SendRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub user_id: Uuid,
    pub digest_date: NaiveDate,
    pub frequency: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub email: String,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const SEND_COLS: [&str; 15] = [
    "org_id",
    "id",
    "user_id",
    "digest_date",
    "frequency",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_by",
    "claimed_until",
    "email",
    "last_error",
    "created_at",
    "updated_at",
    "sent_at",
];

/// Adds a pending send unless the recipient already has one for the day.
pub async fn insert_send(c: &mut impl Conn, s: &SendRow) -> Result<bool> {
    let q = Query::insert()
        .into_table("digest_sends")
        .columns(SEND_COLS)
        .values_panic([
            s.org_id.into(),
            s.id.into(),
            s.user_id.into(),
            s.digest_date.into(),
            s.frequency.clone().into(),
            s.status.clone().into(),
            s.attempts.into(),
            s.next_attempt_at.into(),
            s.claimed_by.clone().into(),
            s.claimed_until.into(),
            s.email.clone().into(),
            s.last_error.clone().into(),
            s.created_at.into(),
            s.updated_at.into(),
            s.sent_at.into(),
        ])
        .on_conflict(
            OnConflict::columns(["org_id", "user_id", "digest_date"])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

/// A send that may be attempted now: pending or retrying and due, or
/// claimed by an instance whose claim ran out (it stopped mid-send).
fn claimable(now: DateTime<Utc>) -> sea_query::Condition {
    sea_query::Condition::any()
        .add(
            Expr::col("status")
                .is_in(["pending", "retrying"])
                .and(Expr::col("next_attempt_at").lte(now)),
        )
        .add(
            Expr::col("status")
                .eq("sending")
                .and(Expr::col("claimed_until").lt(now)),
        )
}

/// Sends due now, oldest first.
pub async fn due_sends(c: &mut impl Conn, now: DateTime<Utc>, limit: u64) -> Result<Vec<SendRow>> {
    let q = Query::select()
        .columns(SEND_COLS)
        .from("digest_sends")
        .cond_where(claimable(now))
        .order_by("next_attempt_at", Order::Asc)
        .limit(limit)
        .to_owned();
    c.all(&q).await
}

#[derive(sqlx::FromRow)]
struct Attempts {
    attempts: i32,
}

/// Takes a send for `by` until `until` and returns its attempt number
/// (the stored count after this claim); `None` when another instance has
/// it, or it is no longer due.
pub async fn claim_send(
    c: &mut impl Conn,
    org: Uuid,
    id: Uuid,
    by: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<i32>> {
    let q = Query::update()
        .table("digest_sends")
        .value("status", "sending")
        .value("claimed_by", by)
        .value("claimed_until", until)
        .value("attempts", Expr::col("attempts").add(1))
        .value("updated_at", now)
        .and_where(Expr::col("org_id").eq(org))
        .and_where(Expr::col("id").eq(id))
        .cond_where(claimable(now))
        .returning_col("attempts")
        .to_owned();
    Ok(c.opt::<Attempts>(&q).await?.map(|a| a.attempts))
}

/// Extends a claim that `by` still holds (attempt `attempt`) to `until`;
/// false when it was lost (the lease ran out and another instance took it).
pub async fn extend_send(
    c: &mut impl Conn,
    org: Uuid,
    id: Uuid,
    by: &str,
    attempt: i32,
    until: DateTime<Utc>,
) -> Result<bool> {
    let q = Query::update()
        .table("digest_sends")
        .value("claimed_until", until)
        .and_where(Expr::col("org_id").eq(org))
        .and_where(Expr::col("id").eq(id))
        .and_where(Expr::col("status").eq("sending"))
        .and_where(Expr::col("claimed_by").eq(by))
        .and_where(Expr::col("attempts").eq(attempt))
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

/// Records how a claimed send ended: `sent`, `retrying` (at
/// `next_attempt_at`), `failed` (given up) or `skipped`.
#[allow(clippy::too_many_arguments)]
pub async fn finish_send(
    c: &mut impl Conn,
    org: Uuid,
    id: Uuid,
    by: &str,
    attempt: i32,
    status: &str,
    email: &str,
    error: Option<&str>,
    next_attempt_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let q = Query::update()
        .table("digest_sends")
        .value("status", status)
        .value("email", email)
        .value("last_error", error.map(str::to_string))
        .value("next_attempt_at", next_attempt_at)
        .value("claimed_until", Option::<DateTime<Utc>>::None)
        .value("updated_at", now)
        .value("sent_at", (status == "sent").then_some(now))
        .and_where(Expr::col("org_id").eq(org))
        .and_where(Expr::col("id").eq(id))
        .and_where(Expr::col("status").eq("sending"))
        .and_where(Expr::col("claimed_by").eq(by))
        .and_where(Expr::col("attempts").eq(attempt))
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

/// Puts a failed or skipped send back in the queue, due now.
pub async fn retry_send(
    c: &mut impl Conn,
    org: OrgId,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool> {
    let q = Query::update()
        .table("digest_sends")
        .value("status", "pending")
        .value("next_attempt_at", now)
        .value("updated_at", now)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .and_where(Expr::col("status").is_in(["failed", "skipped", "retrying"]))
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

pub async fn get_send(c: &mut impl Conn, org: OrgId, id: Uuid) -> Result<SendRow> {
    let q = Query::select()
        .columns(SEND_COLS)
        .from("digest_sends")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.one(&q).await
}

/// The sends of the organisation, newest day first; `status` filters.
pub async fn list_sends(
    c: &mut impl Conn,
    org: OrgId,
    status: Option<&str>,
    limit: u64,
) -> Result<Vec<SendRow>> {
    let mut q = Query::select()
        .columns(SEND_COLS)
        .from("digest_sends")
        .and_where(Expr::col("org_id").eq(org.0))
        .order_by("digest_date", Order::Desc)
        .order_by("created_at", Order::Desc)
        .limit(limit)
        .to_owned();
    if let Some(s) = status {
        q.and_where(Expr::col("status").eq(s));
    }
    c.all(&q).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AlertRow {
    pub org_id: Uuid,
    pub id: Uuid,
    pub kind: String,
    pub alert_key: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    pub title: String,
    /// JSON: the figures the message is made of.
    pub detail: String,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub dismissed_at: Option<DateTime<Utc>>,
    pub dismissed_by: Option<Uuid>,
}

const ALERT_COLS: [&str; 14] = [
    "org_id",
    "id",
    "kind",
    "alert_key",
    "user_id",
    "team_id",
    "lead_id",
    "goal_id",
    "title",
    "detail",
    "raised_at",
    "resolved_at",
    "dismissed_at",
    "dismissed_by",
];

/// Raises an alert, or re-opens the one with the same key (a dismissal
/// stays); the title and figures are refreshed. True when it is new.
pub async fn raise_alert(c: &mut impl Conn, a: &AlertRow) -> Result<()> {
    let q = Query::insert()
        .into_table("alerts")
        .columns(ALERT_COLS)
        .values_panic([
            a.org_id.into(),
            a.id.into(),
            a.kind.clone().into(),
            a.alert_key.clone().into(),
            a.user_id.into(),
            a.team_id.into(),
            a.lead_id.into(),
            a.goal_id.into(),
            a.title.clone().into(),
            a.detail.clone().into(),
            a.raised_at.into(),
            a.resolved_at.into(),
            a.dismissed_at.into(),
            a.dismissed_by.into(),
        ])
        .on_conflict(
            OnConflict::columns(["org_id", "alert_key"])
                .update_columns(["title", "detail", "resolved_at", "user_id", "team_id"])
                .to_owned(),
        )
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

/// Marks an alert's condition as over.
pub async fn resolve_alert(
    c: &mut impl Conn,
    org: OrgId,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<u64> {
    let q = Query::update()
        .table("alerts")
        .value("resolved_at", at)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .and_where(Expr::col("resolved_at").is_null())
        .to_owned();
    c.exec(&q).await
}

/// Which alerts to list.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    /// Only these people's (and, with `teams`, these teams').
    pub users: Option<Vec<Uuid>>,
    pub teams: Option<Vec<Uuid>>,
    /// Leave out alerts about leads (for those who may not read leads).
    pub without_leads: bool,
    /// Dismissed ones too.
    pub dismissed: bool,
    /// Raised at or after.
    pub raised_from: Option<DateTime<Utc>>,
    pub raised_to: Option<DateTime<Utc>>,
    pub limit: u64,
}

/// Open alerts (not resolved; not dismissed unless asked), newest first.
pub async fn list_alerts(c: &mut impl Conn, org: OrgId, f: &AlertFilter) -> Result<Vec<AlertRow>> {
    let mut q = Query::select()
        .columns(ALERT_COLS)
        .from("alerts")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("resolved_at").is_null())
        .order_by("raised_at", Order::Desc)
        .order_by("id", Order::Asc)
        .limit(std::cmp::max(f.limit, 1))
        .to_owned();
    if !f.dismissed {
        q.and_where(Expr::col("dismissed_at").is_null());
    }
    if f.without_leads {
        q.and_where(Expr::col("lead_id").is_null());
    }
    if f.users.is_some() || f.teams.is_some() {
        let mut any = sea_query::Condition::any();
        if let Some(u) = &f.users {
            any = any.add(Expr::col("user_id").is_in(u.iter().copied()));
        }
        if let Some(t) = &f.teams {
            any = any.add(
                Expr::col("team_id")
                    .is_in(t.iter().copied())
                    .and(Expr::col("user_id").is_null()),
            );
        }
        q.cond_where(any);
    }
    if let Some(t) = f.raised_from {
        q.and_where(Expr::col("raised_at").gte(t));
    }
    if let Some(t) = f.raised_to {
        q.and_where(Expr::col("raised_at").lt(t));
    }
    c.all(&q).await
}

pub async fn get_alert(c: &mut impl Conn, org: OrgId, id: Uuid) -> Result<AlertRow> {
    let q = Query::select()
        .columns(ALERT_COLS)
        .from("alerts")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.one(&q).await
}

pub async fn dismiss_alert(
    c: &mut impl Conn,
    org: OrgId,
    id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<u64> {
    let q = Query::update()
        .table("alerts")
        .value("dismissed_at", at)
        .value("dismissed_by", by)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .and_where(Expr::col("dismissed_at").is_null())
        .to_owned();
    c.exec(&q).await
}

/// Records that a goal's target was reached by a user or team in the
/// period beginning `period_from`; false if that was already recorded.
pub async fn insert_achievement(
    c: &mut impl Conn,
    org: OrgId,
    goal: Uuid,
    subject: Uuid,
    period_from: NaiveDate,
    at: DateTime<Utc>,
) -> Result<bool> {
    let q = Query::insert()
        .into_table("goal_achievements")
        .columns([
            "org_id",
            "goal_id",
            "subject_id",
            "period_from",
            "achieved_at",
        ])
        .values_panic([
            org.0.into(),
            goal.into(),
            subject.into(),
            period_from.into(),
            at.into(),
        ])
        .on_conflict(
            OnConflict::columns(["org_id", "goal_id", "subject_id", "period_from"])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(c.exec(&q).await? == 1)
}

/// Done activities of a user, type and outcome.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ActCount {
    pub user_id: Uuid,
    pub type_id: Uuid,
    pub outcome_id: Option<Uuid>,
    pub n: i64,
}

/// Activities done by `users` in `[t0, t1)`, counted per user, type and outcome.
pub async fn activity_counts(
    c: &mut impl Conn,
    org: OrgId,
    users: &[Uuid],
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
) -> Result<Vec<ActCount>> {
    let q = Query::select()
        .columns(["user_id", "type_id", "outcome_id"])
        .expr_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .from("activities")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("done").eq(true))
        .and_where(Expr::col("happened_at").gte(t0))
        .and_where(Expr::col("happened_at").lt(t1))
        .and_where(Expr::col("user_id").is_in(users.iter().copied()))
        .group_by_columns(["user_id", "type_id", "outcome_id"])
        .to_owned();
    c.all(&q).await
}

/// A lead as the digest and the alerts name it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LeadBrief {
    pub id: Uuid,
    pub title: String,
    pub owner_id: Option<Uuid>,
    pub status: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Leads of `owners` created or closed in `[t0, t1)`.
pub async fn leads_created_or_closed(
    c: &mut impl Conn,
    org: OrgId,
    owners: &[Uuid],
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
) -> Result<Vec<LeadBrief>> {
    let q = Query::select()
        .columns([
            "id",
            "title",
            "owner_id",
            "status",
            "amount_minor",
            "currency",
            "created_at",
            "closed_at",
        ])
        .from("leads")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("owner_id").is_in(owners.iter().copied()))
        .cond_where(
            sea_query::Condition::any()
                .add(
                    Expr::col("created_at")
                        .gte(t0)
                        .and(Expr::col("created_at").lt(t1)),
                )
                .add(
                    Expr::col("closed_at")
                        .gte(t0)
                        .and(Expr::col("closed_at").lt(t1)),
                ),
        )
        .order_by("created_at", Order::Asc)
        .to_owned();
    c.all(&q).await
}

/// A scheduled activity, with its lead's title.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub type_id: Uuid,
    pub lead_id: Option<Uuid>,
    pub lead_title: Option<String>,
    pub due_at: DateTime<Utc>,
    pub notes: Option<String>,
}

/// Activities of `users` not done yet and due in `[t0, t1)`, by due time.
pub async fn due_activities(
    c: &mut impl Conn,
    org: OrgId,
    users: &[Uuid],
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
) -> Result<Vec<DueRow>> {
    let a = "activities";
    let q = Query::select()
        .column((a, "id"))
        .column((a, "user_id"))
        .column((a, "type_id"))
        .column((a, "lead_id"))
        .expr_as(Expr::col(("leads", "title")), "lead_title")
        .column((a, "due_at"))
        .column((a, "notes"))
        .from(a)
        .left_join(
            "leads",
            Expr::col(("leads", "org_id"))
                .equals((a, "org_id"))
                .and(Expr::col(("leads", "id")).equals((a, "lead_id"))),
        )
        .and_where(Expr::col((a, "org_id")).eq(org.0))
        .and_where(Expr::col((a, "done")).eq(false))
        .and_where(Expr::col((a, "due_at")).gte(t0))
        .and_where(Expr::col((a, "due_at")).lt(t1))
        .and_where(Expr::col((a, "user_id")).is_in(users.iter().copied()))
        .order_by((a, "due_at"), Order::Asc)
        .to_owned();
    c.all(&q).await
}

/// An open lead with what the alerts look at.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OpenLead {
    pub id: Uuid,
    pub title: String,
    pub owner_id: Option<Uuid>,
    pub stage_id: Uuid,
    pub stage_entered_at: DateTime<Utc>,
    pub expected_close_date: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// When the latest activity on it was done.
    pub last_activity_at: Option<DateTime<Utc>>,
}

/// Every open lead of the organisation with its latest done activity.
pub async fn open_leads(c: &mut impl Conn, org: OrgId) -> Result<Vec<OpenLead>> {
    let l = "leads";
    let cols = [
        "id",
        "title",
        "owner_id",
        "stage_id",
        "stage_entered_at",
        "expected_close_date",
        "created_at",
        "amount_minor",
        "currency",
    ];
    let mut q = Query::select();
    for col in cols {
        q.column((l, col));
    }
    q.expr_as(
        Expr::col(("activities", "happened_at")).max(),
        "last_activity_at",
    )
    .from(l)
    .left_join(
        "activities",
        Expr::col(("activities", "org_id"))
            .equals((l, "org_id"))
            .and(Expr::col(("activities", "lead_id")).equals((l, "id")))
            .and(Expr::col(("activities", "done")).eq(true)),
    )
    .and_where(Expr::col((l, "org_id")).eq(org.0))
    .and_where(Expr::col((l, "status")).eq("open"));
    for col in cols {
        q.add_group_by([Expr::col((l, col))]);
    }
    q.order_by((l, "id"), Order::Asc);
    c.all(&q).await
}

/// Removes digest sends and resolved alerts older than `before`.
pub async fn purge(c: &mut impl Conn, before: DateTime<Utc>) -> Result<u64> {
    let q = Query::delete()
        .from_table("digest_sends")
        .and_where(Expr::col("created_at").lt(before))
        .and_where(Expr::col("status").is_in(["sent", "failed", "skipped"]))
        .to_owned();
    let mut n = c.exec(&q).await?;
    let q = Query::delete()
        .from_table("alerts")
        .and_where(Expr::col("resolved_at").lt(before))
        .to_owned();
    n += c.exec(&q).await?;
    Ok(n)
}

/// An open alert as the job compares it with what holds now.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OpenAlert {
    pub id: Uuid,
    pub alert_key: String,
    pub title: String,
    pub detail: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
}

/// Every alert whose condition held at the last run.
pub async fn open_alerts(c: &mut impl Conn, org: OrgId) -> Result<Vec<OpenAlert>> {
    let q = Query::select()
        .columns(["id", "alert_key", "title", "detail", "user_id", "team_id"])
        .from("alerts")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("resolved_at").is_null())
        .to_owned();
    c.all(&q).await
}
