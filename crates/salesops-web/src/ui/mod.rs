//! The browser UI: server-rendered pages (askama), forms with CSRF tokens,
//! German and English.

mod activities;
mod activity_types;
mod crm;
mod goals;
pub(crate) mod imports;
mod leads;
mod notify;
mod pages;
mod people;
mod pipelines;
mod prospecting;
mod rates;
pub(crate) mod reports;
mod teams;

use crate::extract::{Auth, LANG_COOKIE, SESSION_COOKIE, Via, cookie};
use crate::i18n;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fluent_templates::fluent_bundle::FluentValue;
use salesops_app::{Actor, AppError};
use salesops_domain::{Locale, Role};

pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(pages::root))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang", get(pages::set_lang))
        .route("/home", get(pages::home))
        .route("/settings", get(pages::settings))
        .route("/settings/profile", post(pages::save_profile))
        .route("/settings/password", post(pages::change_password))
        .route("/settings/locale", post(pages::switch_locale))
        .route("/tokens", get(pages::tokens).post(pages::create_token))
        .route("/tokens/{id}/revoke", post(pages::revoke_token))
        .route("/people", get(people::list).post(people::create))
        .route("/people/{id}", get(people::show).post(people::update))
        .route("/people/{id}/deactivate", post(people::deactivate))
        .route("/teams", get(teams::list).post(teams::create))
        .route("/teams/{id}", get(teams::show).post(teams::update))
        .route("/teams/{id}/delete", post(teams::delete))
        .route("/companies", get(crm::companies).post(crm::create_company))
        .route(
            "/companies/{id}",
            get(crm::company).post(crm::update_company),
        )
        .route("/companies/{id}/delete", post(crm::delete_company))
        .route("/contacts", get(crm::contacts).post(crm::create_contact))
        .route(
            "/contacts/{id}",
            get(crm::contact).post(crm::update_contact),
        )
        .route("/contacts/{id}/delete", post(crm::delete_contact))
        .route("/pipelines", get(pipelines::list).post(pipelines::create))
        .route(
            "/pipelines/{id}",
            get(pipelines::show).post(pipelines::update),
        )
        .route("/pipelines/{id}/delete", post(pipelines::delete))
        .route("/pipelines/{id}/stages", post(pipelines::add_stage))
        .route(
            "/pipelines/{id}/stages/{stage}",
            post(pipelines::update_stage),
        )
        .route(
            "/pipelines/{id}/stages/{stage}/delete",
            post(pipelines::delete_stage),
        )
        .route(
            "/pipelines/{id}/stages/{stage}/move",
            post(pipelines::move_stage),
        )
        .route(
            "/activity-types",
            get(activity_types::list).post(activity_types::create),
        )
        .route("/activity-types/{id}", post(activity_types::update))
        .route(
            "/activity-types/{id}/outcomes",
            post(activity_types::add_outcome),
        )
        .route(
            "/activity-types/{id}/outcomes/{outcome}",
            post(activity_types::update_outcome),
        )
        .route("/board", get(leads::board))
        .route("/leads", get(leads::list).post(leads::create))
        .route("/leads/{id}", get(leads::show).post(leads::update))
        .route("/leads/{id}/activities", post(activities::log_on_lead))
        .route("/leads/{id}/{action}", post(leads::act))
        .route("/activities", get(activities::agenda))
        .route("/activities/{id}/complete", post(activities::complete))
        .route(
            "/prospect-lists",
            get(prospecting::lists).post(prospecting::create_list),
        )
        .route(
            "/prospect-lists/{id}",
            get(prospecting::show_list).post(prospecting::update_list),
        )
        .route(
            "/prospect-lists/{id}/prospects",
            post(prospecting::add_prospect),
        )
        .route(
            "/prospects/{id}",
            get(prospecting::show_prospect).post(prospecting::update_prospect),
        )
        .route("/prospects/{id}/activities", post(prospecting::log))
        .route("/prospects/{id}/{action}", post(prospecting::act))
        .route("/leads/{id}/answers", post(prospecting::lead_answers))
        .route(
            "/scripts",
            get(prospecting::scripts).post(prospecting::scripts_post),
        )
        .route("/exchange-rates", get(rates::list).post(rates::save))
        .route("/alerts", get(notify::alerts))
        .route("/alerts/{id}/dismiss", post(notify::dismiss))
        .route("/digest/preview", get(notify::preview))
        .route("/settings/digest", post(notify::save_choice))
        .route(
            "/admin/notifications",
            get(notify::notifications).post(notify::save_notifications),
        )
        .route("/admin/notifications/alerts", post(notify::run_alerts))
        .route(
            "/admin/notifications/sends/{id}/retry",
            post(notify::retry_send),
        )
        .route(
            "/admin/webhooks",
            get(notify::webhooks).post(notify::create_webhook),
        )
        .route(
            "/admin/webhooks/{id}",
            get(notify::webhook).post(notify::webhook_post),
        )
        .route("/goals", get(goals::list).post(goals::create))
        .route("/goals/{id}", post(goals::update))
        .route("/goals/{id}/delete", post(goals::delete))
        .route("/planner", get(goals::planner))
        .route("/reports", get(reports::index))
        .route("/dashboard", get(reports::dashboard))
        .route("/reports/drill", get(reports::drill))
        .route("/reports/forecast", get(reports::forecast_page))
        .route("/reports/{kind}", get(reports::show_report))
        .route("/planner/apply", post(goals::apply))
        .route("/imports", get(imports::index))
        .route(
            "/imports/upload",
            post(imports::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::imports::UPLOAD_LIMIT,
            )),
        )
        .route("/imports/start", post(imports::start))
        .route("/imports/export/{kind}", get(imports::export))
        .route("/imports/{id}", get(imports::show_job))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}

