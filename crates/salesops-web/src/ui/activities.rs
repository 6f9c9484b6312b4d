//! Logging activities from the pages, and "my activities".

use super::people::Choice;
use super::{Form, PageCtx, Session, UiError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDateTime, TimeZone, Utc};
use salesops_app::AppError;
use salesops_app::activities::ActivityInput;
use salesops_domain::{ActivityId, ActivityTypeId, Invalid, LeadId, OutcomeId};
use salesops_store::activities::Activity;
use std::collections::HashMap;
use uuid::Uuid;

/// One option per type and outcome ("Call — unanswered"), so that logging
/// is two clicks: pick, then log. The value is "type" or "type:outcome".
pub async fn log_choices(s: &AppState, session: &Session) -> Result<Vec<Choice>, AppError> {
    let types = s.app.list_activity_types(session.actor(), false).await?;
    let mut v = vec![];
    for t in types {
        if t.outcomes.is_empty() {
            v.push(Choice {
                value: t.activity_type.id.to_string(),
                label: t.activity_type.name.clone(),
                selected: false,
            });
        }
        for o in &t.outcomes {
            v.push(Choice {
                value: format!("{}:{}", t.activity_type.id, o.id),
                label: format!("{} — {}", t.activity_type.name, o.name),
                selected: false,
            });
        }
    }
    Ok(v)
}

/// Type names and outcome names, for showing activities.
pub async fn type_names(
    s: &AppState,
    session: &Session,
) -> Result<(HashMap<Uuid, String>, HashMap<Uuid, String>), AppError> {
    let types = s.app.list_activity_types(session.actor(), true).await?;
    let mut t = HashMap::new();
    let mut o = HashMap::new();
    for v in types {
        for x in &v.outcomes {
            o.insert(x.id.0, x.name.clone());
        }
        t.insert(v.activity_type.id.0, v.activity_type.name);
    }
    Ok((t, o))
}

/// "Call — unanswered" for an activity.
pub fn label(
    a: &Activity,
    types: &HashMap<Uuid, String>,
    outcomes: &HashMap<Uuid, String>,
) -> String {
    let t = types.get(&a.type_id.0).cloned().unwrap_or_default();
    match a.outcome_id.and_then(|o| outcomes.get(&o)) {
        Some(o) => format!("{t} — {o}"),
        None => t,
    }
}

pub(super) fn parse_choice(v: &str) -> Option<(ActivityTypeId, Option<OutcomeId>)> {
    match v.split_once(':') {
        Some((t, o)) => Some((t.parse().ok()?, Some(o.parse().ok()?))),
        None => Some((v.parse().ok()?, None)),
    }
}

/// Logs (or schedules, with `due_at`) an activity on a lead from its page.
pub async fn log_on_lead(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let lang = session.actor().locale;
    let Ok(lead) = id.parse::<LeadId>() else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    let mut errs = Invalid::default();
    let choice = form.get("activity").and_then(parse_choice);
    if choice.is_none() {
        errs.push("activity", "choose an activity");
    }
    let due_at = form.opt("due_at").and_then(|d| {
        errs.check(
            "due_at",
            NaiveDateTime::parse_from_str(&d, "%Y-%m-%dT%H:%M")
                .map_err(|_| "must be a date and time"),
        )
    });
    let duration = form.opt("duration_minutes").and_then(|d| {
        errs.check(
            "duration_minutes",
            d.parse::<i32>().map_err(|_| "must be a whole number"),
        )
    });
    if !errs.is_empty() {
        return UiError::new(lang, AppError::Invalid(errs)).into_response();
    }
    let (type_id, outcome) = choice.expect("checked above");
    // The form's local time is the user's time zone.
    let tz = session.actor().tz();
    let due_at = match due_at {
        None => None,
        Some(d) => match tz.from_local_datetime(&d).earliest() {
            Some(x) => Some(x.with_timezone(&Utc)),
            // A time skipped by the clock change does not exist here.
            None => {
                let e = Invalid::one(
                    "due_at",
                    "that time does not exist in your time zone (clock change)",
                );
                return UiError::new(lang, AppError::Invalid(e)).into_response();
            }
        },
    };
    let scheduled = due_at.is_some();
    let input = ActivityInput {
        type_id: Some(type_id),
        outcome_id: Some(if scheduled { None } else { outcome }),
        lead_id: Some(lead),
        due_at,
        duration_minutes: Some(duration),
        notes: Some(form.opt("notes")),
        ..Default::default()
    };
    match s.app.log_activity(session.actor(), input).await {
        Ok(_) => Redirect::to(&format!(
            "/leads/{lead}?{}=1",
            if scheduled { "scheduled" } else { "logged" }
        ))
        .into_response(),
        Err(e) => UiError::new(lang, e).into_response(),
    }
}

