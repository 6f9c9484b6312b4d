//! Company and contact pages.

use super::people::Choice;
use super::{FieldErrors, Form, PageCtx, Session, UiError, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use salesops_app::AppError;
use salesops_app::crm::{CompanyInput, ContactInput, SIZE_BANDS, company_value};
use salesops_domain::{CompanyId, ContactId, Invalid, MoneyJson, UserId};
use salesops_store::crm::{Company, Contact, Filter};
use salesops_store::users::Filter as UserFilter;
use std::collections::HashMap;

/// A form field: blank is "clear".
fn field(f: &Form, key: &str) -> Option<Option<String>> {
    Some(f.opt(key))
}

/// The owner select: active people the actor sees, plus the current owner.
async fn owner_choices(
    s: &AppState,
    session: &Session,
    current: &str,
) -> Result<Vec<Choice>, AppError> {
    let mut users = s
        .app
        .list_users(
            session.actor(),
            UserFilter {
                active: Some(true),
                ..Default::default()
            },
            None,
            salesops_app::MAX_LIMIT,
        )
        .await?
        .items;
    if let Ok(id) = current.parse::<UserId>()
        && !users.iter().any(|u| u.user.id == id)
    {
        let f = UserFilter {
            ids: Some(vec![id]),
            ..Default::default()
        };
        users.extend(s.app.list_users(session.actor(), f, None, 1).await?.items);
    }
    Ok(users
        .into_iter()
        .map(|u| {
            let id = u.user.id.to_string();
            Choice {
                selected: id == current,
                value: id,
                label: u.user.name,
            }
        })
        .collect())
}

/// Names of the given owners, for tables.
async fn owner_names(
    s: &AppState,
    session: &Session,
    ids: Vec<UserId>,
) -> Result<HashMap<uuid::Uuid, String>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let f = UserFilter {
        ids: Some(ids),
        ..Default::default()
    };
    let users = s
        .app
        .list_users(session.actor(), f, None, salesops_app::MAX_LIMIT)
        .await?;
    Ok(users
        .items
        .into_iter()
        .map(|u| (u.user.id.0, u.user.name))
        .collect())
}

#[derive(Default)]
pub struct CompanyForm {
    pub id: String,
    pub name: String,
    pub industry: String,
    pub size_band: String,
    pub country: String,
    pub region: String,
    pub postcode: String,
    pub city: String,
    pub website: String,
    pub phone: String,
    pub problems: String,
    pub value_amount: String,
    pub value_currency: String,
    pub owner_id: String,
    pub external_id: String,
    pub version: i64,
}

impl CompanyForm {
    fn of(c: &Company, german: bool) -> CompanyForm {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        let value = company_value(c);
        CompanyForm {
            id: c.id.to_string(),
            name: c.name.clone(),
            industry: o(&c.industry),
            size_band: o(&c.size_band),
            country: o(&c.country),
            region: o(&c.region),
            postcode: o(&c.postcode),
            city: o(&c.city),
            website: o(&c.website),
            phone: o(&c.phone),
            problems: o(&c.problems),
            value_amount: value
                .map(|v| v.amount_localized(german, false))
                .unwrap_or_default(),
            value_currency: value
                .map(|v| v.currency.code().to_string())
                .unwrap_or_else(|| "EUR".into()),
            owner_id: c.owner_id.map(|u| u.to_string()).unwrap_or_default(),
            external_id: o(&c.external_id),
            version: c.version,
        }
    }

