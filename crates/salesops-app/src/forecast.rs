//! The weighted open pipeline by expected close month (SPEC "Forecasting",
//! its first piece): count, amount and weighted amount per month, in the
//! base currency at today's rates, per pipeline, team and user.

use crate::analytics::{Ctx, Scope};
use crate::permissions::Actor;
use crate::{App, Result};
use chrono::Datelike;
use salesops_domain::{LeadStatus, PipelineId, TeamId, UserId};
use salesops_store::analytics::{self as facts, LeadFact};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// Count, amount and weighted amount (minor units of the base currency).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub count: i64,
    pub amount: i64,
    pub weighted: i64,
}

impl Cell {
    /// Counts a lead; the weighted amount is summed exactly in the line
    /// (amount × probability) and rounded once by `Line::settle`.
    fn add(&mut self, amount: i64) {
        self.count += 1;
        self.amount += amount;
    }
}

/// One line of the forecast: per month (`YYYY-MM`, or `none` without an
/// expected close date) and in total.
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub id: Option<Uuid>,
    pub name: String,
    pub months: BTreeMap<String, Cell>,
    pub total: Cell,
    /// Exact sums of amount × probability, per month and in total.
    weighted_x100: BTreeMap<String, i128>,
    total_x100: i128,
}

impl Line {
    fn new(id: Option<Uuid>, name: String) -> Line {
        Line {
            id,
            name,
            ..Default::default()
        }
    }

    fn add(&mut self, month: &str, amount: i64, probability: i64) {
        let w = amount as i128 * probability as i128;
        let cell = self.months.entry(month.to_string()).or_default();
        cell.add(amount);
        *self.weighted_x100.entry(month.to_string()).or_default() += w;
        self.total.add(amount);
        self.total_x100 += w;
    }

    /// Rounds the weighted sums (half away from zero) into the cells.
    fn settle(&mut self) {
        let round = |x: i128| -> i64 {
            let q = x / 100;
            let r = x % 100;
            (if r >= 50 {
                q + 1
            } else if r <= -50 {
                q - 1
            } else {
                q
            }) as i64
        };
        for (m, c) in self.months.iter_mut() {
            c.weighted = round(*self.weighted_x100.get(m).unwrap_or(&0));
        }
        self.total.weighted = round(self.total_x100);
    }
}

#[derive(Clone, Debug)]
pub struct Forecast {
    /// The months that occur, in order (`none` last).
    pub months: Vec<String>,
    pub total: Line,
    pub by_pipeline: Vec<Line>,
    pub by_team: Vec<Line>,
    pub by_user: Vec<Line>,
    /// Open leads left out for want of an amount or a rate.
    pub without_amount: i64,
}

fn month_of(l: &LeadFact) -> String {
    match l.expected_close_date {
        Some(d) => format!("{:04}-{:02}", d.year(), d.month()),
        None => "none".into(),
    }
}

/// Builds the forecast from open leads (pure; tested by hand).
/// `teams_allowed`: the teams the lines per team may show (`None`: all).
pub fn build(
    ctx: &Ctx,
    leads: &[LeadFact],
    users: Option<&HashSet<Uuid>>,
    teams_allowed: Option<&HashSet<TeamId>>,
) -> Forecast {
    let mut total = Line::new(None, String::new());
    let mut by_pipeline: BTreeMap<Uuid, Line> = BTreeMap::new();
    let mut by_user: BTreeMap<Uuid, Line> = BTreeMap::new();
    let mut by_team: BTreeMap<Uuid, Line> = BTreeMap::new();
    let mut months: HashSet<String> = HashSet::new();
    let mut without_amount = 0;
    for l in leads
        .iter()
        .filter(|l| l.status == LeadStatus::Open.as_str())
    {
        if users.is_some_and(|s| l.owner_id.is_none_or(|o| !s.contains(&o))) {
            continue;
        }
        let Some(amount) = ctx.amount_base(l, ctx.today) else {
            without_amount += 1;
            continue;
        };
        let p = ctx.probability(l);
        let m = month_of(l);
        months.insert(m.clone());
        total.add(&m, amount, p);
        let pname = ctx
            .pipelines
            .iter()
            .find(|x| x.pipeline.id.0 == l.pipeline_id)
            .map(|x| x.pipeline.name.clone())
            .unwrap_or_default();
        by_pipeline
            .entry(l.pipeline_id)
            .or_insert_with(|| Line::new(Some(l.pipeline_id), pname))
            .add(&m, amount, p);
        if let Some(o) = l.owner_id {
            by_user
                .entry(o)
                .or_insert_with(|| Line::new(Some(o), ctx.name_of(UserId(o))))
                .add(&m, amount, p);
            // Each team the owner is in, and the teams above: once each.
            let mut teams: Vec<TeamId> = ctx
                .teams_of(UserId(o))
                .into_iter()
                .flat_map(|t| ctx.team_ancestry(t))
                .filter(|t| teams_allowed.is_none_or(|a| a.contains(t)))
                .collect();
            teams.sort();
            teams.dedup();
            for t in teams {
                let name = ctx.team(t).map(|x| x.name.clone()).unwrap_or_default();
                by_team
                    .entry(t.0)
                    .or_insert_with(|| Line::new(Some(t.0), name))
                    .add(&m, amount, p);
            }
        }
    }
    let mut months: Vec<String> = months.into_iter().collect();
    months.sort_by_key(|m| (m == "none", m.clone()));
    let settle = |v: BTreeMap<Uuid, Line>| {
        let mut v: Vec<Line> = v.into_values().collect();
        for l in &mut v {
            l.settle();
        }
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    };
    total.settle();
    Forecast {
        months,
        total,
        by_pipeline: settle(by_pipeline),
        by_team: settle(by_team),
        by_user: settle(by_user),
        without_amount,
    }
}

impl App {
    /// The open pipeline of a scope by expected close month.
    pub async fn forecast(
        &self,
        actor: &Actor,
        scope: Scope,
        pipeline: Option<PipelineId>,
    ) -> Result<(Forecast, Ctx)> {
        let ctx = self.analytics_ctx(actor).await?;
        self.check_scope(actor, &ctx, scope)?;
        if let Some(p) = pipeline
            && !ctx.pipelines.iter().any(|x| x.pipeline.id == p)
        {
            return Err(crate::AppError::NotFound);
        }
        let users: Option<Vec<UserId>> = ctx.users(scope);
        let leads = facts::lead_facts(
            &mut self.conn(),
            actor.org_id,
            &facts::LeadScope {
                owners: users.clone(),
                pipeline,
                open_only: true,
                ..Default::default()
            },
        )
        .await?;
        let set: Option<HashSet<Uuid>> = users.map(|v| v.into_iter().map(|u| u.0).collect());
        // Lines per team stay inside the scope: a team's own tree, none
        // for one person.
        let allowed: Option<HashSet<TeamId>> = match scope {
            Scope::Org => None,
            Scope::Team(t) => Some(ctx.team_tree(t).into_iter().collect()),
            Scope::User(_) => Some(HashSet::new()),
        };
        let f = build(&ctx, &leads, set.as_ref(), allowed.as_ref());
        Ok((f, ctx))
    }
}
