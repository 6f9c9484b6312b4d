//! The backwards planner (SPEC "Activity-based selling", step 2): from a
//! revenue target and a period to the deals, leads, prospects and
//! activities it takes, with ratios from the organisation's history, from
//! its best quartile of reps, or typed by hand; split by team segment and
//! across members; applied as goals in one step.

use crate::analytics::{Ctx, Facts};
use crate::goals::GoalInput;
use crate::permissions::{Action, Actor, Resource, require};
use crate::{App, AppError, Result};
use chrono::{Duration, Months};
use rust_decimal::Decimal;
use salesops_domain::periods::{Period, PeriodKind};
use salesops_domain::planner::{self, Plan, Ratios};
use salesops_domain::{
    ActivityKind, GoalMetric, Invalid, LeadStatus, Money, Segment, TeamId, UserId,
};
use salesops_store::analytics as facts;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Where the ratios come from when not typed by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatioSource {
    /// Everybody's history in the window.
    History,
    /// The history of the best quarter of reps (by win rate, at least one).
    BestQuartile,
    /// Every ratio typed by hand.
    Manual,
}

impl std::str::FromStr for RatioSource {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "history" => Ok(RatioSource::History),
            "best_quartile" => Ok(RatioSource::BestQuartile),
            "manual" => Ok(RatioSource::Manual),
            _ => Err("must be history, best_quartile or manual".into()),
        }
    }
}

impl RatioSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RatioSource::History => "history",
            RatioSource::BestQuartile => "best_quartile",
            RatioSource::Manual => "manual",
        }
    }
}

/// How a segment's numbers are split across its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitBy {
    /// By capacity: the activities each member did in the window.
    Capacity,
    Evenly,
}

/// Ratios typed by hand; each one given overrides the source's value.
#[derive(Clone, Debug, Default)]
pub struct ManualRatios {
    /// In the base currency.
    pub deal_size: Option<Decimal>,
    pub leads_per_deal: Option<Decimal>,
    pub prospects_per_lead: Option<Decimal>,
    pub calls_per_prospect: Option<Decimal>,
    pub calls_per_lead: Option<Decimal>,
    pub meetings_per_lead: Option<Decimal>,
    pub proposals_per_lead: Option<Decimal>,
}

#[derive(Clone, Debug)]
pub struct PlannerInput {
    /// The revenue target in the base currency.
    pub target: Option<Decimal>,
    pub period: Period,
    pub source: RatioSource,
    /// The history window (default: the 12 months before the period).
    pub window: Option<Period>,
    pub manual: ManualRatios,
    pub split: SplitBy,
}

/// A ratio of the plan and where it came from.
#[derive(Clone, Debug)]
pub struct SourcedRatio {
    pub name: &'static str,
    pub value: Decimal,
    /// history, best_quartile or manual.
    pub source: &'static str,
    /// The counts behind a ratio from history (numerator, denominator).
    pub basis: Option<(Decimal, Decimal)>,
}

