//! Activity types and their outcomes.

use crate::db::{Conn, Count, Result, Table, delete_by_id, get_by_id, update_versioned};
use chrono::{DateTime, Utc};
use salesops_domain::{ActivityKind, ActivityTypeId, OrgId, OutcomeId};
use sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ActivityType {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: ActivityTypeId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: ActivityKind,
    pub colour: String,
    pub icon: String,
    pub counts_as_selling: bool,
    pub archived: bool,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const TYPE_COLS: [&str; 12] = [
    "org_id",
    "id",
    "name",
    "kind",
    "colour",
    "icon",
    "counts_as_selling",
    "archived",
    "position",
    "created_at",
    "updated_at",
    "version",
];
const TYPES: Table = Table {
    name: "activity_types",
    cols: &TYPE_COLS,
};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Outcome {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: OutcomeId,
    #[sqlx(try_from = "Uuid")]
    pub type_id: ActivityTypeId,
    pub name: String,
    pub colour: String,
    pub positive: bool,
    pub archived: bool,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const OUTCOME_COLS: [&str; 11] = [
    "org_id",
    "id",
    "type_id",
    "name",
    "colour",
    "positive",
    "archived",
    "position",
    "created_at",
    "updated_at",
    "version",
];
const OUTCOMES: Table = Table {
    name: "activity_outcomes",
    cols: &OUTCOME_COLS,
};

pub async fn insert_type(c: &mut impl Conn, t: &ActivityType) -> Result<()> {
    let q = Query::insert()
        .into_table("activity_types")
        .columns(TYPE_COLS)
        .values_panic([
            t.org_id.0.into(),
            t.id.0.into(),
            t.name.clone().into(),
            t.kind.as_str().into(),
            t.colour.clone().into(),
            t.icon.clone().into(),
            t.counts_as_selling.into(),
            t.archived.into(),
            t.position.into(),
            t.created_at.into(),
            t.updated_at.into(),
            t.version.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn get_type(c: &mut impl Conn, org: OrgId, id: ActivityTypeId) -> Result<ActivityType> {
    get_by_id(c, &TYPES, org, id.0).await
}

/// Types in their order; archived ones only when asked for.
pub async fn list_types(
    c: &mut impl Conn,
    org: OrgId,
    include_archived: bool,
) -> Result<Vec<ActivityType>> {
    let mut q = Query::select();
    q.columns(TYPE_COLS)
        .from("activity_types")
        .and_where(Expr::col("org_id").eq(org.0));
    if !include_archived {
        q.and_where(Expr::col("archived").eq(false));
    }
    q.order_by("position", Order::Asc)
        .order_by("id", Order::Asc);
    c.all(&q).await
}

pub async fn count_types(c: &mut impl Conn, org: OrgId) -> Result<i64> {
    let q = Query::select()
        .expr_as(Expr::col("id").count(), "n")
        .from("activity_types")
        .and_where(Expr::col("org_id").eq(org.0))
        .to_owned();
    Ok(c.one::<Count>(&q).await?.n)
}

pub async fn update_type(
    c: &mut impl Conn,
    org: OrgId,
    id: ActivityTypeId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<ActivityType> {
    update_versioned(c, &TYPES, org, id.0, expected, changes, at).await
}

/// Deletes a type and its outcomes; refused (`Reference`) once activities use it.
pub async fn delete_type(c: &mut impl Conn, org: OrgId, id: ActivityTypeId) -> Result<()> {
    delete_by_id(c, "activity_types", org, id.0).await
}

pub async fn insert_outcome(c: &mut impl Conn, o: &Outcome) -> Result<()> {
    let q = Query::insert()
        .into_table("activity_outcomes")
        .columns(OUTCOME_COLS)
        .values_panic([
            o.org_id.0.into(),
            o.id.0.into(),
            o.type_id.0.into(),
            o.name.clone().into(),
            o.colour.clone().into(),
            o.positive.into(),
            o.archived.into(),
            o.position.into(),
            o.created_at.into(),
            o.updated_at.into(),
            o.version.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn get_outcome(c: &mut impl Conn, org: OrgId, id: OutcomeId) -> Result<Outcome> {
    get_by_id(c, &OUTCOMES, org, id.0).await
}

/// Outcomes of the given types (all when `None`), in order.
pub async fn list_outcomes(
    c: &mut impl Conn,
    org: OrgId,
    types: Option<&[ActivityTypeId]>,
    include_archived: bool,
) -> Result<Vec<Outcome>> {
    let mut q = Query::select();
    q.columns(OUTCOME_COLS)
        .from("activity_outcomes")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(t) = types {
        q.and_where(Expr::col("type_id").is_in(t.iter().map(|x| x.0).collect::<Vec<_>>()));
    }
    if !include_archived {
        q.and_where(Expr::col("archived").eq(false));
    }
    q.order_by("type_id", Order::Asc)
        .order_by("position", Order::Asc)
        .order_by("id", Order::Asc);
    c.all(&q).await
}

pub async fn update_outcome(
    c: &mut impl Conn,
    org: OrgId,
    id: OutcomeId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Outcome> {
    update_versioned(c, &OUTCOMES, org, id.0, expected, changes, at).await
}

pub async fn delete_outcome(c: &mut impl Conn, org: OrgId, id: OutcomeId) -> Result<()> {
    delete_by_id(c, "activity_outcomes", org, id.0).await
}
