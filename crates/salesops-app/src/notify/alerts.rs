//! Early warnings: a lead stuck in its stage beyond the stage's rotting
//! days, an open lead without an activity for N days, an expected close
//! date passed, a person or team behind the pace of a goal, pipeline
//! coverage of a revenue goal below the target ratio.
//!
//! One job computes the conditions that hold now and reconciles them with
//! the table: a new occurrence raises an alert (its key names the
//! occurrence: the lead and the stage entry, the close date, the goal's
//! period ...), one that no longer holds is resolved. A dismissed alert
//! stays dismissed while its occurrence lasts; a new occurrence (the lead
//! rots again in a later stage) raises a new one. The same SQL and the
//! same arithmetic run on both databases.

use super::events;
use crate::App;
use crate::analytics::Ctx;
use crate::error::{AppError, Result};
use crate::permissions::Actor;
use chrono::{DateTime, NaiveDate, Utc};
use salesops_domain::goals::PaceStatus;
use salesops_domain::{GoalMetric, Money, OrgId, Role, TeamId, UserId};
use salesops_store::notify::{self, AlertFilter, AlertRow};
use salesops_store::now;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Alerts written per transaction: SQLite has one writer, and requests
/// that log activities wait for each of these transactions (a hundred rows
/// hold it for a few milliseconds; a thousand, for tens).
const WRITE_BATCH: usize = 100;

/// An alert as the pages and the API show it.
#[derive(Clone, Debug)]
pub struct Alert {
    pub id: Uuid,
    /// `rotting`, `idle`, `close_date_passed`, `behind_pace`, `low_coverage`.
    pub kind: String,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub lead_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    /// The record's name: the lead's title, or who the goal is for.
    pub title: String,
    /// The figures of the message (days, dates, ratios), by kind.
    pub detail: serde_json::Value,
    pub raised_at: DateTime<Utc>,
    pub dismissed_at: Option<DateTime<Utc>>,
}

impl Alert {
    /// An alert as shown at `now`: the stored figures, and the days a
    /// lead has rotted, been idle or been overdue counted up to now (they
    /// are not stored, so that the job rewrites an alert only when it
    /// changes).
    pub fn at(r: AlertRow, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Alert {
        let mut detail: serde_json::Value =
            serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null);
        let days = match r.kind.as_str() {
            "rotting" | "idle" => detail["since_at"]
                .as_i64()
                .and_then(|t| DateTime::from_timestamp(t, 0))
                .map(|t| days_between(t, now)),
            "close_date_passed" => detail["date"]
                .as_str()
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .map(|d| (now.with_timezone(&tz).date_naive() - d).num_days()),
            _ => None,
        };
        if let (Some(d), Some(o)) = (days, detail.as_object_mut()) {
            o.insert("days".into(), json!(d));
        }
        Alert {
            id: r.id,
            kind: r.kind,
            user_id: r.user_id,
            team_id: r.team_id,
            lead_id: r.lead_id,
            goal_id: r.goal_id,
            title: r.title,
            detail,
            raised_at: r.raised_at,
            dismissed_at: r.dismissed_at,
        }
    }
}

/// What an alert run found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertRun {
    /// Conditions that hold now.
    pub open: usize,
    pub resolved: usize,
    /// Alerts written: new ones, and those whose figures changed.
    pub written: usize,
    /// goal.achieved events written.
    pub achieved: usize,
}

/// A condition that holds now.
struct Found {
    kind: &'static str,
    key: String,
    user: Option<Uuid>,
    team: Option<Uuid>,
    lead: Option<Uuid>,
    goal: Option<Uuid>,
    title: String,
    detail: serde_json::Value,
}

fn alert_row(org: OrgId, f: &Found, at: DateTime<Utc>) -> AlertRow {
    AlertRow {
        org_id: org.0,
        id: Uuid::now_v7(),
        kind: f.kind.into(),
        alert_key: f.key.clone(),
        user_id: f.user,
        team_id: f.team,
        lead_id: f.lead,
        goal_id: f.goal,
        title: f.title.clone(),
        detail: f.detail.to_string(),
        raised_at: at,
        resolved_at: None,
        dismissed_at: None,
        dismissed_by: None,
    }
}

/// Whole days from `a` to `b`.
fn days_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (b - a).num_days()
}

