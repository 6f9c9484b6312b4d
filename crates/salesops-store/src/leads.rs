//! Leads and their stage history.

use crate::db::{
    Backend, Bind, BulkRow, Conn, Inserts, Result, Table, delete_by_id, get_by_id, like_pattern,
    owned_by_or_unowned, update_versioned,
};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_domain::{
    CompanyId, ContactId, ForecastCategory, HistoryId, LeadId, LeadStatus, OrgId, PipelineId,
    StageId, UserId,
};
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Lead {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: LeadId,
    pub title: String,
    #[sqlx(try_from = "Uuid")]
    pub pipeline_id: PipelineId,
    #[sqlx(try_from = "Uuid")]
    pub stage_id: StageId,
    #[sqlx(try_from = "String")]
    pub status: LeadStatus,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub probability: Option<i32>,
    pub expected_close_date: Option<NaiveDate>,
    pub owner_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub source: Option<String>,
    pub campaign: Option<String>,
    #[sqlx(try_from = "String")]
    pub forecast_category: ForecastCategory,
    pub next_step_date: Option<NaiveDate>,
    pub mql_at: Option<DateTime<Utc>>,
    pub sql_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub lost_reason: Option<String>,
    pub competitor: Option<String>,
    pub stage_entered_at: DateTime<Utc>,
    pub external_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub const LEAD_COLS: [&str; 28] = [
    "org_id",
    "id",
    "title",
    "pipeline_id",
    "stage_id",
    "status",
    "amount_minor",
    "currency",
    "probability",
    "expected_close_date",
    "owner_id",
    "company_id",
    "contact_id",
    "source",
    "campaign",
    "forecast_category",
    "next_step_date",
    "mql_at",
    "sql_at",
    "closed_at",
    "lost_reason",
    "competitor",
    "stage_entered_at",
    "external_id",
    "created_at",
    "updated_at",
    "version",
    "search_text",
];
/// The columns a `Lead` decodes (all but the search text).
const LEAD_READ: [&str; 27] = [
    "org_id",
    "id",
    "title",
    "pipeline_id",
    "stage_id",
    "status",
    "amount_minor",
    "currency",
    "probability",
    "expected_close_date",
    "owner_id",
    "company_id",
    "contact_id",
    "source",
    "campaign",
    "forecast_category",
    "next_step_date",
    "mql_at",
    "sql_at",
    "closed_at",
    "lost_reason",
    "competitor",
    "stage_entered_at",
    "external_id",
    "created_at",
    "updated_at",
    "version",
];
const LEADS: Table = Table {
    name: "leads",
    cols: &LEAD_READ,
};

pub async fn insert(c: &mut impl Conn, l: &Lead) -> Result<()> {
    insert_many(c, std::slice::from_ref(l)).await
}

/// Inserts many leads with one statement per batch of rows.
pub async fn insert_many(c: &mut impl Conn, rows: &[Lead]) -> Result<()> {
    crate::db::insert_rows(c, "leads", &LEAD_COLS, rows).await
}

/// The statements [`insert_many`] runs, built without a connection.
pub fn inserts(backend: Backend, rows: &[Lead]) -> Result<Inserts> {
    Inserts::new(backend, "leads", &LEAD_COLS, rows)
}

impl BulkRow for Lead {
    fn bind_values<B: Bind>(&self, b: &mut B) {
        b.add(self.org_id.0);
        b.add(self.id.0);
        b.add(self.title.as_str());
        b.add(self.pipeline_id.0);
        b.add(self.stage_id.0);
        b.add(self.status.as_str());
        b.add(self.amount_minor);
        b.add(self.currency.as_deref());
        b.add(self.probability);
        b.add(self.expected_close_date);
        b.add(self.owner_id);
        b.add(self.company_id);
        b.add(self.contact_id);
        b.add(self.source.as_deref());
        b.add(self.campaign.as_deref());
        b.add(self.forecast_category.as_str());
        b.add(self.next_step_date);
        b.add(self.mql_at);
        b.add(self.sql_at);
        b.add(self.closed_at);
        b.add(self.lost_reason.as_deref());
        b.add(self.competitor.as_deref());
        b.add(self.stage_entered_at);
        b.add(self.external_id.as_deref());
        b.add(self.created_at);
        b.add(self.updated_at);
        b.add(self.version);
        b.add(crate::db::search_text(&[&self.title]));
    }
}

pub async fn get(c: &mut impl Conn, org: OrgId, id: LeadId) -> Result<Lead> {
    get_by_id(c, &LEADS, org, id.0).await
}

pub async fn by_external_id(
    c: &mut impl Conn,
    org: OrgId,
    external_id: &str,
) -> Result<Option<Lead>> {
    let q = Query::select()
        .columns(LEAD_READ)
        .from("leads")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("external_id").eq(external_id))
        .to_owned();
    c.opt(&q).await
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only unowned leads and those of these users (None: all).
    pub owners: Option<Vec<UserId>>,
    pub owner: Option<UserId>,
    pub pipeline: Option<PipelineId>,
    pub stage: Option<StageId>,
    pub status: Option<LeadStatus>,
    pub company: Option<CompanyId>,
    pub contact: Option<ContactId>,
    /// Search the title, the company's name and the contact's name.
    pub q: Option<String>,
    /// Only these leads.
    pub ids: Option<Vec<LeadId>>,
}

