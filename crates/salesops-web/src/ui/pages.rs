//! Sign-in, home, settings, language and API token pages.

use super::{FieldErrors, Form, PageCtx, Session, UiError, form_date, render, request_lang};
use crate::extract::{ClientIp, LANG_COOKIE, PRE_CSRF_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::i18n;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveTime, Utc};
use fluent_templates::fluent_bundle::FluentValue;
use salesops_app::AppError;
use salesops_app::auth::{LoginInput, random_token};
use salesops_app::users::UserUpdate;
use salesops_domain::{ApiTokenId, Invalid, Locale};
use salesops_store::auth::ApiToken;

/// Only same-site relative paths are followed after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        // A local path only: no scheme-relative "//", no backslashes and no
        // control characters (browsers drop tabs, turning "/\t/x" into "//x").
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.chars().any(|c| c == '\\' || c.is_control()) =>
        {
            n.to_string()
        }
        _ => "/home".into(),
    }
}

fn query_param(uri: &axum::http::Uri, key: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn with_cookie(mut resp: Response, c: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn root(State(s): State<AppState>, headers: HeaderMap) -> Redirect {
    let signed_in = match cookie(&headers, SESSION_COOKIE) {
        Some(t) => matches!(s.app.session(&t).await, Ok(Some(_))),
        None => false,
    };
    Redirect::to(if signed_in { "/home" } else { "/login" })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    next: String,
    email: String,
    error: Option<String>,
}

struct LoginView {
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
}

/// Shows the sign-in form. The form's CSRF token is a cookie of its own
/// (double submit); an existing one is reused so that several sign-in tabs
/// stay valid.
fn login_page(
    s: &AppState,
    headers: &HeaderMap,
    lang: Locale,
    v: LoginView,
    status: StatusCode,
) -> Response {
    let existing = cookie(headers, PRE_CSRF_COOKIE).filter(|c| {
        c.len() >= 32
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let csrf = existing.unwrap_or_else(|| random_token(24));
    let LoginView {
        next,
        email,
        error,
        notice,
    } = v;
    // The language switch comes back here, to the same destination.
    let path = if next == "/home" {
        "/login".to_string()
    } else {
        format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    };
    let ctx = PageCtx {
        lang,
        me: None,
        csrf: csrf.clone(),
        nav: "login",
        path,
        notice,
    };
    let resp = (
        status,
        render(&LoginPage {
            ctx,
            next,
            email,
            error,
        }),
    )
        .into_response();
    with_cookie(
        resp,
        &set_cookie(PRE_CSRF_COOKIE, &csrf, 3600, true, s.config.secure_cookies),
    )
}

pub async fn login_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Some(t) = cookie(&headers, SESSION_COOKIE)
        && matches!(s.app.session(&t).await, Ok(Some(_)))
    {
        return Redirect::to(&safe_next(query_param(&uri, "next").as_deref())).into_response();
    }
    let lang = request_lang(&headers, None);
    let notice = query_param(&uri, "signed_out").map(|_| i18n::t(lang, "login-signed-out"));
    let next = safe_next(query_param(&uri, "next").as_deref());
    login_page(
        &s,
        &headers,
        lang,
        LoginView {
            next,
            email: String::new(),
            error: None,
            notice,
        },
        StatusCode::OK,
    )
}

pub async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    ip: ClientIp,
    form: Form,
) -> Response {
    let lang = request_lang(&headers, None);
    let next = safe_next(form.get("next"));
    let email = form.str("email");
    let sent = form.get("csrf").unwrap_or("");
    let expected = cookie(&headers, PRE_CSRF_COOKIE).unwrap_or_default();
    if !crate::csrf_eq(sent, &expected) {
        let msg = i18n::t(lang, "login-csrf");
        return login_page(
            &s,
            &headers,
            lang,
            LoginView {
                next,
                email,
                error: Some(msg),
                notice: None,
            },
            StatusCode::FORBIDDEN,
        );
    }
    let input = LoginInput {
        email: &email,
        password: form.get("password").unwrap_or(""),
        org: form.get("org"),
        ip: &ip.0,
    };
    match s.app.login(input).await {
        Ok(session) => {
            let max_age = (session.expires_at - Utc::now()).num_seconds();
            let resp = Redirect::to(&next).into_response();
            let resp = with_cookie(
                resp,
                &set_cookie(
                    SESSION_COOKIE,
                    &session.token,
                    max_age,
                    true,
                    s.config.secure_cookies,
                ),
            );
            with_cookie(
                resp,
                &set_cookie(PRE_CSRF_COOKIE, "", 0, true, s.config.secure_cookies),
            )
        }
        Err(AppError::Unauthenticated) => {
            let msg = i18n::t(lang, "login-failed");
            login_page(
                &s,
                &headers,
                lang,
                LoginView {
                    next,
                    email,
                    error: Some(msg),
                    notice: None,
                },
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(AppError::TooManyAttempts { retry_after_secs }) => {
            let msg = i18n::t_args(
                lang,
                "login-throttled",
                &[("seconds", FluentValue::from(retry_after_secs as i64))],
            );
            let mut resp = login_page(
                &s,
                &headers,
                lang,
                LoginView {
                    next,
                    email,
                    error: Some(msg),
                    notice: None,
                },
                StatusCode::TOO_MANY_REQUESTS,
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            resp
        }
        Err(e) => UiError::new(lang, e).into_response(),
    }
}

pub async fn logout(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    if let Err(e) = s.app.logout(&session.token).await {
        return UiError::new(session.actor().locale, e).into_response();
    }
    let resp = Redirect::to("/login?signed_out=1").into_response();
    let resp = with_cookie(
        resp,
        &set_cookie(SESSION_COOKIE, "", 0, true, s.config.secure_cookies),
    );
    // Keep the language the person was using on the sign-in page.
    with_cookie(
        resp,
        &set_cookie(
            LANG_COOKIE,
            session.actor().locale.as_str(),
            31_536_000,
            false,
            s.config.secure_cookies,
        ),
    )
}

/// The language switch before sign-in: remembers the choice in a cookie.
pub async fn set_lang(State(s): State<AppState>, uri: axum::http::Uri) -> Response {
    let next = safe_next(query_param(&uri, "next").as_deref());
    match query_param(&uri, "set").and_then(|l| l.parse::<Locale>().ok()) {
        Some(l) => with_cookie(
            Redirect::to(&next).into_response(),
            &set_cookie(
                LANG_COOKIE,
                l.as_str(),
                31_536_000,
                false,
                s.config.secure_cookies,
            ),
        ),
        None => Redirect::to(&next).into_response(),
    }
}

/// The language switch when signed in: saves it as the user's setting.
pub async fn switch_locale(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let lang = session.actor().locale;
    let up = UserUpdate {
        locale: form.opt("locale"),
        ..Default::default()
    };
    if let Err(e) = s
        .app
        .update_user(session.actor(), session.actor().user_id, None, up)
        .await
    {
        return UiError::new(lang, e).into_response();
    }
    let chosen = form.opt("locale").unwrap_or_else(|| lang.to_string());
    let resp = Redirect::to(&safe_next(form.get("next"))).into_response();
    with_cookie(
        resp,
        &set_cookie(
            LANG_COOKIE,
            &chosen,
            31_536_000,
            false,
            s.config.secure_cookies,
        ),
    )
}

pub struct TeamLine {
    pub id: String,
    pub name: String,
    pub segment: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    name: String,
    member_of: Vec<TeamLine>,
    manages: Vec<TeamLine>,
    goals: Vec<super::goals::GoalLine>,
}

async fn team_lines(
    s: &AppState,
    session: &Session,
    ids: &[salesops_domain::TeamId],
) -> Result<Vec<TeamLine>, AppError> {
    let mut v = Vec::new();
    for id in ids {
        let t = s.app.get_team(session.actor(), *id).await?;
        v.push(TeamLine {
            id: t.team.id.to_string(),
            name: t.team.name,
            segment: t.team.segment.to_string(),
        });
    }
    Ok(v)
}

pub async fn home(State(s): State<AppState>, session: Session) -> Response {
    let a = session.actor();
    let lines = async {
        let m = team_lines(&s, &session, &a.member_of).await?;
        let g = team_lines(&s, &session, &a.manages).await?;
        let actx = s.app.analytics_ctx(a).await?;
        let progress = s.app.progress_for_in(a, &actx, None, None, None).await?;
        Ok::<_, AppError>((m, g, actx, progress))
    };
    match lines.await {
        Ok((member_of, manages, actx, progress)) => {
            let ctx = session.ctx("home");
            render(&HomePage {
                goals: super::goals::lines(&ctx, &actx, progress),
                ctx,
                name: a.name.clone(),
                member_of,
                manages,
            })
        }
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    ctx: PageCtx,
    name: String,
    email: String,
    locale: String,
    time_zone: String,
    version: i64,
    errors: FieldErrors,
    /// `default`, `daily`, `weekly` and `off`, and which is chosen.
    digest: Vec<(&'static str, bool)>,
}

async fn settings_page(
    s: &AppState,
    session: &Session,
    notice: Option<String>,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    match s.app.get_user(a, a.user_id).await {
        Ok(v) => {
            let mut ctx = session.ctx("settings");
            ctx.notice = notice;
            let digest = match s.app.digest_choice(a, a.user_id).await {
                Ok(c) => {
                    let chosen = c.map(|c| c.as_str()).unwrap_or("default");
                    ["default", "daily", "weekly", "off"]
                        .into_iter()
                        .map(|x| (x, x == chosen))
                        .collect()
                }
                Err(e) => return UiError::new(a.locale, e).into_response(),
            };
            let page = SettingsPage {
                digest,
                ctx,
                name: v.user.name,
                email: v.user.email,
                locale: v.user.locale.to_string(),
                time_zone: v.user.time_zone,
                version: v.user.version,
                errors,
            };
            (status, render(&page)).into_response()
        }
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}

pub async fn settings(
    State(s): State<AppState>,
    session: Session,
    uri: axum::http::Uri,
) -> Response {
    let notice = uri
        .query()
        .is_some_and(|q| q.contains("digest=1"))
        .then(|| i18n::t(session.actor().locale, "settings-digest-saved"));
    settings_page(&s, &session, notice, FieldErrors::default(), StatusCode::OK).await
}

pub async fn save_profile(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let a = session.actor();
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let up = UserUpdate {
        name: Some(form.str("name")),
        locale: Some(form.str("locale")),
        time_zone: Some(form.str("time_zone")),
        ..Default::default()
    };
    match s.app.update_user(a, a.user_id, version, up).await {
        Ok(v) => {
            // Shown in the newly chosen language.
            let mut session = session;
            session.auth.actor.locale = v.user.locale;
            session.auth.actor.name = v.user.name.clone();
            let notice = i18n::t(v.user.locale, "settings-saved");
            let resp = settings_page(
                &s,
                &session,
                Some(notice),
                FieldErrors::default(),
                StatusCode::OK,
            )
            .await;
            with_cookie(
                resp,
                &set_cookie(
                    LANG_COOKIE,
                    v.user.locale.as_str(),
                    31_536_000,
                    false,
                    s.config.secure_cookies,
                ),
            )
        }
        Err(AppError::Invalid(i)) => {
            settings_page(
                &s,
                &session,
                None,
                FieldErrors::of(&i),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}

pub async fn change_password(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let a = session.actor().clone();
    let new = form.str("password");
    if new != form.str("password_confirm") {
        let errs = FieldErrors(vec![(
            "password_confirm".into(),
            "does not match the new password".into(),
        )]);
        return settings_page(&s, &session, None, errs, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let up = UserUpdate {
        password: Some(new),
        current_password: Some(form.str("current_password")),
        ..Default::default()
    };
    match s.app.update_user(&a, a.user_id, None, up).await {
        Ok(_) => {
            // Every session of the user ended; this browser gets a new one.
            match s.app.renew_session(&a).await {
                Ok(new_session) => {
                    let mut session = session;
                    session.csrf = new_session.csrf.clone();
                    session.token = new_session.token.clone();
                    let notice = i18n::t(a.locale, "settings-password-changed");
                    let resp = settings_page(
                        &s,
                        &session,
                        Some(notice),
                        FieldErrors::default(),
                        StatusCode::OK,
                    )
                    .await;
                    let max_age = (new_session.expires_at - Utc::now()).num_seconds();
                    with_cookie(
                        resp,
                        &set_cookie(
                            SESSION_COOKIE,
                            &new_session.token,
                            max_age,
                            true,
                            s.config.secure_cookies,
                        ),
                    )
                }
                Err(e) => UiError::new(a.locale, e).into_response(),
            }
        }
        Err(AppError::Invalid(i)) => {
            settings_page(
                &s,
                &session,
                None,
                FieldErrors::of(&i),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    tokens: Vec<ApiToken>,
    secret: Option<String>,
    errors: FieldErrors,
    name: String,
}

struct TokensView {
    secret: Option<String>,
    errors: FieldErrors,
    name: String,
    notice: bool,
}

impl TokensView {
    fn plain() -> Self {
        TokensView {
            secret: None,
            errors: FieldErrors::default(),
            name: String::new(),
            notice: false,
        }
    }
}

async fn tokens_page(
    s: &AppState,
    session: &Session,
    v: TokensView,
    status: StatusCode,
) -> Response {
    let a = session.actor();
    match s
        .app
        .list_tokens(a, None, false, None, salesops_app::MAX_LIMIT)
        .await
    {
        Ok(page) => {
            let mut ctx = session.ctx("tokens");
            if v.notice {
                ctx.notice = Some(ctx.t("tokens-revoked-msg"));
            }
            let page = TokensPage {
                ctx,
                tokens: page.items,
                secret: v.secret,
                errors: v.errors,
                name: v.name,
            };
            (status, render(&page)).into_response()
        }
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}

pub async fn tokens(State(s): State<AppState>, session: Session, uri: axum::http::Uri) -> Response {
    let v = TokensView {
        notice: query_param(&uri, "revoked").is_some(),
        ..TokensView::plain()
    };
    tokens_page(&s, &session, v, StatusCode::OK).await
}

pub async fn create_token(State(s): State<AppState>, session: Session, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let expires =
        form_date(&form, "expires_at", &mut errs).map(|d| d.and_time(NaiveTime::MIN).and_utc());
    if !errs.is_empty() {
        let v = TokensView {
            errors: FieldErrors::of(&errs),
            name: form.str("name"),
            ..TokensView::plain()
        };
        return tokens_page(&s, &session, v, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match s
        .app
        .create_token(session.actor(), &form.str("name"), expires)
        .await
    {
        Ok(t) => {
            tokens_page(
                &s,
                &session,
                TokensView {
                    secret: Some(t.secret),
                    ..TokensView::plain()
                },
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Invalid(i)) => {
            let v = TokensView {
                errors: FieldErrors::of(&i),
                name: form.str("name"),
                ..TokensView::plain()
            };
            tokens_page(&s, &session, v, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

pub async fn revoke_token(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let lang = session.actor().locale;
    let Ok(id) = id.parse::<ApiTokenId>() else {
        return UiError::new(lang, AppError::NotFound).into_response();
    };
    match s.app.revoke_token(session.actor(), id).await {
        Ok(_) => Redirect::to("/tokens?revoked=1").into_response(),
        Err(e) => UiError::new(lang, e).into_response(),
    }
}
