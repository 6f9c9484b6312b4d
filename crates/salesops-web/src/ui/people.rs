//! The people pages: list, create (admins), view and edit.

use super::{FieldErrors, Form, PageCtx, Session, UiError, form_date, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use salesops_app::AppError;
use salesops_app::users::{NewUser, UserUpdate, UserView};
use salesops_domain::{Invalid, Role, TeamId, UserId};
use salesops_store::users::Filter;
use std::collections::HashMap;

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub teams: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// An option of a select, selected when its value is `selected`.
pub fn choice(value: impl Into<String>, label: String, selected: &str) -> Choice {
    let value = value.into();
    Choice {
        selected: value == selected,
        value,
        label,
    }
}

/// The values of the person form, as typed.
#[derive(Default)]
pub struct PersonForm {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub locale: String,
    pub time_zone: String,
    pub hire_date: String,
    pub leave_date: String,
    pub active: bool,
    pub version: i64,
    pub team_ids: Vec<String>,
}

impl PersonForm {
    fn of(v: &UserView) -> PersonForm {
        let u = &v.user;
        PersonForm {
            id: u.id.to_string(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.to_string(),
            locale: u.locale.to_string(),
            time_zone: u.time_zone.clone(),
            hire_date: u.hire_date.map(|d| d.to_string()).unwrap_or_default(),
            leave_date: u.leave_date.map(|d| d.to_string()).unwrap_or_default(),
            active: u.active,
            version: u.version,
            team_ids: v.team_ids.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn from_form(f: &Form) -> PersonForm {
        PersonForm {
            id: String::new(),
            email: f.str("email"),
            name: f.str("name"),
            role: f.str("role"),
            locale: f.str("locale"),
            time_zone: f.str("time_zone"),
            hire_date: f.str("hire_date"),
            leave_date: f.str("leave_date"),
            active: f.get("active").is_some(),
            version: f.get("version").and_then(|v| v.parse().ok()).unwrap_or(0),
            team_ids: f.all("team_ids").into_iter().map(str::to_string).collect(),
        }
    }

    fn roles(&self, ctx: &PageCtx) -> Vec<Choice> {
        Role::ALL
            .iter()
            .map(|r| Choice {
                value: r.to_string(),
                label: ctx.role(r),
                selected: self.role == r.as_str(),
            })
            .collect()
    }

    fn locales(&self) -> Vec<Choice> {
        [("de", "Deutsch"), ("en", "English")]
            .into_iter()
            .map(|(v, l)| Choice {
                value: v.into(),
                label: l.into(),
                selected: self.locale == v,
            })
            .collect()
    }
}

/// Every team as a checkbox; teams already selected are always included
/// (even past the list's size), so saving the form never drops them.
async fn team_choices(
    s: &AppState,
    session: &Session,
    selected: &[String],
) -> Result<Vec<Choice>, AppError> {
    let page = s
        .app
        .list_teams(session.actor(), None, None, salesops_app::MAX_LIMIT)
        .await?;
    let mut teams: Vec<(String, String)> = page
        .items
        .into_iter()
        .map(|t| (t.team.id.to_string(), t.team.name))
        .collect();
    for id in selected {
        if !teams.iter().any(|(t, _)| t == id)
            && let Ok(tid) = id.parse::<TeamId>()
            && let Ok(t) = s.app.get_team(session.actor(), tid).await
        {
            teams.push((id.clone(), t.team.name));
        }
    }
    Ok(teams
        .into_iter()
        .map(|(id, label)| Choice {
            selected: selected.contains(&id),
            value: id,
            label,
        })
        .collect())
}
#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    ctx: PageCtx,
    rows: Vec<PersonRow>,
    next: Option<String>,
    q: String,
    role_filter: Vec<Choice>,
    form: PersonForm,
    roles: Vec<Choice>,
    locales: Vec<Choice>,
    teams: Vec<Choice>,
    errors: FieldErrors,
}

async fn people_page(
    s: &AppState,
    session: &Session,
    uri: &Uri,
    form: PersonForm,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let qs = super::query(uri);
    let role = qs.get("role").and_then(|r| r.parse::<Role>().ok());
    let filter = Filter {
        role,
        q: qs.get("q").filter(|q| !q.trim().is_empty()).cloned(),
        ..Default::default()
    };
    let cursor = crate::extract::decode_cursor(qs.get("cursor").map(String::as_str))
        .ok()
        .flatten();
    let result = async {
        let page = s
            .app
            .list_users(session.actor(), filter, cursor, salesops_app::DEFAULT_LIMIT)
            .await?;
        let teams = team_choices(s, session, &form.team_ids).await?;
        Ok::<_, AppError>((page, teams))
    };
    let (page, teams) = match result.await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let names: HashMap<String, String> = teams
        .iter()
        .map(|c| (c.value.clone(), c.label.clone()))
        .collect();
    let rows = page
        .items
        .iter()
        .map(|v| PersonRow {
            id: v.user.id.to_string(),
            name: v.user.name.clone(),
            email: v.user.email.clone(),
            role: v.user.role,
            active: v.user.active,
            teams: v
                .team_ids
                .iter()
                .filter_map(|t| names.get(&t.to_string()).cloned())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let mut ctx = session.ctx("people");
    ctx.notice = notice.map(|k| ctx.t(k));
    let role_filter = Role::ALL
        .iter()
        .map(|r| Choice {
            value: r.to_string(),
            label: ctx.role(r),
            selected: role == Some(*r),
        })
        .collect();
    let mut next = None;
    if let Some(c) = page.next_cursor {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in qs.iter().filter(|(k, _)| k.as_str() != "cursor") {
            q.append_pair(k, v);
        }
        q.append_pair("cursor", &crate::extract::encode_cursor(c));
        next = Some(format!("/people?{}", q.finish()));
    }
    let roles = form.roles(&ctx);
    let locales = form.locales();
    let page = PeoplePage {
        q: qs.get("q").cloned().unwrap_or_default(),
        ctx,
        rows,
        next,
        role_filter,
        roles,
        locales,
        form,
        teams,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn list(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let form = PersonForm {
        role: "rep".into(),
        ..Default::default()
    };
    let notice = super::query(&uri)
        .get("deactivated")
        .map(|_| "users-deactivated");
    people_page(
        &s,
        &session,
        &uri,
        form,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

fn team_ids(form: &Form, errs: &mut Invalid) -> Vec<TeamId> {
    form.all("team_ids")
        .into_iter()
        .filter_map(|t| errs.check("team_ids", t.parse::<TeamId>().map_err(|_| "unknown team")))
        .collect()
}

pub async fn create(State(s): State<AppState>, session: Session, uri: Uri, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let hire = form_date(&form, "hire_date", &mut errs);
    let leave = form_date(&form, "leave_date", &mut errs);
    let teams = team_ids(&form, &mut errs);
    let typed = PersonForm::from_form(&form);
    if !errs.is_empty() {
        return people_page(
            &s,
            &session,
            &uri,
            typed,
            FieldErrors::of(&errs),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let input = NewUser {
        email: form.str("email"),
        name: form.str("name"),
        role: form.str("role"),
        password: form.str("password"),
        locale: form.opt("locale"),
        time_zone: form.opt("time_zone"),
        hire_date: hire,
        leave_date: leave,
        team_ids: teams,
    };
    match s.app.create_user(session.actor(), input).await {
        Ok(v) => Redirect::to(&format!("/people/{}?created=1", v.user.id)).into_response(),
        Err(AppError::Invalid(i)) => {
            people_page(
                &s,
                &session,
                &uri,
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
#[template(path = "person.html")]
struct PersonPage {
    ctx: PageCtx,
    form: PersonForm,
    role_label: String,
    roles: Vec<Choice>,
    locales: Vec<Choice>,
    teams: Vec<Choice>,
    errors: FieldErrors,
    editable: bool,
    is_self: bool,
}

async fn person_page(
    s: &AppState,
    session: &Session,
    id: UserId,
    typed: Option<PersonForm>,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let v = match s.app.get_user(session.actor(), id).await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let mut form = typed.unwrap_or_else(|| PersonForm::of(&v));
    form.id = v.user.id.to_string();
    let teams = match team_choices(s, session, &form.team_ids).await {
        Ok(t) => t,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let mut ctx = session.ctx("people");
    ctx.notice = notice.map(|k| ctx.t(k));
    let editable = ctx.is_admin();
    let page = PersonPage {
        role_label: ctx.role(&v.user.role),
        roles: form.roles(&ctx),
        locales: form.locales(),
        is_self: session.actor().user_id == id,
        ctx,
        form,
        teams,
        errors,
        editable,
    };
    (status, render(&page)).into_response()
}

pub async fn show(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id = match super::parse_id::<UserId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let q = super::query(&uri);
    let notice = if q.contains_key("created") {
        Some("users-created")
    } else if q.contains_key("saved") {
        Some("users-saved")
    } else {
        None
    };
    person_page(
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
    let id = match super::parse_id::<UserId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let mut errs = Invalid::default();
    let hire = form_date(&form, "hire_date", &mut errs);
    let leave = form_date(&form, "leave_date", &mut errs);
    let teams = team_ids(&form, &mut errs);
    let typed = PersonForm::from_form(&form);
    if !errs.is_empty() {
        return person_page(
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
    let up = UserUpdate {
        email: Some(form.str("email")),
        name: Some(form.str("name")),
        role: Some(form.str("role")),
        locale: Some(form.str("locale")),
        time_zone: Some(form.str("time_zone")),
        hire_date: Some(hire),
        leave_date: Some(leave),
        active: Some(form.get("active").is_some()),
        team_ids: Some(teams),
        password: form.opt("password"),
        current_password: None,
    };
    match s.app.update_user(session.actor(), id, version, up).await {
        Ok(_) => Redirect::to(&format!("/people/{id}?saved=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            person_page(
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

pub async fn deactivate(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<UserId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s.app.deactivate_user(session.actor(), id, version).await {
        Ok(_) => Redirect::to("/people?deactivated=1").into_response(),
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}
