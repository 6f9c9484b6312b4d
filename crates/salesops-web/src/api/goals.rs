//! Goals and quotas, and their live progress.

use super::{double_option, etag, path_id};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth, IfMatch, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use salesops_app::goals::{GoalInput, GoalPatch, Progress};
use salesops_domain::{Currency, GoalId, GoalMetric, Invalid, Money, PipelineId, TeamId, UserId};
use salesops_store::goals::Goal;
use serde::{Deserialize, Deserializer, Serialize};
use std::str::FromStr;
use uuid::Uuid;

/// A count as a whole number, revenue as a decimal amount of the base currency.
pub fn units(metric: GoalMetric, v: i64, base: Currency) -> String {
    if metric == GoalMetric::RevenueWon {
        Money::new(v, base).amount_string()
    } else {
        v.to_string()
    }
}

/// A decimal given as a JSON number or string.
pub fn decimal_any<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .map(Some)
            .map_err(|_| serde::de::Error::custom("target: not a decimal number")),
        Some(serde_json::Value::String(s)) => Decimal::from_str(s.trim())
            .map(Some)
            .map_err(|_| serde::de::Error::custom("target: not a decimal number")),
        Some(_) => Err(serde::de::Error::custom("target: not a decimal number")),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GoalOut {
    pub id: Uuid,
    /// user, team or each_member.
    pub assignee: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    /// activities, leads_created, leads_won, revenue_won or meetings_held.
    pub metric: String,
    pub activity_type_id: Option<Uuid>,
    pub outcome_id: Option<Uuid>,
    /// day, week, month, quarter, half_year or year.
    pub period: String,
    /// A count, or for revenue an amount in `currency`.
    pub target: String,
    /// The base currency, for revenue goals.
    pub currency: Option<String>,
    pub valid_from: NaiveDate,
    /// The last day the goal applies to; null: open-ended.
    pub valid_until: Option<NaiveDate>,
    pub pipeline_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl GoalOut {
    pub fn new(g: Goal, base: Currency) -> GoalOut {
        GoalOut {
            id: g.id.0,
            assignee: g.assignee.to_string(),
            user_id: g.user_id,
            team_id: g.team_id,
            metric: g.metric.to_string(),
            activity_type_id: g.activity_type_id,
            outcome_id: g.outcome_id,
            period: g.period.clone(),
            target: units(g.metric, g.target, base),
            currency: (g.metric == GoalMetric::RevenueWon).then(|| base.code().to_string()),
            valid_from: g.valid_from,
            valid_until: g.valid_until,
            pipeline_id: g.pipeline_id,
            created_by: g.created_by,
            created_at: g.created_at,
            updated_at: g.updated_at,
            version: g.version,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GoalList {
    pub items: Vec<GoalOut>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalCreate {
    /// user, team or each_member.
    pub assignee: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    /// activities, leads_created, leads_won, revenue_won or meetings_held.
    pub metric: String,
    /// Required for `activities`.
    pub activity_type_id: Option<Uuid>,
    /// Only activities with this outcome (of the goal's type).
    pub outcome_id: Option<Uuid>,
    /// day, week, month, quarter, half_year or year.
    pub period: String,
    /// More than zero: a whole count, or for revenue_won an amount in the
    /// base currency (number or decimal string).
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = String)]
    pub target: Option<Decimal>,
    /// Default: the start of the current period.
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub pipeline_id: Option<Uuid>,
}

impl From<GoalCreate> for GoalInput {
    fn from(b: GoalCreate) -> Self {
        GoalInput {
            assignee: b.assignee,
            user_id: b.user_id.map(UserId),
            team_id: b.team_id.map(TeamId),
            metric: b.metric,
            activity_type_id: b.activity_type_id,
            outcome_id: b.outcome_id,
            period: b.period,
            target: b.target,
            valid_from: b.valid_from,
            valid_until: b.valid_until,
            pipeline_id: b.pipeline_id.map(PipelineId),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalUpdate {
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = Option<String>)]
    pub target: Option<Decimal>,
    pub valid_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub valid_until: Option<Option<NaiveDate>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct GoalQuery {
    pub user: Option<String>,
    pub team: Option<String>,
    /// Progress on this day (default: today in the organisation's time zone).
    pub date: Option<String>,
}

/// Reads `?user=&team=&date=`; 422 naming the parameter when wrong.
pub fn goal_query(q: &GoalQuery) -> ApiResult<(Option<UserId>, Option<TeamId>, Option<NaiveDate>)> {
    let mut errs = Invalid::default();
    let user = q
        .user
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| errs.check("user", s.parse::<UserId>().map_err(|_| "must be a user id")));
    let team = q
        .team
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| errs.check("team", s.parse::<TeamId>().map_err(|_| "must be a team id")));
    let date = salesops_app::analytics::parse_date("date", q.date.as_deref(), &mut errs);
    errs.into_result()?;
    Ok((user, team, date))
}

use super::analytics::base;

#[utoipa::path(get, path = "/api/v1/goals", tag = "goals",
    params(("user" = Option<Uuid>, Query, description = "The goals that apply to this user (theirs and their teams')"),
           ("team" = Option<Uuid>, Query, description = "The goals of this team, its sub-teams and members")),
    responses((status = 200, body = GoalList), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<GoalQuery>,
) -> ApiResult<Json<GoalList>> {
    let (user, team, _) = goal_query(&q)?;
    let base = base(&s, &auth).await?;
    let goals = s.app.list_goals(&auth.actor, user, team).await?;
    Ok(Json(GoalList {
        items: goals.into_iter().map(|g| GoalOut::new(g, base)).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/goals", tag = "goals", request_body = GoalCreate,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = GoalOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<GoalCreate>,
) -> ApiResult<(StatusCode, HeaderMap, Json<GoalOut>)> {
    let base = base(&s, &auth).await?;
    let g = s.app.create_goal(&auth.actor, b.into()).await?;
    Ok((
        StatusCode::CREATED,
        etag(g.version),
        Json(GoalOut::new(g, base)),
    ))
}

#[utoipa::path(get, path = "/api/v1/goals/{id}", tag = "goals", params(("id" = Uuid, Path)),
    responses((status = 200, body = GoalOut), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(HeaderMap, Json<GoalOut>)> {
    let base = base(&s, &auth).await?;
    let g = s.app.get_goal(&auth.actor, path_id::<GoalId>(&id)?).await?;
    Ok((etag(g.version), Json(GoalOut::new(g, base))))
}

#[utoipa::path(patch, path = "/api/v1/goals/{id}", tag = "goals", request_body = GoalUpdate,
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 200, body = GoalOut), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
    ApiJson(b): ApiJson<GoalUpdate>,
) -> ApiResult<(HeaderMap, Json<GoalOut>)> {
    let id = path_id::<GoalId>(&id)?;
    let version = if_match.required()?;
    let base = base(&s, &auth).await?;
    let g = s
        .app
        .update_goal(
            &auth.actor,
            id,
            GoalPatch {
                target: b.target,
                valid_from: b.valid_from,
                valid_until: b.valid_until,
            },
            Some(version),
        )
        .await?;
    Ok((etag(g.version), Json(GoalOut::new(g, base))))
}

#[utoipa::path(delete, path = "/api/v1/goals/{id}", tag = "goals",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "Delete only if the version is still this one")),
    responses((status = 204), (status = 404, body = Problem), (status = 412, body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> ApiResult<StatusCode> {
    s.app
        .delete_goal(&auth.actor, path_id::<GoalId>(&id)?, if_match.0)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgressOut {
    pub goal_id: Uuid,
    pub metric: String,
    pub activity_type_id: Option<Uuid>,
    pub outcome_id: Option<Uuid>,
    /// The goal's period kind.
    pub period: String,
    /// The line's user (a user goal or one member of an each-member goal).
    pub user_id: Option<Uuid>,
    /// The line's team (team and each-member goals).
    pub team_id: Option<Uuid>,
    /// Whom the line is for.
    pub name: String,
    pub from: NaiveDate,
    /// Exclusive end of the period.
    pub to: NaiveDate,
    pub target: String,
    pub actual: String,
    pub currency: Option<String>,
    /// actual / target in percent (two decimals).
    pub percent: Option<String>,
    /// achieved, on_track, behind, missed or not_started.
    pub status: String,
    /// What the days gone should have brought.
    pub expected: String,
    /// How far the actual is below `expected` (0 unless behind or missed).
    pub behind_by: String,
    /// What is still needed per day left, when the period is running.
    pub needed_per_day: Option<String>,
    pub days_gone: i64,
    pub days_total: i64,
}

impl ProgressOut {
    pub fn new(p: Progress, base: Currency) -> ProgressOut {
        let m = p.goal.metric;
        let money = m == GoalMetric::RevenueWon;
        ProgressOut {
            goal_id: p.goal.id.0,
            metric: m.to_string(),
            activity_type_id: p.goal.activity_type_id,
            outcome_id: p.goal.outcome_id,
            period: p.goal.period.clone(),
            user_id: p.user_id.map(|u| u.0),
            team_id: p.team_id.map(|t| t.0),
            name: p.name,
            from: p.period.from,
            to: p.period.to,
            target: units(m, p.goal.target, base),
            actual: units(m, p.actual, base),
            currency: money.then(|| base.code().to_string()),
            percent: p
                .pace
                .progress
                .map(|d| format!("{:.2}", (d * Decimal::ONE_HUNDRED).round_dp(2))),
            status: serde_json::to_value(p.pace.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            expected: units(m, p.pace.expected, base),
            behind_by: units(m, p.pace.behind_by, base),
            needed_per_day: p.pace.needed_per_day.map(|d| {
                if money {
                    (d / Decimal::from(10i64.pow(base.exponent())))
                        .round_dp(base.exponent())
                        .to_string()
                } else {
                    d.to_string()
                }
            }),
            days_gone: p.pace.days_gone,
            days_total: p.pace.days_total,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProgressList {
    pub items: Vec<ProgressOut>,
}

#[utoipa::path(get, path = "/api/v1/goals/progress", tag = "goals",
    params(("user" = Option<Uuid>, Query, description = "Lines that concern this user"),
           ("team" = Option<Uuid>, Query, description = "Lines of this team's goals and members"),
           ("date" = Option<NaiveDate>, Query, description = "Progress on this day (default: today)")),
    responses((status = 200, body = ProgressList), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn progress(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<GoalQuery>,
) -> ApiResult<Json<ProgressList>> {
    let (user, team, date) = goal_query(&q)?;
    let base = base(&s, &auth).await?;
    let lines = s.app.progress_for(&auth.actor, user, team, date).await?;
    Ok(Json(ProgressList {
        items: lines
            .into_iter()
            .map(|p| ProgressOut::new(p, base))
            .collect(),
    }))
}
