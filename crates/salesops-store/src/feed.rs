//! The analytic index's side of the database: the change feed the
//! triggers of migration 0011 write (every change to an activity, a lead or
//! a stage history, in the transaction of the change), and the narrow rows
//! the index is built from, read page by page in one read transaction.
//!
//! Sequence numbers on PostgreSQL are taken when a row is inserted, not
//! when its transaction commits: a reader may see 11 before 10. A reader
//! therefore keeps the numbers it has not seen below the highest it has
//! (gaps), and a gap is closed either when its row shows up or when every
//! transaction that was running when the gap was noticed has ended
//! ([`Horizon`]): then the number belonged to a transaction that rolled
//! back. SQLite commits one writer at a time, in sequence order, and a
//! rolled-back number is taken again, so it never has gaps.

use crate::db::{Backend, Conn, Db, Result, Tx};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_domain::OrgId;
use sea_query::{Expr, ExprTrait, Order, Query};
use uuid::Uuid;

/// One change.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FeedRow {
    pub seq: i64,
    pub org_id: Uuid,
    /// `activity`, `lead` or `stage`.
    pub entity: String,
    /// The activity or the lead (for a stage change: its lead).
    pub entity_id: Uuid,
    pub old_user_id: Option<Uuid>,
    pub old_type_id: Option<Uuid>,
    pub old_outcome_id: Option<Uuid>,
    pub old_at: Option<DateTime<Utc>>,
    pub new_user_id: Option<Uuid>,
    pub new_type_id: Option<Uuid>,
    pub new_outcome_id: Option<Uuid>,
    pub new_at: Option<DateTime<Utc>>,
    /// An activity's lead and duration before and after (migration 0012).
    pub old_lead_id: Option<Uuid>,
    pub old_minutes: Option<i32>,
    pub new_lead_id: Option<Uuid>,
    pub new_minutes: Option<i32>,
}

/// The changes after `seq`, in sequence order, at most `limit`.
pub async fn after(c: &mut impl Conn, seq: i64, limit: u64) -> Result<Vec<FeedRow>> {
    let q = Query::select()
        .columns([
            "seq",
            "org_id",
            "entity",
            "entity_id",
            "old_user_id",
            "old_type_id",
            "old_outcome_id",
            "old_at",
            "new_user_id",
            "new_type_id",
            "new_outcome_id",
            "new_at",
            "old_lead_id",
            "old_minutes",
            "new_lead_id",
            "new_minutes",
        ])
        .from("analytics_feed")
        .and_where(Expr::col("seq").gt(seq))
        .order_by("seq", Order::Asc)
        .limit(limit)
        .to_owned();
    c.all(&q).await
}

#[derive(sqlx::FromRow)]
struct Scalar {
    v: Option<i64>,
}

/// The highest sequence number visible (0 for an empty feed).
pub async fn max_seq(c: &mut impl Conn) -> Result<i64> {
    let q = Query::select()
        .expr_as(Expr::col("seq").max(), "v")
        .from("analytics_feed")
        .to_owned();
    Ok(c.one::<Scalar>(&q).await?.v.unwrap_or(0))
}

/// Where the database's transactions stand, to tell a gap that may still
/// fill (its transaction runs) from one that never will.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Horizon {
    /// Every transaction with an id below this one has ended.
    pub oldest_running: i64,
    /// The id the next transaction will get: every transaction running
    /// now has a lower one.
    pub next: i64,
}

/// The horizon now: `None` on SQLite, which has no gaps.
pub async fn horizon(c: &mut impl Conn) -> Result<Option<Horizon>> {
    if c.backend() == Backend::Sqlite {
        return Ok(None);
    }
    #[derive(sqlx::FromRow)]
    struct H {
        oldest_running: i64,
        next: i64,
    }
    let q = Query::select()
        .expr_as(
            Expr::cust("pg_snapshot_xmin(pg_current_snapshot())::text::bigint"),
            "oldest_running",
        )
        .expr_as(
            Expr::cust("pg_snapshot_xmax(pg_current_snapshot())::text::bigint"),
            "next",
        )
        .to_owned();
    let h: H = c.one(&q).await?;
    Ok(Some(Horizon {
        oldest_running: h.oldest_running,
        next: h.next,
    }))
}

/// The sequence numbers above `seq` (what a snapshot of the tables has
/// seen, to find its gaps).
pub async fn seqs_after(c: &mut impl Conn, seq: i64) -> Result<Vec<i64>> {
    #[derive(sqlx::FromRow)]
    struct S {
        seq: i64,
    }
    let q = Query::select()
        .column("seq")
        .from("analytics_feed")
        .and_where(Expr::col("seq").gt(seq))
        .order_by("seq", Order::Asc)
        .to_owned();
    Ok(c.all::<S>(&q).await?.into_iter().map(|s| s.seq).collect())
}

