//! Goals (progress with pace, and the goals themselves) and the backwards
//! planner.

use super::people::{Choice, choice};
use super::{FieldErrors, Form, PageCtx, Session, UiError, query, render};
use crate::api::planner::{PlanOut, PlannerRequest, RatiosIn};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use rust_decimal::Decimal;
use salesops_app::analytics::Ctx;
use salesops_app::goals::{GoalInput, Progress};
use salesops_app::{Action, AppError, Resource, can};
use salesops_domain::goals::PaceStatus;
use salesops_domain::{GoalId, GoalMetric, Invalid, Locale, Money, PipelineId, TeamId, UserId};
use salesops_store::goals::Goal;
use std::collections::HashMap;
use std::str::FromStr;

/// A number as typed in the reader's language: German "90.000,50" and
/// English "90,000.50" are both 90000.50.
pub fn number_in(lang: Locale, s: &str) -> Result<Decimal, &'static str> {
    let s = s.trim().replace([' ', '\u{a0}'], "");
    let plain = if lang == Locale::De {
        s.replace('.', "").replace(',', ".")
    } else {
        s.replace(',', "")
    };
    Decimal::from_str(&plain).map_err(|_| "must be a number")
}

/// One progress line as the page shows it.
pub struct GoalLine {
    pub who: String,
    pub metric: String,
    pub period: String,
    pub target: String,
    pub actual: String,
    /// 0–100 for the meter.
    pub meter: i64,
    pub percent: String,
    /// achieved, on_track, behind, missed or not_started.
    pub status: &'static str,
    pub status_text: String,
    pub needed: String,
}

/// A goal as set.
pub struct GoalRow {
    pub id: String,
    /// The target as typed in the edit form (a count, or an amount).
    pub target_input: String,
    pub valid_until: String,
    pub version: i64,
    pub who: String,
    pub metric: String,
    pub period: String,
    pub target: String,
    pub valid: String,
    pub can_delete: bool,
}

fn status_str(s: PaceStatus) -> &'static str {
    match s {
        PaceStatus::Achieved => "achieved",
        PaceStatus::OnTrack => "on_track",
        PaceStatus::Behind => "behind",
        PaceStatus::Missed => "missed",
        PaceStatus::NotStarted => "not_started",
    }
}

/// A goal's metric in words: the activity type (and outcome), or the metric.
pub fn metric_label(pctx: &PageCtx, ctx: &Ctx, g: &Goal) -> String {
    let base = match g.metric {
        GoalMetric::Activities => g
            .activity_type_id
            .and_then(|t| ctx.types.get(&t))
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        m => pctx.t(&format!("goal-metric-{}", m.as_str())),
    };
    let outcome = g
        .outcome_id
        .and_then(|o| ctx.outcomes.get(&o))
        .map(|o| format!(" · {}", o.name))
        .unwrap_or_default();
    let pipeline = g
        .pipeline_id
        .and_then(|p| ctx.pipelines.iter().find(|x| x.pipeline.id.0 == p))
        .map(|p| format!(" ({})", p.pipeline.name))
        .unwrap_or_default();
    format!("{base}{outcome}{pipeline}")
}

fn units(pctx: &PageCtx, ctx: &Ctx, metric: GoalMetric, v: i64) -> String {
    if metric == GoalMetric::RevenueWon {
        pctx.money(&Money::new(v, ctx.base))
    } else {
        v.to_string()
    }
}

fn who_of(pctx: &PageCtx, ctx: &Ctx, g: &Goal) -> String {
    match (g.user_id, g.team_id) {
        (Some(u), _) => ctx.name_of(UserId(u)),
        (None, Some(t)) => {
            let name = ctx
                .team(TeamId(t))
                .map(|t| t.name.clone())
                .unwrap_or_default();
            if g.assignee == salesops_domain::GoalAssignee::EachMember {
                pctx.t_with("goal-each-member-of", "team", &name)
            } else {
                name
            }
        }
        _ => String::new(),
    }
}

