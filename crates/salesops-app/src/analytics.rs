//! What goals, reports, KPIs and the forecast share: the organisation's
//! settings read once per request (time zone, base currency and rates,
//! activity types, pipelines, teams), the scope a figure is about and who
//! may see it, and the facts read for a period.

use crate::permissions::{Action, Actor, Resource, Target};
use crate::pipelines::PipelineView;
use crate::rates::RateTable;
use crate::{App, AppError, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use salesops_domain::periods::{Period, PeriodKind};
use salesops_domain::{
    ActivityKind, Currency, GoalMetric, Invalid, LeadStatus, Money, PipelineId, TeamId, UserId,
};
use salesops_store::activity_types::{ActivityType, Outcome};
use salesops_store::analytics::{ActivityFact, LeadFact, ProspectFact};
use salesops_store::pipelines::Stage;
use salesops_store::teams::Team;
use salesops_store::{now, teams, users};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

/// Whose figures: the whole organisation, a team (with its sub-teams) or
/// one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Org,
    Team(TeamId),
    User(UserId),
}

/// A user as reports name them.
#[derive(Clone, Debug)]
pub struct Person {
    pub id: UserId,
    pub name: String,
    pub active: bool,
    pub role: salesops_domain::Role,
    pub hire_date: Option<NaiveDate>,
    pub leave_date: Option<NaiveDate>,
}

/// The organisation's settings and people, read once for a computation.
pub struct Ctx {
    pub tz: Tz,
    pub today: NaiveDate,
    pub base: Currency,
    pub rates: RateTable,
    pub types: HashMap<Uuid, ActivityType>,
    pub outcomes: HashMap<Uuid, Outcome>,
    pub pipelines: Vec<PipelineView>,
    pub stages: HashMap<Uuid, Stage>,
    pub teams: Vec<Team>,
    /// (team, member) pairs.
    pub members: Vec<(TeamId, UserId)>,
    pub people: Vec<Person>,
    /// Where each person is in `people`.
    pub person_ix: HashMap<UserId, usize>,
}

/// The stages of `pipelines` as the analytic index reads them.
pub fn layout_of(pipelines: &[crate::pipelines::PipelineView]) -> Vec<crate::cube::StagePlace> {
    let mut v: Vec<crate::cube::StagePlace> = pipelines
        .iter()
        .flat_map(|pv| {
            let count = pv.stages.len() as u16;
            pv.stages
                .iter()
                .enumerate()
                .map(move |(i, s)| crate::cube::StagePlace {
                    stage: s.id.0,
                    pipeline: pv.pipeline.id.0,
                    position: i as u16,
                    count,
                    win_probability: s.win_probability,
                })
        })
        .collect();
    v.sort_by_key(|s| s.stage);
    v
}

impl Ctx {
    /// The stages as the analytic index reads them.
    pub fn layout(&self) -> Vec<crate::cube::StagePlace> {
        layout_of(&self.pipelines)
    }

