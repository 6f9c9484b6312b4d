//! The team pages: list, create, view, edit, delete.

use super::people::Choice;
use super::{FieldErrors, Form, PageCtx, Session, UiError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use salesops_app::AppError;
use salesops_app::teams::{NewTeam, TeamUpdate, TeamView};
use salesops_domain::{Invalid, Segment, TeamId, UserId};
use salesops_store::users::Filter;
use std::collections::HashMap;

pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub segment: String,
    pub manager: String,
    pub parent: String,
    pub members: usize,
}

#[derive(Default)]
pub struct TeamForm {
    pub id: String,
    pub name: String,
    pub segment: String,
    pub manager_id: String,
    pub parent_id: String,
    pub member_ids: Vec<String>,
    pub version: i64,
}

impl TeamForm {
    fn of(v: &TeamView) -> TeamForm {
        TeamForm {
            id: v.team.id.to_string(),
            name: v.team.name.clone(),
            segment: v.team.segment.to_string(),
            manager_id: v.team.manager_id.map(|u| u.to_string()).unwrap_or_default(),
            parent_id: v.team.parent_id.map(|t| t.to_string()).unwrap_or_default(),
            member_ids: v.member_ids.iter().map(|u| u.to_string()).collect(),
            version: v.team.version,
        }
    }