/// One member's share.
#[derive(Clone, Debug)]
pub struct MemberPlan {
    pub user_id: UserId,
    pub name: String,
    pub team_id: TeamId,
    /// The weight of the split (activities in the window; 1 when even).
    pub weight: Decimal,
    /// (metric name, total in the period, per week rounded up).
    pub values: Vec<(&'static str, i64, i64)>,
}

/// What a team segment must deliver.
#[derive(Clone, Debug)]
pub struct SegmentPlan {
    pub segment: Segment,
    /// (metric name, total, per week rounded up).
    pub values: Vec<(&'static str, i64, i64)>,
    pub members: Vec<MemberPlan>,
}

#[derive(Clone, Debug)]
pub struct PlanView {
    pub target: Money,
    pub period: Period,
    pub window: Period,
    pub ratios: Vec<SourcedRatio>,
    pub totals: Plan,
    /// Weeks the period spans (rounded up), for the per-week figures.
    pub weeks: i64,
    pub segments: Vec<SegmentPlan>,
    /// How many reps made the best quartile (best_quartile only).
    pub best_reps: Option<usize>,
}

/// The ratio names, in the order they are shown.
pub const RATIO_NAMES: [&str; 7] = [
    "deal_size",
    "leads_per_deal",
    "prospects_per_lead",
    "calls_per_prospect",
    "calls_per_lead",
    "meetings_per_lead",
    "proposals_per_lead",
];

/// The metrics a segment delivers.
fn segment_metrics(s: Segment) -> &'static [&'static str] {
    match s {
        Segment::Marketing => &["prospects"],
        Segment::Prospecting => &["cold_calls"],
        Segment::Sales => &["deals", "revenue", "calls", "meetings", "proposals"],
        Segment::AccountManagement => &[],
    }
}

fn plan_value(p: &Plan, target: &Money, name: &str) -> i64 {
    match name {
        "deals" => p.deals,
        "leads" => p.leads,
        "prospects" => p.prospects,
        "cold_calls" => p.cold_calls,
        "calls" => p.calls,
        "meetings" => p.meetings,
        "proposals" => p.proposals,
        "revenue" => target.minor,
        _ => 0,
    }
}

/// History counts in a window for the ratios, over a set of reps (or all).
struct Counts {
    revenue: i64,
    won: i64,
    closed: i64,
    /// Won or lost (cancelled leads were never decided): 1 / win rate.
    decided: i64,
    prospects: i64,
    converted: i64,
    prospect_calls: i64,
    called_prospects: i64,
    lead_calls: i64,
    lead_meetings: i64,
    lead_proposals: i64,
}

fn counts(ctx: &Ctx, f: &Facts, window: Period, reps: Option<&HashSet<Uuid>>) -> Counts {
    let (t0, t1) = ctx.instants(window);
    let inr = |t: chrono::DateTime<chrono::Utc>| t0 <= t && t < t1;
    let mine = |u: Option<Uuid>| reps.is_none_or(|s| u.is_some_and(|u| s.contains(&u)));
    let closed: Vec<_> = f
        .leads
        .iter()
        .filter(|l| l.status != LeadStatus::Open.as_str() && l.closed_at.is_some_and(inr))
        .filter(|l| mine(l.owner_id))
        .collect();
    let won: Vec<_> = closed
        .iter()
        .filter(|l| l.status == LeadStatus::Won.as_str())
        .collect();
    let closed_ids: HashSet<Uuid> = closed.iter().map(|l| l.id).collect();
    let prospects: Vec<_> = f
        .prospects
        .iter()
        .filter(|p| inr(p.created_at) && mine(p.assigned_to.or(Some(p.list_created_by))))
        .collect();
    let is_call = |a: &facts::ActivityFact| ctx.kind_of(a) == Some(ActivityKind::Call);
    let mut called = HashSet::new();
    let mut c = Counts {
        revenue: won.iter().filter_map(|l| ctx.revenue(l)).sum(),
        won: won.len() as i64,
        closed: closed.len() as i64,
        decided: closed
            .iter()
            .filter(|l| {
                l.status == LeadStatus::Won.as_str() || l.status == LeadStatus::Lost.as_str()
            })
            .count() as i64,
        prospects: prospects.len() as i64,
        converted: prospects.iter().filter(|p| p.lead_id.is_some()).count() as i64,
        prospect_calls: 0,
        called_prospects: 0,
        lead_calls: 0,
        lead_meetings: 0,
        lead_proposals: 0,
    };
    for a in f.activities.iter().filter(|a| mine(Some(a.user_id))) {
        if let Some(p) = a.prospect_id
            && inr(a.happened_at)
            && is_call(a)
        {
            c.prospect_calls += 1;
            called.insert(p);
        }
        if a.lead_id.is_some_and(|l| closed_ids.contains(&l)) {
            match ctx.kind_of(a) {
                Some(ActivityKind::Call) => c.lead_calls += 1,
                Some(ActivityKind::Meeting) if ctx.is_meeting_held(a) => c.lead_meetings += 1,
                Some(ActivityKind::Proposal) => c.lead_proposals += 1,
                _ => {}
            }
        }
    }
    c.called_prospects = called.len() as i64;
    c
}

impl App {
    /// Computes a plan (nothing is written).
    pub async fn plan(&self, actor: &Actor, input: &PlannerInput) -> Result<PlanView> {
        // The ratios and the split read the whole organisation's history
        // and everybody's activity: for those who see all reports.
        require(actor, Resource::Report, Action::Read, None)?;
        let ctx = self.analytics_ctx(actor).await?;
        let mut errs = Invalid::default();
        let target = match input.target {
            None => {
                errs.push("target", "is required");
                None
            }
            Some(t) => errs.check("target", Money::from_decimal(t, ctx.base).map_err(|e| e.0)),
        };
        let window = input.window.unwrap_or_else(|| Period {
            from: input.period.from - Months::new(12),
            to: input.period.from,
        });
        errs.into_result()?;
        let target = target.expect("checked");

        // History: leads closed, prospects added and activities done in the
        // window, plus the activities on the leads closed in it.
        let (t0, t1) = ctx.instants(window);
        let mut c = self.conn();
        let mut f = Facts::default();
        if input.source != RatioSource::Manual || input.split == SplitBy::Capacity {
            f.leads = facts::lead_facts(
                &mut c,
                actor.org_id,
                &facts::LeadScope {
                    since: Some(t0),
                    ..Default::default()
                },
            )
            .await?;
            f.prospects = facts::prospect_facts(&mut c, actor.org_id, Some(t0)).await?;
            // Activities on the leads closed in the window began before it:
            // read from a year before the window on.
            f.activities = facts::activity_facts(
                &mut c,
                actor.org_id,
                &facts::ActivityScope {
                    from: Some(t0 - Duration::days(366)),
                    to: Some(t1),
                    ..Default::default()
                },
            )
            .await?;
        }

        let mut best_reps = None;
        let reps: Option<HashSet<Uuid>> = match input.source {
            RatioSource::BestQuartile => {
                let mut by_rep: HashMap<Uuid, (i64, i64)> = HashMap::new();
                let inr = |t: chrono::DateTime<chrono::Utc>| t0 <= t && t < t1;
                for l in f.leads.iter().filter(|l| {
                    (l.status == "won" || l.status == "lost") && l.closed_at.is_some_and(inr)
                }) {
                    if let Some(o) = l.owner_id {
                        let e = by_rep.entry(o).or_default();
                        e.1 += 1;
                        if l.status == LeadStatus::Won.as_str() {
                            e.0 += 1;
                        }
                    }
                }
                let mut ranked: Vec<(Uuid, i64, i64)> =
                    by_rep.into_iter().map(|(u, (w, c))| (u, w, c)).collect();
                // By win rate (w1/c1 > w2/c2 ⇔ w1·c2 > w2·c1), then by wins.
                ranked.sort_by(|a, b| {
                    (b.1 * a.2)
                        .cmp(&(a.1 * b.2))
                        .then(b.1.cmp(&a.1))
                        .then(a.0.cmp(&b.0))
                });
                let n = ranked.len().div_ceil(4);
                best_reps = Some(n);
                Some(ranked.into_iter().take(n).map(|r| r.0).collect())
            }
            _ => None,
        };
        let h = counts(&ctx, &f, window, reps.as_ref());
        let source = input.source.as_str();
        let from_history = |name: &'static str, num: i64, den: i64| -> Option<SourcedRatio> {
            (input.source != RatioSource::Manual && den > 0 && num > 0).then(|| SourcedRatio {
                name,
                value: (Decimal::from(num) / Decimal::from(den)).round_dp(2),
                source,
                basis: Some((Decimal::from(num), Decimal::from(den))),
            })
        };
        let history = [
            from_history("deal_size", h.revenue, h.won).map(|mut r| {
                // Minor units to the base currency, exact to the cent.
                let scale = Decimal::from(10i64.pow(ctx.base.exponent()));
                r.value = (Decimal::from(h.revenue) / Decimal::from(h.won) / scale)
                    .round_dp(ctx.base.exponent());
                r.basis = Some((Decimal::from(h.revenue) / scale, Decimal::from(h.won)));
                r
            }),
            from_history("leads_per_deal", h.decided, h.won),
            from_history("prospects_per_lead", h.prospects, h.converted),
            from_history("calls_per_prospect", h.prospect_calls, h.called_prospects),
            from_history("calls_per_lead", h.lead_calls, h.closed),
            from_history("meetings_per_lead", h.lead_meetings, h.closed),
            from_history("proposals_per_lead", h.lead_proposals, h.closed),
        ];
        let m = &input.manual;
        let manual = [
            m.deal_size,
            m.leads_per_deal,
            m.prospects_per_lead,
            m.calls_per_prospect,
            m.calls_per_lead,
            m.meetings_per_lead,
            m.proposals_per_lead,
        ];
        let mut ratios = vec![];
        let mut errs = Invalid::default();
        for ((name, hist), man) in RATIO_NAMES.iter().zip(history).zip(manual) {
            match (man, hist) {
                (Some(v), _) => ratios.push(SourcedRatio {
                    name,
                    value: v,
                    source: "manual",
                    basis: None,
                }),
                (None, Some(r)) => ratios.push(r),
                (None, None) => errs.push(
                    *name,
                    if input.source == RatioSource::Manual {
                        "is required when the ratios are typed by hand".to_string()
                    } else {
                        format!(
                            "has no history from {} to {}; type it by hand",
                            window.from, window.to
                        )
                    },
                ),
            }
        }
        errs.into_result()?;
        let v = |i: usize| ratios[i].value;
        let deal_size = Money::from_decimal(v(0), ctx.base)
            .map_err(|e| AppError::Invalid(Invalid::one("deal_size", e.0)))?;
        let r = Ratios {
            deal_size,
            leads_per_deal: v(1),
            prospects_per_lead: v(2),
            calls_per_prospect: v(3),
            calls_per_lead: v(4),
            meetings_per_lead: v(5),
            proposals_per_lead: v(6),
        };
        let totals = planner::plan(&target, &r)?;
        let weeks = ceil_div(input.period.days(), 7).max(1);

