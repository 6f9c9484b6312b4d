//! The morning digest: for each recipient, what their people did the day
//! before (the week before, for a weekly digest) against their goals,
//! leads created and won, revenue, deals that started rotting, open alerts
//! and the activities due today.
//!
//! Each morning at the organisation's digest hour the job plans the day:
//! one send per recipient, unique per recipient and day. A send is claimed
//! in the database before it goes out and marked sent right after, so two
//! instances, or a restart in the middle of a run, never send one twice;
//! a failed one is retried with backoff and, after the last attempt, shown
//! as failed on the admin page. Days missed while no instance ran (up to
//! two) are planned late rather than skipped; a clock that goes back plans
//! nothing twice.

use super::alerts::{self, Alert};
use super::mail::{self, Mailer};
use super::{DigestChoice, backoff};
use crate::App;
use crate::analytics::Ctx;
use crate::error::{AppError, Result};
use crate::permissions::Actor;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use salesops_domain::goals::PaceStatus;
use salesops_domain::periods::Period;
use salesops_domain::{GoalMetric, LeadStatus, Locale, Money, OrgId, Role, UserId};
use salesops_store::notify::{self, SendRow};
use salesops_store::{StoreError, now};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

/// The digest of one recipient and day, ready to render.
#[derive(Clone, Debug)]
pub struct Digest {
    pub org_name: String,
    pub recipient_id: Uuid,
    pub recipient_name: String,
    pub email: String,
    pub locale: Locale,
    /// The day it is sent.
    pub date: NaiveDate,
    pub weekly: bool,
    /// The days it covers, `[from, to)`.
    pub period: Period,
    /// The app's public URL, for links.
    pub base_url: String,
    /// The organisation's base currency (revenue and revenue goals).
    pub base: salesops_domain::Currency,
    pub members: Vec<MemberDigest>,
    pub totals: Totals,
    /// Deals that started rotting in the period.
    pub rotting: Vec<Alert>,
    /// The other open alerts of the recipient's people (when ops include them).
    pub alerts: Vec<Alert>,
    pub due_today: Vec<DueItem>,
    /// Names of the people the alerts and due activities mention.
    pub names: HashMap<Uuid, String>,
}

#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub activities: i64,
    pub leads_created: i64,
    pub leads_won: i64,
    pub leads_lost: i64,
    /// Won in the period, in the base currency.
    pub revenue: Option<Money>,
}

/// One person's period.
#[derive(Clone, Debug)]
pub struct MemberDigest {
    pub user_id: Uuid,
    pub name: String,
    pub activities: i64,
    /// Activities per type (name, count), most first.
    pub by_type: Vec<(String, i64)>,
    /// Outcomes (type: outcome, count), most first.
    pub outcomes: Vec<(String, i64)>,
    pub leads_created: i64,
    pub leads_won: i64,
    pub leads_lost: i64,
    pub revenue: Option<Money>,
    pub goals: Vec<GoalLine>,
}

/// A goal's standing at the end of the period covered.
#[derive(Clone, Debug)]
pub struct GoalLine {
    pub metric: GoalMetric,
    /// The activity type it counts, if one.
    pub label: Option<String>,
    pub actual: i64,
    pub target: i64,
    pub expected: i64,
    pub status: PaceStatus,
    pub period: Period,
}

#[derive(Clone, Debug)]
pub struct DueItem {
    pub at: DateTime<Utc>,
    /// `HH:MM` in the organisation's time zone.
    pub time: String,
    pub type_name: String,
    pub user_id: Uuid,
    pub lead_id: Option<Uuid>,
    pub lead_title: Option<String>,
    pub notes: Option<String>,
}

/// A digest as an e-mail: subject, HTML and plain text.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Turns a digest into an e-mail (the web crate's templates and
/// translations do it).
pub trait DigestRenderer: Send + Sync {
    fn render(&self, d: &Digest) -> Rendered;
}

/// What a sending run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DigestRun {
    pub planned: usize,
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// A send as the admin page lists it.
pub type DigestSend = SendRow;

