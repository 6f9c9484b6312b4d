//! Goals and quotas: set per user, per team, or for each member of a team,
//! and their live progress with pace (METRICS.md "goal progress").

use crate::analytics::{Ctx, Facts, MetricSpec, Scope, measure};
use crate::cube::{Cube, LeadSums};
use crate::permissions::{Action, Actor, Resource, Target, can, require};
use crate::{App, AppError, Result};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use salesops_domain::goals::{Pace, pace};
use salesops_domain::periods::{Period, PeriodKind};
use salesops_domain::{
    GoalAssignee, GoalId, GoalMetric, Invalid, Money, PipelineId, TeamId, UserId,
};
use salesops_store::goals::{self, Goal};
use salesops_store::now;
use sea_query::SimpleExpr;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A goal as set by a user. `target` is a count, or for revenue an amount
/// in the organisation's base currency (decimal, e.g. `90000` or `12500.50`).
#[derive(Clone, Debug, Default)]
pub struct GoalInput {
    pub assignee: String,
    pub user_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    pub metric: String,
    pub activity_type_id: Option<Uuid>,
    pub outcome_id: Option<Uuid>,
    pub period: String,
    pub target: Option<Decimal>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub pipeline_id: Option<PipelineId>,
}

/// The changeable fields of a goal; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct GoalPatch {
    pub target: Option<Decimal>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<Option<NaiveDate>>,
}

/// One line of progress: a goal for one user (a user goal, or one member
/// of an each-member goal) or a team as a whole.
#[derive(Clone, Debug)]
pub struct Progress {
    pub goal: Goal,
    pub user_id: Option<UserId>,
    pub team_id: Option<TeamId>,
    /// Who it is for (a user's or a team's name).
    pub name: String,
    pub period: Period,
    pub actual: i64,
    pub pace: Pace,
}

/// A progress line to compute: the goal, its user or team, the users counted.
type Line = (Goal, Option<UserId>, Option<TeamId>, Vec<UserId>);

/// A metric of `users` (numbers) from the analytic index: `acts` and
/// `leads` are its activity counts and lead sums per user number over the
/// goal's period. The same figure as [`measure`] over the facts.
fn measure_cube(
    ctx: &Ctx,
    cube: &Cube,
    spec: &MetricSpec,
    users: &[u32],
    acts: &[Vec<i64>],
    leads: &[LeadSums],
) -> i64 {
    let counted = |pair: &(Uuid, Option<Uuid>)| match spec.metric {
        GoalMetric::MeetingsHeld => ctx.meeting_held(pair.0, pair.1),
        _ => {
            spec.activity_type.is_none_or(|t| pair.0 == t)
                && spec.outcome.is_none_or(|o| pair.1 == Some(o))
        }
    };
    match spec.metric {
        GoalMetric::Activities | GoalMetric::MeetingsHeld => {
            let pairs: Vec<usize> = (0..cube.pairs.len())
                .filter(|p| counted(&cube.pairs[*p]))
                .collect();
            users
                .iter()
                .filter_map(|u| acts.get(*u as usize))
                .map(|row| pairs.iter().map(|p| row[*p]).sum::<i64>())
                .sum()
        }
        GoalMetric::LeadsCreated | GoalMetric::LeadsWon | GoalMetric::RevenueWon => users
            .iter()
            .filter_map(|u| leads.get(*u as usize))
            .map(|s| match spec.metric {
                GoalMetric::LeadsCreated => s.created,
                GoalMetric::LeadsWon => s.won,
                _ => s.revenue,
            })
            .sum(),
        GoalMetric::ProspectsAdded => 0,
    }
}

/// The permission target of a goal: a user goal belongs to the user and
/// their teams; a team goal to the team. Managers of the teams above reach
/// them too ([`may`]).
fn goal_target(ctx: &Ctx, g: &Goal) -> Target {
    match (g.user_id, g.team_id) {
        (Some(u), _) => Target {
            owner: Some(UserId(u)),
            teams: ctx.teams_of(UserId(u)),
        },
        (None, Some(t)) => Target {
            owner: None,
            teams: vec![TeamId(t)],
        },
        (None, None) => Target::default(),
    }
}

