//! Prospecting lists worked row by row, the prospect page (call log,
//! script, convert, disqualify) and the script admin pages.

use super::people::Choice;
use super::{Form, PageCtx, Session, UiError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use salesops_app::AppError;
use salesops_app::activities::ActivityInput;
use salesops_app::prospecting::{ConvertInput, ListInput, ListView, ProspectInput};
use salesops_app::scripts::{Answered, QuestionInput, ScriptInput};
use salesops_domain::{
    Invalid, LeadId, Locale, PipelineId, ProspectId, ProspectListId, ProspectStatus, QuestionId,
    Role, ScriptId, TeamId, UserId,
};
use salesops_store::prospecting::{Filter, Prospect};
use salesops_store::scripts::Subject;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A validation failure shown above the page it happened on.
fn problem(lang: Locale, e: AppError) -> Result<String, UiError> {
    match e {
        AppError::Invalid(i) => Ok(i.to_string()),
        AppError::Conflict(m) => Ok(m),
        e => Err(UiError::new(lang, e)),
    }
}

fn may_run_lists(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Ops | Role::Manager)
}

async fn people(s: &AppState, session: &Session) -> Result<HashMap<Uuid, String>, AppError> {
    Ok(s.app
        .list_users(
            session.actor(),
            Default::default(),
            None,
            salesops_app::MAX_LIMIT,
        )
        .await?
        .items
        .into_iter()
        .filter(|u| u.user.active)
        .map(|u| (u.user.id.0, u.user.name))
        .collect())
}

// ----------------------------------------------------------------- lists

pub struct ListRow {
    pub id: String,
    pub name: String,
    pub team: String,
    pub reps: String,
    pub total: i64,
    pub open: i64,
    pub converted: i64,
    pub disqualified: i64,
    pub archived: bool,
}

#[derive(Template)]
#[template(path = "prospect_lists.html")]
struct ListsPage {
    ctx: PageCtx,
    lists: Vec<ListRow>,
    may_create: bool,
    teams: Vec<Choice>,
    scripts: Vec<Choice>,
    error: String,
}

async fn team_choices(
    s: &AppState,
    session: &Session,
    selected: Option<Uuid>,
) -> Result<Vec<Choice>, AppError> {
    let a = session.actor();
    let teams = s
        .app
        .list_teams(a, None, None, salesops_app::MAX_LIMIT)
        .await?
        .items;
    Ok(teams
        .into_iter()
        .filter(|t| a.sees_all() || a.teams().contains(&t.team.id))
        .map(|t| Choice {
            selected: Some(t.team.id.0) == selected,
            value: t.team.id.to_string(),
            label: t.team.name,
        })
        .collect())
}

async fn script_choices(
    s: &AppState,
    session: &Session,
    selected: Option<Uuid>,
) -> Result<Vec<Choice>, AppError> {
    Ok(s.app
        .list_scripts(session.actor())
        .await?
        .into_iter()
        .filter(|v| !v.script.archived || Some(v.script.id.0) == selected)
        .map(|v| Choice {
            selected: Some(v.script.id.0) == selected,
            value: v.script.id.to_string(),
            label: v.script.name,
        })
        .collect())
}

pub async fn lists(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = super::query(&uri);
    let mut ctx = session.ctx("prospecting");
    if q.contains_key("deleted") {
        ctx.notice = Some(ctx.t("prospecting-list-deleted"));
    }
    lists_page(&s, &session, ctx, String::new(), StatusCode::OK).await
}

async fn lists_page(
    s: &AppState,
    session: &Session,
    ctx: PageCtx,
    error: String,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    let r = async {
        let views = s.app.list_prospect_lists(a).await?;
        let names = people(s, session).await?;
        let teams = team_choices(s, session, None).await?;
        let all_teams: HashMap<Uuid, String> = s
            .app
            .list_teams(a, None, None, salesops_app::MAX_LIMIT)
            .await?
            .items
            .into_iter()
            .map(|t| (t.team.id.0, t.team.name))
            .collect();
        let scripts = script_choices(s, session, None).await?;
        Ok::<_, AppError>((views, names, teams, all_teams, scripts))
    };
    let (views, names, teams, all_teams, scripts) = match r.await {
        Ok(v) => v,
        Err(e) => return UiError::new(a.locale, e).into_response(),
    };
    let lists = views
        .into_iter()
        .map(|v| ListRow {
            id: v.list.id.to_string(),
            name: v.list.name,
            team: v
                .list
                .team_id
                .and_then(|t| all_teams.get(&t).cloned())
                .unwrap_or_default(),
            reps: v
                .reps
                .iter()
                .filter_map(|u| names.get(&u.0).cloned())
                .collect::<Vec<_>>()
                .join(", "),
            total: v.counts.total,
            open: v.counts.open,
            converted: v.counts.converted,
            disqualified: v.counts.disqualified,
            archived: v.list.archived,
        })
        .collect();
    let page = ListsPage {
        ctx,
        lists,
        may_create: may_run_lists(a.role),
        teams,
        scripts,
        error,
    };
    let mut r = render(&page);
    *r.status_mut() = status;
    r
}