/// Marks a scheduled activity done (with the outcome chosen), then returns.
pub async fn complete(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let lang = session.actor().locale;
    let Ok(id) = id.parse::<ActivityId>() else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    let outcome = form
        .opt("outcome_id")
        .and_then(|o| o.parse::<OutcomeId>().ok());
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s
        .app
        .complete_activity(session.actor(), id, version, outcome, None)
        .await
    {
        Ok(a) => match (form.get("back"), a.lead_id) {
            (Some("lead"), Some(l)) => {
                Redirect::to(&format!("/leads/{l}?completed=1")).into_response()
            }
            _ => Redirect::to("/activities?completed=1").into_response(),
        },
        Err(e) => UiError::new(lang, e).into_response(),
    }
}

pub struct AgendaItem {
    pub id: String,
    pub label: String,
    pub when: String,
    pub lead_id: String,
    pub lead: String,
    pub notes: String,
    pub version: i64,
    pub outcomes: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "activities.html")]
struct AgendaPage {
    ctx: PageCtx,
    overdue: Vec<AgendaItem>,
    today: Vec<AgendaItem>,
    upcoming: Vec<AgendaItem>,
    done_today: Vec<AgendaItem>,
}

pub async fn agenda(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let a = session.actor();
    let lang = a.locale;
    let tz = a.tz();
    let local_today = Utc::now().with_timezone(&tz).date_naive();
    let bound = |d: chrono::NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|x| x.with_timezone(&Utc))
            .unwrap_or_else(Utc::now)
    };
    let (start, end) = (
        bound(local_today),
        bound(local_today.succ_opt().unwrap_or(local_today)),
    );
    let result = async {
        let agenda = s.app.agenda(a, a.user_id, start, end).await?;
        let (types, outcomes) = type_names(&s, &session).await?;
        let all_types = s.app.list_activity_types(a, false).await?;
        let lead_ids: Vec<Uuid> = [
            &agenda.overdue,
            &agenda.today,
            &agenda.upcoming,
            &agenda.done_today,
        ]
        .iter()
        .flat_map(|v| v.iter().filter_map(|x| x.lead_id))
        .collect();
        // The titles of every lead on the page, in one query.
        let mut lead_ids: Vec<LeadId> = lead_ids.into_iter().map(LeadId).collect();
        lead_ids.sort();
        lead_ids.dedup();
        let leads: HashMap<Uuid, String> = if lead_ids.is_empty() {
            HashMap::new()
        } else {
            let n = lead_ids.len() as u64;
            let f = salesops_store::leads::Filter {
                ids: Some(lead_ids),
                ..Default::default()
            };
            s.app
                .list_leads(a, f, None, n)
                .await?
                .items
                .into_iter()
                .map(|l| (l.id.0, l.title))
                .collect()
        };
        Ok::<_, AppError>((agenda, types, outcomes, all_types, leads))
    };
    let (agenda, types, outcomes, all_types, leads) = match result.await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let items = |list: &[Activity], done: bool| -> Vec<AgendaItem> {
        list.iter()
            .map(|x| AgendaItem {
                id: x.id.to_string(),
                label: label(x, &types, &outcomes),
                when: if done { x.happened_at } else { x.due_at }
                    .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                lead_id: x.lead_id.map(|l| l.to_string()).unwrap_or_default(),
                lead: x
                    .lead_id
                    .and_then(|l| leads.get(&l).cloned())
                    .unwrap_or_default(),
                notes: x.notes.clone().unwrap_or_default(),
                version: x.version,
                outcomes: all_types
                    .iter()
                    .find(|t| t.activity_type.id == x.type_id)
                    .map(|t| {
                        t.outcomes
                            .iter()
                            .map(|o| Choice {
                                value: o.id.to_string(),
                                label: o.name.clone(),
                                selected: false,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    };
    let mut ctx = session.ctx("activities");
    if uri.query().is_some_and(|q| q.contains("completed")) {
        ctx.notice = Some(ctx.t("activities-completed"));
    }
    let page = AgendaPage {
        overdue: items(&agenda.overdue, false),
        today: items(&agenda.today, false),
        upcoming: items(&agenda.upcoming, false),
        done_today: items(&agenda.done_today, true),
        ctx,
    };
    render(&page)
}
