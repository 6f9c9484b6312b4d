//! CSV import jobs (their progress and report), and the lookups an import
//! needs: which records already carry an external id.

use crate::db::{Conn, Result};
use chrono::{DateTime, Utc};
use salesops_domain::{OrgId, UserId};
use sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ImportJob {
    pub org_id: Uuid,
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    pub dry_run: bool,
    pub skip_invalid: bool,
    pub list_id: Option<Uuid>,
    pub file_name: String,
    pub rows_total: i64,
    pub rows_done: i64,
    pub created_count: i64,
    pub updated_count: i64,
    pub skipped_count: i64,
    pub error_count: i64,
    /// JSON: `{"reason": …, "errors": [{row, column, message}]}`.
    pub report: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLS: [&str; 19] = [
    "org_id",
    "id",
    "user_id",
    "kind",
    "status",
    "dry_run",
    "skip_invalid",
    "list_id",
    "file_name",
    "rows_total",
    "rows_done",
    "created_count",
    "updated_count",
    "skipped_count",
    "error_count",
    "report",
    "created_at",
    "started_at",
    "finished_at",
];

fn cols() -> impl Iterator<Item = &'static str> {
    COLS.iter().copied()
}

pub async fn insert(c: &mut impl Conn, j: &ImportJob) -> Result<()> {
    let vals: Vec<SimpleExpr> = vec![
        j.org_id.into(),
        j.id.into(),
        j.user_id.into(),
        j.kind.clone().into(),
        j.status.clone().into(),
        j.dry_run.into(),
        j.skip_invalid.into(),
        j.list_id.into(),
        j.file_name.clone().into(),
        j.rows_total.into(),
        j.rows_done.into(),
        j.created_count.into(),
        j.updated_count.into(),
        j.skipped_count.into(),
        j.error_count.into(),
        j.report.clone().into(),
        j.created_at.into(),
        j.started_at.into(),
        j.finished_at.into(),
    ];
    let q = Query::insert()
        .into_table("import_jobs")
        .columns(cols())
        .values_panic(vals)
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn get(c: &mut impl Conn, org: OrgId, id: Uuid) -> Result<ImportJob> {
    let q = Query::select()
        .columns(cols())
        .from("import_jobs")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.one(&q).await
}

/// The latest jobs of a user, newest first.
pub async fn recent(
    c: &mut impl Conn,
    org: OrgId,
    user: UserId,
    limit: u64,
) -> Result<Vec<ImportJob>> {
    let q = Query::select()
        .columns(cols())
        .from("import_jobs")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .order_by("created_at", Order::Desc)
        .order_by("id", Order::Desc)
        .limit(limit)
        .to_owned();
    c.all(&q).await
}

/// Sets columns of a job (progress, status, counts, report).
pub async fn set(
    c: &mut impl Conn,
    org: OrgId,
    id: Uuid,
    changes: Vec<(&'static str, SimpleExpr)>,
) -> Result<()> {
    let mut q = Query::update();
    q.table("import_jobs");
    for (col, v) in changes {
        q.value(col, v);
    }
    q.and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id));
    c.exec(&q).await?;
    Ok(())
}

/// A record found by its external id: its id and owner (for prospects the
/// assignee, for activities the user who logged it).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ExternalRef {
    pub external_id: String,
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
}

/// Every record of `table` (companies, contacts, leads, prospects,
/// activities) that has an external id.
pub async fn external_ids(
    c: &mut impl Conn,
    org: OrgId,
    table: &'static str,
) -> Result<Vec<ExternalRef>> {
    let owner = match table {
        "prospects" => "assigned_to",
        "activities" => "user_id",
        _ => "owner_id",
    };
    let q = Query::select()
        .column("external_id")
        .column("id")
        .expr_as(Expr::col(owner), "owner_id")
        .from(table)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("external_id").is_not_null())
        .to_owned();
    c.all(&q).await
}

/// Sets the external id of one record (for tables whose row types do not
/// carry it, such as activities).
pub async fn set_external_id(
    c: &mut impl Conn,
    org: OrgId,
    table: &'static str,
    id: Uuid,
    external_id: Option<&str>,
) -> Result<()> {
    let q = Query::update()
        .table(table)
        .value("external_id", external_id.map(str::to_string))
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: Uuid,
}

/// The ids of the rows of `table` whose `col` equals `value` (at most two:
/// enough to tell one from several).
pub async fn ids_where(
    c: &mut impl Conn,
    org: OrgId,
    table: &'static str,
    col: &'static str,
    value: sea_query::Value,
) -> Result<Vec<Uuid>> {
    let q = Query::select()
        .column("id")
        .from(table)
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col(col).eq(value))
        .limit(2)
        .to_owned();
    Ok(c.all::<IdRow>(&q)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// Marks the jobs of every organisation that are still queued or running
/// but were created before `before` as failed with `report` (their server
/// stopped while they ran). Returns how many.
pub async fn fail_abandoned(
    c: &mut impl Conn,
    before: chrono::DateTime<chrono::Utc>,
    report: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let q = Query::update()
        .table("import_jobs")
        .value("status", "failed")
        .value("report", report)
        .value("finished_at", at)
        .and_where(Expr::col("status").is_in(["queued", "running"]))
        .and_where(Expr::col("created_at").lt(before))
        .to_owned();
    c.exec(&q).await
}