        // Split per segment across the direct members of its teams.
        let mut activity_count: HashMap<Uuid, i64> = HashMap::new();
        for a in f.activities.iter().filter(|a| {
            let (t0, t1) = (t0, t1);
            t0 <= a.happened_at && a.happened_at < t1
        }) {
            *activity_count.entry(a.user_id).or_default() += 1;
        }
        let mut segments = vec![];
        for seg in [Segment::Marketing, Segment::Prospecting, Segment::Sales] {
            let mut members: Vec<(UserId, TeamId)> = vec![];
            for t in ctx.teams.iter().filter(|t| t.segment == seg) {
                for u in ctx.direct_members(t.id) {
                    if ctx.person(u).is_some_and(|p| p.active)
                        && !members.iter().any(|(x, _)| *x == u)
                    {
                        members.push((u, t.id));
                    }
                }
            }
            let weights: Vec<Decimal> = members
                .iter()
                .map(|(u, _)| match input.split {
                    SplitBy::Evenly => Decimal::ONE,
                    SplitBy::Capacity => Decimal::from(*activity_count.get(&u.0).unwrap_or(&0)),
                })
                .collect();
            let names = segment_metrics(seg);
            let mut member_plans: Vec<MemberPlan> = members
                .iter()
                .zip(&weights)
                .map(|((u, t), w)| MemberPlan {
                    user_id: *u,
                    name: ctx.name_of(*u),
                    team_id: *t,
                    weight: if weights.iter().all(|w| w.is_zero()) {
                        Decimal::ONE
                    } else {
                        *w
                    },
                    values: vec![],
                })
                .collect();
            let mut values = vec![];
            for name in names {
                let total = plan_value(&totals, &target, name);
                values.push((*name, total, ceil_div(total, weeks)));
                for (mp, share) in member_plans.iter_mut().zip(planner::split(total, &weights)) {
                    mp.values.push((*name, share, ceil_div(share, weeks)));
                }
            }
            segments.push(SegmentPlan {
                segment: seg,
                values,
                members: member_plans,
            });
        }
        Ok(PlanView {
            target,
            period: input.period,
            window,
            ratios,
            totals,
            weeks,
            segments,
            best_reps,
        })
    }

