//! The backwards planner: `POST /planner` computes, `POST /planner/apply`
//! turns the plan into goals.

use super::MoneyDto;
use super::goals::decimal_any;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use salesops_app::planner::{ManualRatios, PlanView, PlannerInput, RatioSource, SplitBy};
use salesops_domain::{Invalid, Money};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatiosIn {
    /// Average deal size in the base currency.
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = Option<String>)]
    pub deal_size: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = Option<String>)]
    pub leads_per_deal: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = Option<String>)]
    pub prospects_per_lead: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = Option<String>)]
    pub calls_per_prospect: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = Option<String>)]
    pub calls_per_lead: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = Option<String>)]
    pub meetings_per_lead: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = Option<String>)]
    pub proposals_per_lead: Option<Decimal>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlannerRequest {
    /// The revenue target in the organisation's base currency.
    #[serde(default, deserialize_with = "decimal_any")]
    #[schema(value_type = String)]
    pub target: Option<Decimal>,
    /// A period preset such as next_quarter or this_year; or give from and to.
    pub preset: Option<String>,
    pub from: Option<String>,
    /// Exclusive end.
    pub to: Option<String>,
    /// history (default), best_quartile or manual.
    pub source: Option<String>,
    /// The history window (default: the 12 months before the period).
    pub window_from: Option<String>,
    pub window_to: Option<String>,
    /// Ratios typed by hand; each overrides the source's value.
    #[serde(default)]
    pub ratios: RatiosIn,
    /// capacity (default: by the activities each member did in the window) or evenly.
    pub split: Option<String>,
}