fn apply_filter(q: &mut sea_query::SelectStatement, org: OrgId, f: &Filter) {
    q.and_where(Expr::col(("leads", "org_id")).eq(org.0));
    if let Some(o) = &f.owners {
        q.cond_where(owned_by_or_unowned(o));
    }
    if let Some(o) = f.owner {
        q.and_where(Expr::col(("leads", "owner_id")).eq(o.0));
    }
    if let Some(p) = f.pipeline {
        q.and_where(Expr::col(("leads", "pipeline_id")).eq(p.0));
    }
    if let Some(s) = f.stage {
        q.and_where(Expr::col(("leads", "stage_id")).eq(s.0));
    }
    if let Some(s) = f.status {
        q.and_where(Expr::col(("leads", "status")).eq(s.as_str()));
    }
    if let Some(c) = f.company {
        q.and_where(Expr::col(("leads", "company_id")).eq(c.0));
    }
    if let Some(c) = f.contact {
        q.and_where(Expr::col(("leads", "contact_id")).eq(c.0));
    }
    if let Some(ids) = &f.ids {
        q.and_where(Expr::col(("leads", "id")).is_in(ids.iter().map(|l| l.0).collect::<Vec<_>>()));
    }
    if let Some(text) = &f.q {
        let p = like_pattern(text);
        let companies = Query::select()
            .column("id")
            .from("companies")
            .and_where(Expr::col("org_id").eq(org.0))
            .and_where(Expr::col("search_text").like(p.clone()))
            .to_owned();
        let contacts = Query::select()
            .column("id")
            .from("contacts")
            .and_where(Expr::col("org_id").eq(org.0))
            .and_where(Expr::col("search_text").like(p.clone()))
            .to_owned();
        q.cond_where(
            Cond::any()
                .add(Expr::col(("leads", "search_text")).like(p))
                .add(Expr::col(("leads", "company_id")).in_subquery(companies))
                .add(Expr::col(("leads", "contact_id")).in_subquery(contacts)),
        );
    }
}

/// Leads by id after the cursor.
pub async fn list(
    c: &mut impl Conn,
    org: OrgId,
    f: &Filter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Lead>> {
    let mut q = Query::select();
    q.columns(LEAD_READ.iter().map(|col| ("leads", *col)))
        .from("leads");
    apply_filter(&mut q, org, f);
    if let Some(a) = after {
        q.and_where(Expr::col(("leads", "id")).gt(a));
    }
    q.order_by(("leads", "id"), Order::Asc).limit(limit);
    c.all(&q).await
}

/// Open leads of a pipeline for its board, longest in their stage first.
pub async fn board_cards(
    c: &mut impl Conn,
    org: OrgId,
    f: &Filter,
    limit: u64,
) -> Result<Vec<Lead>> {
    let mut q = Query::select();
    q.columns(LEAD_READ.iter().map(|col| ("leads", *col)))
        .from("leads");
    apply_filter(&mut q, org, f);
    q.order_by(("leads", "stage_entered_at"), Order::Asc)
        .order_by(("leads", "id"), Order::Asc)
        .limit(limit);
    c.all(&q).await
}

/// Per stage and currency: how many leads, their amount, and the sum of
/// amount × probability (percent; the lead's override, else the stage's).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StageTotal {
    pub stage_id: Uuid,
    pub currency: Option<String>,
    pub n: i64,
    pub amount_minor: Option<i64>,
    pub weighted_percent_minor: Option<i64>,
}