    /// The team and every team under it.
    pub fn team_tree(&self, team: TeamId) -> Vec<TeamId> {
        let mut out = vec![team];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            for t in &self.teams {
                if t.parent_id == Some(parent.0) && !out.contains(&t.id) {
                    out.push(t.id);
                }
            }
            i += 1;
        }
        out
    }

    /// The team and the teams above it.
    pub fn team_ancestry(&self, team: TeamId) -> Vec<TeamId> {
        let mut out = vec![team];
        let mut cursor = team;
        while let Some(p) = self
            .teams
            .iter()
            .find(|t| t.id == cursor)
            .and_then(|t| t.parent_id)
        {
            let p = TeamId(p);
            if out.contains(&p) {
                break;
            }
            out.push(p);
            cursor = p;
        }
        out
    }

    /// Members of a team and of the teams under it, in name order.
    pub fn members_of(&self, team: TeamId) -> Vec<UserId> {
        let tree = self.team_tree(team);
        let set: HashSet<UserId> = self
            .members
            .iter()
            .filter(|(t, _)| tree.contains(t))
            .map(|(_, u)| *u)
            .collect();
        self.people
            .iter()
            .filter(|p| set.contains(&p.id))
            .map(|p| p.id)
            .collect()
    }

    /// Direct members of a team, in name order.
    pub fn direct_members(&self, team: TeamId) -> Vec<UserId> {
        self.people
            .iter()
            .filter(|p| self.members.contains(&(team, p.id)))
            .map(|p| p.id)
            .collect()
    }

    pub fn teams_of(&self, user: UserId) -> Vec<TeamId> {
        self.members
            .iter()
            .filter(|(_, u)| *u == user)
            .map(|(t, _)| *t)
            .collect()
    }

    /// The users a scope covers; `None` for the whole organisation.
    pub fn users(&self, scope: Scope) -> Option<Vec<UserId>> {
        match scope {
            Scope::Org => None,
            Scope::Team(t) => Some(self.members_of(t)),
            Scope::User(u) => Some(vec![u]),
        }
    }

    /// The permission target of a scope (`None`: the organisation): a team
    /// itself, or a user and the teams they are a member of. Teams above
    /// count only for those who manage them (see [`Ctx::reaches`]).
    pub fn target(&self, scope: Scope) -> Option<Target> {
        match scope {
            Scope::Org => None,
            Scope::Team(t) => Some(Target {
                owner: None,
                teams: vec![t],
            }),
            Scope::User(u) => Some(Target {
                owner: Some(u),
                teams: self.teams_of(u),
            }),
        }
    }

    /// Does a manager lead a team above one of the target's teams? The
    /// manager of a region reaches its sub-teams; a mere member of the
    /// region does not.
    pub fn reaches(&self, actor: &Actor, target: &Target) -> bool {
        actor.role == salesops_domain::Role::Manager
            && target.teams.iter().any(|t| {
                self.team_ancestry(*t)
                    .iter()
                    .skip(1)
                    .any(|a| actor.manages.contains(a))
            })
    }

    pub fn person(&self, id: UserId) -> Option<&Person> {
        self.person_ix.get(&id).map(|i| &self.people[*i])
    }

    pub fn name_of(&self, id: UserId) -> String {
        self.person(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    pub fn team(&self, id: TeamId) -> Option<&Team> {
        self.teams.iter().find(|t| t.id == id)
    }

    /// The local day of an instant in the organisation's time zone.
    pub fn day(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The instants bounding a period in the organisation's time zone.
    pub fn instants(&self, p: Period) -> (DateTime<Utc>, DateTime<Utc>) {
        p.instants(self.tz)
    }

    /// A lead's amount in the base currency at the rate of `day`, in minor
    /// units; `None` without an amount or a rate.
    pub fn amount_base(&self, l: &LeadFact, day: NaiveDate) -> Option<i64> {
        let currency = Currency::parse(l.currency.as_deref()?).ok()?;
        let m = Money::new(l.amount_minor?, currency);
        self.rates.to_base(m, day).map(|m| m.minor)
    }

    /// A won lead's revenue in minor units of the base currency (converted
    /// at the rate of its close day).
    pub fn revenue(&self, l: &LeadFact) -> Option<i64> {
        let closed = l.closed_at?;
        self.amount_base(l, self.day(closed))
    }

    /// What the analytic index reads of the activity types.
    pub fn kinds(&self) -> crate::cube::Kinds {
        crate::cube::Kinds::of(self.types.values())
    }

    pub fn kind_of(&self, a: &ActivityFact) -> Option<ActivityKind> {
        self.types.get(&a.type_id).map(|t| t.kind)
    }

    /// A meeting that took place: done, of kind meeting, and without a
    /// negative outcome (a no-show is not held).
    pub fn is_meeting_held(&self, a: &ActivityFact) -> bool {
        self.meeting_held(a.type_id, a.outcome_id)
    }

    /// [`Ctx::is_meeting_held`] for an activity of `type_id` with `outcome`.
    pub fn meeting_held(&self, type_id: Uuid, outcome: Option<Uuid>) -> bool {
        self.types.get(&type_id).map(|t| t.kind) == Some(ActivityKind::Meeting)
            && outcome
                .and_then(|o| self.outcomes.get(&o))
                .is_none_or(|o| o.positive)
    }

    /// The win probability of a lead: its override, else its stage's.
    pub fn probability(&self, l: &LeadFact) -> i64 {
        l.probability
            .map(i64::from)
            .or_else(|| {
                self.stages
                    .get(&l.stage_id)
                    .map(|s| s.win_probability as i64)
            })
            .unwrap_or(0)
    }
}

/// What a goal-like metric counts over a period, for a set of users.
#[derive(Clone, Debug)]
pub struct MetricSpec {
    pub metric: GoalMetric,
    pub activity_type: Option<Uuid>,
    pub outcome: Option<Uuid>,
    pub pipeline: Option<PipelineId>,
}

/// Facts read for a computation.
#[derive(Default)]
pub struct Facts {
    pub activities: Vec<ActivityFact>,
    pub leads: Vec<LeadFact>,
    pub prospects: Vec<ProspectFact>,
    /// The pipeline of every lead an activity may be on.
    pub lead_pipeline: HashMap<Uuid, Uuid>,
}

/// The value of a metric over `[from, to)` for the activities, leads and
/// prospect lists of `users` (every user when `None`). Activities count by
/// who did them, leads by their owner, prospects by who created their list.
pub fn measure(
    ctx: &Ctx,
    spec: &MetricSpec,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    users: Option<&HashSet<Uuid>>,
    f: &Facts,
) -> i64 {
    let in_range = |t: DateTime<Utc>| from <= t && t < to;
    let user_ok = |u: Option<Uuid>| users.is_none_or(|s| u.is_some_and(|u| s.contains(&u)));
    let pipeline_ok_lead = |p: Uuid| spec.pipeline.is_none_or(|x| x.0 == p);
    let pipeline_ok_activity = |a: &ActivityFact| {
        spec.pipeline.is_none_or(|x| {
            a.lead_id
                .and_then(|l| f.lead_pipeline.get(&l))
                .is_some_and(|p| *p == x.0)
        })
    };
    match spec.metric {
        GoalMetric::Activities | GoalMetric::MeetingsHeld => f
            .activities
            .iter()
            .filter(|a| in_range(a.happened_at) && user_ok(Some(a.user_id)))
            .filter(|a| pipeline_ok_activity(a))
            .filter(|a| match spec.metric {
                GoalMetric::MeetingsHeld => ctx.is_meeting_held(a),
                _ => {
                    spec.activity_type.is_none_or(|t| a.type_id == t)
                        && spec.outcome.is_none_or(|o| a.outcome_id == Some(o))
                }
            })
            .count() as i64,
        GoalMetric::LeadsCreated => f
            .leads
            .iter()
            .filter(|l| {
                in_range(l.created_at) && user_ok(l.owner_id) && pipeline_ok_lead(l.pipeline_id)
            })
            .count() as i64,
        GoalMetric::LeadsWon | GoalMetric::RevenueWon => {
            let won = f.leads.iter().filter(|l| {
                l.status == LeadStatus::Won.as_str()
                    && l.closed_at.is_some_and(in_range)
                    && user_ok(l.owner_id)
                    && pipeline_ok_lead(l.pipeline_id)
            });
            if spec.metric == GoalMetric::LeadsWon {
                won.count() as i64
            } else {
                won.filter_map(|l| ctx.revenue(l)).sum()
            }
        }
        GoalMetric::ProspectsAdded => f
            .prospects
            .iter()
            .filter(|p| in_range(p.created_at) && user_ok(Some(p.list_created_by)))
            .count() as i64,
    }
}

/// Dates the figures accept: wide enough for any history and plan, narrow
/// enough that period arithmetic never leaves the calendar.
pub fn in_range(d: NaiveDate) -> bool {
    (1900..=2200).contains(&chrono::Datelike::year(&d))
}

/// Parses an optional `YYYY-MM-DD` date for `field`.
pub fn parse_date(field: &str, s: Option<&str>, errs: &mut Invalid) -> Option<NaiveDate> {
    let s = s.map(str::trim).filter(|s| !s.is_empty())?;
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) if in_range(d) => Some(d),
        Ok(_) => {
            errs.push(field, "must be a date between 1900 and 2200");
            None
        }
        Err(_) => {
            errs.push(field, "must be a date (YYYY-MM-DD)");
            None
        }
    }
}