    fn from_form(f: &Form) -> CompanyForm {
        CompanyForm {
            id: String::new(),
            name: f.str("name"),
            industry: f.str("industry"),
            size_band: f.str("size_band"),
            country: f.str("country"),
            region: f.str("region"),
            postcode: f.str("postcode"),
            city: f.str("city"),
            website: f.str("website"),
            phone: f.str("phone"),
            problems: f.str("problems"),
            value_amount: f.str("value_amount"),
            value_currency: f.str("value_currency"),
            owner_id: f.str("owner_id"),
            external_id: f.str("external_id"),
            version: f.get("version").and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }

    fn size_bands(&self) -> Vec<Choice> {
        SIZE_BANDS
            .iter()
            .map(|b| Choice {
                value: b.to_string(),
                label: b.to_string(),
                selected: self.size_band == *b,
            })
            .collect()
    }
}

/// Reads the company form; amounts may use a decimal comma.
fn company_input(f: &Form, errs: &mut Invalid, german: bool) -> CompanyInput {
    let value = match f.opt("value_amount") {
        None => None,
        Some(a) => {
            let currency = f.opt("value_currency").unwrap_or_else(|| "EUR".into());
            match salesops_domain::Currency::parse(&currency) {
                Ok(c) => match salesops_domain::Money::parse_localized(&a, c, german) {
                    Ok(m) => Some(MoneyJson::from(m)),
                    Err(e) => {
                        errs.push("value", e.0);
                        None
                    }
                },
                Err(e) => {
                    errs.push("value", e.0);
                    None
                }
            }
        }
    };
    let owner = f
        .opt("owner_id")
        .and_then(|o| errs.check("owner_id", o.parse::<UserId>().map_err(|_| "unknown user")));
    CompanyInput {
        name: Some(f.str("name")),
        industry: field(f, "industry"),
        size_band: field(f, "size_band"),
        country: field(f, "country"),
        region: field(f, "region"),
        postcode: field(f, "postcode"),
        city: field(f, "city"),
        website: field(f, "website"),
        phone: field(f, "phone"),
        problems: field(f, "problems"),
        value: Some(value),
        owner_id: Some(owner),
        external_id: field(f, "external_id"),
    }
}

pub struct CompanyRow {
    pub id: String,
    pub name: String,
    pub city: String,
    pub industry: String,
    pub owner: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "companies.html")]
struct CompaniesPage {
    ctx: PageCtx,
    rows: Vec<CompanyRow>,
    next: Option<String>,
    q: String,
    form: CompanyForm,
    size_bands: Vec<Choice>,
    owners: Vec<Choice>,
    errors: FieldErrors,
}