impl App {
    /// The organisation acting as itself: the jobs' actor.
    pub async fn system_actor(&self, org: OrgId) -> Result<Actor> {
        let o = self.org(org).await?;
        Ok(Actor {
            org_id: org,
            user_id: UserId(Uuid::nil()),
            role: Role::Admin,
            name: "salesops".into(),
            email: String::new(),
            locale: o.default_locale,
            time_zone: o.time_zone,
            member_of: vec![],
            manages: vec![],
        })
    }

    /// Computes the alerts of an organisation (and records goals reached,
    /// with their `goal.achieved` events) as of now.
    pub async fn run_alerts(&self, org: OrgId) -> Result<AlertRun> {
        let system = self.system_actor(org).await?;
        let ctx = self.analytics_ctx(&system).await?;
        let settings = notify::settings(&mut self.conn(), org).await?;
        let at = now();
        let today = ctx.today;
        let mut found: Vec<Found> = vec![];
        let leads = notify::open_leads(&mut self.conn(), org).await?;
        for l in &leads {
            let stage = ctx.stages.get(&l.stage_id);
            if let Some((s, days)) = stage.and_then(|s| s.rotting_days.map(|d| (s, i64::from(d)))) {
                let since = days_between(l.stage_entered_at, at);
                if since > days {
                    found.push(Found {
                        kind: "rotting",
                        key: format!(
                            "rotting:{}:{}:{}",
                            l.id,
                            l.stage_id,
                            l.stage_entered_at.timestamp()
                        ),
                        user: l.owner_id,
                        team: None,
                        lead: Some(l.id),
                        goal: None,
                        title: l.title.clone(),
                        detail: json!({ "stage": s.name, "rotting_days": days,
                            "since": l.stage_entered_at.with_timezone(&ctx.tz).date_naive(),
                            "since_at": l.stage_entered_at.timestamp() }),
                    });
                }
            }
            let last = l.last_activity_at.unwrap_or(l.created_at);
            let idle = days_between(last, at);
            if idle >= i64::from(settings.idle_days) {
                found.push(Found {
                    kind: "idle",
                    key: format!("idle:{}:{}", l.id, last.timestamp()),
                    user: l.owner_id,
                    team: None,
                    lead: Some(l.id),
                    goal: None,
                    title: l.title.clone(),
                    detail: json!({ "limit": settings.idle_days, "since_at": last.timestamp(),
                        "last_activity": l.last_activity_at.map(|t| t.with_timezone(&ctx.tz).date_naive()) }),
                });
            }
            if let Some(d) = l.expected_close_date.filter(|d| *d < today) {
                found.push(Found {
                    kind: "close_date_passed",
                    key: format!("close:{}:{}", l.id, d),
                    user: l.owner_id,
                    team: None,
                    lead: Some(l.id),
                    goal: None,
                    title: l.title.clone(),
                    detail: json!({ "date": d }),
                });
            }
        }
        let achieved = self
            .goal_alerts(&system, &ctx, &leads, &settings, &mut found)
            .await?;
        // Reconcile: write only what is new, changed or over, in
        // transactions of a thousand rows.
        let open = notify::open_alerts(&mut self.conn(), org).await?;
        let keys: HashSet<&str> = found.iter().map(|f| f.key.as_str()).collect();
        let known: HashMap<&str, &notify::OpenAlert> =
            open.iter().map(|o| (o.alert_key.as_str(), o)).collect();
        let over: Vec<Uuid> = open
            .iter()
            .filter(|o| !keys.contains(o.alert_key.as_str()))
            .map(|o| o.id)
            .collect();
        let changed: Vec<&Found> = found
            .iter()
            .filter(|f| {
                known.get(f.key.as_str()).is_none_or(|o| {
                    o.title != f.title
                        || o.user_id != f.user
                        || o.team_id != f.team
                        || serde_json::from_str::<serde_json::Value>(&o.detail)
                            .ok()
                            .as_ref()
                            != Some(&f.detail)
                })
            })
            .collect();
        for chunk in over.chunks(WRITE_BATCH) {
            let mut tx = self.db.begin().await?;
            for id in chunk {
                notify::resolve_alert(&mut tx, org, *id, at).await?;
            }
            tx.commit().await?;
        }
        for chunk in changed.chunks(WRITE_BATCH) {
            let mut tx = self.db.begin().await?;
            for f in chunk {
                notify::raise_alert(&mut tx, &alert_row(org, f, at)).await?;
            }
            tx.commit().await?;
        }
        Ok(AlertRun {
            open: found.len(),
            resolved: over.len(),
            written: changed.len(),
            achieved,
        })
    }