impl PlannerRequest {
    pub fn input(self, today: NaiveDate) -> Result<PlannerInput, Invalid> {
        let period = salesops_app::analytics::resolve_period(
            self.preset.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
            today,
        );
        let mut errs = Invalid::default();
        let period = match period {
            Ok(p) => Some(p),
            Err(e) => {
                errs.0.extend(e.0);
                None
            }
        };
        let window = match (self.window_from.as_deref(), self.window_to.as_deref()) {
            (None, None) => None,
            (f, t) => match salesops_app::analytics::resolve_period(None, f, t, today) {
                Ok(p) => Some(p),
                Err(e) => {
                    for mut x in e.0 {
                        x.field = format!("window_{}", x.field);
                        errs.0.push(x);
                    }
                    None
                }
            },
        };
        let source = errs.check(
            "source",
            self.source
                .as_deref()
                .unwrap_or("history")
                .parse::<RatioSource>(),
        );
        let split = match self.split.as_deref().unwrap_or("capacity") {
            "capacity" => Some(SplitBy::Capacity),
            "evenly" => Some(SplitBy::Evenly),
            _ => {
                errs.push("split", "must be capacity or evenly");
                None
            }
        };
        errs.into_result()?;
        let r = self.ratios;
        Ok(PlannerInput {
            target: self.target,
            period: period.expect("checked"),
            source: source.expect("checked"),
            window,
            manual: ManualRatios {
                deal_size: r.deal_size,
                leads_per_deal: r.leads_per_deal,
                prospects_per_lead: r.prospects_per_lead,
                calls_per_prospect: r.calls_per_prospect,
                calls_per_lead: r.calls_per_lead,
                meetings_per_lead: r.meetings_per_lead,
                proposals_per_lead: r.proposals_per_lead,
            },
            split: split.expect("checked"),
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RatioOut {
    pub name: String,
    pub value: String,
    /// history, best_quartile or manual.
    pub source: String,
    /// The counts behind a ratio from history.
    pub numerator: Option<String>,
    pub denominator: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValueOut {
    /// deals, revenue, prospects, cold_calls, calls, meetings or proposals.
    pub metric: String,
    /// A count, or for revenue an amount of the base currency.
    pub total: String,
    /// The total over the weeks of the period, rounded up.
    pub per_week: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberOut {
    pub user_id: Uuid,
    pub name: String,
    pub team_id: Uuid,
    pub weight: String,
    pub values: Vec<ValueOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentOut {
    /// marketing, prospecting or sales.
    pub segment: String,
    pub values: Vec<ValueOut>,
    pub members: Vec<MemberOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotalsOut {
    pub deals: i64,
    pub leads: i64,
    pub prospects: i64,
    pub cold_calls: i64,
    pub calls: i64,
    pub meetings: i64,
    pub proposals: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlanOut {
    pub target: MoneyDto,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub ratios: Vec<RatioOut>,
    pub totals: TotalsOut,
    pub weeks: i64,
    pub segments: Vec<SegmentOut>,
    /// How many reps made the best quartile (source best_quartile).
    pub best_reps: Option<usize>,
    /// Goals written (apply only).
    pub goals_created: Option<usize>,
}

fn value(target: &Money, (metric, total, per_week): &(&'static str, i64, i64)) -> ValueOut {
    let fmt = |v: i64| {
        if *metric == "revenue" {
            Money::new(v, target.currency).amount_string()
        } else {
            v.to_string()
        }
    };
    ValueOut {
        metric: metric.to_string(),
        total: fmt(*total),
        per_week: fmt(*per_week),
    }
}

impl PlanOut {
    pub fn new(p: PlanView, goals_created: Option<usize>) -> PlanOut {
        let t = p.target;
        PlanOut {
            target: t.into(),
            from: p.period.from,
            to: p.period.to,
            window_from: p.window.from,
            window_to: p.window.to,
            ratios: p
                .ratios
                .iter()
                .map(|r| RatioOut {
                    name: r.name.into(),
                    value: r.value.normalize().to_string(),
                    source: r.source.into(),
                    numerator: r.basis.map(|b| b.0.normalize().to_string()),
                    denominator: r.basis.map(|b| b.1.normalize().to_string()),
                })
                .collect(),
            totals: TotalsOut {
                deals: p.totals.deals,
                leads: p.totals.leads,
                prospects: p.totals.prospects,
                cold_calls: p.totals.cold_calls,
                calls: p.totals.calls,
                meetings: p.totals.meetings,
                proposals: p.totals.proposals,
            },
            weeks: p.weeks,
            segments: p
                .segments
                .iter()
                .map(|s| SegmentOut {
                    segment: s.segment.to_string(),
                    values: s.values.iter().map(|v| value(&t, v)).collect(),
                    members: s
                        .members
                        .iter()
                        .map(|m| MemberOut {
                            user_id: m.user_id.0,
                            name: m.name.clone(),
                            team_id: m.team_id.0,
                            weight: m.weight.normalize().to_string(),
                            values: m.values.iter().map(|v| value(&t, v)).collect(),
                        })
                        .collect(),
                })
                .collect(),
            best_reps: p.best_reps,
            goals_created,
        }
    }
}

async fn input(s: &AppState, auth: &Auth, b: PlannerRequest) -> ApiResult<PlannerInput> {
    let today = super::analytics::today(s, auth).await?;
    Ok(b.input(today)?)
}

#[utoipa::path(post, path = "/api/v1/planner", tag = "planner", request_body = PlannerRequest,
    responses((status = 200, body = PlanOut), (status = 422, body = Problem)))]
pub async fn plan(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<PlannerRequest>,
) -> ApiResult<Json<PlanOut>> {
    let input = input(&s, &auth, b).await?;
    let p = s.app.plan(&auth.actor, &input).await?;
    Ok(Json(PlanOut::new(p, None)))
}

#[utoipa::path(post, path = "/api/v1/planner/apply", tag = "planner", request_body = PlannerRequest,
    responses((status = 201, body = PlanOut), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn apply(
    State(s): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<PlannerRequest>,
) -> ApiResult<(StatusCode, Json<PlanOut>)> {
    let input = input(&s, &auth, b).await?;
    let (p, n) = s.app.apply_plan(&auth.actor, &input).await?;
    Ok((StatusCode::CREATED, Json(PlanOut::new(p, Some(n)))))
}