pub async fn stage_totals(c: &mut impl Conn, org: OrgId, f: &Filter) -> Result<Vec<StageTotal>> {
    let mut q = Query::select();
    q.expr_as(Expr::col(("leads", "stage_id")), "stage_id")
        .expr_as(Expr::col(("leads", "currency")), "currency")
        .expr_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
        .expr_as(Expr::cust("CAST(SUM(leads.amount_minor) AS BIGINT)"), "amount_minor")
        .expr_as(
            Expr::cust("CAST(SUM(leads.amount_minor * COALESCE(leads.probability, stages.win_probability)) AS BIGINT)"),
            "weighted_percent_minor",
        )
        .from("leads")
        .inner_join(
            "stages",
            Expr::col(("stages", "org_id")).equals(("leads", "org_id")).and(Expr::col(("stages", "id")).equals(("leads", "stage_id"))),
        );
    apply_filter(&mut q, org, f);
    q.group_by_col(("leads", "stage_id"))
        .group_by_col(("leads", "currency"));
    c.all(&q).await
}

pub async fn update(
    c: &mut impl Conn,
    org: OrgId,
    id: LeadId,
    expected: Option<i64>,
    mut changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Lead> {
    if let Some((_, SimpleExpr::Value(sea_query::Value::String(Some(title))))) =
        changes.iter().find(|(c, _)| *c == "title")
    {
        let text = crate::db::search_text(&[title.as_str()]);
        changes.push(("search_text", text.into()));
    }
    update_versioned(c, &LEADS, org, id.0, expected, changes, at).await
}

pub async fn delete(c: &mut impl Conn, org: OrgId, id: LeadId) -> Result<()> {
    delete_by_id(c, "leads", org, id.0).await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HistoryEntry {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: HistoryId,
    #[sqlx(try_from = "Uuid")]
    pub lead_id: LeadId,
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Uuid,
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: DateTime<Utc>,
    pub by_user_id: Option<Uuid>,
}

const HISTORY_COLS: [&str; 9] = [
    "org_id",
    "id",
    "lead_id",
    "from_stage_id",
    "to_stage_id",
    "from_status",
    "to_status",
    "at",
    "by_user_id",
];

pub async fn insert_history(c: &mut impl Conn, h: &HistoryEntry) -> Result<()> {
    insert_history_many(c, std::slice::from_ref(h)).await
}

/// Inserts many history rows with one statement per batch.
pub async fn insert_history_many(c: &mut impl Conn, rows: &[HistoryEntry]) -> Result<()> {
    crate::db::insert_rows(c, "lead_stage_history", &HISTORY_COLS, rows).await
}

/// The statements [`insert_history_many`] runs, built without a connection.
pub fn history_inserts(backend: Backend, rows: &[HistoryEntry]) -> Result<Inserts> {
    Inserts::new(backend, "lead_stage_history", &HISTORY_COLS, rows)
}

impl BulkRow for HistoryEntry {
    fn bind_values<B: Bind>(&self, b: &mut B) {
        b.add(self.org_id.0);
        b.add(self.id.0);
        b.add(self.lead_id.0);
        b.add(self.from_stage_id);
        b.add(self.to_stage_id);
        b.add(self.from_status.as_deref());
        b.add(self.to_status.as_str());
        b.add(self.at);
        b.add(self.by_user_id);
    }
}

/// A lead's history, oldest first.
pub async fn history(c: &mut impl Conn, org: OrgId, lead: LeadId) -> Result<Vec<HistoryEntry>> {
    let q = Query::select()
        .columns(HISTORY_COLS)
        .from("lead_stage_history")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("lead_id").eq(lead.0))
        .order_by("at", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    c.all(&q).await
}
