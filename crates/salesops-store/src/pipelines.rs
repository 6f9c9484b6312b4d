//! Pipelines and their ordered stages.

use crate::db::{Conn, Count, Result, Table, delete_by_id, get_by_id, update_versioned};
use chrono::{DateTime, Utc};
use salesops_domain::{OrgId, PipelineId, PipelineKind, StageId};
use sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Pipeline {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: PipelineId,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: PipelineKind,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const PIPELINE_COLS: [&str; 8] = [
    "org_id",
    "id",
    "name",
    "kind",
    "is_default",
    "created_at",
    "updated_at",
    "version",
];
const PIPELINES: Table = Table {
    name: "pipelines",
    cols: &PIPELINE_COLS,
};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Stage {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: StageId,
    #[sqlx(try_from = "Uuid")]
    pub pipeline_id: PipelineId,
    pub name: String,
    pub position: i32,
    pub win_probability: i32,
    pub rotting_days: Option<i32>,
    pub colour: String,
    /// A JSON array of strings: the actions expected at this stage.
    pub checklist: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const STAGE_COLS: [&str; 12] = [
    "org_id",
    "id",
    "pipeline_id",
    "name",
    "position",
    "win_probability",
    "rotting_days",
    "colour",
    "checklist",
    "created_at",
    "updated_at",
    "version",
];
const STAGES: Table = Table {
    name: "stages",
    cols: &STAGE_COLS,
};

pub async fn insert_pipeline(c: &mut impl Conn, p: &Pipeline) -> Result<()> {
    let q = Query::insert()
        .into_table("pipelines")
        .columns(PIPELINE_COLS)
        .values_panic([
            p.org_id.0.into(),
            p.id.0.into(),
            p.name.clone().into(),
            p.kind.as_str().into(),
            p.is_default.into(),
            p.created_at.into(),
            p.updated_at.into(),
            p.version.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn get_pipeline(c: &mut impl Conn, org: OrgId, id: PipelineId) -> Result<Pipeline> {
    get_by_id(c, &PIPELINES, org, id.0).await
}

/// Every pipeline of the organisation, the default first, then by name.
pub async fn list_pipelines(c: &mut impl Conn, org: OrgId) -> Result<Vec<Pipeline>> {
    let q = Query::select()
        .columns(PIPELINE_COLS)
        .from("pipelines")
        .and_where(Expr::col("org_id").eq(org.0))
        .order_by("is_default", Order::Desc)
        .order_by("name", Order::Asc)
        .to_owned();
    c.all(&q).await
}

pub async fn count_pipelines(c: &mut impl Conn, org: OrgId) -> Result<i64> {
    let q = Query::select()
        .expr_as(Expr::col("id").count(), "n")
        .from("pipelines")
        .and_where(Expr::col("org_id").eq(org.0))
        .to_owned();
    Ok(c.one::<Count>(&q).await?.n)
}

pub async fn update_pipeline(
    c: &mut impl Conn,
    org: OrgId,
    id: PipelineId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Pipeline> {
    update_versioned(c, &PIPELINES, org, id.0, expected, changes, at).await
}

/// Deletes a pipeline and (by cascade) its stages.
pub async fn delete_pipeline(c: &mut impl Conn, org: OrgId, id: PipelineId) -> Result<()> {
    delete_by_id(c, "pipelines", org, id.0).await
}

pub async fn insert_stage(c: &mut impl Conn, s: &Stage) -> Result<()> {
    let q = Query::insert()
        .into_table("stages")
        .columns(STAGE_COLS)
        .values_panic([
            s.org_id.0.into(),
            s.id.0.into(),
            s.pipeline_id.0.into(),
            s.name.clone().into(),
            s.position.into(),
            s.win_probability.into(),
            s.rotting_days.into(),
            s.colour.clone().into(),
            s.checklist.clone().into(),
            s.created_at.into(),
            s.updated_at.into(),
            s.version.into(),
        ])
        .to_owned();
    c.exec(&q).await?;
    Ok(())
}

pub async fn get_stage(c: &mut impl Conn, org: OrgId, id: StageId) -> Result<Stage> {
    get_by_id(c, &STAGES, org, id.0).await
}

/// The stages of the given pipelines (all when `None`), ordered by pipeline and position.
pub async fn list_stages(
    c: &mut impl Conn,
    org: OrgId,
    pipelines: Option<&[PipelineId]>,
) -> Result<Vec<Stage>> {
    let mut q = Query::select();
    q.columns(STAGE_COLS)
        .from("stages")
        .and_where(Expr::col("org_id").eq(org.0));
    if let Some(p) = pipelines {
        q.and_where(Expr::col("pipeline_id").is_in(p.iter().map(|x| x.0).collect::<Vec<_>>()));
    }
    q.order_by("pipeline_id", Order::Asc)
        .order_by("position", Order::Asc)
        .order_by("id", Order::Asc);
    c.all(&q).await
}

pub async fn update_stage(
    c: &mut impl Conn,
    org: OrgId,
    id: StageId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Stage> {
    update_versioned(c, &STAGES, org, id.0, expected, changes, at).await
}

pub async fn delete_stage(c: &mut impl Conn, org: OrgId, id: StageId) -> Result<()> {
    delete_by_id(c, "stages", org, id.0).await
}