/// May the actor do `action` on a goal?
pub fn may(actor: &Actor, ctx: &Ctx, action: Action, g: &Goal) -> bool {
    let t = goal_target(ctx, g);
    can(actor, Resource::Goal, action, Some(&t)) || ctx.reaches(actor, &t)
}

/// `Ok` when allowed; `NotFound` when the actor may not even read the goal.
fn require_goal(actor: &Actor, ctx: &Ctx, action: Action, g: &Goal) -> Result<()> {
    if may(actor, ctx, action, g) {
        Ok(())
    } else if !may(actor, ctx, Action::Read, g) {
        Err(AppError::NotFound)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The goal's period kind (stored as text by the store).
pub fn period_kind(g: &Goal) -> PeriodKind {
    g.period.parse().unwrap_or(PeriodKind::Month)
}

/// The target as a count or as minor units of the base currency.
fn target_units(
    metric: GoalMetric,
    target: Option<Decimal>,
    ctx: &Ctx,
    errs: &mut Invalid,
) -> Option<i64> {
    let Some(t) = target else {
        errs.push("target", "is required");
        return None;
    };
    if t <= Decimal::ZERO {
        errs.push("target", "must be more than zero");
        return None;
    }
    if metric == GoalMetric::RevenueWon {
        match Money::from_decimal(t, ctx.base) {
            Ok(m) => Some(m.minor),
            Err(e) => {
                errs.push("target", e.0);
                None
            }
        }
    } else if t.fract() != Decimal::ZERO || t > Decimal::from(1_000_000_000) {
        errs.push("target", "must be a whole number of at most 1000000000");
        None
    } else {
        Some(t.try_into().unwrap_or(0))
    }
}

impl App {
    async fn check_goal_input(&self, ctx: &Ctx, input: &GoalInput) -> Result<Goal> {
        let mut errs = Invalid::default();
        let assignee = errs.check("assignee", input.assignee.parse::<GoalAssignee>());
        let metric = errs.check("metric", input.metric.parse::<GoalMetric>());
        let period = errs.check("period", input.period.parse::<PeriodKind>());
        match assignee {
            Some(GoalAssignee::User) => {
                match input.user_id {
                    None => errs.push("user_id", "is required for a goal of a user"),
                    Some(u) if ctx.person(u).is_none() => {
                        errs.push("user_id", format!("unknown user {u}"))
                    }
                    _ => {}
                }
                if input.team_id.is_some() {
                    errs.push("team_id", "must be empty for a goal of a user");
                }
            }
            Some(_) => {
                match input.team_id {
                    None => errs.push("team_id", "is required for a goal of a team"),
                    Some(t) if ctx.team(t).is_none() => {
                        errs.push("team_id", format!("unknown team {t}"))
                    }
                    _ => {}
                }
                if input.user_id.is_some() {
                    errs.push("user_id", "must be empty for a goal of a team");
                }
            }
            None => {}
        }
        if let Some(m) = metric {
            if m == GoalMetric::Activities {
                match input.activity_type_id {
                    None => errs.push("activity_type_id", "is required for a goal on activities"),
                    Some(t) if !ctx.types.contains_key(&t) => {
                        errs.push("activity_type_id", format!("unknown activity type {t}"))
                    }
                    _ => {}
                }
                if let Some(o) = input.outcome_id {
                    match ctx.outcomes.get(&o) {
                        Some(x) if Some(x.type_id.0) == input.activity_type_id => {}
                        Some(_) => errs.push(
                            "outcome_id",
                            "belongs to another activity type than the goal's",
                        ),
                        None => errs.push("outcome_id", format!("unknown outcome {o}")),
                    }
                }
            } else {
                if input.activity_type_id.is_some() {
                    errs.push("activity_type_id", "is only for goals on activities");
                }
                if input.outcome_id.is_some() {
                    errs.push("outcome_id", "is only for goals on activities");
                }
            }
        }
        if let Some(p) = input.pipeline_id
            && !ctx.pipelines.iter().any(|x| x.pipeline.id == p)
        {
            errs.push("pipeline_id", format!("unknown pipeline {p}"));
        }
        let target = metric.and_then(|m| target_units(m, input.target, ctx, &mut errs));
        let valid_from = input.valid_from.unwrap_or_else(|| {
            period
                .unwrap_or(PeriodKind::Month)
                .containing(ctx.today)
                .from
        });
        if !crate::analytics::in_range(valid_from) {
            errs.push("valid_from", "must be a date between 1900 and 2200");
        }
        if let Some(u) = input.valid_until {
            if !crate::analytics::in_range(u) {
                errs.push("valid_until", "must be a date between 1900 and 2200");
            } else if u < valid_from {
                errs.push("valid_until", "must not be before valid_from");
            }
        }
        errs.into_result()?;
        let at = now();
        Ok(Goal {
            org_id: Default::default(),
            id: GoalId::new(),
            assignee: assignee.expect("checked"),
            user_id: input.user_id.map(|u| u.0),
            team_id: input.team_id.map(|t| t.0),
            metric: metric.expect("checked"),
            activity_type_id: input.activity_type_id,
            outcome_id: input.outcome_id,
            period: period.expect("checked").as_str().to_string(),
            target: target.expect("checked"),
            valid_from,
            valid_until: input.valid_until,
            pipeline_id: input.pipeline_id.map(|p| p.0),
            created_by: None,
            created_at: at,
            updated_at: at,
            version: 1,
        })
    }

    pub async fn create_goal(&self, actor: &Actor, input: GoalInput) -> Result<Goal> {
        self.create_goals(actor, vec![input])
            .await
            .map(|mut v| v.remove(0))
    }

    /// Creates several goals in one transaction (all or none).
    pub async fn create_goals(&self, actor: &Actor, inputs: Vec<GoalInput>) -> Result<Vec<Goal>> {
        require(actor, Resource::Goal, Action::Create, None)?;
        let ctx = self.analytics_ctx(actor).await?;
        let mut out = Vec::with_capacity(inputs.len());
        for input in &inputs {
            let mut g = self.check_goal_input(&ctx, input).await?;
            g.org_id = actor.org_id;
            g.created_by = Some(actor.user_id.0);
            if !may(actor, &ctx, Action::Create, &g) {
                return Err(AppError::Forbidden);
            }
            out.push(g);
        }
        let mut tx = self.db.begin().await?;
        goals::insert_many(&mut tx, &out).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A goal the actor may read (`NotFound` otherwise).
    pub async fn get_goal(&self, actor: &Actor, id: GoalId) -> Result<Goal> {
        let ctx = self.analytics_ctx(actor).await?;
        let g = goals::get(&mut self.conn(), actor.org_id, id).await?;
        require_goal(actor, &ctx, Action::Read, &g)?;
        Ok(g)
    }

    /// The goals the actor may read; `user`/`team` narrow them to the goals
    /// of a user (their own and their teams') or of a team.
    pub async fn list_goals(
        &self,
        actor: &Actor,
        user: Option<UserId>,
        team: Option<TeamId>,
    ) -> Result<Vec<Goal>> {
        let ctx = self.analytics_ctx(actor).await?;
        self.list_goals_in(actor, &ctx, user, team).await
    }

    /// The goals the actor may read, with settings already read.
    pub async fn list_goals_in(
        &self,
        actor: &Actor,
        ctx: &Ctx,
        user: Option<UserId>,
        team: Option<TeamId>,
    ) -> Result<Vec<Goal>> {
        require(actor, Resource::Goal, Action::Read, None)?;
        let mut f = goals::Filter::default();
        if let Some(u) = user {
            f.users = Some(vec![u]);
            f.teams = Some(
                ctx.teams_of(u)
                    .into_iter()
                    .flat_map(|t| ctx.team_ancestry(t))
                    .collect(),
            );
        }
        if let Some(t) = team {
            f.teams = Some(ctx.team_tree(t));
            f.users = Some(ctx.members_of(t));
        }
        Ok(goals::list(&mut self.conn(), actor.org_id, &f)
            .await?
            .into_iter()
            .filter(|g| may(actor, ctx, Action::Read, g))
            .collect())
    }

    pub async fn update_goal(
        &self,
        actor: &Actor,
        id: GoalId,
        patch: GoalPatch,
        if_match: Option<i64>,
    ) -> Result<Goal> {
        let ctx = self.analytics_ctx(actor).await?;
        let g = goals::get(&mut self.conn(), actor.org_id, id).await?;
        require_goal(actor, &ctx, Action::Update, &g)?;
        let mut errs = Invalid::default();
        let mut changes: Vec<(&'static str, SimpleExpr)> = vec![];
        if patch.target.is_some()
            && let Some(t) = target_units(g.metric, patch.target, &ctx, &mut errs)
        {
            changes.push(("target", t.into()));
        }
        let from = patch.valid_from.unwrap_or(g.valid_from);
        let until = patch.valid_until.unwrap_or(g.valid_until);
        if !crate::analytics::in_range(from)
            || until.is_some_and(|u| !crate::analytics::in_range(u))
        {
            errs.push("valid_until", "dates must be between 1900 and 2200");
        }
        if until.is_some_and(|u| u < from) {
            errs.push("valid_until", "must not be before valid_from");
        }
        errs.into_result()?;
        if patch.valid_from.is_some() {
            changes.push(("valid_from", from.into()));
        }
        if patch.valid_until.is_some() {
            changes.push(("valid_until", until.into()));
        }
        Ok(goals::update(&mut self.conn(), actor.org_id, id, if_match, changes, now()).await?)
    }

    pub async fn delete_goal(
        &self,
        actor: &Actor,
        id: GoalId,
        if_match: Option<i64>,
    ) -> Result<()> {
        let ctx = self.analytics_ctx(actor).await?;
        let g = goals::get(&mut self.conn(), actor.org_id, id).await?;
        require_goal(actor, &ctx, Action::Delete, &g)?;
        Ok(goals::delete(&mut self.conn(), actor.org_id, id, if_match).await?)
    }

    /// Progress of goals on `day` (the organisation's today by default): one
    /// line per user goal, per member of an each-member goal, and per team
    /// goal (the team's members together).
    pub async fn goal_progress(
        &self,
        actor: &Actor,
        goals: Vec<Goal>,
        day: Option<NaiveDate>,
    ) -> Result<Vec<Progress>> {
        let ctx = self.analytics_ctx(actor).await?;
        self.progress_with(&ctx, goals, day).await
    }

    /// Progress of goals the caller already read through
    /// [`App::list_goals_in`] (which checked who may see them), with
    /// settings already read.
    pub async fn progress_with(
        &self,
        ctx: &Ctx,
        goals: Vec<Goal>,
        day: Option<NaiveDate>,
    ) -> Result<Vec<Progress>> {
        let day = day.unwrap_or(ctx.today);
        // (goal, user or team, users counted)
        let mut lines: Vec<Line> = vec![];
        for g in goals {
            let in_validity =
                |p: &Period| g.valid_from < p.to && g.valid_until.is_none_or(|u| u >= p.from);
            if !in_validity(&period_kind(&g).containing(day)) {
                continue;
            }
            match (g.assignee, g.user_id, g.team_id) {
                (GoalAssignee::User, Some(u), _) => {
                    lines.push((g, Some(UserId(u)), None, vec![UserId(u)]))
                }
                (GoalAssignee::Team, _, Some(t)) => {
                    let users = ctx.members_of(TeamId(t));
                    lines.push((g, None, Some(TeamId(t)), users));
                }
                (GoalAssignee::EachMember, _, Some(t)) => {
                    for u in ctx.direct_members(TeamId(t)) {
                        lines.push((g.clone(), Some(u), Some(TeamId(t)), vec![u]));
                    }
                }
                _ => {}
            }
        }
        if lines.is_empty() {
            return Ok(vec![]);
        }
        // Read the facts once for the union of the periods and people.
        let periods: Vec<Period> = lines
            .iter()
            .map(|(g, ..)| period_kind(g).containing(day))
            .collect();
        let from = periods.iter().map(|p| p.from).min().expect("lines");
        let to = periods.iter().map(|p| p.to).max().expect("lines");
        let (t0, t1) = ctx.instants(Period { from, to });
        let everybody: Vec<UserId> = {
            let set: HashSet<UserId> = lines.iter().flat_map(|l| l.3.iter().copied()).collect();
            set.into_iter().collect()
        };
        let org = lines[0].0.org_id;
        let mut metrics: HashSet<GoalMetric> = lines.iter().map(|l| l.0.metric).collect();
        let by_pipeline = lines.iter().any(|l| l.0.pipeline_id.is_some());
        // Without a pipeline filter the live index answers everything but
        // prospects; the facts are read for what it does not answer.
        let live = if by_pipeline {
            None
        } else {
            self.live_cube(ctx, org).await?
        };
        if live.is_some() {
            metrics.retain(|m| *m == GoalMetric::ProspectsAdded);
        }
        let facts = if metrics.is_empty() {
            Facts::default()
        } else {
            self.read_facts(org, (t0, t1), Some(everybody), &metrics, by_pipeline)
                .await?
        };
        let cube = live.as_ref().map(|c| c.read().expect("index lock"));
        // Per period: the activity counts and lead sums per user number.
        let mut sums: HashMap<Period, (Vec<Vec<i64>>, Vec<LeadSums>)> = HashMap::new();
        let mut out = vec![];
        for ((g, user, team, users), period) in lines.into_iter().zip(periods) {
            let set: HashSet<Uuid> = users.iter().map(|u| u.0).collect();
            let spec = MetricSpec {
                metric: g.metric,
                activity_type: g.activity_type_id,
                outcome: g.outcome_id,
                pipeline: g.pipeline_id.map(PipelineId),
            };
            let actual = match &cube {
                Some(c) if g.metric != GoalMetric::ProspectsAdded => {
                    let (acts, leads) = sums.entry(period).or_insert_with(|| {
                        (c.activity_counts(period, None), c.lead_sums(period, None))
                    });
                    // A person in two teams of a tree counts once.
                    let mut nums = c.numbers(&users);
                    nums.sort_unstable();
                    nums.dedup();
                    measure_cube(ctx, c, &spec, &nums, acts, leads)
                }
                _ => measure(ctx, &spec, ctx.instants(period), Some(&set), &facts),
            };
            let name = match (user, team) {
                (Some(u), _) => ctx.name_of(u),
                (None, Some(t)) => ctx.team(t).map(|t| t.name.clone()).unwrap_or_default(),
                _ => String::new(),
            };
            out.push(Progress {
                pace: pace(g.target, actual, period, day),
                goal: g,
                user_id: user,
                team_id: team,
                name,
                period,
                actual,
            });
        }
        Ok(out)
    }

    /// Progress lines: those that concern `user` (their goals, their line
    /// of each-member goals, their teams' goals), or those of `team` (its
    /// goals and its members'), or by default the actor's own. `NotFound`
    /// for a user or team the actor may not see.
    pub async fn progress_for(
        &self,
        actor: &Actor,
        user: Option<UserId>,
        team: Option<TeamId>,
        day: Option<NaiveDate>,
    ) -> Result<Vec<Progress>> {
        let ctx = self.analytics_ctx(actor).await?;
        self.progress_for_in(actor, &ctx, user, team, day).await
    }

    /// [`App::progress_for`] with settings already read.
    pub async fn progress_for_in(
        &self,
        actor: &Actor,
        ctx: &Ctx,
        user: Option<UserId>,
        team: Option<TeamId>,
        day: Option<NaiveDate>,
    ) -> Result<Vec<Progress>> {
        let (user, team) = match (user, team) {
            (None, None) => (Some(actor.user_id), None),
            other => other,
        };
        if let Some(u) = user {
            self.check_scope(actor, ctx, Scope::User(u))?;
        }
        if let Some(t) = team {
            self.check_scope(actor, ctx, Scope::Team(t))?;
        }
        let goals = self.list_goals_in(actor, ctx, user, team).await?;
        let lines = self.progress_with(ctx, goals, day).await?;
        Ok(lines
            .into_iter()
            .filter(|p| user.is_none_or(|u| p.user_id.is_none_or(|x| x == u)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::tests::{ctx, lead};
    use chrono::{DateTime, Utc};
    use proptest::prelude::*;
    use salesops_domain::ActivityKind;
    use salesops_domain::{ActivityTypeId, OrgId, OutcomeId};
    use salesops_store::activity_types::{ActivityType, Outcome};
    use salesops_store::analytics::ActivityFact;

    fn activity_type(kind: ActivityKind) -> ActivityType {
        ActivityType {
            org_id: OrgId(Uuid::nil()),
            id: ActivityTypeId::new(),
            name: kind.as_str().into(),
            kind,
            colour: String::new(),
            icon: String::new(),
            counts_as_selling: true,
            archived: false,
            position: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    fn outcome(type_id: ActivityTypeId, positive: bool) -> Outcome {
        Outcome {
            org_id: OrgId(Uuid::nil()),
            id: OutcomeId::new(),
            type_id,
            name: String::new(),
            colour: String::new(),
            positive,
            archived: false,
            position: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            version: 1,
        }
    }

    proptest! {
        /// Goal progress from the analytic index equals progress from the
        /// facts, for every metric the index answers, any users and period.
        #[test]
        fn progress_from_the_index_equals_progress_from_the_facts(
            raw_leads in proptest::collection::vec((0usize..4, 0i64..300, 0i64..60, 0u8..4, 0i64..100_000), 0..40),
            raw_acts in proptest::collection::vec((0usize..4, 0usize..4, 0i64..300), 0..80),
            start in 0i64..280,
            len in 1i64..120,
            who in proptest::collection::vec(0usize..4, 1..4),
        ) {
            let people: Vec<UserId> = (0..4).map(|_| UserId::new()).collect();
            let mut c = ctx(&people);
            let call = activity_type(ActivityKind::Call);
            let meeting = activity_type(ActivityKind::Meeting);
            let held = outcome(meeting.id, true);
            let no_show = outcome(meeting.id, false);
            // (type, outcome) per drawn number.
            let pairs = [
                (call.id.0, None),
                (meeting.id.0, None),
                (meeting.id.0, Some(held.id.0)),
                (meeting.id.0, Some(no_show.id.0)),
            ];
            for t in [call, meeting] {
                c.types.insert(t.id.0, t);
            }
            for o in [held, no_show] {
                c.outcomes.insert(o.id.0, o);
            }
            let day0 = "2026-01-01T09:00:00Z".parse::<DateTime<Utc>>().unwrap();
            let f = Facts {
                leads: raw_leads.iter().map(|(o, cr, d, s, a)| lead(people[*o].0, *cr, *d, *s, *a)).collect(),
                activities: raw_acts.iter().map(|(u, p, d)| ActivityFact {
                    id: Uuid::now_v7(),
                    user_id: people[*u].0,
                    type_id: pairs[*p].0,
                    outcome_id: pairs[*p].1,
                    happened_at: day0 + chrono::Duration::days(*d),
                    duration_minutes: Some(15),
                    lead_id: None,
                    prospect_id: None,
                }).collect(),
                ..Default::default()
            };
            let cube = Cube::from_facts(c.tz, c.rates.clone(), c.kinds(), &f.activities, &f.leads, &[]);
            let from = day0.date_naive() + chrono::Duration::days(start);
            let period = Period { from, to: from + chrono::Duration::days(len) };
            let users: Vec<UserId> = who.iter().map(|i| people[*i]).collect();
            let set: HashSet<Uuid> = users.iter().map(|u| u.0).collect();
            let acts = cube.activity_counts(period, None);
            let sums = cube.lead_sums(period, None);
            let specs = [
                (GoalMetric::Activities, None, None),
                (GoalMetric::Activities, Some(pairs[1].0), None),
                (GoalMetric::Activities, Some(pairs[2].0), pairs[2].1),
                (GoalMetric::MeetingsHeld, None, None),
                (GoalMetric::LeadsCreated, None, None),
                (GoalMetric::LeadsWon, None, None),
                (GoalMetric::RevenueWon, None, None),
            ];
            for (metric, activity_type, outcome) in specs {
                let spec = MetricSpec { metric, activity_type, outcome, pipeline: None };
                let facts = measure(&c, &spec, c.instants(period), Some(&set), &f);
                let mut nums = cube.numbers(&users);
                nums.sort_unstable();
                nums.dedup();
                let index = measure_cube(&c, &cube, &spec, &nums, &acts, &sums);
                prop_assert_eq!(index, facts, "{:?}", metric);
            }
        }
    }
}