/// Does a day get a digest of this choice? Daily: every day; weekly: Mondays.
fn gets_one(choice: DigestChoice, date: NaiveDate) -> bool {
    match choice {
        DigestChoice::Daily => true,
        DigestChoice::Weekly => date.weekday() == Weekday::Mon,
        DigestChoice::Off => false,
    }
}

/// The days a digest sent on `date` covers.
fn covered(choice: DigestChoice, date: NaiveDate) -> Period {
    let days = if choice == DigestChoice::Weekly { 7 } else { 1 };
    Period {
        from: date - Duration::days(days),
        to: date,
    }
}

/// The days to plan now: today once its hour has come, and the days
/// after the last planned one that were missed (at most two back).
pub fn days_to_plan(
    last: Option<NaiveDate>,
    today: NaiveDate,
    hour_reached: bool,
) -> Vec<NaiveDate> {
    let newest = if hour_reached {
        today
    } else {
        today - Duration::days(1)
    };
    let oldest = match last {
        Some(l) => (l + Duration::days(1)).max(today - Duration::days(2)),
        // Never planned: from today on.
        None => today,
    };
    let mut out = vec![];
    let mut d = oldest;
    while d <= newest {
        out.push(d);
        d += Duration::days(1);
    }
    out
}

/// An address a message can go to (something@domain, nothing odd).
fn valid_email(e: &str) -> bool {
    let e = e.trim();
    match e.split_once('@') {
        Some((l, d)) => {
            !l.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !e.contains(char::is_whitespace)
                && e.parse::<lettre::Address>().is_ok()
        }
        None => false,
    }
}

impl App {
    /// Who gets a digest on `date`, with their choice.
    async fn recipients(
        &self,
        org: OrgId,
        ctx: &Ctx,
        date: NaiveDate,
    ) -> Result<Vec<(UserId, DigestChoice)>> {
        let choices = notify::user_digests(&mut self.conn(), org).await?;
        let managers: HashSet<Uuid> = ctx.teams.iter().filter_map(|t| t.manager_id).collect();
        let mut out = vec![];
        for p in ctx.people.iter().filter(|p| p.active) {
            let stored = choices
                .iter()
                .find(|c| c.id == p.id.0)
                .and_then(|c| c.digest.as_deref())
                .and_then(DigestChoice::parse);
            let choice = stored.unwrap_or(if managers.contains(&p.id.0) {
                DigestChoice::Daily
            } else {
                DigestChoice::Off
            });
            if gets_one(choice, date) {
                out.push((p.id, choice));
            }
        }
        Ok(out)
    }

    /// The people a recipient's digest covers: the members of the teams
    /// they manage; everybody working leads for admins and ops who manage
    /// none; else themselves.
    fn digest_people(ctx: &Ctx, user: UserId) -> Vec<UserId> {
        let managed: Vec<_> = ctx
            .teams
            .iter()
            .filter(|t| t.manager_id == Some(user.0))
            .map(|t| t.id)
            .collect();
        let mut people: Vec<UserId> = vec![];
        for t in managed {
            for u in ctx.members_of(t) {
                if !people.contains(&u) && ctx.person(u).is_some_and(|p| p.active) {
                    people.push(u);
                }
            }
        }
        if people.is_empty() {
            let role = ctx.person(user).map(|p| p.role);
            if matches!(role, Some(Role::Admin | Role::Ops)) {
                people = ctx
                    .people
                    .iter()
                    .filter(|p| p.active && matches!(p.role, Role::Rep | Role::Manager))
                    .map(|p| p.id)
                    .collect();
            } else {
                people.push(user);
            }
        }
        people.sort_by_key(|u| ctx.name_of(*u).to_lowercase());
        people
    }

