//! The facts reports and goals are computed from: narrow rows of
//! activities, leads and stage changes, read for a time range and a set of
//! people. The aggregation itself is pure (salesops-domain) and happens in
//! the application, so that every report has one definition whichever way
//! its facts were read.

use crate::db::{Conn, Result};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_domain::{OrgId, PipelineId, UserId};
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SelectStatement};
use uuid::Uuid;

/// A done activity.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ActivityFact {
    pub id: Uuid,
    pub user_id: Uuid,
    pub type_id: Uuid,
    pub outcome_id: Option<Uuid>,
    pub happened_at: DateTime<Utc>,
    pub duration_minutes: Option<i32>,
    pub lead_id: Option<Uuid>,
    pub prospect_id: Option<Uuid>,
}

/// Which done activities to read.
#[derive(Clone, Debug, Default)]
pub struct ActivityScope {
    /// Done at or after / before.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only these users' (None: everybody's).
    pub users: Option<Vec<UserId>>,
    /// Only activities on leads of this pipeline.
    pub pipeline: Option<PipelineId>,
}

pub async fn activity_facts(
    c: &mut impl Conn,
    org: OrgId,
    s: &ActivityScope,
) -> Result<Vec<ActivityFact>> {
    let mut q = Query::select();
    q.columns([
        "id",
        "user_id",
        "type_id",
        "outcome_id",
        "happened_at",
        "duration_minutes",
        "lead_id",
        "prospect_id",
    ])
    .from("activities")
    .and_where(Expr::col("org_id").eq(org.0))
    .and_where(Expr::col("done").eq(true));
    if let Some(t) = s.from {
        q.and_where(Expr::col("happened_at").gte(t));
    }
    if let Some(t) = s.to {
        q.and_where(Expr::col("happened_at").lt(t));
    }
    if let Some(u) = &s.users {
        q.and_where(Expr::col("user_id").is_in(u.iter().map(|x| x.0).collect::<Vec<_>>()));
    }
    if let Some(p) = s.pipeline {
        q.and_where(Expr::col("lead_id").in_subquery(leads_of_pipeline(org, p)));
    }
    q.order_by("happened_at", Order::Asc)
        .order_by("id", Order::Asc);
    c.all(&q).await
}

fn leads_of_pipeline(org: OrgId, p: PipelineId) -> SelectStatement {
    Query::select()
        .column("id")
        .from("leads")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("pipeline_id").eq(p.0))
        .to_owned()
}

/// A lead as reports see it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LeadFact {
    pub id: Uuid,
    pub title: String,
    pub pipeline_id: Uuid,
    pub stage_id: Uuid,
    pub status: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub probability: Option<i32>,
    pub expected_close_date: Option<NaiveDate>,
    pub owner_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub source: Option<String>,
    pub forecast_category: String,
    pub mql_at: Option<DateTime<Utc>>,
    pub sql_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub stage_entered_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

const LEAD_FACT_COLS: [&str; 18] = [
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
    "source",
    "forecast_category",
    "mql_at",
    "sql_at",
    "closed_at",
    "stage_entered_at",
    "created_at",
];

/// Which leads to read.
#[derive(Clone, Debug, Default)]
pub struct LeadScope {
    /// Leads created, closed or (when `open`) open at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Only leads owned by these users (None: every lead).
    pub owners: Option<Vec<UserId>>,
    pub pipeline: Option<PipelineId>,
    /// Only open leads.
    pub open_only: bool,
}

fn lead_filter(org: OrgId, s: &LeadScope) -> Cond {
    let mut c = Cond::all().add(Expr::col("org_id").eq(org.0));
    if let Some(t) = s.since {
        c = c.add(
            Cond::any()
                .add(Expr::col("created_at").gte(t))
                .add(Expr::col("closed_at").gte(t))
                .add(Expr::col("status").eq("open")),
        );
    }
    if let Some(t) = s.created_before {
        c = c.add(Expr::col("created_at").lt(t));
    }
    if let Some(o) = &s.owners {
        c = c.add(Expr::col("owner_id").is_in(o.iter().map(|x| x.0).collect::<Vec<_>>()));
    }
    if let Some(p) = s.pipeline {
        c = c.add(Expr::col("pipeline_id").eq(p.0));
    }
    if s.open_only {
        c = c.add(Expr::col("status").eq("open"));
    }
    c
}

pub async fn lead_facts(c: &mut impl Conn, org: OrgId, s: &LeadScope) -> Result<Vec<LeadFact>> {
    let q = Query::select()
        .columns(LEAD_FACT_COLS)
        .from("leads")
        .cond_where(lead_filter(org, s))
        .order_by("id", Order::Asc)
        .to_owned();
    c.all(&q).await
}

/// A stage or status change of a lead.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StageFact {
    pub lead_id: Uuid,
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Uuid,
    pub to_status: String,
    pub at: DateTime<Utc>,
}

/// The whole stage history of the leads `s` selects, per lead in time order.
pub async fn stage_facts(c: &mut impl Conn, org: OrgId, s: &LeadScope) -> Result<Vec<StageFact>> {
    let leads = Query::select()
        .column("id")
        .from("leads")
        .cond_where(lead_filter(org, s))
        .to_owned();
    let q = Query::select()
        .columns(["lead_id", "from_stage_id", "to_stage_id", "to_status", "at"])
        .from("lead_stage_history")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("lead_id").in_subquery(leads))
        .order_by("lead_id", Order::Asc)
        .order_by("at", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    c.all(&q).await
}

/// A prospect as reports see it, with its list.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProspectFact {
    pub id: Uuid,
    pub list_id: Uuid,
    pub list_team_id: Option<Uuid>,
    /// Who created the list (marketing delivering prospects).
    pub list_created_by: Uuid,
    pub assigned_to: Option<Uuid>,
    pub status: String,
    pub lead_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// Prospects created, closed (converted or disqualified) or still open at
/// or after `since` (every prospect when `None`).
pub async fn prospect_facts(
    c: &mut impl Conn,
    org: OrgId,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<ProspectFact>> {
    let mut q = Query::select();
    q.expr_as(Expr::col(("p", "id")), "id")
        .expr_as(Expr::col(("p", "list_id")), "list_id")
        .expr_as(Expr::col(("l", "team_id")), "list_team_id")
        .expr_as(Expr::col(("l", "created_by")), "list_created_by")
        .expr_as(Expr::col(("p", "assigned_to")), "assigned_to")
        .expr_as(Expr::col(("p", "status")), "status")
        .expr_as(Expr::col(("p", "lead_id")), "lead_id")
        .expr_as(Expr::col(("p", "created_at")), "created_at")
        .expr_as(Expr::col(("p", "closed_at")), "closed_at")
        .from_as("prospects", "p")
        .join_as(
            sea_query::JoinType::InnerJoin,
            "prospect_lists",
            "l",
            Cond::all()
                .add(Expr::col(("l", "org_id")).equals(("p", "org_id")))
                .add(Expr::col(("l", "id")).equals(("p", "list_id"))),
        )
        .and_where(Expr::col(("p", "org_id")).eq(org.0));
    if let Some(t) = since {
        q.cond_where(
            Cond::any()
                .add(Expr::col(("p", "created_at")).gte(t))
                .add(Expr::col(("p", "closed_at")).gte(t))
                .add(Expr::col(("p", "status")).eq("open")),
        );
    }
    q.order_by(("p", "id"), Order::Asc);
    c.all(&q).await
}