    /// Behind pace and low coverage, from the goals' progress today; also
    /// records each goal line that reached its target (once per period)
    /// with a `goal.achieved` event in the same transaction.
    async fn goal_alerts(
        &self,
        system: &Actor,
        ctx: &Ctx,
        leads: &[notify::OpenLead],
        settings: &notify::SettingsRow,
        found: &mut Vec<Found>,
    ) -> Result<usize> {
        let goals = self.list_goals_in(system, ctx, None, None).await?;
        let lines = self.progress_with(ctx, goals, Some(ctx.today)).await?;
        let mut achieved = 0;
        for p in lines {
            let subject = p.user_id.map(|u| u.0).or(p.team_id.map(|t| t.0));
            let Some(subject) = subject else { continue };
            let who = p.user_id.map(|u| u.0);
            let team = if who.is_none() {
                p.team_id.map(|t| t.0)
            } else {
                None
            };
            match p.pace.status {
                PaceStatus::Achieved => {
                    let mut tx = self.db.begin().await?;
                    if notify::insert_achievement(
                        &mut tx,
                        system.org_id,
                        p.goal.id.0,
                        subject,
                        p.period.from,
                        now(),
                    )
                    .await?
                    {
                        events::emit(
                            &mut tx,
                            system.org_id,
                            "goal.achieved",
                            p.goal.id.0,
                            json!({
                                "goal_id": p.goal.id.0,
                                "metric": p.goal.metric.as_str(),
                                "user_id": who,
                                "team_id": p.team_id.map(|t| t.0),
                                "period": { "from": p.period.from, "to": p.period.to },
                                "target": p.goal.target,
                                "actual": p.actual,
                            }),
                            None,
                        )
                        .await?;
                        achieved += 1;
                    }
                    tx.commit().await?;
                }
                PaceStatus::Behind => found.push(Found {
                    kind: "behind_pace",
                    key: format!("pace:{}:{}:{}", p.goal.id.0, subject, p.period.from),
                    user: who,
                    team,
                    lead: None,
                    goal: Some(p.goal.id.0),
                    title: p.name.clone(),
                    detail: json!({
                        "metric": p.goal.metric.as_str(),
                        "actual": p.actual,
                        "expected": p.pace.expected,
                        "target": p.goal.target,
                        "behind_by": p.pace.behind_by,
                        "period_from": p.period.from,
                        "period_to": p.period.to,
                        "currency": (p.goal.metric == GoalMetric::RevenueWon).then(|| ctx.base.code().to_string()),
                    }),
                }),
                _ => {}
            }
            if p.goal.metric == GoalMetric::RevenueWon
                && matches!(p.pace.status, PaceStatus::Behind | PaceStatus::OnTrack)
            {
                let users: HashSet<Uuid> = match (p.user_id, p.team_id) {
                    (Some(u), _) => [u.0].into(),
                    (None, Some(t)) => ctx.members_of(t).into_iter().map(|u| u.0).collect(),
                    _ => HashSet::new(),
                };
                let missing = p.goal.target - p.actual;
                let pipeline: i64 = leads
                    .iter()
                    .filter(|l| l.owner_id.is_some_and(|o| users.contains(&o)))
                    .filter(|l| l.expected_close_date.is_some_and(|d| p.period.contains(d)))
                    .filter_map(|l| {
                        let c = l.currency.as_deref()?.parse().ok()?;
                        let m = Money::new(l.amount_minor?, c);
                        ctx.rates.to_base(m, ctx.today).map(|b| b.minor)
                    })
                    .sum();
                // coverage < target  ⇔  pipeline × 100 < target_pct × missing
                if missing > 0
                    && i128::from(pipeline) * 100
                        < i128::from(settings.coverage_target_pct) * i128::from(missing)
                {
                    let coverage = rust_decimal::Decimal::from(pipeline)
                        / rust_decimal::Decimal::from(missing);
                    found.push(Found {
                        kind: "low_coverage",
                        key: format!("coverage:{}:{}:{}", p.goal.id.0, subject, p.period.from),
                        user: who,
                        team,
                        lead: None,
                        goal: Some(p.goal.id.0),
                        title: p.name.clone(),
                        detail: json!({
                            "coverage": coverage.round_dp(2).to_string(),
                            "target": super::ratio_of_pct(settings.coverage_target_pct).to_string(),
                            "pipeline_minor": pipeline,
                            "missing_minor": missing,
                            "currency": ctx.base.code(),
                            "period_from": p.period.from,
                            "period_to": p.period.to,
                        }),
                    });
                }
            }
        }
        Ok(achieved)
    }