/// The signed-in user as the layout shows them.
pub struct Me {
    pub name: String,
    pub role: Role,
}

/// What every page needs: language, the signed-in user, the CSRF token and
/// which navigation entry is current.
pub struct PageCtx {
    pub lang: Locale,
    pub me: Option<Me>,
    pub csrf: String,
    pub nav: &'static str,
    pub path: String,
    pub notice: Option<String>,
}

impl PageCtx {
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    /// The text of `key` with one string argument.
    pub fn t_with(&self, key: &str, arg: &str, value: &str) -> String {
        i18n::t_args(
            self.lang,
            key,
            &[(arg, FluentValue::from(value.to_string()))],
        )
    }

    /// An amount with its currency, written the way the reader's language does.
    pub fn money(&self, m: &salesops_domain::Money) -> String {
        crate::mail::money(self.lang, m)
    }

    pub fn role(&self, r: &Role) -> String {
        self.t(&format!("role-{}", r.as_str()))
    }

    pub fn segment(&self, s: &str) -> String {
        self.t(&format!("segment-{s}"))
    }

    pub fn members_count(&self, n: &usize) -> String {
        i18n::t_args(
            self.lang,
            "teams-members-count",
            &[("count", FluentValue::from(*n as i64))],
        )
    }

    pub fn is(&self, nav: &str) -> bool {
        self.nav == nav
    }

    /// Users the admin pages may change.
    pub fn is_admin(&self) -> bool {
        self.me.as_ref().is_some_and(|m| m.role == Role::Admin)
    }

    /// Companies and contacts are for everybody but viewers.
    pub fn works_accounts(&self) -> bool {
        self.me.as_ref().is_some_and(|m| m.role != Role::Viewer)
    }

    /// The organisation's figures (the planner reads them all).
    pub fn sees_org_reports(&self) -> bool {
        self.me
            .as_ref()
            .is_some_and(|m| matches!(m.role, Role::Admin | Role::Ops | Role::Viewer))
    }

    pub fn shapes_teams(&self) -> bool {
        self.me
            .as_ref()
            .is_some_and(|m| matches!(m.role, Role::Admin | Role::Ops))
    }
}

/// A count in words ("3 leads"), by a Fluent message with a `count` argument.
pub fn i18n_count(ctx: &PageCtx, key: &str, n: i64) -> String {
    i18n::t_args(ctx.lang, key, &[("count", FluentValue::from(n))])
}

/// The language of a request: the signed-in user's setting, else the
/// language cookie set by the switch, else `Accept-Language`, else English.
pub fn request_lang(headers: &HeaderMap, actor: Option<&Actor>) -> Locale {
    if let Some(a) = actor {
        return a.locale;
    }
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|c| c.parse::<Locale>().ok()) {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language)
        .unwrap_or(Locale::En)
}

/// A signed-in browser session; anybody else is sent to the sign-in page.
pub struct Session {
    pub auth: Auth,
    pub csrf: String,
    pub token: String,
    pub path: String,
}

impl Session {
    pub fn actor(&self) -> &Actor {
        &self.auth.actor
    }