async fn companies_page(
    s: &AppState,
    session: &Session,
    uri: &Uri,
    form: CompanyForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let qs = super::query(uri);
    let cursor = crate::extract::decode_cursor(qs.get("cursor").map(String::as_str))
        .ok()
        .flatten();
    let filter = Filter {
        q: qs.get("q").filter(|q| !q.trim().is_empty()).cloned(),
        ..Default::default()
    };
    let result = async {
        let page = s
            .app
            .list_companies(session.actor(), filter, cursor, salesops_app::DEFAULT_LIMIT)
            .await?;
        let names = owner_names(
            s,
            session,
            page.items
                .iter()
                .filter_map(|c| c.owner_id.map(UserId))
                .collect(),
        )
        .await?;
        let owners = owner_choices(s, session, &form.owner_id).await?;
        Ok::<_, AppError>((page, names, owners))
    };
    let (page, names, owners) = match result.await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let mut ctx = session.ctx("companies");
    ctx.notice = qs.get("deleted").map(|_| ctx.t("companies-deleted"));
    let rows = page
        .items
        .iter()
        .map(|c| CompanyRow {
            id: c.id.to_string(),
            name: c.name.clone(),
            city: c.city.clone().unwrap_or_default(),
            industry: c.industry.clone().unwrap_or_default(),
            owner: c
                .owner_id
                .and_then(|o| names.get(&o).cloned())
                .unwrap_or_default(),
            value: company_value(c).map(|m| ctx.money(&m)).unwrap_or_default(),
        })
        .collect();
    let next = page.next_cursor.map(|c| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(text) = qs.get("q") {
            q.append_pair("q", text);
        }
        q.append_pair("cursor", &crate::extract::encode_cursor(c));
        format!("/companies?{}", q.finish())
    });
    let page = CompaniesPage {
        size_bands: form.size_bands(),
        q: qs.get("q").cloned().unwrap_or_default(),
        ctx,
        rows,
        next,
        form,
        owners,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn companies(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let form = CompanyForm {
        value_currency: "EUR".into(),
        owner_id: session.actor().user_id.to_string(),
        ..Default::default()
    };
    companies_page(
        &s,
        &session,
        &uri,
        form,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn create_company(
    State(s): State<AppState>,
    session: Session,
    uri: Uri,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let input = company_input(
        &form,
        &mut errs,
        session.actor().locale == salesops_domain::Locale::De,
    );
    let typed = CompanyForm::from_form(&form);
    if !errs.is_empty() {
        return companies_page(
            &s,
            &session,
            &uri,
            typed,
            FieldErrors::of(&errs),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match s.app.create_company(session.actor(), input).await {
        Ok(c) => Redirect::to(&format!("/companies/{}?created=1", c.id)).into_response(),
        Err(AppError::Invalid(i)) => {
            companies_page(
                &s,
                &session,
                &uri,
                typed,
                FieldErrors::of(&i),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

pub struct ContactRow {
    pub id: String,
    pub name: String,
    pub company_id: String,
    pub company: String,
    pub job_title: String,
    pub email: String,
    pub phone: String,
}

#[derive(Template)]
#[template(path = "company.html")]
struct CompanyPage {
    ctx: PageCtx,
    form: CompanyForm,
    size_bands: Vec<Choice>,
    owners: Vec<Choice>,
    owner_name: String,
    errors: FieldErrors,
    editable: bool,
    contacts: Vec<ContactRow>,
    contact_form: ContactForm,
    contact_errors: FieldErrors,
    leads: Vec<CompanyLead>,
    activities: Vec<CompanyActivity>,
}

pub struct CompanyLead {
    pub id: String,
    pub title: String,
    pub status: String,
    pub status_label: String,
    pub amount: String,
}

pub struct CompanyActivity {
    pub when: String,
    pub label: String,
    pub lead_id: String,
}

struct CompanyView {
    typed: Option<CompanyForm>,
    errors: FieldErrors,
    contact_form: Option<ContactForm>,
    contact_errors: FieldErrors,
}

impl CompanyView {
    fn plain() -> Self {
        CompanyView {
            typed: None,
            errors: FieldErrors::default(),
            contact_form: None,
            contact_errors: FieldErrors::default(),
        }
    }
}

async fn company_page(
    s: &AppState,
    session: &Session,
    id: CompanyId,
    v: CompanyView,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let a = session.actor();
    let result = async {
        let c = s.app.get_company(a, id).await?;
        let contacts = s
            .app
            .list_contacts(
                a,
                Filter {
                    company: Some(id),
                    ..Default::default()
                },
                None,
                salesops_app::MAX_LIMIT,
            )
            .await?;
        let leads = s
            .app
            .list_leads(
                a,
                salesops_store::leads::Filter {
                    company: Some(id),
                    ..Default::default()
                },
                None,
                salesops_app::MAX_LIMIT,
            )
            .await?
            .items;
        let acts = s
            .app
            .list_activities(
                a,
                salesops_store::activities::Filter {
                    company: Some(id),
                    ..Default::default()
                },
                50,
                true,
            )
            .await?;
        let names = super::activities::type_names(s, session).await?;
        let form = v
            .typed
            .unwrap_or_else(|| CompanyForm::of(&c, a.locale == salesops_domain::Locale::De));
        let owners = owner_choices(s, session, &form.owner_id).await?;
        let editable = s.app.may_update_account(a, c.owner_id).await?;
        Ok::<_, AppError>((c, contacts, form, owners, editable, leads, acts, names))
    };
    let (c, contacts, mut form, owners, editable, leads, acts, (types, outcomes)) =
        match result.await {
            Ok(v) => v,
            Err(e) => return UiError::new(lang, e).into_response(),
        };
    form.id = c.id.to_string();
    let mut ctx = session.ctx("companies");
    ctx.notice = notice.map(|k| ctx.t(k));
    let owner_name = owners
        .iter()
        .find(|o| o.selected)
        .map(|o| o.label.clone())
        .unwrap_or_else(|| ctx.t("no-owner"));
    let rows = contacts
        .items
        .into_iter()
        .map(|k| ContactRow {
            id: k.id.to_string(),
            name: k.name,
            company_id: c.id.to_string(),
            company: c.name.clone(),
            job_title: k.job_title.unwrap_or_default(),
            email: k.email.unwrap_or_default(),
            phone: k.phone.unwrap_or_default(),
        })
        .collect();
    let contact_form = v.contact_form.unwrap_or_else(|| ContactForm {
        company_id: c.id.to_string(),
        owner_id: form.owner_id.clone(),
        ..Default::default()
    });
    let lead_rows = leads
        .iter()
        .map(|l| CompanyLead {
            id: l.id.to_string(),
            title: l.title.clone(),
            status: l.status.to_string(),
            status_label: ctx.t(&format!("status-{}", l.status.as_str())),
            amount: salesops_app::leads::lead_amount(l)
                .map(|m| ctx.money(&m))
                .unwrap_or_default(),
        })
        .collect();
    let activity_rows = acts
        .iter()
        .map(|x| CompanyActivity {
            when: x
                .happened_at
                .or(x.due_at)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            label: super::activities::label(x, &types, &outcomes),
            lead_id: x.lead_id.map(|l| l.to_string()).unwrap_or_default(),
        })
        .collect();
    let page = CompanyPage {
        size_bands: form.size_bands(),
        ctx,
        form,
        owners,
        owner_name,
        errors: v.errors,
        editable,
        contacts: rows,
        contact_form,
        contact_errors: v.contact_errors,
        leads: lead_rows,
        activities: activity_rows,
    };
    (status, render(&page)).into_response()
}

pub async fn company(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id = match super::parse_id::<CompanyId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let q = super::query(&uri);
    let notice = if q.contains_key("created") {
        Some("companies-created")
    } else if q.contains_key("saved") {
        Some("companies-saved")
    } else if q.contains_key("contact_added") {
        Some("contacts-created")
    } else {
        None
    };
    company_page(
        &s,
        &session,
        id,
        CompanyView::plain(),
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn update_company(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<CompanyId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let mut errs = Invalid::default();
    let input = company_input(
        &form,
        &mut errs,
        session.actor().locale == salesops_domain::Locale::De,
    );
    let typed = CompanyForm::from_form(&form);
    if !errs.is_empty() {
        let v = CompanyView {
            typed: Some(typed),
            errors: FieldErrors::of(&errs),
            ..CompanyView::plain()
        };
        return company_page(&s, &session, id, v, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s
        .app
        .update_company(session.actor(), id, version, input)
        .await
    {
        Ok(_) => Redirect::to(&format!("/companies/{id}?saved=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            let v = CompanyView {
                typed: Some(typed),
                errors: FieldErrors::of(&i),
                ..CompanyView::plain()
            };
            company_page(&s, &session, id, v, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

pub async fn delete_company(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<CompanyId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s.app.delete_company(session.actor(), id, version).await {
        Ok(()) => Redirect::to("/companies?deleted=1").into_response(),
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

#[derive(Default)]
pub struct ContactForm {
    pub id: String,
    pub name: String,
    pub company_id: String,
    pub job_title: String,
    pub email: String,
    pub phone: String,
    pub notes: String,
    pub owner_id: String,
    pub external_id: String,
    pub version: i64,
}

impl ContactForm {
    fn of(c: &Contact) -> ContactForm {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        ContactForm {
            id: c.id.to_string(),
            name: c.name.clone(),
            company_id: c.company_id.map(|x| x.to_string()).unwrap_or_default(),
            job_title: o(&c.job_title),
            email: o(&c.email),
            phone: o(&c.phone),
            notes: o(&c.notes),
            owner_id: c.owner_id.map(|x| x.to_string()).unwrap_or_default(),
            external_id: o(&c.external_id),
            version: c.version,
        }
    }

    fn from_form(f: &Form) -> ContactForm {
        ContactForm {
            id: String::new(),
            name: f.str("name"),
            company_id: f.str("company_id"),
            job_title: f.str("job_title"),
            email: f.str("email"),
            phone: f.str("phone"),
            notes: f.str("notes"),
            owner_id: f.str("owner_id"),
            external_id: f.str("external_id"),
            version: f.get("version").and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }
}

fn contact_input(f: &Form, errs: &mut Invalid) -> ContactInput {
    let company = f.opt("company_id").and_then(|c| {
        errs.check(
            "company_id",
            c.parse::<CompanyId>().map_err(|_| "unknown company"),
        )
    });
    let owner = f
        .opt("owner_id")
        .and_then(|o| errs.check("owner_id", o.parse::<UserId>().map_err(|_| "unknown user")));
    ContactInput {
        name: Some(f.str("name")),
        company_id: Some(company),
        job_title: field(f, "job_title"),
        email: field(f, "email"),
        phone: field(f, "phone"),
        notes: field(f, "notes"),
        owner_id: Some(owner),
        external_id: field(f, "external_id"),
    }
}

/// The company select of the contact form: companies the actor sees, plus the current one.
async fn company_choices(
    s: &AppState,
    session: &Session,
    current: &str,
) -> Result<Vec<Choice>, AppError> {
    let mut companies = s
        .app
        .list_companies(
            session.actor(),
            Filter::default(),
            None,
            salesops_app::MAX_LIMIT,
        )
        .await?
        .items;
    if let Ok(id) = current.parse::<CompanyId>()
        && !companies.iter().any(|c| c.id == id)
        && let Ok(c) = s.app.get_company(session.actor(), id).await
    {
        companies.push(c);
    }
    Ok(companies
        .into_iter()
        .map(|c| {
            let id = c.id.to_string();
            Choice {
                selected: id == current,
                value: id,
                label: c.name,
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    ctx: PageCtx,
    rows: Vec<ContactRow>,
    next: Option<String>,
    q: String,
    contact_form: ContactForm,
    companies: Vec<Choice>,
    owners: Vec<Choice>,
    contact_errors: FieldErrors,
}

async fn contacts_page(
    s: &AppState,
    session: &Session,
    uri: &Uri,
    form: ContactForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let qs = super::query(uri);
    let cursor = crate::extract::decode_cursor(qs.get("cursor").map(String::as_str))
        .ok()
        .flatten();
    let filter = Filter {
        q: qs.get("q").filter(|q| !q.trim().is_empty()).cloned(),
        ..Default::default()
    };
    let result = async {
        let page = s
            .app
            .list_contacts(session.actor(), filter, cursor, salesops_app::DEFAULT_LIMIT)
            .await?;
        let companies = company_choices(s, session, &form.company_id).await?;
        let owners = owner_choices(s, session, &form.owner_id).await?;
        Ok::<_, AppError>((page, companies, owners))
    };
    let (page, companies, owners) = match result.await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let names: HashMap<String, String> = companies
        .iter()
        .map(|c| (c.value.clone(), c.label.clone()))
        .collect();
    let rows = page
        .items
        .into_iter()
        .map(|k| {
            let company_id = k.company_id.map(|c| c.to_string()).unwrap_or_default();
            ContactRow {
                id: k.id.to_string(),
                name: k.name,
                company: names.get(&company_id).cloned().unwrap_or_default(),
                company_id,
                job_title: k.job_title.unwrap_or_default(),
                email: k.email.unwrap_or_default(),
                phone: k.phone.unwrap_or_default(),
            }
        })
        .collect();
    let next = page.next_cursor.map(|c| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(text) = qs.get("q") {
            q.append_pair("q", text);
        }
        q.append_pair("cursor", &crate::extract::encode_cursor(c));
        format!("/contacts?{}", q.finish())
    });
    let mut ctx = session.ctx("contacts");
    ctx.notice = qs.get("deleted").map(|_| ctx.t("contacts-deleted"));
    let page = ContactsPage {
        q: qs.get("q").cloned().unwrap_or_default(),
        ctx,
        rows,
        next,
        contact_form: form,
        companies,
        owners,
        contact_errors: errors,
    };
    (status, render(&page)).into_response()
}

pub async fn contacts(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let form = ContactForm {
        owner_id: session.actor().user_id.to_string(),
        ..Default::default()
    };
    contacts_page(
        &s,
        &session,
        &uri,
        form,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// Creates a contact from the contacts page or from a company's page
/// (`back=company` returns there).
pub async fn create_contact(
    State(s): State<AppState>,
    session: Session,
    uri: Uri,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let input = contact_input(&form, &mut errs);
    let typed = ContactForm::from_form(&form);
    let from_company = form.get("back") == Some("company");
    let company = typed.company_id.parse::<CompanyId>().ok();
    let result = if errs.is_empty() {
        s.app.create_contact(session.actor(), input).await
    } else {
        Err(AppError::Invalid(errs))
    };
    match (result, from_company, company) {
        (Ok(_), true, Some(co)) => {
            Redirect::to(&format!("/companies/{co}?contact_added=1")).into_response()
        }
        (Ok(c), _, _) => Redirect::to(&format!("/contacts/{}?created=1", c.id)).into_response(),
        (Err(AppError::Invalid(i)), true, Some(co)) => {
            let v = CompanyView {
                contact_form: Some(typed),
                contact_errors: FieldErrors::of(&i),
                ..CompanyView::plain()
            };
            company_page(&s, &session, co, v, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        (Err(AppError::Invalid(i)), _, _) => {
            contacts_page(
                &s,
                &session,
                &uri,
                typed,
                FieldErrors::of(&i),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        (Err(e), _, _) => UiError::new(session.actor().locale, e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    ctx: PageCtx,
    contact_form: ContactForm,
    companies: Vec<Choice>,
    owners: Vec<Choice>,
    company_name: String,
    owner_name: String,
    contact_errors: FieldErrors,
    editable: bool,
    leads: Vec<CompanyLead>,
    activities: Vec<CompanyActivity>,
}

async fn contact_page(
    s: &AppState,
    session: &Session,
    id: ContactId,
    typed: Option<ContactForm>,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let a = session.actor();
    let result = async {
        let c = s.app.get_contact(a, id).await?;
        let form = typed.unwrap_or_else(|| ContactForm::of(&c));
        let companies = company_choices(s, session, &form.company_id).await?;
        let owners = owner_choices(s, session, &form.owner_id).await?;
        let editable = s.app.may_update_account(a, c.owner_id).await?;
        let leads = s
            .app
            .list_leads(
                a,
                salesops_store::leads::Filter {
                    contact: Some(id),
                    ..Default::default()
                },
                None,
                salesops_app::MAX_LIMIT,
            )
            .await?
            .items;
        let acts = s
            .app
            .list_activities(
                a,
                salesops_store::activities::Filter {
                    contact: Some(id),
                    ..Default::default()
                },
                50,
                true,
            )
            .await?;
        let names = super::activities::type_names(s, session).await?;
        Ok::<_, AppError>((c, form, companies, owners, editable, (leads, acts, names)))
    };
    let (c, mut form, companies, owners, editable, (leads, acts, (types, outcomes))) =
        match result.await {
            Ok(v) => v,
            Err(e) => return UiError::new(lang, e).into_response(),
        };
    form.id = c.id.to_string();
    let mut ctx = session.ctx("contacts");
    ctx.notice = notice.map(|k| ctx.t(k));
    let company_name = companies
        .iter()
        .find(|x| x.selected)
        .map(|x| x.label.clone())
        .unwrap_or_default();
    let owner_name = owners
        .iter()
        .find(|o| o.selected)
        .map(|o| o.label.clone())
        .unwrap_or_else(|| ctx.t("no-owner"));
    let leads = leads
        .iter()
        .map(|l| CompanyLead {
            id: l.id.to_string(),
            title: l.title.clone(),
            status: l.status.to_string(),
            status_label: ctx.t(&format!("status-{}", l.status.as_str())),
            amount: salesops_app::leads::lead_amount(l)
                .map(|m| ctx.money(&m))
                .unwrap_or_default(),
        })
        .collect();
    let activities = acts
        .iter()
        .map(|x| CompanyActivity {
            when: x
                .happened_at
                .or(x.due_at)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            label: super::activities::label(x, &types, &outcomes),
            lead_id: x.lead_id.map(|l| l.to_string()).unwrap_or_default(),
        })
        .collect();
    let page = ContactPage {
        leads,
        activities,
        ctx,
        contact_form: form,
        companies,
        owners,
        company_name,
        owner_name,
        contact_errors: errors,
        editable,
    };
    (status, render(&page)).into_response()
}

pub async fn contact(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id = match super::parse_id::<ContactId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let q = super::query(&uri);
    let notice = if q.contains_key("created") {
        Some("contacts-created")
    } else if q.contains_key("saved") {
        Some("contacts-saved")
    } else {
        None
    };
    contact_page(
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

pub async fn update_contact(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ContactId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let mut errs = Invalid::default();
    let input = contact_input(&form, &mut errs);
    let typed = ContactForm::from_form(&form);
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = if errs.is_empty() {
        s.app
            .update_contact(session.actor(), id, version, input)
            .await
    } else {
        Err(AppError::Invalid(errs))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/contacts/{id}?saved=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            contact_page(
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

pub async fn delete_contact(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let id = match super::parse_id::<ContactId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    match s.app.delete_contact(session.actor(), id, version).await {
        Ok(()) => Redirect::to("/contacts?deleted=1").into_response(),
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}
