//! The activity types page: everybody reads it; admins and ops change it.

use super::people::Choice;
use super::{FieldErrors, Form, PageCtx, Session, UiError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use salesops_app::AppError;
use salesops_app::activity_types::{ICONS, OutcomeInput, TypeInput, TypeView};
use salesops_domain::{ActivityKind, ActivityTypeId, OutcomeId};

pub struct OutcomeRow {
    pub id: String,
    pub name: String,
    pub colour: String,
    pub positive: bool,
    pub archived: bool,
    pub version: i64,
}

pub struct TypeRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub kind_label: String,
    pub colour: String,
    pub icon: String,
    pub counts_as_selling: bool,
    pub archived: bool,
    pub version: i64,
    pub outcomes: Vec<OutcomeRow>,
}

fn row(ctx: &PageCtx, v: TypeView) -> TypeRow {
    let t = v.activity_type;
    TypeRow {
        id: t.id.to_string(),
        kind_label: ctx.t(&format!("activity-kind-{}", t.kind.as_str())),
        kind: t.kind.to_string(),
        name: t.name,
        colour: t.colour,
        icon: t.icon,
        counts_as_selling: t.counts_as_selling,
        archived: t.archived,
        version: t.version,
        outcomes: v
            .outcomes
            .into_iter()
            .map(|o| OutcomeRow {
                id: o.id.to_string(),
                name: o.name,
                colour: o.colour,
                positive: o.positive,
                archived: o.archived,
                version: o.version,
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "activity_types.html")]
struct TypesPage {
    ctx: PageCtx,
    types: Vec<TypeRow>,
    kinds: Vec<Choice>,
    icons: Vec<String>,
    errors: FieldErrors,
    /// Which form the errors belong to: "new", a type id, or "outcome-<type id>".
    error_form: String,
    show_archived: bool,
}

async fn page(
    s: &AppState,
    session: &Session,
    show_archived: bool,
    errors: FieldErrors,
    error_form: &str,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let list = match s
        .app
        .list_activity_types(session.actor(), show_archived)
        .await
    {
        Ok(l) => l,
        Err(e) => return UiError::new(session.actor().locale, e).into_response(),
    };
    let mut ctx = session.ctx("activity-types");
    ctx.notice = notice.map(|k| ctx.t(k));
    let types = list.into_iter().map(|v| row(&ctx, v)).collect();
    let kinds = ActivityKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.to_string(),
            label: ctx.t(&format!("activity-kind-{}", k.as_str())),
            selected: false,
        })
        .collect();
    let p = TypesPage {
        ctx,
        types,
        kinds,
        icons: ICONS.iter().map(|i| i.to_string()).collect(),
        errors,
        error_form: error_form.to_string(),
        show_archived,
    };
    (status, render(&p)).into_response()
}

pub async fn list(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = super::query(&uri);
    let notice = ["created", "saved", "deleted", "outcome_saved"]
        .into_iter()
        .find(|k| q.contains_key(*k))
        .map(|k| match k {
            "created" => "types-created",
            "saved" => "types-saved",
            "deleted" => "types-deleted",
            _ => "types-outcome-saved",
        });
    page(
        &s,
        &session,
        q.contains_key("archived"),
        FieldErrors::default(),
        "",
        notice,
        StatusCode::OK,
    )
    .await
}

fn type_input(f: &Form) -> TypeInput {
    TypeInput {
        name: Some(f.str("name")),
        kind: f.opt("kind"),
        colour: f.opt("colour"),
        icon: f.opt("icon"),
        counts_as_selling: Some(f.get("counts_as_selling").is_some()),
        archived: None,
    }
}

pub async fn create(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    match s
        .app
        .create_activity_type(session.actor(), type_input(&form), vec![])
        .await
    {
        Ok(_) => Redirect::to("/activity-types?created=1").into_response(),
        Err(AppError::Invalid(i)) => {
            page(
                &s,
                &session,
                false,
                FieldErrors::of(&i),
                "new",
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

/// Saves a type's form, or archives / restores it (`archive=1|0`), or deletes it (`delete=1`).
pub async fn update(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ActivityTypeId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    if form.get("delete").is_some() {
        return match s
            .app
            .delete_activity_type(session.actor(), id, version)
            .await
        {
            Ok(()) => Redirect::to("/activity-types?deleted=1").into_response(),
            Err(e) => UiError::new(session.actor().locale, e).into_response(),
        };
    }
    let input = match form.get("archive") {
        Some(a) => TypeInput {
            archived: Some(a == "1"),
            ..Default::default()
        },
        None => type_input(&form),
    };
    match s
        .app
        .update_activity_type(session.actor(), id, version, input)
        .await
    {
        Ok(_) => Redirect::to("/activity-types?saved=1").into_response(),
        Err(AppError::Invalid(i)) => {
            page(
                &s,
                &session,
                true,
                FieldErrors::of(&i),
                &id.to_string(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

fn outcome_input(f: &Form) -> OutcomeInput {
    OutcomeInput {
        name: Some(f.str("name")),
        colour: f.opt("colour"),
        positive: Some(f.get("positive").is_some()),
        archived: None,
    }
}

pub async fn add_outcome(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ActivityTypeId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    match s
        .app
        .add_outcome(session.actor(), id, outcome_input(&form))
        .await
    {
        Ok(_) => Redirect::to("/activity-types?outcome_saved=1").into_response(),
        Err(AppError::Invalid(i)) => {
            page(
                &s,
                &session,
                true,
                FieldErrors::of(&i),
                &format!("outcome-{id}"),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

/// Saves, archives / restores (`archive=1|0`) or deletes (`delete=1`) an outcome.
pub async fn update_outcome(
    State(s): State<AppState>,
    session: Session,
    Path((id, outcome)): Path<(String, String)>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let lang = session.actor().locale;
    let (Ok(id), Ok(outcome)) = (id.parse::<ActivityTypeId>(), outcome.parse::<OutcomeId>()) else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = if form.get("delete").is_some() {
        s.app
            .delete_outcome(session.actor(), id, outcome, version)
            .await
    } else {
        let input = match form.get("archive") {
            Some(a) => OutcomeInput {
                archived: Some(a == "1"),
                ..Default::default()
            },
            None => outcome_input(&form),
        };
        s.app
            .update_outcome(session.actor(), id, outcome, version, input)
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) => Redirect::to("/activity-types?outcome_saved=1").into_response(),
        Err(AppError::Invalid(i)) => {
            page(
                &s,
                &session,
                true,
                FieldErrors::of(&i),
                &format!("outcome-{id}"),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(lang, e).into_response(),
    }
}