    fn from_form(f: &Form) -> TeamForm {
        TeamForm {
            id: String::new(),
            name: f.str("name"),
            segment: f.str("segment"),
            manager_id: f.str("manager_id"),
            parent_id: f.str("parent_id"),
            member_ids: f
                .all("member_ids")
                .into_iter()
                .map(str::to_string)
                .collect(),
            version: f.get("version").and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }
}

/// Choices for the selects and checkboxes of the team form.
struct Options {
    segments: Vec<Choice>,
    managers: Vec<Choice>,
    parents: Vec<Choice>,
    members: Vec<Choice>,
}

async fn options(
    s: &AppState,
    session: &Session,
    ctx: &PageCtx,
    f: &TeamForm,
) -> Result<Options, AppError> {
    let mut users = s
        .app
        .list_users(
            session.actor(),
            Filter {
                active: Some(true),
                ..Default::default()
            },
            None,
            salesops_app::MAX_LIMIT,
        )
        .await?
        .items;
    // The current manager and members are always offered, even when inactive
    // or past the list's size, so saving the form never drops them.
    let current: Vec<UserId> = f
        .member_ids
        .iter()
        .chain(std::iter::once(&f.manager_id))
        .filter_map(|id| id.parse::<UserId>().ok())
        .filter(|id| !users.iter().any(|u| u.user.id == *id))
        .collect();
    if !current.is_empty() {
        let extra = Filter {
            ids: Some(current),
            ..Default::default()
        };
        users.extend(
            s.app
                .list_users(session.actor(), extra, None, salesops_app::MAX_LIMIT)
                .await?
                .items,
        );
    }
    let users = salesops_app::Page {
        items: users,
        next_cursor: None,
    };
    let teams = s
        .app
        .list_teams(session.actor(), None, None, salesops_app::MAX_LIMIT)
        .await?;
    let segments = Segment::ALL
        .iter()
        .map(|x| Choice {
            value: x.to_string(),
            label: ctx.segment(x.as_str()),
            selected: f.segment == x.as_str(),
        })
        .collect();
    let managers = users
        .items
        .iter()
        .map(|u| {
            let id = u.user.id.to_string();
            Choice {
                selected: f.manager_id == id,
                value: id,
                label: u.user.name.clone(),
            }
        })
        .collect();
    let members = users
        .items
        .iter()
        .map(|u| {
            let id = u.user.id.to_string();
            Choice {
                selected: f.member_ids.contains(&id),
                value: id,
                label: format!("{} ({})", u.user.name, ctx.role(&u.user.role)),
            }
        })
        .collect();
    let parents = teams
        .items
        .iter()
        .filter(|t| t.team.id.to_string() != f.id)
        .map(|t| {
            let id = t.team.id.to_string();
            Choice {
                selected: f.parent_id == id,
                value: id,
                label: t.team.name.clone(),
            }
        })
        .collect();
    Ok(Options {
        segments,
        managers,
        parents,
        members,
    })
}

#[derive(Template)]
#[template(path = "teams.html")]
struct TeamsPage {
    ctx: PageCtx,
    rows: Vec<TeamRow>,
    form: TeamForm,
    segments: Vec<Choice>,
    managers: Vec<Choice>,
    parents: Vec<Choice>,
    members: Vec<Choice>,
    errors: FieldErrors,
}

async fn teams_page(
    s: &AppState,
    session: &Session,
    form: TeamForm,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let mut ctx = session.ctx("teams");
    ctx.notice = notice.map(|k| ctx.t(k));
    let result = async {
        let teams = s
            .app
            .list_teams(session.actor(), None, None, salesops_app::MAX_LIMIT)
            .await?;
        let manager_ids: Vec<UserId> = teams
            .items
            .iter()
            .filter_map(|t| t.team.manager_id.map(UserId))
            .collect();
        let managers = if manager_ids.is_empty() {
            vec![]
        } else {
            let f = Filter {
                ids: Some(manager_ids),
                ..Default::default()
            };
            s.app
                .list_users(session.actor(), f, None, salesops_app::MAX_LIMIT)
                .await?
                .items
        };
        let opts = options(s, session, &ctx, &form).await?;
        Ok::<_, AppError>((teams, managers, opts))
    };
    let (teams, managers, opts) = match result.await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let manager_names: HashMap<uuid::Uuid, String> = managers
        .into_iter()
        .map(|u| (u.user.id.0, u.user.name))
        .collect();
    let team_names: HashMap<uuid::Uuid, String> = teams
        .items
        .iter()
        .map(|t| (t.team.id.0, t.team.name.clone()))
        .collect();
    let rows = teams
        .items
        .iter()
        .map(|t| TeamRow {
            id: t.team.id.to_string(),
            name: t.team.name.clone(),
            segment: ctx.segment(t.team.segment.as_str()),
            manager: t
                .team
                .manager_id
                .and_then(|m| manager_names.get(&m).cloned())
                .unwrap_or_default(),
            parent: t
                .team
                .parent_id
                .and_then(|p| team_names.get(&p).cloned())
                .unwrap_or_default(),
            members: t.member_ids.len(),
        })
        .collect();
    let page = TeamsPage {
        ctx,
        rows,
        form,
        segments: opts.segments,
        managers: opts.managers,
        parents: opts.parents,
        members: opts.members,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn list(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let notice = super::query(&uri).get("deleted").map(|_| "teams-deleted");
    let form = TeamForm {
        segment: "sales".into(),
        ..Default::default()
    };
    teams_page(
        &s,
        &session,
        form,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// Reads the ids of the form; wrong ones are recorded as field errors.
fn ids(form: &Form, errs: &mut Invalid) -> (Option<UserId>, Option<TeamId>, Vec<UserId>) {
    let manager = form.opt("manager_id").and_then(|m| {
        errs.check(
            "manager_id",
            m.parse::<UserId>().map_err(|_| "unknown user"),
        )
    });
    let parent = form
        .opt("parent_id")
        .and_then(|p| errs.check("parent_id", p.parse::<TeamId>().map_err(|_| "unknown team")));
    let members = form
        .all("member_ids")
        .into_iter()
        .filter_map(|m| {
            errs.check(
                "member_ids",
                m.parse::<UserId>().map_err(|_| "unknown user"),
            )
        })
        .collect();
    (manager, parent, members)
}

pub async fn create(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let (manager_id, parent_id, member_ids) = ids(&form, &mut errs);
    let typed = TeamForm::from_form(&form);
    if !errs.is_empty() {
        return teams_page(
            &s,
            &session,
            typed,
            FieldErrors::of(&errs),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let input = NewTeam {
        name: form.str("name"),
        segment: form.str("segment"),
        manager_id,
        parent_id,
        member_ids,
    };
    match s.app.create_team(session.actor(), input).await {
        Ok(v) => Redirect::to(&format!("/teams/{}?created=1", v.team.id)).into_response(),
        Err(AppError::Invalid(i)) => {
            teams_page(
                &s,
                &session,
                typed,
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    ctx: PageCtx,
    form: TeamForm,
    segment_label: String,
    segments: Vec<Choice>,
    managers: Vec<Choice>,
    parents: Vec<Choice>,
    members: Vec<Choice>,
    errors: FieldErrors,
}

async fn team_page(
    s: &AppState,
    session: &Session,
    id: TeamId,
    typed: Option<TeamForm>,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let v = match s.app.get_team(session.actor(), id).await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let mut form = typed.unwrap_or_else(|| TeamForm::of(&v));
    form.id = v.team.id.to_string();
    let mut ctx = session.ctx("teams");
    ctx.notice = notice.map(|k| ctx.t(k));
    let opts = match options(s, session, &ctx, &form).await {
        Ok(o) => o,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let page = TeamPage {
        segment_label: ctx.segment(v.team.segment.as_str()),
        ctx,
        form,
        segments: opts.segments,
        managers: opts.managers,
        parents: opts.parents,
        members: opts.members,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn show(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id = match super::parse_id::<TeamId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let q = super::query(&uri);
    let notice = if q.contains_key("created") {
        Some("teams-created")
    } else if q.contains_key("saved") {
        Some("teams-saved")
    } else {
        None
    };
    team_page(
        &s,
        &session,
        id,
        None,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn update(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<TeamId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let mut errs = Invalid::default();
    let (manager_id, parent_id, member_ids) = ids(&form, &mut errs);
    let typed = TeamForm::from_form(&form);
    if !errs.is_empty() {
        return team_page(
            &s,
            &session,
            id,
            Some(typed),
            FieldErrors::of(&errs),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let up = TeamUpdate {
        name: Some(form.str("name")),
        segment: Some(form.str("segment")),
        manager_id: Some(manager_id),
        parent_id: Some(parent_id),
        member_ids: Some(member_ids),
    };
    match s.app.update_team(session.actor(), id, version, up).await {
        Ok(_) => Redirect::to(&format!("/teams/{id}?saved=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            team_page(
                &s,
                &session,
                id,
                Some(typed),
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
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
    let id = match super::parse_id::<TeamId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s.app.delete_team(session.actor(), id, version).await {
        Ok(()) => Redirect::to("/teams?deleted=1").into_response(),
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}