    pub fn ctx(&self, nav: &'static str) -> PageCtx {
        let a = self.actor();
        PageCtx {
            lang: a.locale,
            me: Some(Me {
                name: a.name.clone(),
                role: a.role,
            }),
            csrf: self.csrf.clone(),
            nav,
            path: self.path.clone(),
            notice: None,
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let login = || {
            Redirect::to(&format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
            ))
            .into_response()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(login());
        };
        match state.app.session(&token).await {
            Ok(Some((actor, csrf))) => Ok(Session {
                auth: Auth {
                    actor,
                    via: Via::Session {
                        token: token.clone(),
                        csrf: csrf.clone(),
                    },
                },
                csrf,
                token,
                path,
            }),
            Ok(None) => Err(login()),
            Err(e) => Err(UiError::new(Locale::En, e).into_response()),
        }
    }
}

/// A submitted form: every field, repeated ones included.
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed value, `None` when absent or blank.
    pub fn opt(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    pub fn str(&self, key: &str) -> String {
        self.get(key).unwrap_or("").to_string()
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Rejects a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, s: &Session) -> Result<(), UiError> {
        if crate::csrf_eq(self.get("csrf").unwrap_or(""), &s.csrf) {
            Ok(())
        } else {
            Err(UiError {
                lang: s.actor().locale,
                status: StatusCode::FORBIDDEN,
                key: "error-csrf",
                detail: None,
            })
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let lang = request_lang(req.headers(), None);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| e.into_response())?;
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .map(Form)
            .map_err(|_| {
                UiError {
                    lang,
                    status: StatusCode::BAD_REQUEST,
                    key: "error-generic",
                    detail: None,
                }
                .into_response()
            })
    }
}

/// A failure shown to a person as a readable page in their language.
#[derive(Debug)]
pub struct UiError {
    pub lang: Locale,
    pub status: StatusCode,
    pub key: &'static str,
    pub detail: Option<String>,
}

impl UiError {
    pub fn new(lang: Locale, e: AppError) -> UiError {
        let (status, key, detail) = match &e {
            AppError::NotFound => (StatusCode::NOT_FOUND, "error-not-found", None),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "error-forbidden", None),
            AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, "error-forbidden", None),
            AppError::Stale => (StatusCode::PRECONDITION_FAILED, "error-stale", None),
            AppError::Conflict(m) => (StatusCode::CONFLICT, "error-conflict", Some(m.clone())),
            AppError::Invalid(i) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "form-errors",
                Some(i.to_string()),
            ),
            AppError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "error-generic", None)
            }
            AppError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "error-generic", None)
            }
        };
        UiError {
            lang,
            status,
            key,
            detail,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageCtx,
    message: String,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let message = match &self.detail {
            Some(d) if self.key == "error-conflict" => i18n::t_args(
                self.lang,
                self.key,
                &[("detail", FluentValue::from(d.clone()))],
            ),
            Some(d) => format!("{} {d}", i18n::t(self.lang, self.key)),
            None => i18n::t(self.lang, self.key),
        };
        let page = ErrorPage {
            ctx: PageCtx {
                lang: self.lang,
                me: None,
                csrf: String::new(),
                nav: "",
                path: String::new(),
                notice: None,
            },
            message,
        };
        (self.status, render(&page)).into_response()
    }
}

/// Renders a page; a template error becomes a 500 (and is logged).
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Field errors of a failed form, by field name.
#[derive(Default)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    pub fn of(e: &salesops_domain::Invalid) -> FieldErrors {
        FieldErrors(
            e.0.iter()
                .map(|f| (f.field.clone(), f.message.clone()))
                .collect(),
        )
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// The query-string parameters of a page request.
pub fn query(uri: &axum::http::Uri) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Parses an id from a path segment; anything else is the "not found" page.
pub fn parse_id<T: std::str::FromStr>(session: &Session, id: &str) -> Result<T, UiError> {
    id.parse::<T>()
        .map_err(|_| UiError::new(session.actor().locale, AppError::NotFound))
}

/// Parses an optional `YYYY-MM-DD` form field.
pub fn form_date(
    f: &Form,
    key: &str,
    errs: &mut salesops_domain::Invalid,
) -> Option<chrono::NaiveDate> {
    let v = f.opt(key)?;
    errs.check(
        key,
        chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d")
            .map_err(|_| "must be a date like 2026-03-01"),
    )
}
