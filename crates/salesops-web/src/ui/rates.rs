//! The exchange-rate page (ops and admins change it; everybody reads it).

use super::{FieldErrors, Form, PageCtx, Session, UiError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use salesops_app::AppError;
use salesops_domain::Invalid;

pub struct RateRow {
    pub currency: String,
    pub valid_from: String,
    pub rate: String,
}

#[derive(Template)]
#[template(path = "rates.html")]
struct RatesPage {
    ctx: PageCtx,
    intro: String,
    rows: Vec<RateRow>,
    errors: FieldErrors,
}

async fn page(
    s: &AppState,
    session: &Session,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let table = match s.app.rate_table(session.actor()).await {
        Ok(t) => t,
        Err(e) => return UiError::new(session.actor().locale, e).into_response(),
    };
    let mut ctx = session.ctx("rates");
    ctx.notice = notice.map(|k| ctx.t(k));
    let intro = ctx.t_with("rates-intro", "base", table.base.code());
    let rows = table
        .rates
        .iter()
        .map(|(c, d, r)| RateRow {
            currency: c.code().to_string(),
            valid_from: d.to_string(),
            rate: r.rate.to_string(),
        })
        .collect();
    (
        status,
        render(&RatesPage {
            ctx,
            intro,
            rows,
            errors,
        }),
    )
        .into_response()
}

pub async fn list(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let q = uri.query().unwrap_or("");
    let notice = if q.contains("saved") {
        Some("rates-saved")
    } else if q.contains("deleted") {
        Some("rates-deleted")
    } else {
        None
    };
    page(&s, &session, FieldErrors::default(), notice, StatusCode::OK).await
}

/// Sets a rate, or deletes one (`delete=1`).
pub async fn save(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let date = super::form_date(&form, "valid_from", &mut errs);
    if date.is_none() && errs.is_empty() {
        errs.push("valid_from", "is required");
    }
    let currency = form.str("currency").to_uppercase();
    let result = match (errs.is_empty(), date) {
        (true, Some(d)) if form.get("delete").is_some() => s
            .app
            .delete_rate(session.actor(), &currency, d)
            .await
            .map(|_| "deleted"),
        (true, Some(d)) => s
            .app
            .set_rate(session.actor(), &currency, d, &form.str("rate"))
            .await
            .map(|_| "saved"),
        _ => Err(AppError::Invalid(errs)),
    };
    match result {
        Ok(done) => Redirect::to(&format!("/exchange-rates?{done}=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            page(
                &s,
                &session,
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}