    /// Whose alerts the actor sees: everybody's for admins, ops and
    /// viewers; else their own, and their managed teams' and members'.
    fn alert_scope(&self, actor: &Actor, ctx: &Ctx) -> AlertFilter {
        if matches!(actor.role, Role::Admin | Role::Ops) {
            return AlertFilter::default();
        }
        if actor.role == Role::Viewer {
            // Viewers read figures, not leads.
            return AlertFilter {
                without_leads: true,
                ..Default::default()
            };
        }
        // Managers: the direct members of the teams they manage, whose
        // leads they may read, and those teams' goals.
        let mut users = vec![actor.user_id.0];
        let mut teams: Vec<Uuid> = vec![];
        for t in &actor.manages {
            teams.push(t.0);
            users.extend(ctx.direct_members(*t).into_iter().map(|u| u.0));
        }
        AlertFilter {
            users: Some(users),
            teams: Some(teams),
            ..Default::default()
        }
    }

    /// The open alerts the actor sees (dismissed ones too with `dismissed`),
    /// optionally only one person's or team's.
    pub async fn list_alerts(
        &self,
        actor: &Actor,
        user: Option<UserId>,
        team: Option<TeamId>,
        dismissed: bool,
        limit: u64,
    ) -> Result<Vec<Alert>> {
        let ctx = self.analytics_ctx(actor).await?;
        let mut f = self.alert_scope(actor, &ctx);
        if let Some(u) = user {
            if f.users.as_ref().is_some_and(|v| !v.contains(&u.0)) {
                return Err(AppError::NotFound);
            }
            f.users = Some(vec![u.0]);
            f.teams = Some(vec![]);
        }
        if let Some(t) = team {
            if f.teams.as_ref().is_some_and(|v| !v.contains(&t.0)) || ctx.team(t).is_none() {
                return Err(AppError::NotFound);
            }
            f.users = Some(ctx.direct_members(t).into_iter().map(|u| u.0).collect());
            f.teams = Some(vec![t.0]);
        }
        f.dismissed = dismissed;
        f.limit = limit.clamp(1, 1000);
        Ok(notify::list_alerts(&mut self.conn(), actor.org_id, &f)
            .await?
            .into_iter()
            .map(|r| Alert::at(r, now(), ctx.tz))
            .collect())
    }

    /// Dismisses an alert the actor sees.
    pub async fn dismiss_alert(&self, actor: &Actor, id: Uuid) -> Result<Alert> {
        let ctx = self.analytics_ctx(actor).await?;
        let a = notify::get_alert(&mut self.conn(), actor.org_id, id).await?;
        let f = self.alert_scope(actor, &ctx);
        let visible = match (&f.users, &f.teams) {
            _ if f.without_leads && a.lead_id.is_some() => false,
            (None, None) => true,
            (users, teams) => {
                a.user_id
                    .is_some_and(|u| users.as_ref().is_some_and(|v| v.contains(&u)))
                    || (a.user_id.is_none()
                        && a.team_id
                            .is_some_and(|t| teams.as_ref().is_some_and(|v| v.contains(&t))))
            }
        };
        if !visible {
            return Err(AppError::NotFound);
        }
        if actor.role == Role::Viewer {
            return Err(AppError::Forbidden);
        }
        notify::dismiss_alert(&mut self.conn(), actor.org_id, id, actor.user_id.0, now()).await?;
        let r = notify::get_alert(&mut self.conn(), actor.org_id, id).await?;
        Ok(Alert::at(r, now(), ctx.tz))
    }
}

/// The day an instant falls on in the organisation's time zone.
pub(crate) fn local_day(ctx: &Ctx, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&ctx.tz).date_naive()
}