fn list_input(form: &Form) -> ListInput {
    ListInput {
        name: form.get("name").map(str::to_string),
        description: Some(form.opt("description")),
        team_id: Some(form.opt("team_id").and_then(|t| t.parse::<TeamId>().ok())),
        script_id: Some(
            form.opt("script_id")
                .and_then(|t| t.parse::<ScriptId>().ok()),
        ),
        archived: None,
        reps: Some(
            form.all("reps")
                .into_iter()
                .filter_map(|r| r.parse::<UserId>().ok())
                .collect(),
        ),
    }
}

pub async fn create_list(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let a = session.actor();
    match s.app.create_prospect_list(a, list_input(&form)).await {
        Ok(v) => Redirect::to(&format!("/prospect-lists/{}?created=1", v.list.id)).into_response(),
        Err(e) => match problem(a.locale, e) {
            Ok(msg) => {
                let ctx = session.ctx("prospecting");
                lists_page(&s, &session, ctx, msg, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(r) => r.into_response(),
        },
    }
}

pub struct ProspectRow {
    pub id: String,
    pub position: i64,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub city: String,
    pub assigned: String,
    pub status: String,
    pub status_label: String,
    pub lead_id: String,
    pub workable: bool,
}

#[derive(Template)]
#[template(path = "prospect_list.html")]
struct ListPage {
    ctx: PageCtx,
    id: String,
    name: String,
    description: String,
    version: i64,
    archived: bool,
    total: i64,
    open: i64,
    converted: i64,
    disqualified: i64,
    may_manage: bool,
    teams: Vec<Choice>,
    scripts: Vec<Choice>,
    reps: Vec<Choice>,
    rows: Vec<ProspectRow>,
    log_choices: Vec<Choice>,
    status_filter: String,
    q: String,
    first_open: String,
    next_cursor: String,
    error: String,
}

fn status_label(ctx: &PageCtx, s: ProspectStatus) -> String {
    ctx.t(&format!("prospect-status-{}", s.as_str()))
}

pub async fn show_list(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id = match super::parse_id::<ProspectListId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let q = super::query(&uri);
    let mut ctx = session.ctx("prospecting");
    ctx.notice = [
        ("created", "prospecting-list-created"),
        ("saved", "prospecting-list-saved"),
        ("added", "prospecting-prospect-added"),
        ("logged", "activities-logged"),
    ]
    .into_iter()
    .find(|(k, _)| q.contains_key(*k))
    .map(|(_, v)| ctx.t(v));
    list_page(&s, &session, ctx, id, &q, String::new(), StatusCode::OK).await
}

async fn list_page(
    s: &AppState,
    session: &Session,
    ctx: PageCtx,
    id: ProspectListId,
    q: &HashMap<String, String>,
    error: String,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    let status_filter = q.get("status").cloned().unwrap_or_else(|| "open".into());
    let text = q.get("q").cloned().unwrap_or_default();
    let cursor = q
        .get("cursor")
        .and_then(|c| crate::extract::decode_cursor(Some(c)).ok().flatten());
    let r = async {
        let v: ListView = s.app.get_prospect_list(a, id).await?;
        let page = s
            .app
            .list_prospects(
                a,
                Filter {
                    list: Some(id),
                    status: status_filter.parse::<ProspectStatus>().ok(),
                    q: Some(text.clone()).filter(|t| !t.trim().is_empty()),
                    ..Default::default()
                },
                cursor,
                100,
            )
            .await?;
        let first_open = s
            .app
            .list_prospects(
                a,
                Filter {
                    list: Some(id),
                    status: Some(ProspectStatus::Open),
                    assigned_to: None,
                    ..Default::default()
                },
                None,
                1,
            )
            .await?
            .items
            .into_iter()
            .next();
        let names = people(s, session).await?;
        let may_manage = s.app.may_manage_prospect_list(a, id).await?;
        let teams = team_choices(s, session, v.list.team_id).await?;
        let scripts = script_choices(s, session, v.list.script_id).await?;
        let log_choices = super::activities::log_choices(s, session).await?;
        let workable: HashMap<ProspectId, bool> = page
            .items
            .iter()
            .map(|p| p.id)
            .zip(s.app.workable_prospects(a, id, &page.items).await?)
            .collect();
        Ok::<_, AppError>((
            v,
            page,
            first_open,
            names,
            may_manage,
            teams,
            scripts,
            log_choices,
            workable,
        ))
    };
    let (v, page, first_open, names, may_manage, teams, scripts, log_choices, workable) =
        match r.await {
            Ok(x) => x,
            Err(e) => return UiError::new(a.locale, e).into_response(),
        };
    let mut reps: Vec<Choice> = names
        .iter()
        .map(|(uid, n)| Choice {
            value: uid.to_string(),
            label: n.clone(),
            selected: v.reps.iter().any(|r| r.0 == *uid),
        })
        .collect();
    reps.sort_by(|x, y| x.label.cmp(&y.label));
    let rows = page
        .items
        .iter()
        .map(|p| ProspectRow {
            id: p.id.to_string(),
            position: p.position,
            name: p.display_name(),
            phone: p.phone.clone().unwrap_or_default(),
            email: p.email.clone().unwrap_or_default(),
            city: p.city.clone().unwrap_or_default(),
            assigned: p
                .assigned_to
                .and_then(|u| names.get(&u).cloned())
                .unwrap_or_default(),
            status: p.status.to_string(),
            status_label: status_label(&ctx, p.status),
            lead_id: p.lead_id.map(|l| l.to_string()).unwrap_or_default(),
            workable: p.status == ProspectStatus::Open
                && workable.get(&p.id).copied().unwrap_or(false),
        })
        .collect();
    let pg = ListPage {
        id: v.list.id.to_string(),
        name: v.list.name,
        description: v.list.description.unwrap_or_default(),
        version: v.list.version,
        archived: v.list.archived,
        total: v.counts.total,
        open: v.counts.open,
        converted: v.counts.converted,
        disqualified: v.counts.disqualified,
        may_manage,
        teams,
        scripts,
        reps,
        rows,
        log_choices,
        status_filter,
        q: text,
        first_open: first_open.map(|p| p.id.to_string()).unwrap_or_default(),
        next_cursor: page
            .next_cursor
            .map(crate::extract::encode_cursor)
            .unwrap_or_default(),
        error,
        ctx,
    };
    let mut r = render(&pg);
    *r.status_mut() = status;
    r
}

pub async fn update_list(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ProspectListId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let a = session.actor();
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = if form.get("delete").is_some() {
        s.app
            .delete_prospect_list(a, id, version)
            .await
            .map(|_| "/prospect-lists?deleted=1".to_string())
    } else {
        let mut input = list_input(&form);
        // Reps the actor cannot see (not in the form) stay on the list.
        if let (Some(reps), Ok(current), Ok(visible)) = (
            input.reps.as_mut(),
            s.app.get_prospect_list(a, id).await,
            people(&s, &session).await,
        ) {
            for r in current.reps {
                if !visible.contains_key(&r.0) && !reps.contains(&r) {
                    reps.push(r);
                }
            }
        }
        if let Some(arch) = form.get("archive") {
            input = ListInput {
                archived: Some(arch == "1"),
                ..Default::default()
            };
        }
        s.app
            .update_prospect_list(a, id, version, input)
            .await
            .map(|_| format!("/prospect-lists/{id}?saved=1"))
    };
    match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => match problem(a.locale, e) {
            Ok(msg) => {
                let ctx = session.ctx("prospecting");
                list_page(
                    &s,
                    &session,
                    ctx,
                    id,
                    &HashMap::new(),
                    msg,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(r) => r.into_response(),
        },
    }
}

fn prospect_input(form: &Form) -> ProspectInput {
    let f = |k: &str| form.get(k).map(|_| form.opt(k));
    let mut fields = BTreeMap::new();
    for (k, v) in form
        .all("field_name")
        .into_iter()
        .zip(form.all("field_value"))
    {
        if !k.trim().is_empty() {
            fields.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    ProspectInput {
        company_name: f("company_name"),
        contact_name: f("contact_name"),
        job_title: f("job_title"),
        phone: f("phone"),
        email: f("email"),
        website: f("website"),
        city: f("city"),
        postcode: f("postcode"),
        country: f("country"),
        industry: f("industry"),
        notes: f("notes"),
        fields: form.get("field_name").map(|_| fields),
        assigned_to: form.get("assigned_to").map(|v| v.parse::<UserId>().ok()),
        external_id: None,
    }
}

pub async fn add_prospect(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ProspectListId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let a = session.actor();
    match s.app.create_prospect(a, id, prospect_input(&form)).await {
        Ok(_) => Redirect::to(&format!("/prospect-lists/{id}?added=1")).into_response(),
        Err(e) => match problem(a.locale, e) {
            Ok(msg) => {
                let ctx = session.ctx("prospecting");
                list_page(
                    &s,
                    &session,
                    ctx,
                    id,
                    &HashMap::new(),
                    msg,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(r) => r.into_response(),
        },
    }
}

// -------------------------------------------------------------- prospect

pub struct ActivityLine {
    pub at: String,
    pub text: String,
    pub by: String,
}

pub struct QuestionRow {
    pub id: String,
    pub text: String,
    pub kind: String,
    pub choices: Vec<Choice>,
    /// The answer given on this record.
    pub value: String,
    /// An answer given on the linked prospect or lead, shown as a hint.
    pub carried: String,
}

#[derive(Template)]
#[template(path = "prospect.html")]
struct ProspectPage {
    ctx: PageCtx,
    p: ProspectView,
    list_id: String,
    list_name: String,
    prev: String,
    next: String,
    workable: bool,
    may_assign: bool,
    reps: Vec<Choice>,
    log_choices: Vec<Choice>,
    activities: Vec<ActivityLine>,
    scripts: Vec<Choice>,
    script_id: String,
    questions: Vec<QuestionRow>,
    answers_action: String,
    pipelines: Vec<Choice>,
    fields: Vec<(String, String)>,
    error: String,
}

pub struct ProspectView {
    pub id: String,
    pub name: String,
    pub company_name: String,
    pub contact_name: String,
    pub job_title: String,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub city: String,
    pub postcode: String,
    pub country: String,
    pub industry: String,
    pub notes: String,
    pub status: String,
    pub status_label: String,
    pub disqualify_reason: String,
    pub lead_id: String,
    pub version: i64,
}

fn view(ctx: &PageCtx, p: &Prospect) -> ProspectView {
    let o = |x: &Option<String>| x.clone().unwrap_or_default();
    ProspectView {
        id: p.id.to_string(),
        name: p.display_name(),
        company_name: o(&p.company_name),
        contact_name: o(&p.contact_name),
        job_title: o(&p.job_title),
        phone: o(&p.phone),
        email: o(&p.email),
        website: o(&p.website),
        city: o(&p.city),
        postcode: o(&p.postcode),
        country: o(&p.country),
        industry: o(&p.industry),
        notes: o(&p.notes),
        status: p.status.to_string(),
        status_label: status_label(ctx, p.status),
        disqualify_reason: o(&p.disqualify_reason),
        lead_id: p.lead_id.map(|l| l.to_string()).unwrap_or_default(),
        version: p.version,
    }
}

/// The questions of a script with the answers given on a record, as form rows.
pub fn question_rows(answered: Vec<Answered>, on: Subject) -> Vec<QuestionRow> {
    answered
        .into_iter()
        .map(|a| {
            let own = a.answer.as_ref().is_some_and(|x| match on {
                Subject::Prospect(p) => x.prospect_id == Some(p.0),
                Subject::Lead(l) => x.lead_id == Some(l.0),
            });
            let (value, carried) = match a.answer {
                Some(x) if own => (x.value, String::new()),
                Some(x) => (String::new(), x.value),
                None => (String::new(), String::new()),
            };
            QuestionRow {
                id: a.question.id.to_string(),
                choices: a
                    .question
                    .choice_list()
                    .into_iter()
                    .map(|c| Choice {
                        value: c.to_string(),
                        label: c.to_string(),
                        selected: c == value,
                    })
                    .collect(),
                text: a.question.text,
                kind: a.question.kind.to_string(),
                value,
                carried,
            }
        })
        .collect()
}

pub async fn show_prospect(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id = match super::parse_id::<ProspectId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let q = super::query(&uri);
    let mut ctx = session.ctx("prospecting");
    ctx.notice = [
        ("logged", "activities-logged"),
        ("saved", "prospecting-saved"),
        ("answered", "scripts-answers-saved"),
        ("disqualified", "prospecting-disqualified"),
        ("reopened", "prospecting-reopened"),
    ]
    .into_iter()
    .find(|(k, _)| q.contains_key(*k))
    .map(|(_, v)| ctx.t(v));
    let script = q.get("script").and_then(|x| x.parse::<ScriptId>().ok());
    prospect_page(&s, &session, ctx, id, script, String::new(), StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)]
async fn prospect_page(
    s: &AppState,
    session: &Session,
    ctx: PageCtx,
    id: ProspectId,
    script: Option<ScriptId>,
    error: String,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    let r = async {
        let p = s.app.get_prospect(a, id).await?;
        let list = s.app.get_prospect_list(a, p.list_id).await?;
        let workable = s.app.may_work_prospect(a, &p).await?;
        let prev = s.app.neighbour_prospect(a, &p, false).await?;
        let next = s.app.neighbour_prospect(a, &p, true).await?;
        let acts = s
            .app
            .list_activities(
                a,
                salesops_store::activities::Filter {
                    prospect: Some(id),
                    ..Default::default()
                },
                200,
                true,
            )
            .await?;
        let (types, outcomes) = super::activities::type_names(s, session).await?;
        let names = people(s, session).await?;
        let log_choices = super::activities::log_choices(s, session).await?;
        let script_id = script.or(list.list.script_id.map(ScriptId));
        let scripts = script_choices(s, session, script_id.map(|x| x.0)).await?;
        let questions = match script_id {
            Some(sid) => question_rows(
                s.app.script_answers(a, sid, Subject::Prospect(id)).await?,
                Subject::Prospect(id),
            ),
            None => vec![],
        };
        let pipelines = s
            .app
            .list_pipelines(a)
            .await?
            .into_iter()
            .map(|v| Choice {
                selected: v.pipeline.is_default,
                value: v.pipeline.id.to_string(),
                label: v.pipeline.name,
            })
            .collect::<Vec<_>>();
        Ok::<_, AppError>((
            p,
            list,
            workable,
            prev,
            next,
            acts,
            types,
            outcomes,
            names,
            log_choices,
            script_id,
            scripts,
            questions,
            pipelines,
        ))
    };
    let (
        p,
        list,
        workable,
        prev,
        next,
        acts,
        types,
        outcomes,
        names,
        log_choices,
        script_id,
        scripts,
        questions,
        pipelines,
    ) = match r.await {
        Ok(x) => x,
        Err(e) => return UiError::new(a.locale, e).into_response(),
    };
    let tz = a.tz();
    let activities = acts
        .iter()
        .map(|x| {
            let mut text = super::activities::label(x, &types, &outcomes);
            if let Some(d) = x.duration_minutes {
                text.push_str(&format!(" ({d} min)"));
            }
            if let Some(n) = &x.notes {
                text.push_str(&format!(": {n}"));
            }
            ActivityLine {
                at: x
                    .happened_at
                    .or(x.due_at)
                    .unwrap_or(x.created_at)
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                text,
                by: names.get(&x.user_id.0).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let mut reps: Vec<Choice> = list
        .reps
        .iter()
        .filter_map(|u| names.get(&u.0).map(|n| (u, n)))
        .map(|(u, n)| Choice {
            value: u.to_string(),
            label: n.clone(),
            selected: p.assigned_to == Some(u.0),
        })
        .collect();
    // The current assignee stays selectable, so saving keeps them.
    if let Some(u) = p.assigned_to
        && !reps.iter().any(|c| c.selected)
    {
        reps.push(Choice {
            value: u.to_string(),
            label: names.get(&u).cloned().unwrap_or_else(|| u.to_string()),
            selected: true,
        });
    }
    reps.sort_by(|x, y| x.label.cmp(&y.label));
    let fields: BTreeMap<String, String> = serde_json::from_str(&p.fields).unwrap_or_default();
    let page = ProspectPage {
        p: view(&ctx, &p),
        list_id: list.list.id.to_string(),
        list_name: list.list.name,
        prev: prev.map(|x| x.id.to_string()).unwrap_or_default(),
        next: next.map(|x| x.id.to_string()).unwrap_or_default(),
        workable,
        may_assign: may_run_lists(a.role),
        reps,
        log_choices,
        activities,
        scripts,
        script_id: script_id.map(|x| x.to_string()).unwrap_or_default(),
        questions,
        answers_action: format!("/prospects/{id}/answers"),
        pipelines,
        fields: fields.into_iter().collect(),
        error,
        ctx,
    };
    let mut r = render(&page);
    *r.status_mut() = status;
    r
}

/// Where to go after working a prospect: back to the list, on to the next
/// prospect, or the prospect again.
fn back(form: &Form, p: ProspectId, list: Option<&str>, notice: &str) -> String {
    let list = list.and_then(|l| l.parse::<ProspectListId>().ok());
    let next = form
        .get("back")
        .and_then(|b| b.strip_prefix("next:"))
        .and_then(|n| n.parse::<ProspectId>().ok());
    match (form.get("back"), list, next) {
        (Some("list"), Some(l), _) => format!("/prospect-lists/{l}?{notice}=1#p-{p}"),
        (_, _, Some(n)) => format!("/prospects/{n}?{notice}=1"),
        _ => format!("/prospects/{p}?{notice}=1"),
    }
}

/// Logs an activity (a call and its outcome, say) on a prospect, from the
/// prospect page or inline from its list.
pub async fn log(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ProspectId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let a = session.actor();
    let Some((type_id, outcome)) = form
        .get("activity")
        .and_then(super::activities::parse_choice)
    else {
        let e = Invalid::one("activity", "choose an activity");
        return UiError::new(a.locale, AppError::Invalid(e)).into_response();
    };
    let mut errs = Invalid::default();
    let duration = form.opt("duration_minutes").and_then(|d| {
        errs.check(
            "duration_minutes",
            d.parse::<i32>().map_err(|_| "must be a whole number"),
        )
    });
    if !errs.is_empty() {
        return UiError::new(a.locale, AppError::Invalid(errs)).into_response();
    }
    let input = ActivityInput {
        type_id: Some(type_id),
        outcome_id: Some(outcome),
        prospect_id: Some(id),
        duration_minutes: Some(duration),
        notes: Some(form.opt("notes")),
        ..Default::default()
    };
    match s.app.log_activity(a, input).await {
        Ok(_) => Redirect::to(&back(&form, id, form.get("list"), "logged")).into_response(),
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}

/// Edits a prospect's fields (and its assignee).
pub async fn update_prospect(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ProspectId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let a = session.actor();
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s
        .app
        .update_prospect(a, id, version, prospect_input(&form))
        .await
    {
        Ok(_) => Redirect::to(&format!("/prospects/{id}?saved=1")).into_response(),
        Err(e) => match problem(a.locale, e) {
            Ok(msg) => {
                prospect_page(
                    &s,
                    &session,
                    session.ctx("prospecting"),
                    id,
                    None,
                    msg,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(r) => r.into_response(),
        },
    }
}

/// Convert, disqualify, reopen.
pub async fn act(
    State(s): State<AppState>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ProspectId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let a = session.actor();
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = match action.as_str() {
        "convert" => {
            let mut errs = Invalid::default();
            let amount = match form.opt("amount") {
                None => None,
                Some(amt) => {
                    let cur = form.opt("currency").unwrap_or_else(|| "EUR".into());
                    match salesops_domain::Currency::parse(&cur).and_then(|c| {
                        salesops_domain::Money::parse_localized(&amt, c, a.locale == Locale::De)
                    }) {
                        Ok(m) => Some(salesops_domain::MoneyJson::from(m)),
                        Err(e) => {
                            errs.push("amount", e.0);
                            None
                        }
                    }
                }
            };
            if !errs.is_empty() {
                Err(AppError::Invalid(errs))
            } else {
                let lead = salesops_app::leads::LeadInput {
                    pipeline_id: form
                        .opt("pipeline_id")
                        .and_then(|p| p.parse::<PipelineId>().ok()),
                    amount: amount.map(Some),
                    ..Default::default()
                };
                s.app
                    .convert_prospect(
                        a,
                        id,
                        version,
                        ConvertInput {
                            title: form.opt("title"),
                            lead,
                            ..Default::default()
                        },
                    )
                    .await
                    .map(|(_, l)| format!("/leads/{}?created=1", l.id))
            }
        }
        "disqualify" => s
            .app
            .disqualify_prospect(a, id, version, form.opt("reason"))
            .await
            .map(|p| back(&form, id, Some(&p.list_id.to_string()), "disqualified")),
        "reopen" => s
            .app
            .reopen_prospect(a, id, version)
            .await
            .map(|_| format!("/prospects/{id}?reopened=1")),
        "answers" => {
            let Some(script) = form
                .get("script_id")
                .and_then(|x| x.parse::<ScriptId>().ok())
            else {
                return UiError::new(a.locale, AppError::NotFound).into_response();
            };
            let answers = answers_of(&form);
            s.app
                .save_answers(a, Subject::Prospect(id), script, answers)
                .await
                .map(|_| format!("/prospects/{id}?answered=1&script={script}"))
        }
        _ => Err(AppError::NotFound),
    };
    match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => match problem(a.locale, e) {
            Ok(msg) => {
                prospect_page(
                    &s,
                    &session,
                    session.ctx("prospecting"),
                    id,
                    None,
                    msg,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            Err(r) => r.into_response(),
        },
    }
}

/// The script answers of a form: fields `q_<question id>`.
fn answers_of(form: &Form) -> Vec<(QuestionId, String)> {
    form.0
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("q_")
                .and_then(|q| q.parse::<QuestionId>().ok())
                .map(|q| (q, v.clone()))
        })
        .collect()
}

/// Saves script answers given on a lead, from the lead page.
pub async fn lead_answers(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<LeadId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let a = session.actor();
    let Some(script) = form
        .get("script_id")
        .and_then(|x| x.parse::<ScriptId>().ok())
    else {
        return UiError::new(a.locale, AppError::NotFound).into_response();
    };
    let answers = answers_of(&form);
    match s
        .app
        .save_answers(a, Subject::Lead(id), script, answers)
        .await
    {
        Ok(()) => {
            Redirect::to(&format!("/leads/{id}?answered=1&script={script}#script")).into_response()
        }
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}

// --------------------------------------------------------------- scripts

pub struct ScriptRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub version: i64,
    pub questions: Vec<QuestionAdmin>,
}

pub struct QuestionAdmin {
    pub id: String,
    pub text: String,
    pub kind: String,
    pub choices: String,
    pub archived: bool,
    pub version: i64,
    pub first: bool,
    pub last: bool,
}

#[derive(Template)]
#[template(path = "scripts.html")]
struct ScriptsPage {
    ctx: PageCtx,
    scripts: Vec<ScriptRow>,
    kinds: Vec<Choice>,
    error: String,
}

pub async fn scripts(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = super::query(&uri);
    let mut ctx = session.ctx("scripts");
    if q.contains_key("saved") {
        ctx.notice = Some(ctx.t("scripts-saved"));
    }
    scripts_page(&s, &session, ctx, String::new(), StatusCode::OK).await
}

async fn scripts_page(
    s: &AppState,
    session: &Session,
    ctx: PageCtx,
    error: String,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    let views = match s.app.list_scripts(a).await {
        Ok(v) => v,
        Err(e) => return UiError::new(a.locale, e).into_response(),
    };
    let scripts = views
        .into_iter()
        .map(|v| {
            let n = v.questions.len();
            ScriptRow {
                id: v.script.id.to_string(),
                name: v.script.name,
                description: v.script.description.unwrap_or_default(),
                archived: v.script.archived,
                version: v.script.version,
                questions: v
                    .questions
                    .into_iter()
                    .enumerate()
                    .map(|(i, q)| QuestionAdmin {
                        id: q.id.to_string(),
                        choices: q.choice_list().join("\n"),
                        text: q.text,
                        kind: q.kind.to_string(),
                        archived: q.archived,
                        version: q.version,
                        first: i == 0,
                        last: i + 1 == n,
                    })
                    .collect(),
            }
        })
        .collect();
    let kinds = salesops_domain::AnswerKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.to_string(),
            label: ctx.t(&format!("answer-kind-{k}")),
            selected: false,
        })
        .collect();
    let page = ScriptsPage {
        ctx,
        scripts,
        kinds,
        error,
    };
    let mut r = render(&page);
    *r.status_mut() = status;
    r
}

fn question_input(form: &Form) -> QuestionInput {
    QuestionInput {
        text: form.get("text").map(str::to_string),
        kind: form.opt("kind"),
        choices: form.get("choices").map(|c| {
            c.lines()
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        }),
        archived: None,
    }
}

/// Every change on the scripts page: create and edit scripts, add, edit,
/// archive, delete and move questions.
pub async fn scripts_post(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let a = session.actor();
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let script = form
        .get("script_id")
        .and_then(|x| x.parse::<ScriptId>().ok());
    let question = form
        .get("question_id")
        .and_then(|x| x.parse::<QuestionId>().ok());
    let result: Result<(), AppError> = async {
        match (form.get("op").unwrap_or(""), script, question) {
            ("create", _, _) => {
                let questions = form.opt("questions").map(|t| {
                    t.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(|l| QuestionInput {
                            text: Some(l.to_string()),
                            kind: Some("text".into()),
                            ..Default::default()
                        })
                        .collect()
                });
                s.app
                    .create_script(
                        a,
                        ScriptInput {
                            name: form.get("name").map(str::to_string),
                            description: Some(form.opt("description")),
                            archived: None,
                            questions,
                        },
                    )
                    .await
                    .map(|_| ())
            }
            ("save", Some(sid), _) => s
                .app
                .update_script(
                    a,
                    sid,
                    version,
                    ScriptInput {
                        name: form.get("name").map(str::to_string),
                        description: form.get("description").map(|_| form.opt("description")),
                        archived: form.get("archived").map(|v| v == "1"),
                        questions: None,
                    },
                )
                .await
                .map(|_| ()),
            ("delete", Some(sid), _) => s.app.delete_script(a, sid, version).await,
            ("add-question", Some(sid), _) => s
                .app
                .add_question(a, sid, question_input(&form))
                .await
                .map(|_| ()),
            ("archive-question", _, Some(q)) => {
                let input = QuestionInput {
                    archived: form.get("archived").map(|v| v == "1"),
                    ..Default::default()
                };
                s.app
                    .update_question(a, q, version, input)
                    .await
                    .map(|_| ())
            }
            ("save-question", _, Some(q)) => {
                let input = question_input(&form);
                s.app
                    .update_question(a, q, version, input)
                    .await
                    .map(|_| ())
            }
            ("delete-question", _, Some(q)) => s.app.delete_question(a, q, version).await,
            (dir @ ("up" | "down"), Some(sid), Some(q)) => {
                let v = s.app.get_script(a, sid).await?;
                let mut order: Vec<QuestionId> = v.questions.iter().map(|x| x.id).collect();
                if let Some(i) = order.iter().position(|x| *x == q) {
                    let j = if dir == "up" {
                        i.checked_sub(1)
                    } else {
                        Some(i + 1)
                    };
                    if let Some(j) = j.filter(|j| *j < order.len()) {
                        order.swap(i, j);
                    }
                }
                s.app
                    .reorder_questions(a, sid, Some(v.script.version), order)
                    .await
                    .map(|_| ())
            }
            _ => Err(AppError::NotFound),
        }
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/scripts?saved=1").into_response(),
        Err(e) => match problem(a.locale, e) {
            Ok(msg) => {
                let ctx = session.ctx("scripts");
                scripts_page(&s, &session, ctx, msg, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(r) => r.into_response(),
        },
    }
}

/// The script panel of a lead page.
pub struct ScriptPanel {
    pub scripts: Vec<Choice>,
    pub script_id: String,
    pub questions: Vec<QuestionRow>,
    pub from_prospect: String,
}

/// The script shown beside a lead: the one asked for, else the script of
/// the list the lead's prospect came from; with the answers given so far.
pub async fn lead_script(
    s: &AppState,
    session: &Session,
    lead: LeadId,
    script: Option<ScriptId>,
) -> Result<ScriptPanel, AppError> {
    let a = session.actor();
    let from = s.app.prospect_of_lead(a, lead).await?;
    let mut chosen = script;
    if chosen.is_none()
        && let Some(p) = &from
    {
        chosen = s
            .app
            .get_prospect_list(a, p.list_id)
            .await
            .ok()
            .and_then(|l| l.list.script_id.map(ScriptId));
    }
    let questions = match chosen {
        Some(sid) => question_rows(
            s.app.script_answers(a, sid, Subject::Lead(lead)).await?,
            Subject::Lead(lead),
        ),
        None => vec![],
    };
    Ok(ScriptPanel {
        scripts: script_choices(s, session, chosen.map(|x| x.0)).await?,
        script_id: chosen.map(|x| x.to_string()).unwrap_or_default(),
        questions,
        from_prospect: from.map(|p| p.id.to_string()).unwrap_or_default(),
    })
}