    /// Builds the digest of `user` for the day `date` (`choice` says how
    /// many days it covers).
    pub async fn build_digest(
        &self,
        org: OrgId,
        user: UserId,
        date: NaiveDate,
        choice: DigestChoice,
    ) -> Result<Digest> {
        let system = self.system_actor(org).await?;
        let ctx = self.analytics_ctx(&system).await?;
        let o = self.org(org).await?;
        let u = salesops_store::users::get(&mut self.conn(), org, user).await?;
        let settings = notify::settings(&mut self.conn(), org).await?;
        let period = covered(choice, date);
        let (t0, t1) = ctx.instants(period);
        let people = Self::digest_people(&ctx, user);
        let ids: Vec<Uuid> = people.iter().map(|u| u.0).collect();
        let counts = notify::activity_counts(&mut self.conn(), org, &ids, t0, t1).await?;
        let leads = notify::leads_created_or_closed(&mut self.conn(), org, &ids, t0, t1).await?;
        let (d0, d1) = ctx.instants(Period {
            from: date,
            to: date + Duration::days(1),
        });
        let due = notify::due_activities(&mut self.conn(), org, &ids, d0, d1).await?;
        let in_period = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t >= t0 && t < t1);
        let to_base = |l: &notify::LeadBrief| -> Option<Money> {
            let c = l.currency.as_deref()?.parse().ok()?;
            let day = alerts::local_day(&ctx, l.closed_at?);
            ctx.rates.to_base(Money::new(l.amount_minor?, c), day)
        };
        let mut members = vec![];
        let mut totals = Totals {
            revenue: Some(Money::new(0, ctx.base)),
            ..Default::default()
        };
        for p in &people {
            let mine: Vec<&notify::ActCount> = counts.iter().filter(|c| c.user_id == p.0).collect();
            let mut by_type: BTreeMap<String, i64> = BTreeMap::new();
            let mut outcomes: BTreeMap<String, i64> = BTreeMap::new();
            for c in &mine {
                let tname = ctx
                    .types
                    .get(&c.type_id)
                    .map(|t| t.name.clone())
                    .unwrap_or_default();
                *by_type.entry(tname.clone()).or_default() += c.n;
                if let Some(o) = c.outcome_id.and_then(|o| ctx.outcomes.get(&o)) {
                    *outcomes.entry(format!("{tname}: {}", o.name)).or_default() += c.n;
                }
            }
            let mut by_type: Vec<(String, i64)> = by_type.into_iter().collect();
            by_type.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut outcomes: Vec<(String, i64)> = outcomes.into_iter().collect();
            outcomes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let owned: Vec<&notify::LeadBrief> =
                leads.iter().filter(|l| l.owner_id == Some(p.0)).collect();
            let created = owned
                .iter()
                .filter(|l| in_period(Some(l.created_at)))
                .count() as i64;
            let closed = |s: LeadStatus| {
                owned
                    .iter()
                    .filter(|l| l.status == s.as_str() && in_period(l.closed_at))
                    .copied()
                    .collect::<Vec<_>>()
            };
            let won = closed(LeadStatus::Won);
            let lost = closed(LeadStatus::Lost).len() as i64;
            let revenue = won.iter().try_fold(Money::new(0, ctx.base), |acc, l| {
                match (l.amount_minor, to_base(l)) {
                    (None, _) => Some(acc),
                    (Some(_), Some(m)) => Some(Money::new(acc.minor + m.minor, ctx.base)),
                    (Some(_), None) => None,
                }
            });
            let activities: i64 = mine.iter().map(|c| c.n).sum();
            let goals = self
                .progress_for_in(
                    &system,
                    &ctx,
                    Some(*p),
                    None,
                    Some(period.to - Duration::days(1)),
                )
                .await?
                .into_iter()
                .filter(|l| l.user_id == Some(*p))
                .map(|l| GoalLine {
                    metric: l.goal.metric,
                    label: l
                        .goal
                        .activity_type_id
                        .and_then(|t| ctx.types.get(&t))
                        .map(|t| t.name.clone()),
                    actual: l.actual,
                    target: l.goal.target,
                    expected: l.pace.expected,
                    status: l.pace.status,
                    period: l.period,
                })
                .collect();
            totals.activities += activities;
            totals.leads_created += created;
            totals.leads_won += won.len() as i64;
            totals.leads_lost += lost;
            totals.revenue = match (totals.revenue, revenue) {
                (Some(a), Some(b)) => Some(Money::new(a.minor + b.minor, ctx.base)),
                _ => None,
            };
            members.push(MemberDigest {
                user_id: p.0,
                name: ctx.name_of(*p),
                activities,
                by_type,
                outcomes,
                leads_created: created,
                leads_won: won.len() as i64,
                leads_lost: lost,
                revenue,
                goals,
            });
        }
        // The open alerts about these people (`users` matches them alone).
        let open = notify::list_alerts(
            &mut self.conn(),
            org,
            &notify::AlertFilter {
                users: Some(ids.clone()),
                limit: 500,
                ..Default::default()
            },
        )
        .await?;
        // Counted to the morning the digest is sent.
        let morning = d0 + Duration::hours(i64::from(settings.digest_hour));
        let open: Vec<Alert> = open
            .into_iter()
            .map(|r| Alert::at(r, morning, ctx.tz))
            .collect();
        let rotting: Vec<Alert> = open
            .iter()
            .filter(|a| a.kind == "rotting" && a.raised_at < t1 + Duration::hours(24))
            .filter(|a| {
                // Started rotting in the period: entered the stage
                // `rotting_days` before a day of it.
                let since = a.detail["since"]
                    .as_str()
                    .and_then(|s| s.parse::<NaiveDate>().ok());
                let days = a.detail["rotting_days"].as_i64();
                match (since, days) {
                    (Some(s), Some(d)) => {
                        period.contains(s + Duration::days(d + 1)) || a.raised_at >= t0
                    }
                    _ => a.raised_at >= t0,
                }
            })
            .cloned()
            .collect();
        let others: Vec<Alert> = if settings.digest_alerts {
            open.into_iter()
                .filter(|a| !rotting.iter().any(|r| r.id == a.id))
                .take(50)
                .collect()
        } else {
            vec![]
        };
        let due_today = due
            .into_iter()
            .map(|d| DueItem {
                time: {
                    let l = d.due_at.with_timezone(&ctx.tz);
                    format!("{:02}:{:02}", l.hour(), l.minute())
                },
                at: d.due_at,
                type_name: ctx
                    .types
                    .get(&d.type_id)
                    .map(|t| t.name.clone())
                    .unwrap_or_default(),
                user_id: d.user_id,
                lead_id: d.lead_id,
                lead_title: d.lead_title,
                notes: d.notes,
            })
            .collect();
        let names = ctx
            .people
            .iter()
            .map(|p| (p.id.0, p.name.clone()))
            .collect();
        Ok(Digest {
            org_name: o.name,
            recipient_id: user.0,
            recipient_name: u.name,
            email: u.email,
            locale: u.locale,
            date,
            weekly: choice == DigestChoice::Weekly,
            period,
            base_url: self
                .settings
                .notify
                .base_url
                .trim_end_matches('/')
                .to_string(),
            base: ctx.base,
            members,
            totals,
            rotting,
            alerts: others,
            due_today,
            names,
        })
    }

    /// The digest `user` would get on `date` (default: today), for the
    /// preview page: their own, or anyone's for admins and ops, or their
    /// team members' for managers.
    pub async fn preview_digest(
        &self,
        actor: &Actor,
        user: Option<UserId>,
        date: Option<NaiveDate>,
    ) -> Result<Digest> {
        let user = user.unwrap_or(actor.user_id);
        let ctx = self.analytics_ctx(actor).await?;
        if ctx.person(user).is_none() {
            return Err(AppError::NotFound);
        }
        if user != actor.user_id && !actor.sees_all() {
            // A manager previews a member's digest only when everyone in it
            // is one of their own people.
            let mine: HashSet<UserId> = actor
                .manages
                .iter()
                .flat_map(|t| ctx.members_of(*t))
                .collect();
            let theirs = Self::digest_people(&ctx, user);
            if !mine.contains(&user)
                || !theirs
                    .iter()
                    .all(|p| mine.contains(p) || *p == actor.user_id)
            {
                return Err(AppError::NotFound);
            }
        }
        let date = date.unwrap_or(ctx.today);
        if (date - ctx.today).num_days().abs() > 3660 {
            return Err(AppError::Invalid(salesops_domain::Invalid::one(
                "date",
                "must be within ten years of today",
            )));
        }
        let stored = self.digest_choice_of(actor.org_id, user).await?;
        let choice = match stored {
            Some(DigestChoice::Weekly) => DigestChoice::Weekly,
            _ => DigestChoice::Daily,
        };
        self.build_digest(actor.org_id, user, date, choice).await
    }

    /// The digests every recipient would get on `date`, without sending
    /// or recording anything (`salesops digest --dry-run`).
    pub async fn digests_for_day(&self, org: OrgId, date: NaiveDate) -> Result<Vec<Digest>> {
        let system = self.system_actor(org).await?;
        let ctx = self.analytics_ctx(&system).await?;
        let mut out = vec![];
        for (u, choice) in self.recipients(org, &ctx, date).await? {
            out.push(self.build_digest(org, u, date, choice).await?);
        }
        Ok(out)
    }

    /// Plans the sends of `date`: one per recipient, unless they already
    /// have one. Returns the number of new sends.
    pub async fn plan_digests(&self, org: OrgId, date: NaiveDate) -> Result<usize> {
        let system = self.system_actor(org).await?;
        let ctx = self.analytics_ctx(&system).await?;
        let recipients = self.recipients(org, &ctx, date).await?;
        let at = now();
        let mut tx = self.db.begin().await?;
        let mut n = 0;
        for (u, choice) in &recipients {
            let row = SendRow {
                org_id: org.0,
                id: Uuid::now_v7(),
                user_id: u.0,
                digest_date: date,
                frequency: choice.as_str().into(),
                status: "pending".into(),
                attempts: 0,
                next_attempt_at: at,
                claimed_by: None,
                claimed_until: None,
                email: String::new(),
                last_error: None,
                created_at: at,
                updated_at: at,
                sent_at: None,
            };
            if notify::insert_send(&mut tx, &row).await? {
                n += 1;
            }
        }
        notify::insert_plan(&mut tx, org, date, recipients.len() as i64, at).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Plans what is due by the clock: for each organisation whose digest
    /// hour has come, today and the days missed since the last plan.
    pub async fn plan_due_digests(&self) -> Result<usize> {
        let mut n = 0;
        for o in salesops_store::orgs::list(&mut self.conn()).await? {
            let s = notify::settings(&mut self.conn(), o.id).await?;
            if !s.digest_enabled {
                continue;
            }
            let tz: chrono_tz::Tz = o.time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin);
            let local = now().with_timezone(&tz);
            let last = notify::last_plan(&mut self.conn(), o.id, local.date_naive()).await?;
            let hour_reached = local.hour() as i32 >= s.digest_hour;
            for d in days_to_plan(last, local.date_naive(), hour_reached) {
                n += self.plan_digests(o.id, d).await?;
            }
        }
        Ok(n)
    }

    /// Sends every send that is due, one at a time, each claimed first.
    pub async fn send_due_digests(
        &self,
        mailer: &Mailer,
        renderer: &dyn DigestRenderer,
    ) -> Result<DigestRun> {
        let mut run = DigestRun::default();
        let due = notify::due_sends(&mut self.conn(), now(), 200).await?;
        for s in due {
            match self.send_one(mailer, renderer, &s).await? {
                Some("sent") => run.sent += 1,
                Some("retrying") => run.retrying += 1,
                Some("failed") => run.failed += 1,
                Some("skipped") => run.skipped += 1,
                _ => {}
            }
        }
        Ok(run)
    }

    async fn send_one(
        &self,
        mailer: &Mailer,
        renderer: &dyn DigestRenderer,
        s: &SendRow,
    ) -> Result<Option<&'static str>> {
        let cfg = &self.settings.notify;
        let at = now();
        let by = cfg.instance.as_str();
        let Some(attempts) = notify::claim_send(
            &mut self.conn(),
            s.org_id,
            s.id,
            by,
            at + Duration::minutes(5),
            at,
        )
        .await?
        else {
            return Ok(None);
        };
        let org = OrgId(s.org_id);
        let user = match salesops_store::users::get(&mut self.conn(), org, UserId(s.user_id)).await
        {
            Ok(u) => Some(u),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let (status, email, error) = match &user {
            None => (
                "skipped",
                String::new(),
                Some("the user no longer exists".to_string()),
            ),
            Some(u) if !u.active => (
                "skipped",
                u.email.clone(),
                Some("the user is inactive".into()),
            ),
            Some(u) if !valid_email(&u.email) => (
                "skipped",
                u.email.clone(),
                Some("the user has no valid e-mail address".into()),
            ),
            Some(u) => {
                let choice = DigestChoice::parse(&s.frequency).unwrap_or(DigestChoice::Daily);
                let result = match self.build_digest(org, u.id, s.digest_date, choice).await {
                    Ok(d) => {
                        let r = renderer.render(&d);
                        let host = url::Url::parse(&cfg.base_url)
                            .ok()
                            .and_then(|u| u.host_str().map(str::to_string))
                            .unwrap_or_else(|| "salesops.invalid".into());
                        let message = mail::message(
                            &cfg.mail_from,
                            &u.name,
                            &u.email,
                            &r.subject,
                            r.html,
                            r.text,
                            format!("<digest.{}.{}@{host}>", s.user_id.simple(), s.digest_date),
                        );
                        // Building took time: the claim must still be ours,
                        // and now lasts for the sending.
                        let held = notify::extend_send(
                            &mut self.conn(),
                            s.org_id,
                            s.id,
                            by,
                            attempts,
                            now() + Duration::minutes(5),
                        )
                        .await?;
                        if !held {
                            tracing::warn!(user = %s.user_id, date = %s.digest_date, "digest: the claim ran out while building; left to the instance that took it");
                            return Ok(None);
                        }
                        match message {
                            Ok(m) => mailer.send(m).await,
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(format!("cannot build the digest: {e}")),
                };
                match result {
                    Ok(()) => ("sent", u.email.clone(), None),
                    Err(e) if attempts >= cfg.digest_max_attempts => {
                        ("failed", u.email.clone(), Some(e))
                    }
                    Err(e) => ("retrying", u.email.clone(), Some(e)),
                }
            }
        };
        if let Some(e) = &error {
            tracing::warn!(user = %s.user_id, date = %s.digest_date, status, error = %e, "digest not sent");
        }
        let next = now() + backoff(cfg.retry_base, attempts);
        notify::finish_send(
            &mut self.conn(),
            s.org_id,
            s.id,
            by,
            attempts,
            status,
            &email,
            error.as_deref(),
            next,
            now(),
        )
        .await?;
        Ok(Some(status))
    }

    /// The latest sends (the admin page).
    pub async fn digest_sends(
        &self,
        actor: &Actor,
        status: Option<&str>,
        limit: u64,
    ) -> Result<Vec<DigestSend>> {
        crate::permissions::require(
            actor,
            crate::Resource::Settings,
            crate::Action::Update,
            None,
        )?;
        Ok(
            notify::list_sends(&mut self.conn(), actor.org_id, status, limit.clamp(1, 1000))
                .await?,
        )
    }

    /// Puts a failed or skipped send back in the queue.
    pub async fn retry_digest_send(&self, actor: &Actor, id: Uuid) -> Result<DigestSend> {
        crate::permissions::require(
            actor,
            crate::Resource::Settings,
            crate::Action::Update,
            None,
        )?;
        notify::get_send(&mut self.conn(), actor.org_id, id).await?;
        if !notify::retry_send(&mut self.conn(), actor.org_id, id, now()).await? {
            return Err(AppError::Conflict(
                "only a failed, skipped or retrying send can be retried".into(),
            ));
        }
        Ok(notify::get_send(&mut self.conn(), actor.org_id, id).await?)
    }

    /// The notification job: webhook deliveries every second, the digest
    /// every minute, alerts every ten minutes, until `stop` turns true.
    pub async fn run_notifications(
        &self,
        renderer: Arc<dyn DigestRenderer>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mailer = match Mailer::new(&self.settings.notify.mail) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "e-mail is off");
                Mailer::Off
            }
        };
        // Three loops, so that a slow endpoint, a long alert run or a slow
        // SMTP server holds up only its own kind of work.
        let every = |secs: u64| {
            let mut t = tokio::time::interval(std::time::Duration::from_secs(secs));
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        };
        let webhooks = {
            let mut stop = stop.clone();
            async move {
                let mut tick = every(1);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = stop.changed() => if *stop.borrow() { break },
                    }
                    // Again at once while deliveries go through (a backlog
                    // drains without waiting a second per hundred).
                    for _ in 0..60 {
                        match self.deliver_webhooks().await {
                            Ok(r) if r.delivered > 0 => continue,
                            Ok(_) => break,
                            Err(e) => {
                                tracing::warn!(error = %e, "webhook deliveries");
                                break;
                            }
                        }
                    }
                }
            }
        };
        let alerts = {
            let mut stop = stop.clone();
            async move {
                let mut tick = every(600);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = stop.changed() => if *stop.borrow() { break },
                    }
                    let orgs = match salesops_store::orgs::list(&mut self.conn()).await {
                        Ok(o) => o,
                        Err(e) => {
                            tracing::warn!(error = %e, "alerts");
                            continue;
                        }
                    };
                    for o in orgs {
                        let started = std::time::Instant::now();
                        match self.run_alerts(o.id).await {
                            Ok(r) => tracing::info!(
                                org = %o.slug,
                                open = r.open,
                                written = r.written,
                                resolved = r.resolved,
                                achieved = r.achieved,
                                ms = started.elapsed().as_millis() as u64,
                                "alerts checked"
                            ),
                            Err(e) => tracing::warn!(error = %e, "alerts"),
                        }
                    }
                }
            }
        };
        let digests = async move {
            let mut tick = every(60);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => if *stop.borrow() { break },
                }
                if mailer.is_off() {
                    continue;
                }
                if let Err(e) = self.plan_due_digests().await {
                    tracing::warn!(error = %e, "digest planning");
                }
                match self.send_due_digests(&mailer, renderer.as_ref()).await {
                    Ok(r) if r != DigestRun::default() => tracing::info!(?r, "digests"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "digest sending"),
                }
            }
        };
        tokio::join!(webhooks, alerts, digests);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_days_to_plan_follow_the_clock_without_repeats_or_gaps() {
        // First run, before the hour: nothing; after it: today.
        assert!(days_to_plan(None, d("2026-11-23"), false).is_empty());
        assert_eq!(days_to_plan(None, d("2026-11-23"), true), [d("2026-11-23")]);
        // Already planned today: nothing, whatever the hour (a clock that went back).
        assert!(days_to_plan(Some(d("2026-11-23")), d("2026-11-23"), true).is_empty());
        assert!(days_to_plan(Some(d("2026-11-24")), d("2026-11-23"), true).is_empty());
        // A clock that jumped a day ahead: yesterday is planned late, not skipped.
        assert_eq!(
            days_to_plan(Some(d("2026-11-21")), d("2026-11-23"), true),
            [d("2026-11-22"), d("2026-11-23")]
        );
        assert_eq!(
            days_to_plan(Some(d("2026-11-21")), d("2026-11-23"), false),
            [d("2026-11-22")]
        );
        // A week down: the last two days only.
        assert_eq!(
            days_to_plan(Some(d("2026-11-10")), d("2026-11-23"), true),
            [d("2026-11-21"), d("2026-11-22"), d("2026-11-23")]
        );
    }

    #[test]
    fn weekly_digests_go_out_on_mondays_and_cover_the_week() {
        assert!(gets_one(DigestChoice::Weekly, d("2026-11-23")));
        assert!(!gets_one(DigestChoice::Weekly, d("2026-11-24")));
        assert!(gets_one(DigestChoice::Daily, d("2026-11-24")));
        assert!(!gets_one(DigestChoice::Off, d("2026-11-23")));
        let w = covered(DigestChoice::Weekly, d("2026-11-23"));
        assert_eq!((w.from, w.to), (d("2026-11-16"), d("2026-11-23")));
        let w = covered(DigestChoice::Daily, d("2026-11-23"));
        assert_eq!((w.from, w.to), (d("2026-11-22"), d("2026-11-23")));
    }

    #[test]
    fn addresses_are_checked() {
        assert!(valid_email("anna@example.com"));
        assert!(!valid_email(""));
        assert!(!valid_email("anna"));
        assert!(!valid_email("anna@localhost."));
        assert!(!valid_email("an na@example.com"));
    }
}