/// Deletes the changes written before `before` (a housekeeping job: every
/// running instance reads the feed twice a second, and an instance that
/// starts builds its index from the tables).
pub async fn prune_written_before(c: &mut impl Conn, before: DateTime<Utc>) -> Result<u64> {
    let q = Query::delete()
        .from_table("analytics_feed")
        .and_where(Expr::col("written_at").lt(before))
        .to_owned();
    c.exec(&q).await
}

/// A read transaction over one consistent snapshot of the database: on
/// SQLite a deferred transaction (in WAL mode it reads the database as of
/// its first read), on PostgreSQL `REPEATABLE READ, READ ONLY`.
pub async fn begin_snapshot(db: &Db) -> Result<Tx> {
    Ok(match db {
        Db::Sqlite(p) => Tx::Sqlite(crate::db::SqliteTx::reading(
            p.begin_with("BEGIN DEFERRED").await?,
        )),
        Db::Pg(p) => Tx::Pg(
            p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?,
        ),
    })
}

/// The organisations (their ids).
pub async fn org_ids(c: &mut impl Conn) -> Result<Vec<OrgId>> {
    #[derive(sqlx::FromRow)]
    struct O {
        id: Uuid,
    }
    let q = Query::select()
        .column("id")
        .from("orgs")
        .order_by("id", Order::Asc)
        .to_owned();
    Ok(c.all::<O>(&q)
        .await?
        .into_iter()
        .map(|o| OrgId(o.id))
        .collect())
}

/// What the index counts of a done activity.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ActivityKey {
    pub id: Uuid,
    pub user_id: Uuid,
    pub type_id: Uuid,
    pub outcome_id: Option<Uuid>,
    pub happened_at: DateTime<Utc>,
    pub lead_id: Option<Uuid>,
    pub duration_minutes: Option<i32>,
}

/// A page of an organisation's done activities in id order, after `after`.
pub async fn activity_page(
    c: &mut impl Conn,
    org: OrgId,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ActivityKey>> {
    let mut q = Query::select();
    q.columns([
        "id",
        "user_id",
        "type_id",
        "outcome_id",
        "happened_at",
        "lead_id",
        "duration_minutes",
    ])
    .from("activities")
    .and_where(Expr::col("org_id").eq(org.0))
    .and_where(Expr::col("done").eq(true));
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

/// What the index keeps of a lead.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct LeadKey {
    pub id: Uuid,
    pub pipeline_id: Uuid,
    pub stage_id: Uuid,
    pub status: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub probability: Option<i32>,
    pub expected_close_date: Option<NaiveDate>,
    pub owner_id: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub company_id: Option<Uuid>,
    pub source: Option<String>,
    pub mql_at: Option<DateTime<Utc>>,
    pub sql_at: Option<DateTime<Utc>>,
}

const LEAD_KEY_COLS: [&str; 15] = [
    "id",
    "pipeline_id",
    "stage_id",
    "status",
    "amount_minor",
    "currency",
    "probability",
    "expected_close_date",
    "owner_id",
    "closed_at",
    "created_at",
    "company_id",
    "source",
    "mql_at",
    "sql_at",
];

/// A page of an organisation's leads in id order, after `after`.
pub async fn lead_page(
    c: &mut impl Conn,
    org: OrgId,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<LeadKey>> {
    let mut q = Query::select();
    q.columns(LEAD_KEY_COLS)
        .from("leads")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

/// Leads by id (those that still exist).
pub async fn leads_by_id(c: &mut impl Conn, org: OrgId, ids: &[Uuid]) -> Result<Vec<LeadKey>> {
    let q = Query::select()
        .columns(LEAD_KEY_COLS)
        .from("leads")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").is_in(ids.to_vec()))
        .to_owned();
    c.all(&q).await
}

/// A stage change as the index keeps it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StageKey {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Uuid,
    pub at: DateTime<Utc>,
}

const STAGE_KEY_COLS: [&str; 5] = ["id", "lead_id", "from_stage_id", "to_stage_id", "at"];

/// A page of an organisation's stage history in id order, after `after`.
pub async fn stage_page(
    c: &mut impl Conn,
    org: OrgId,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<StageKey>> {
    let mut q = Query::select();
    q.columns(STAGE_KEY_COLS)
        .from("lead_stage_history")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(a) = after {
        q.and_where(Expr::col("id").gt(a));
    }
    q.order_by("id", Order::Asc).limit(limit);
    c.all(&q).await
}

/// The stage history of some leads.
pub async fn stages_of(c: &mut impl Conn, org: OrgId, leads: &[Uuid]) -> Result<Vec<StageKey>> {
    let q = Query::select()
        .columns(STAGE_KEY_COLS)
        .from("lead_stage_history")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("lead_id").is_in(leads.to_vec()))
        .to_owned();
    c.all(&q).await
}
