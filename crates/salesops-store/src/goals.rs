//! Goals: targets per period for a user, a team, or each member of a team.

use crate::db::{Conn, Result, Table, delete_by_id, get_by_id, update_versioned};
use chrono::{DateTime, NaiveDate, Utc};
use salesops_domain::{GoalAssignee, GoalId, GoalMetric, OrgId, TeamId, UserId};
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SimpleExpr};
use uuid::Uuid;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Goal {
    #[sqlx(try_from = "Uuid")]
    pub org_id: OrgId,
    #[sqlx(try_from = "Uuid")]
    pub id: GoalId,
    #[sqlx(try_from = "String")]
    pub assignee: GoalAssignee,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub metric: GoalMetric,
    pub activity_type_id: Option<Uuid>,
    pub outcome_id: Option<Uuid>,
    pub period: String,
    pub target: i64,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub pipeline_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

pub const GOAL_COLS: [&str; 17] = [
    "org_id",
    "id",
    "assignee",
    "user_id",
    "team_id",
    "metric",
    "activity_type_id",
    "outcome_id",
    "period",
    "target",
    "valid_from",
    "valid_until",
    "pipeline_id",
    "created_by",
    "created_at",
    "updated_at",
    "version",
];

const GOALS: Table = Table {
    name: "goals",
    cols: &GOAL_COLS,
};

fn values(g: &Goal) -> [SimpleExpr; 17] {
    [
        g.org_id.0.into(),
        g.id.0.into(),
        g.assignee.as_str().into(),
        g.user_id.into(),
        g.team_id.into(),
        g.metric.as_str().into(),
        g.activity_type_id.into(),
        g.outcome_id.into(),
        g.period.clone().into(),
        g.target.into(),
        g.valid_from.into(),
        g.valid_until.into(),
        g.pipeline_id.into(),
        g.created_by.into(),
        g.created_at.into(),
        g.updated_at.into(),
        g.version.into(),
    ]
}

/// Inserts goals with one statement per batch of rows.
pub async fn insert_many(c: &mut impl Conn, rows: &[Goal]) -> Result<()> {
    for chunk in rows.chunks(crate::db::rows_per_insert(GOAL_COLS.len())) {
        let mut q = Query::insert();
        q.into_table("goals").columns(GOAL_COLS);
        for g in chunk {
            q.values_panic(values(g));
        }
        c.exec(&q).await?;
    }
    Ok(())
}

pub async fn get(c: &mut impl Conn, org: OrgId, id: GoalId) -> Result<Goal> {
    get_by_id(c, &GOALS, org, id.0).await
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Goals of these users or of these teams (either matches); `None`:
    /// every goal.
    pub users: Option<Vec<UserId>>,
    pub teams: Option<Vec<TeamId>>,
    /// Goals valid on some day of `[from, to)`.
    pub valid_between: Option<(NaiveDate, NaiveDate)>,
    pub metric: Option<GoalMetric>,
}

/// Goals in creation order.
pub async fn list(c: &mut impl Conn, org: OrgId, f: &Filter) -> Result<Vec<Goal>> {
    let mut q = Query::select();
    q.columns(GOAL_COLS)
        .from("goals")
        .and_where(Expr::col("org_id").eq(org.0));
    if f.users.is_some() || f.teams.is_some() {
        let mut any = Cond::any();
        if let Some(u) = &f.users {
            any = any.add(Expr::col("user_id").is_in(u.iter().map(|x| x.0).collect::<Vec<_>>()));
        }
        if let Some(t) = &f.teams {
            any = any.add(Expr::col("team_id").is_in(t.iter().map(|x| x.0).collect::<Vec<_>>()));
        }
        q.cond_where(any);
    }
    if let Some((from, to)) = f.valid_between {
        q.and_where(Expr::col("valid_from").lt(to));
        q.cond_where(
            Cond::any()
                .add(Expr::col("valid_until").is_null())
                .add(Expr::col("valid_until").gte(from)),
        );
    }
    if let Some(m) = f.metric {
        q.and_where(Expr::col("metric").eq(m.as_str()));
    }
    q.order_by("id", Order::Asc);
    c.all(&q).await
}

pub async fn update(
    c: &mut impl Conn,
    org: OrgId,
    id: GoalId,
    expected: Option<i64>,
    changes: Vec<(&'static str, SimpleExpr)>,
    at: DateTime<Utc>,
) -> Result<Goal> {
    update_versioned(c, &GOALS, org, id.0, expected, changes, at).await
}

/// Deletes a goal, when `expected` is given only at that version (`Stale`
/// otherwise).
pub async fn delete(
    c: &mut impl Conn,
    org: OrgId,
    id: GoalId,
    expected: Option<i64>,
) -> Result<()> {
    let Some(v) = expected else {
        return delete_by_id(c, "goals", org, id.0).await;
    };
    let q = Query::delete()
        .from_table("goals")
        .and_where(Expr::col("org_id").eq(org.0))
        .and_where(Expr::col("id").eq(id.0))
        .and_where(Expr::col("version").eq(v))
        .to_owned();
    if c.exec(&q).await? == 0 {
        get(c, org, id).await?;
        return Err(crate::StoreError::Stale);
    }
    Ok(())
}