impl App {
    /// Today in the organisation's time zone (what "this month" means).
    pub async fn org_today(&self, org: salesops_domain::OrgId) -> Result<NaiveDate> {
        let o = self.org(org).await?;
        let tz: Tz = o.time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin);
        Ok(now().with_timezone(&tz).date_naive())
    }

    /// The organisation's base currency.
    pub async fn base_currency(&self, org: salesops_domain::OrgId) -> Result<Currency> {
        let o = self.org(org).await?;
        Currency::parse(&o.base_currency).map_err(|e| AppError::Internal(e.0))
    }

    /// Reads the facts the metrics need over `[t0, t1)`: the activities of
    /// `users` (everybody's when `None`), the leads and prospects created,
    /// closed or open since `t0`, and the pipelines of older leads the
    /// activities are on when a pipeline filter needs them.
    pub async fn read_facts(
        &self,
        org: salesops_domain::OrgId,
        (t0, t1): (DateTime<Utc>, DateTime<Utc>),
        users: Option<Vec<UserId>>,
        metrics: &HashSet<GoalMetric>,
        by_pipeline: bool,
    ) -> Result<Facts> {
        use salesops_store::analytics as facts;
        let mut c = self.conn();
        let mut f = Facts::default();
        if metrics.contains(&GoalMetric::Activities) || metrics.contains(&GoalMetric::MeetingsHeld)
        {
            f.activities = facts::activity_facts(
                &mut c,
                org,
                &facts::ActivityScope {
                    from: Some(t0),
                    to: Some(t1),
                    users,
                    pipeline: None,
                },
            )
            .await?;
        }
        if by_pipeline
            || metrics.iter().any(|m| {
                matches!(
                    m,
                    GoalMetric::LeadsCreated | GoalMetric::LeadsWon | GoalMetric::RevenueWon
                )
            })
        {
            f.leads = facts::lead_facts(
                &mut c,
                org,
                &facts::LeadScope {
                    since: Some(t0),
                    ..Default::default()
                },
            )
            .await?;
        }
        if metrics.contains(&GoalMetric::ProspectsAdded) {
            f.prospects = facts::prospect_facts(&mut c, org, Some(t0)).await?;
        }
        f.lead_pipeline = f.leads.iter().map(|l| (l.id, l.pipeline_id)).collect();
        if by_pipeline
            && f.activities
                .iter()
                .filter_map(|a| a.lead_id)
                .any(|l| !f.lead_pipeline.contains_key(&l))
        {
            for l in facts::lead_facts(&mut c, org, &facts::LeadScope::default()).await? {
                f.lead_pipeline.insert(l.id, l.pipeline_id);
            }
        }
        Ok(f)
    }

    /// The settings and people a computation needs: cached by the
    /// analytic index until the change feed says they changed (or the day
    /// turns), read from the tables otherwise.
    pub async fn analytics_ctx(&self, actor: &Actor) -> Result<Arc<Ctx>> {
        crate::permissions::require(actor, Resource::Settings, Action::Read, None)?;
        let org = actor.org_id;
        // Only a built index keeps the cache current (a command that
        // reads no report does not build one).
        if self.index.is_built() {
            self.catch_up().await?;
        }
        let cached = self.index.cached_ctx(org);
        if let Some(ctx) = cached.ctx
            && now().with_timezone(&ctx.tz).date_naive() == ctx.today
        {
            return Ok(ctx);
        }
        let ctx = Arc::new(self.read_ctx(org).await?);
        self.index.cache_ctx(org, cached.generation, ctx.clone());
        Ok(ctx)
    }

    /// Reads the settings and people of an organisation.
    async fn read_ctx(&self, org_id: salesops_domain::OrgId) -> Result<Ctx> {
        use salesops_store::activity_types as store_types;
        let org = self.org(org_id).await?;
        let tz: Tz = org.time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin);
        let base = Currency::parse(&org.base_currency).map_err(|e| AppError::Internal(e.0))?;
        let rates = self.org_rate_table(org_id).await?;
        let mut c = self.conn();
        let mut types = HashMap::new();
        let mut outcomes = HashMap::new();
        for t in store_types::list_types(&mut c, org_id, true).await? {
            types.insert(t.id.0, t);
        }
        if !types.is_empty() {
            for o in store_types::list_outcomes(&mut c, org_id, None, true).await? {
                outcomes.insert(o.id.0, o);
            }
        }
        let pipelines = salesops_store::pipelines::list_pipelines(&mut c, org_id).await?;
        let pipelines = self.pipeline_views(org_id, pipelines).await?;
        let stages = pipelines
            .iter()
            .flat_map(|p| p.stages.iter().map(|s| (s.id.0, s.clone())))
            .collect();
        let teams = teams::list(&mut c, org_id, None, None, None, 100_000).await?;
        let members = teams::memberships(&mut c, org_id, None, None).await?;
        let mut people: Vec<Person> =
            users::list(&mut c, org_id, &Default::default(), None, 1_000_000)
                .await?
                .into_iter()
                .map(|u| Person {
                    id: u.id,
                    name: u.name,
                    active: u.active,
                    role: u.role,
                    hire_date: u.hire_date,
                    leave_date: u.leave_date,
                })
                .collect();
        people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        let person_ix = people.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        Ok(Ctx {
            today: now().with_timezone(&tz).date_naive(),
            tz,
            base,
            rates,
            types,
            outcomes,
            pipelines,
            stages,
            teams,
            members,
            people,
            person_ix,
        })
    }

    /// Checks that the scope exists and the actor may read its figures
    /// (`NotFound` for a team or user they may not see).
    pub fn check_scope(&self, actor: &Actor, ctx: &Ctx, scope: Scope) -> Result<()> {
        match scope {
            Scope::Team(t) if ctx.team(t).is_none() => return Err(AppError::NotFound),
            Scope::User(u) if ctx.person(u).is_none() => return Err(AppError::NotFound),
            _ => {}
        }
        let target = ctx.target(scope);
        if crate::permissions::can(actor, Resource::Report, Action::Read, target.as_ref())
            || target.as_ref().is_some_and(|t| ctx.reaches(actor, t))
        {
            return Ok(());
        }
        match scope {
            Scope::Org => Err(AppError::Forbidden),
            _ => Err(AppError::NotFound),
        }
    }

    /// The default scope of an actor: the organisation for those who see it
    /// all, the first team a manager manages, else the actor.
    pub fn default_scope(&self, actor: &Actor) -> Scope {
        if crate::permissions::can(actor, Resource::Report, Action::Read, None) {
            Scope::Org
        } else if let Some(t) = actor.manages.first() {
            Scope::Team(*t)
        } else {
            Scope::User(actor.user_id)
        }
    }
}