    /// Computes the plan and turns every member's share into goals, in one
    /// transaction: cold calls for prospecting, calls, meetings held,
    /// proposals and a revenue quota for sales, prospects added for
    /// marketing. Goals are for the plan's period when it is a calendar
    /// period (month, quarter, half-year, year), else weekly.
    pub async fn apply_plan(
        &self,
        actor: &Actor,
        input: &PlannerInput,
    ) -> Result<(PlanView, usize)> {
        let plan = self.plan(actor, input).await?;
        let ctx = self.analytics_ctx(actor).await?;
        let calendar = [
            PeriodKind::Month,
            PeriodKind::Quarter,
            PeriodKind::HalfYear,
            PeriodKind::Year,
        ]
        .into_iter()
        .find(|k| k.containing(input.period.from) == input.period);
        let first_type = |kind: ActivityKind| {
            let mut v: Vec<_> = ctx
                .types
                .values()
                .filter(|t| t.kind == kind && !t.archived)
                .collect();
            v.sort_by_key(|t| (t.position, t.id));
            v.first().map(|t| t.id.0)
        };
        let mut inputs = vec![];
        for seg in &plan.segments {
            for m in &seg.members {
                for (name, total, per_week) in &m.values {
                    let (metric, ty) = match *name {
                        "prospects" => (GoalMetric::ProspectsAdded, None),
                        "cold_calls" | "calls" => {
                            (GoalMetric::Activities, first_type(ActivityKind::Call))
                        }
                        "meetings" => (GoalMetric::MeetingsHeld, None),
                        "proposals" => (GoalMetric::Activities, first_type(ActivityKind::Proposal)),
                        "revenue" => (GoalMetric::RevenueWon, None),
                        "deals" => (GoalMetric::LeadsWon, None),
                        _ => continue,
                    };
                    if metric == GoalMetric::Activities && ty.is_none() {
                        return Err(AppError::Invalid(Invalid::one(
                            "activity_types",
                            format!("there is no active activity type for {name}"),
                        )));
                    }
                    let (period, units) = match calendar {
                        Some(k) => (k, *total),
                        None => (PeriodKind::Week, *per_week),
                    };
                    if units <= 0 {
                        continue;
                    }
                    let target = if metric == GoalMetric::RevenueWon {
                        Money::new(units, ctx.base).to_decimal()
                    } else {
                        Decimal::from(units)
                    };
                    inputs.push(GoalInput {
                        assignee: "user".into(),
                        user_id: Some(m.user_id),
                        team_id: None,
                        metric: metric.as_str().into(),
                        activity_type_id: ty,
                        outcome_id: None,
                        period: period.as_str().into(),
                        target: Some(target),
                        valid_from: Some(input.period.from),
                        valid_until: input.period.to.pred_opt(),
                        pipeline_id: None,
                    });
                }
            }
        }
        if inputs.is_empty() {
            return Err(AppError::Conflict(
                "no team of the marketing, prospecting or sales segment has members to plan for"
                    .into(),
            ));
        }
        let n = self.create_goals(actor, inputs).await?.len();
        Ok((plan, n))
    }
}

fn ceil_div(a: i64, b: i64) -> i64 {
    if b <= 0 {
        a
    } else {
        ((a as i128 + b as i128 - 1).div_euclid(b as i128)) as i64
    }
}