pub fn lines(pctx: &PageCtx, ctx: &Ctx, progress: Vec<Progress>) -> Vec<GoalLine> {
    progress
        .into_iter()
        .map(|p| {
            let m = p.goal.metric;
            let pct = p
                .pace
                .progress
                .map(|d| (d * Decimal::ONE_HUNDRED).round_dp(0))
                .unwrap_or_default();
            let meter = pct.min(Decimal::ONE_HUNDRED).max(Decimal::ZERO);
            let status = status_str(p.pace.status);
            let status_text = match p.pace.status {
                PaceStatus::Behind | PaceStatus::Missed => pctx.t_with(
                    &format!("goal-status-{status}"),
                    "n",
                    &units(pctx, ctx, m, p.pace.behind_by),
                ),
                _ => pctx.t(&format!("goal-status-{status}")),
            };
            let needed = p
                .pace
                .needed_per_day
                .map(|d| {
                    let v = if m == GoalMetric::RevenueWon {
                        pctx.money(&Money::new(d.ceil().try_into().unwrap_or(0), ctx.base))
                    } else {
                        d.round_dp(1).normalize().to_string()
                    };
                    pctx.t_with("goal-needed-per-day", "n", &v)
                })
                .unwrap_or_default();
            GoalLine {
                who: p.name.clone(),
                metric: metric_label(pctx, ctx, &p.goal),
                period: format!(
                    "{} – {}",
                    p.period.from,
                    p.period.to.pred_opt().unwrap_or(p.period.to)
                ),
                target: units(pctx, ctx, m, p.goal.target),
                actual: units(pctx, ctx, m, p.actual),
                meter: meter.try_into().unwrap_or(0),
                percent: format!("{pct} %"),
                status,
                status_text,
                needed,
            }
        })
        .collect()
}

#[derive(Default)]
pub struct GoalFormValues {
    pub assignee: String,
    pub user_id: String,
    pub team_id: String,
    pub metric: String,
    pub period: String,
    pub target: String,
    pub valid_from: String,
    pub valid_until: String,
}

#[derive(Template)]
#[template(path = "goals.html")]
struct GoalsPage {
    ctx: PageCtx,
    lines: Vec<GoalLine>,
    goals: Vec<GoalRow>,
    teams: Vec<Choice>,
    users: Vec<Choice>,
    /// Metric choices: activities of a type (and outcome) are `activities:<type>[:<outcome>]`.
    metrics: Vec<Choice>,
    periods: Vec<Choice>,
    pipelines: Vec<Choice>,
    date: String,
    can_set: bool,
    form: GoalFormValues,
    errors: FieldErrors,
}