/// Resolves a period from `preset` (`this_`, `last_` or `next_` followed by
/// `week`, `month`, `quarter`, `half_year` or `year`; `last_30_days`,
/// `last_90_days`, `last_365_days`) or from `from` and `to` (`to`
/// exclusive), relative to `today`. Errors name the field.
pub fn resolve_period(
    preset: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> std::result::Result<Period, Invalid> {
    let mut errs = Invalid::default();
    let from = parse_date("from", from, &mut errs);
    let to = parse_date("to", to, &mut errs);
    errs.into_result()?;
    let preset = preset.map(str::trim).filter(|s| !s.is_empty());
    match (preset, from, to) {
        (Some(p), None, None) => preset_period(p, today).ok_or_else(|| {
            Invalid::one(
                "preset",
                "is not a known period preset (e.g. this_month, last_quarter, last_90_days)",
            )
        }),
        (Some(_), _, _) => Err(Invalid::one(
            "preset",
            "give either a preset or from and to, not both",
        )),
        (None, Some(f), Some(t)) => Period::new(f, t),
        (None, Some(_), None) => Err(Invalid::one("to", "is required with from")),
        (None, None, Some(_)) => Err(Invalid::one("from", "is required with to")),
        (None, None, None) => Ok(PeriodKind::Month.containing(today)),
    }
}

fn preset_period(p: &str, today: NaiveDate) -> Option<Period> {
    if let Some(days) = p
        .strip_prefix("last_")
        .and_then(|r| r.strip_suffix("_days"))
    {
        let n: i64 = days.parse().ok().filter(|n| [7, 30, 90, 365].contains(n))?;
        let to = today.succ_opt()?;
        return Some(Period {
            from: to - chrono::Duration::days(n),
            to,
        });
    }
    let (when, kind) = p.split_once('_')?;
    let kind: PeriodKind = kind.parse().ok()?;
    let this = kind.containing(today);
    match when {
        "this" => Some(this),
        "last" => Some(kind.containing(this.from.pred_opt()?)),
        "next" => Some(kind.containing(this.to)),
        _ => None,
    }
}