#[allow(clippy::too_many_arguments)]
async fn goals_page(
    s: &AppState,
    session: &Session,
    team: Option<TeamId>,
    user: Option<UserId>,
    date: Option<chrono::NaiveDate>,
    notice: Option<String>,
    form: GoalFormValues,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    let lang = a.locale;
    let result = async {
        let ctx = s.app.analytics_ctx(a).await?;
        let sees_all = can(a, Resource::Report, Action::Read, None);
        let (user, team) = match (user, team) {
            (None, None) if sees_all => (None, None),
            (None, None) => match a.manages.first() {
                Some(t) => (None, Some(*t)),
                None => (Some(a.user_id), None),
            },
            other => other,
        };
        let progress = if user.is_none() && team.is_none() {
            let goals = s.app.list_goals_in(a, &ctx, None, None).await?;
            s.app.progress_with(&ctx, goals, date).await?
        } else {
            s.app.progress_for_in(a, &ctx, user, team, date).await?
        };
        let goals = s.app.list_goals_in(a, &ctx, user, team).await?;
        Ok::<_, AppError>((ctx, progress, goals, team))
    }
    .await;
    let (actx, progress, goals, team) = match result {
        Ok(x) => x,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let mut ctx = session.ctx("goals");
    ctx.notice = notice;
    let rows = goals
        .iter()
        .map(|g| GoalRow {
            id: g.id.to_string(),
            target_input: if g.metric == GoalMetric::RevenueWon {
                Money::new(g.target, actx.base).amount_string()
            } else {
                g.target.to_string()
            },
            valid_until: g.valid_until.map(|d| d.to_string()).unwrap_or_default(),
            version: g.version,
            who: who_of(&ctx, &actx, g),
            metric: metric_label(&ctx, &actx, g),
            period: ctx.t(&format!("period-{}", g.period)),
            target: units(&ctx, &actx, g.metric, g.target),
            valid: format!(
                "{} – {}",
                g.valid_from,
                g.valid_until.map(|d| d.to_string()).unwrap_or_default()
            ),
            can_delete: can_manage(a, &actx, g),
        })
        .collect();
    let can_set = can(a, Resource::Goal, Action::Create, None);
    let team_sel = if form.team_id.is_empty() {
        team.map(|t| t.to_string()).unwrap_or_default()
    } else {
        form.team_id.clone()
    };
    let teams = actx
        .teams
        .iter()
        .filter(|t| a.sees_all() || a.manages.contains(&t.id))
        .map(|t| choice(t.id.to_string(), t.name.clone(), &team_sel))
        .collect();
    let users = actx
        .people
        .iter()
        .filter(|p| p.active)
        .map(|p| choice(p.id.to_string(), p.name.clone(), &form.user_id))
        .collect();
    let mut metrics = vec![];
    let mut types: Vec<_> = actx.types.values().filter(|t| !t.archived).collect();
    types.sort_by_key(|t| (t.position, t.id));
    for t in types {
        metrics.push(choice(
            format!("activities:{}", t.id),
            t.name.clone(),
            &form.metric,
        ));
        let mut outs: Vec<_> = actx
            .outcomes
            .values()
            .filter(|o| o.type_id == t.id && !o.archived)
            .collect();
        outs.sort_by_key(|o| (o.position, o.id));
        for o in outs {
            metrics.push(choice(
                format!("activities:{}:{}", t.id, o.id),
                format!("{} · {}", t.name, o.name),
                &form.metric,
            ));
        }
    }
    for m in GoalMetric::ALL
        .iter()
        .filter(|m| **m != GoalMetric::Activities)
    {
        metrics.push(choice(
            m.as_str().to_string(),
            ctx.t(&format!("goal-metric-{}", m.as_str())),
            &form.metric,
        ));
    }
    let period_sel = if form.period.is_empty() {
        "month"
    } else {
        &form.period
    };
    let periods = salesops_domain::periods::PeriodKind::ALL
        .iter()
        .map(|k| {
            choice(
                k.as_str(),
                ctx.t(&format!("period-{}", k.as_str())),
                period_sel,
            )
        })
        .collect();
    let pipelines = actx
        .pipelines
        .iter()
        .map(|p| choice(p.pipeline.id.to_string(), p.pipeline.name.clone(), ""))
        .collect();
    let page = GoalsPage {
        lines: lines(&ctx, &actx, progress),
        goals: rows,
        teams,
        users,
        metrics,
        periods,
        pipelines,
        date: date.map(|d| d.to_string()).unwrap_or_default(),
        can_set,
        form,
        errors,
        ctx,
    };
    (status, render(&page)).into_response()
}

fn can_manage(a: &salesops_app::Actor, ctx: &Ctx, g: &Goal) -> bool {
    salesops_app::goals::may(a, ctx, Action::Delete, g)
}

fn parse_opt<T: FromStr>(field: &str, v: Option<&String>, errs: &mut Invalid) -> Option<T> {
    let v = v.map(|s| s.trim()).filter(|s| !s.is_empty())?;
    match v.parse::<T>() {
        Ok(x) => Some(x),
        Err(_) => {
            errs.push(field, "is not valid");
            None
        }
    }
}

pub async fn list(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = query(&uri);
    let mut errs = Invalid::default();
    let team = parse_opt::<TeamId>("team", q.get("team"), &mut errs);
    let user = parse_opt::<UserId>("user", q.get("user"), &mut errs);
    let date =
        salesops_app::analytics::parse_date("date", q.get("date").map(|s| s.as_str()), &mut errs);
    let lang = session.actor().locale;
    if let Err(e) = errs.into_result() {
        return UiError::new(lang, AppError::Invalid(e)).into_response();
    }
    let notice = if q.contains_key("created") {
        Some(super::i18n::t(lang, "goal-created"))
    } else if q.contains_key("updated") {
        Some(super::i18n::t(lang, "goal-updated"))
    } else if q.contains_key("deleted") {
        Some(super::i18n::t(lang, "goal-deleted"))
    } else {
        q.get("applied").map(|n| {
            super::i18n::t_args(
                lang,
                "planner-applied",
                &[(
                    "count",
                    fluent_templates::fluent_bundle::FluentValue::from(
                        n.parse::<i64>().unwrap_or(0),
                    ),
                )],
            )
        })
    };
    goals_page(
        &s,
        &session,
        team,
        user,
        date,
        notice,
        GoalFormValues::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let metric_raw = form.str("metric");
    let mut parts = metric_raw.split(':');
    let metric = parts.next().unwrap_or("").to_string();
    let activity_type_id = parts.next().and_then(|t| t.parse().ok());
    let outcome_id = parts.next().and_then(|o| o.parse().ok());
    let assignee = form.str("assignee");
    let user_id = if assignee == "user" {
        parse_opt::<UserId>("user_id", form.opt("user_id").as_ref(), &mut errs)
    } else {
        None
    };
    let team_id = if assignee == "user" {
        None
    } else {
        parse_opt::<TeamId>("team_id", form.opt("team_id").as_ref(), &mut errs)
    };
    let target = form
        .opt("target")
        .and_then(|t| errs.check("target", number_in(session.actor().locale, &t)));
    let valid_from = super::form_date(&form, "valid_from", &mut errs);
    let valid_until = super::form_date(&form, "valid_until", &mut errs);
    let pipeline_id =
        parse_opt::<PipelineId>("pipeline_id", form.opt("pipeline_id").as_ref(), &mut errs);
    let values = GoalFormValues {
        assignee: assignee.clone(),
        user_id: form.str("user_id"),
        team_id: form.str("team_id"),
        metric: metric_raw.clone(),
        period: form.str("period"),
        target: form.str("target"),
        valid_from: form.str("valid_from"),
        valid_until: form.str("valid_until"),
    };
    let result = if errs.is_empty() {
        s.app
            .create_goal(
                session.actor(),
                GoalInput {
                    assignee,
                    user_id,
                    team_id,
                    metric,
                    activity_type_id,
                    outcome_id,
                    period: form.str("period"),
                    target,
                    valid_from,
                    valid_until,
                    pipeline_id,
                },
            )
            .await
            .map(|_| ())
    } else {
        Err(AppError::Invalid(errs))
    };
    let back_team = form.opt("back_team").and_then(|t| t.parse::<TeamId>().ok());
    match result {
        Ok(()) => Redirect::to(&match back_team {
            Some(t) => format!("/goals?team={t}&created=1"),
            None => "/goals?created=1".into(),
        })
        .into_response(),
        Err(AppError::Invalid(i)) => {
            goals_page(
                &s,
                &session,
                back_team,
                None,
                None,
                None,
                values,
                FieldErrors::of(&i),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

/// Changes a goal's target and last day (at the version the form showed).
pub async fn update(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id: GoalId = match super::parse_id(&session, &id) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let mut errs = Invalid::default();
    let target = form
        .opt("target")
        .and_then(|t| errs.check("target", number_in(session.actor().locale, &t)));
    let until = super::form_date(&form, "valid_until", &mut errs);
    let version = form.opt("version").and_then(|v| v.parse().ok());
    let result = match errs.into_result() {
        Ok(()) => s
            .app
            .update_goal(
                session.actor(),
                id,
                salesops_app::goals::GoalPatch {
                    target,
                    valid_from: None,
                    valid_until: Some(until),
                },
                version,
            )
            .await
            .map(|_| ()),
        Err(i) => Err(AppError::Invalid(i)),
    };
    match result {
        Ok(()) => Redirect::to("/goals?updated=1").into_response(),
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

pub async fn delete(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id: GoalId = match super::parse_id(&session, &id) {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let version = form.opt("version").and_then(|v| v.parse().ok());
    match s.app.delete_goal(session.actor(), id, version).await {
        Ok(()) => Redirect::to("/goals?deleted=1").into_response(),
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

// ---- the planner ------------------------------------------------------

/// The planner form as typed (kept across submissions).
#[derive(Default)]
pub struct PlannerForm {
    pub target: String,
    pub preset: String,
    pub from: String,
    pub to: String,
    pub source: String,
    pub window_from: String,
    pub window_to: String,
    pub split: String,
    /// (ratio name, typed value).
    pub ratios: Vec<(String, String)>,
}

impl PlannerForm {
    fn from_map(q: &HashMap<String, String>) -> PlannerForm {
        let g = |k: &str| q.get(k).cloned().unwrap_or_default();
        PlannerForm {
            target: g("target"),
            preset: if q.contains_key("preset") {
                g("preset")
            } else {
                "next_quarter".into()
            },
            from: g("from"),
            to: g("to"),
            source: if q.contains_key("source") {
                g("source")
            } else {
                "history".into()
            },
            window_from: g("window_from"),
            window_to: g("window_to"),
            split: if q.contains_key("split") {
                g("split")
            } else {
                "capacity".into()
            },
            ratios: salesops_app::planner::RATIO_NAMES
                .iter()
                .map(|n| (n.to_string(), g(n)))
                .collect(),
        }
    }

    /// The form as an API request; unparsable numbers are field errors.
    fn request(&self, lang: Locale) -> Result<PlannerRequest, Invalid> {
        let mut errs = Invalid::default();
        let mut num = |field: &str, v: &str| -> Option<Decimal> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            match number_in(lang, v) {
                Ok(d) => Some(d),
                Err(_) => {
                    errs.push(field, "must be a number");
                    None
                }
            }
        };
        let target = num("target", &self.target);
        let r: HashMap<&str, Option<Decimal>> = self
            .ratios
            .iter()
            .map(|(k, v)| {
                let key: &'static str = salesops_app::planner::RATIO_NAMES
                    .iter()
                    .find(|n| **n == k.as_str())
                    .copied()
                    .unwrap_or("deal_size");
                (key, num(key, v))
            })
            .collect();
        errs.into_result()?;
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let use_dates = !self.from.trim().is_empty() || !self.to.trim().is_empty();
        Ok(PlannerRequest {
            target,
            preset: if use_dates { None } else { opt(&self.preset) },
            from: opt(&self.from),
            to: opt(&self.to),
            source: opt(&self.source),
            window_from: opt(&self.window_from),
            window_to: opt(&self.window_to),
            ratios: RatiosIn {
                deal_size: r.get("deal_size").copied().flatten(),
                leads_per_deal: r.get("leads_per_deal").copied().flatten(),
                prospects_per_lead: r.get("prospects_per_lead").copied().flatten(),
                calls_per_prospect: r.get("calls_per_prospect").copied().flatten(),
                calls_per_lead: r.get("calls_per_lead").copied().flatten(),
                meetings_per_lead: r.get("meetings_per_lead").copied().flatten(),
                proposals_per_lead: r.get("proposals_per_lead").copied().flatten(),
            },
            split: opt(&self.split),
        })
    }

    /// The form's fields as hidden inputs for the apply button.
    pub fn hidden(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("target".to_string(), self.target.clone()),
            ("preset".into(), self.preset.clone()),
            ("from".into(), self.from.clone()),
            ("to".into(), self.to.clone()),
            ("source".into(), self.source.clone()),
            ("window_from".into(), self.window_from.clone()),
            ("window_to".into(), self.window_to.clone()),
            ("split".into(), self.split.clone()),
        ];
        v.extend(self.ratios.iter().cloned());
        v
    }
}

#[derive(Template)]
#[template(path = "planner.html")]
struct PlannerPage {
    ctx: PageCtx,
    form: PlannerForm,
    presets: Vec<Choice>,
    sources: Vec<Choice>,
    splits: Vec<Choice>,
    plan: Option<PlanOut>,
    can_apply: bool,
    errors: FieldErrors,
}

impl PlannerPage {
    /// A plan figure for display: revenue as money, counts as they are.
    pub fn figure(&self, metric: &str, v: &str) -> String {
        match (&self.plan, metric) {
            (Some(p), "revenue") => match salesops_domain::Currency::parse(&p.target.currency)
                .ok()
                .and_then(|c| Money::parse(v, c).ok())
            {
                Some(m) => self.ctx.money(&m),
                None => v.to_string(),
            },
            _ => v.to_string(),
        }
    }

    /// A whole count written the reader's way (1.452 in German).
    pub fn count(&self, v: &i64) -> String {
        super::reports::number(self.ctx.lang, Decimal::from(*v))
    }

    pub fn ratio_value(&self, name: &str, v: &str) -> String {
        match (&self.plan, name) {
            (Some(_), "deal_size") => self.figure("revenue", v),
            _ => {
                if self.ctx.lang == Locale::De {
                    v.replace('.', ",")
                } else {
                    v.to_string()
                }
            }
        }
    }
}

async fn planner_page(
    s: &AppState,
    session: &Session,
    form: PlannerForm,
    compute: bool,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    let mut errors = FieldErrors::default();
    let mut plan = None;
    let mut status = status;
    if compute {
        let today = match s.app.org_today(a.org_id).await {
            Ok(d) => d,
            Err(e) => return UiError::new(a.locale, e).into_response(),
        };
        let result = match form.request(a.locale).and_then(|r| r.input(today)) {
            Ok(input) => s.app.plan(a, &input).await,
            Err(i) => Err(AppError::Invalid(i)),
        };
        match result {
            Ok(p) => plan = Some(PlanOut::new(p, None)),
            Err(AppError::Invalid(i)) => {
                errors = FieldErrors::of(&i);
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Err(e) => return UiError::new(a.locale, e).into_response(),
        }
    }
    let ctx = session.ctx("planner");
    let presets = [
        "this_month",
        "next_month",
        "this_quarter",
        "next_quarter",
        "this_half_year",
        "next_half_year",
        "this_year",
        "next_year",
    ]
    .iter()
    .map(|p| choice(p.to_string(), ctx.t(&format!("preset-{p}")), &form.preset))
    .collect();
    let sources = ["history", "best_quartile", "manual"]
        .iter()
        .map(|p| {
            choice(
                p.to_string(),
                ctx.t(&format!("planner-source-{p}")),
                &form.source,
            )
        })
        .collect();
    let splits = ["capacity", "evenly"]
        .iter()
        .map(|p| {
            choice(
                p.to_string(),
                ctx.t(&format!("planner-split-{p}")),
                &form.split,
            )
        })
        .collect();
    let page = PlannerPage {
        can_apply: can(a, Resource::Goal, Action::Create, None) && plan.is_some(),
        ctx,
        form,
        presets,
        sources,
        splits,
        plan,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn planner(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = query(&uri);
    let compute = q.contains_key("target");
    planner_page(
        &s,
        &session,
        PlannerForm::from_map(&q),
        compute,
        StatusCode::OK,
    )
    .await
}

pub async fn apply(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let map: HashMap<String, String> = form.0.iter().cloned().collect();
    let pf = PlannerForm::from_map(&map);
    let a = session.actor();
    let today = match s.app.org_today(a.org_id).await {
        Ok(d) => d,
        Err(e) => return UiError::new(a.locale, e).into_response(),
    };
    let result = match pf.request(a.locale).and_then(|r| r.input(today)) {
        Ok(input) => s.app.apply_plan(a, &input).await,
        Err(i) => Err(AppError::Invalid(i)),
    };
    match result {
        Ok((_, n)) => Redirect::to(&format!("/goals?applied={n}")).into_response(),
        Err(AppError::Invalid(_)) => {
            planner_page(&s, &session, pf, true, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}
