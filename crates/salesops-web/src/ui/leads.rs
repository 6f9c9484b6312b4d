//! Lead pages: the pipeline board, the lead list, the lead page.

use super::people::Choice;
use super::{FieldErrors, Form, PageCtx, Session, UiError, form_date, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use fluent_templates::fluent_bundle::FluentValue;
use salesops_app::AppError;
use salesops_app::leads::{LeadInput, is_rotting, lead_amount};
use salesops_domain::{
    CompanyId, ContactId, Currency, ForecastCategory, Invalid, LeadId, LeadSource, LeadStatus,
    Locale, Money, MoneyJson, PipelineId, StageId, UserId,
};
use salesops_store::crm::Filter as CrmFilter;
use salesops_store::leads::{Filter, Lead};
use salesops_store::users::Filter as UserFilter;
use std::collections::HashMap;
use uuid::Uuid;

/// Names of companies and users for cards and tables, fetched in one query each.
struct Names {
    companies: HashMap<Uuid, String>,
    users: HashMap<Uuid, String>,
}

async fn names(s: &AppState, session: &Session, leads: &[Lead]) -> Result<Names, AppError> {
    let a = session.actor();
    let company_ids: Vec<Uuid> = leads.iter().filter_map(|l| l.company_id).collect();
    let companies = if company_ids.is_empty() {
        HashMap::new()
    } else {
        let f = CrmFilter {
            ids: Some(company_ids),
            ..Default::default()
        };
        s.app
            .list_companies(a, f, None, salesops_app::MAX_LIMIT)
            .await?
            .items
            .into_iter()
            .map(|c| (c.id.0, c.name))
            .collect()
    };
    let user_ids: Vec<UserId> = leads
        .iter()
        .filter_map(|l| l.owner_id.map(UserId))
        .collect();
    let users = if user_ids.is_empty() {
        HashMap::new()
    } else {
        let f = UserFilter {
            ids: Some(user_ids),
            ..Default::default()
        };
        s.app
            .list_users(a, f, None, salesops_app::MAX_LIMIT)
            .await?
            .items
            .into_iter()
            .map(|u| (u.user.id.0, u.user.name))
            .collect()
    };
    Ok(Names { companies, users })
}

pub struct Card {
    pub id: String,
    pub title: String,
    pub company: String,
    pub amount: String,
    pub owner: String,
    pub rotting: bool,
    pub version: i64,
}

pub struct BoardColumn {
    pub stage_id: String,
    pub name: String,
    pub colour: String,
    pub probability: i32,
    pub count: String,
    pub totals: String,
    pub weighted: String,
    /// The totals in the base currency, when the column holds other currencies.
    pub base_totals: String,
    pub cards: Vec<Card>,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    ctx: PageCtx,
    pipelines: Vec<Choice>,
    mine: bool,
    columns: Vec<BoardColumn>,
}

/// "≈ 345.000,00 EUR (gewichtet 120.000,00 EUR)" when amounts in other
/// currencies are present and every one of them has a rate.
fn base_line(
    ctx: &PageCtx,
    rates: &salesops_app::rates::RateTable,
    totals: &[Money],
    weighted: &[Money],
    today: chrono::NaiveDate,
) -> String {
    if totals.iter().all(|m| m.currency == rates.base) {
        return String::new();
    }
    match (
        rates.sum_to_base(totals, today),
        rates.sum_to_base(weighted, today),
    ) {
        (Some(t), Some(w)) => format!(
            "≈ {} ({}: {})",
            ctx.money(&t),
            ctx.t("board-weighted"),
            ctx.money(&w)
        ),
        _ => String::new(),
    }
}

fn join_money(ctx: &PageCtx, list: &[Money]) -> String {
    list.iter()
        .map(|m| ctx.money(m))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub async fn board(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let lang = session.actor().locale;
    let q = super::query(&uri);
    let mine = q.contains_key("mine");
    let result = async {
        let pipelines = s.app.list_pipelines(session.actor()).await?;
        let chosen = q
            .get("pipeline")
            .and_then(|p| p.parse::<PipelineId>().ok())
            .or_else(|| {
                pipelines
                    .iter()
                    .find(|p| p.pipeline.is_default)
                    .map(|p| p.pipeline.id)
            })
            .ok_or(AppError::NotFound)?;
        let owner = mine.then_some(session.actor().user_id);
        let board = s.app.board(session.actor(), chosen, owner).await?;
        let cards: Vec<Lead> = board.columns.iter().flat_map(|c| c.cards.clone()).collect();
        let names = names(&s, &session, &cards).await?;
        let rates = s.app.rate_table(session.actor()).await?;
        Ok::<_, AppError>((pipelines, chosen, board, names, rates))
    };
    let (pipelines, chosen, board, names, rates) = match result.await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let mut ctx = session.ctx("board");
    ctx.notice = q.get("moved").map(|_| ctx.t("leads-moved"));
    let at = chrono::Utc::now();
    // The rate of the reader's today.
    let today = at.with_timezone(&session.actor().tz()).date_naive();
    let columns = board
        .columns
        .into_iter()
        .map(|c| BoardColumn {
            stage_id: c.stage.id.to_string(),
            name: c.stage.name.clone(),
            colour: c.stage.colour.clone(),
            probability: c.stage.win_probability,
            count: super::i18n_count(&ctx, "board-count", c.count),
            totals: join_money(&ctx, &c.totals),
            weighted: join_money(&ctx, &c.weighted),
            base_totals: base_line(&ctx, &rates, &c.totals, &c.weighted, today),
            cards: c
                .cards
                .iter()
                .map(|l| Card {
                    id: l.id.to_string(),
                    title: l.title.clone(),
                    company: l
                        .company_id
                        .and_then(|x| names.companies.get(&x).cloned())
                        .unwrap_or_default(),
                    amount: lead_amount(l).map(|m| ctx.money(&m)).unwrap_or_default(),
                    owner: l
                        .owner_id
                        .and_then(|x| names.users.get(&x).cloned())
                        .unwrap_or_default(),
                    rotting: is_rotting(l, &c.stage, at),
                    version: l.version,
                })
                .collect(),
        })
        .collect();
    let pipelines = pipelines
        .into_iter()
        .map(|p| Choice {
            selected: p.pipeline.id == chosen,
            value: p.pipeline.id.to_string(),
            label: p.pipeline.name,
        })
        .collect();
    render(&BoardPage {
        ctx,
        pipelines,
        mine,
        columns,
    })
}

/// The typed values of the lead form.
#[derive(Default)]
pub struct LeadForm {
    pub id: String,
    pub title: String,
    pub pipeline_id: String,
    pub amount: String,
    pub currency: String,
    pub probability: String,
    pub expected_close_date: String,
    pub company_id: String,
    pub contact_id: String,
    pub source: String,
    pub campaign: String,
    pub forecast_category: String,
    pub next_step_date: String,
    pub owner_id: String,
    pub version: i64,
}

impl LeadForm {
    fn of(l: &Lead, german: bool) -> LeadForm {
        let amount = lead_amount(l);
        LeadForm {
            id: l.id.to_string(),
            title: l.title.clone(),
            pipeline_id: l.pipeline_id.to_string(),
            amount: amount
                .map(|m| m.amount_localized(german, false))
                .unwrap_or_default(),
            currency: amount
                .map(|m| m.currency.code().to_string())
                .unwrap_or_else(|| "EUR".into()),
            probability: l.probability.map(|p| p.to_string()).unwrap_or_default(),
            expected_close_date: l
                .expected_close_date
                .map(|d| d.to_string())
                .unwrap_or_default(),
            company_id: l.company_id.map(|x| x.to_string()).unwrap_or_default(),
            contact_id: l.contact_id.map(|x| x.to_string()).unwrap_or_default(),
            source: l.source.clone().unwrap_or_default(),
            campaign: l.campaign.clone().unwrap_or_default(),
            forecast_category: l.forecast_category.to_string(),
            next_step_date: l.next_step_date.map(|d| d.to_string()).unwrap_or_default(),
            owner_id: l.owner_id.map(|x| x.to_string()).unwrap_or_default(),
            version: l.version,
        }
    }

    fn from_form(f: &Form) -> LeadForm {
        LeadForm {
            id: String::new(),
            title: f.str("title"),
            pipeline_id: f.str("pipeline_id"),
            amount: f.str("amount"),
            currency: f.str("currency"),
            probability: f.str("probability"),
            expected_close_date: f.str("expected_close_date"),
            company_id: f.str("company_id"),
            contact_id: f.str("contact_id"),
            source: f.str("source"),
            campaign: f.str("campaign"),
            forecast_category: f.str("forecast_category"),
            next_step_date: f.str("next_step_date"),
            owner_id: f.str("owner_id"),
            version: f.get("version").and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }
}

/// Reads the lead form (create or edit). Amounts may use a decimal comma.
fn lead_input(f: &Form, errs: &mut Invalid, create: bool, german: bool) -> LeadInput {
    let amount = match f.opt("amount") {
        None => None,
        Some(a) => {
            let cur = f.opt("currency").unwrap_or_else(|| "EUR".into());
            match Currency::parse(&cur).and_then(|c| Money::parse_localized(&a, c, german)) {
                Ok(m) => Some(MoneyJson::from(m)),
                Err(e) => {
                    errs.push("amount", e.0);
                    None
                }
            }
        }
    };
    let probability = f.opt("probability").and_then(|p| {
        errs.check(
            "probability",
            p.parse::<i32>().map_err(|_| "must be a whole number"),
        )
    });
    let id_field = |errs: &mut Invalid, key: &str| {
        f.opt(key)
            .and_then(|v| errs.check(key, v.parse::<Uuid>().map_err(|_| "unknown record")))
    };
    LeadInput {
        title: Some(f.str("title")),
        pipeline_id: if create {
            id_field(errs, "pipeline_id").map(PipelineId)
        } else {
            None
        },
        stage_id: None,
        amount: Some(amount),
        probability: Some(probability),
        expected_close_date: Some(form_date(f, "expected_close_date", errs)),
        owner_id: Some(id_field(errs, "owner_id").map(UserId)),
        company_id: Some(id_field(errs, "company_id").map(CompanyId)),
        contact_id: Some(id_field(errs, "contact_id").map(ContactId)),
        source: Some(f.opt("source")),
        campaign: Some(f.opt("campaign")),
        forecast_category: if create {
            None
        } else {
            f.opt("forecast_category")
        },
        next_step_date: Some(form_date(f, "next_step_date", errs)),
        mql_at: None,
        sql_at: None,
        external_id: None,
    }
}

/// Select options for the lead form.
struct Options {
    pipelines: Vec<Choice>,
    companies: Vec<Choice>,
    contacts: Vec<Choice>,
    owners: Vec<Choice>,
    sources: Vec<Choice>,
    categories: Vec<Choice>,
}

async fn options(
    s: &AppState,
    session: &Session,
    ctx: &PageCtx,
    f: &LeadForm,
) -> Result<Options, AppError> {
    let a = session.actor();
    let pipelines = s
        .app
        .list_pipelines(a)
        .await?
        .into_iter()
        .map(|p| Choice {
            selected: p.pipeline.id.to_string() == f.pipeline_id,
            value: p.pipeline.id.to_string(),
            label: p.pipeline.name,
        })
        .collect();
    let mut companies: Vec<Choice> = s
        .app
        .list_companies(a, CrmFilter::default(), None, salesops_app::MAX_LIMIT)
        .await?
        .items
        .into_iter()
        .map(|c| Choice {
            selected: c.id.to_string() == f.company_id,
            value: c.id.to_string(),
            label: c.name,
        })
        .collect();
    if let Ok(id) = f.company_id.parse::<CompanyId>()
        && !companies.iter().any(|c| c.selected)
        && let Ok(c) = s.app.get_company(a, id).await
    {
        companies.push(Choice {
            selected: true,
            value: id.to_string(),
            label: c.name,
        });
    }
    let mut contacts: Vec<Choice> = s
        .app
        .list_contacts(a, CrmFilter::default(), None, salesops_app::MAX_LIMIT)
        .await?
        .items
        .into_iter()
        .map(|c| Choice {
            selected: c.id.to_string() == f.contact_id,
            value: c.id.to_string(),
            label: c.name,
        })
        .collect();
    if let Ok(id) = f.contact_id.parse::<ContactId>()
        && !contacts.iter().any(|c| c.selected)
        && let Ok(c) = s.app.get_contact(a, id).await
    {
        contacts.push(Choice {
            selected: true,
            value: id.to_string(),
            label: c.name,
        });
    }
    let mut users = s
        .app
        .list_users(
            a,
            UserFilter {
                active: Some(true),
                ..Default::default()
            },
            None,
            salesops_app::MAX_LIMIT,
        )
        .await?
        .items;
    if let Ok(id) = f.owner_id.parse::<UserId>()
        && !users.iter().any(|u| u.user.id == id)
    {
        users.extend(
            s.app
                .list_users(
                    a,
                    UserFilter {
                        ids: Some(vec![id]),
                        ..Default::default()
                    },
                    None,
                    1,
                )
                .await?
                .items,
        );
    }
    let owners = users
        .into_iter()
        .map(|u| Choice {
            selected: u.user.id.to_string() == f.owner_id,
            value: u.user.id.to_string(),
            label: u.user.name,
        })
        .collect();
    let sources = LeadSource::ALL
        .iter()
        .map(|x| Choice {
            selected: f.source == x.as_str(),
            value: x.to_string(),
            label: ctx.t(&format!("source-{}", x.as_str())),
        })
        .collect();
    let categories = ForecastCategory::ALL
        .iter()
        .map(|x| Choice {
            selected: f.forecast_category == x.as_str(),
            value: x.to_string(),
            label: ctx.t(&format!("forecast-{}", x.as_str())),
        })
        .collect();
    Ok(Options {
        pipelines,
        companies,
        contacts,
        owners,
        sources,
        categories,
    })
}

pub struct LeadRow {
    pub id: String,
    pub title: String,
    pub company: String,
    pub stage: String,
    pub status: String,
    pub status_label: String,
    pub amount: String,
    pub owner: String,
    pub expected_close: String,
}

#[derive(Template)]
#[template(path = "leads.html")]
struct LeadsPage {
    ctx: PageCtx,
    rows: Vec<LeadRow>,
    next: Option<String>,
    q: String,
    statuses: Vec<Choice>,
    /// Filter choices: pipeline and owner.
    f_pipelines: Vec<Choice>,
    f_owners: Vec<Choice>,
    form: LeadForm,
    pipelines: Vec<Choice>,
    companies: Vec<Choice>,
    contacts: Vec<Choice>,
    owners: Vec<Choice>,
    sources: Vec<Choice>,
    errors: FieldErrors,
}

async fn leads_page(
    s: &AppState,
    session: &Session,
    uri: &Uri,
    form: LeadForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let lang = session.actor().locale;
    let qs = super::query(uri);
    let status_filter = match qs.get("status").map(String::as_str) {
        None => Some(LeadStatus::Open),
        Some("") | Some("any") => None,
        Some(x) => x.parse::<LeadStatus>().ok(),
    };
    let filter = Filter {
        q: qs.get("q").filter(|q| !q.trim().is_empty()).cloned(),
        status: status_filter,
        pipeline: qs.get("pipeline_id").and_then(|p| p.parse().ok()),
        owner: qs.get("owner_id").and_then(|p| p.parse().ok()),
        ..Default::default()
    };
    let cursor = crate::extract::decode_cursor(qs.get("cursor").map(String::as_str))
        .ok()
        .flatten();
    let mut ctx = session.ctx("leads");
    ctx.notice = qs.get("deleted").map(|_| ctx.t("leads-deleted"));
    let result = async {
        let page = s
            .app
            .list_leads(session.actor(), filter, cursor, salesops_app::DEFAULT_LIMIT)
            .await?;
        let names = names(s, session, &page.items).await?;
        let stages: HashMap<Uuid, String> = s
            .app
            .list_pipelines(session.actor())
            .await?
            .into_iter()
            .flat_map(|p| p.stages.into_iter().map(|st| (st.id.0, st.name)))
            .collect();
        let opts = options(s, session, &ctx, &form).await?;
        Ok::<_, AppError>((page, names, stages, opts))
    };
    let (page, names, stages, opts) = match result.await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let rows = page
        .items
        .iter()
        .map(|l| LeadRow {
            id: l.id.to_string(),
            title: l.title.clone(),
            company: l
                .company_id
                .and_then(|x| names.companies.get(&x).cloned())
                .unwrap_or_default(),
            stage: stages.get(&l.stage_id.0).cloned().unwrap_or_default(),
            status: l.status.to_string(),
            status_label: ctx.t(&format!("status-{}", l.status.as_str())),
            amount: lead_amount(l).map(|m| ctx.money(&m)).unwrap_or_default(),
            owner: l
                .owner_id
                .and_then(|x| names.users.get(&x).cloned())
                .unwrap_or_default(),
            expected_close: l
                .expected_close_date
                .map(|d| d.to_string())
                .unwrap_or_default(),
        })
        .collect();
    let next = page.next_cursor.map(|c| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in qs.iter().filter(|(k, _)| k.as_str() != "cursor") {
            q.append_pair(k, v);
        }
        q.append_pair("cursor", &crate::extract::encode_cursor(c));
        format!("/leads?{}", q.finish())
    });
    let current = qs.get("status").cloned().unwrap_or_else(|| "open".into());
    let statuses = std::iter::once(Choice {
        value: "any".into(),
        label: ctx.t("leads-any-status"),
        selected: current == "any" || current.is_empty(),
    })
    .chain(LeadStatus::ALL.iter().map(|x| Choice {
        value: x.to_string(),
        label: ctx.t(&format!("status-{}", x.as_str())),
        selected: current == x.as_str(),
    }))
    .collect();
    let pick = |list: &[Choice], key: &str| -> Vec<Choice> {
        let cur = qs.get(key).cloned().unwrap_or_default();
        list.iter()
            .filter(|c| !c.value.is_empty())
            .map(|c| Choice {
                value: c.value.clone(),
                label: c.label.clone(),
                selected: c.value == cur,
            })
            .collect()
    };
    let f_pipelines = pick(&opts.pipelines, "pipeline_id");
    let f_owners = pick(&opts.owners, "owner_id");
    let page = LeadsPage {
        f_pipelines,
        f_owners,
        q: qs.get("q").cloned().unwrap_or_default(),
        ctx,
        rows,
        next,
        statuses,
        form,
        pipelines: opts.pipelines,
        companies: opts.companies,
        contacts: opts.contacts,
        owners: opts.owners,
        sources: opts.sources,
        errors,
    };
    (status, render(&page)).into_response()
}

pub async fn list(State(s): State<AppState>, session: Session, uri: Uri) -> Response {
    let form = LeadForm {
        currency: "EUR".into(),
        owner_id: session.actor().user_id.to_string(),
        ..Default::default()
    };
    leads_page(
        &s,
        &session,
        &uri,
        form,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(State(s): State<AppState>, session: Session, uri: Uri, form: Form) -> Response {
    if let Err(e) = form.check_csrf(&session) {
        return e.into_response();
    }
    let mut errs = Invalid::default();
    let input = lead_input(&form, &mut errs, true, session.actor().locale == Locale::De);
    let typed = LeadForm::from_form(&form);
    let result = if errs.is_empty() {
        s.app.create_lead(session.actor(), input).await
    } else {
        Err(AppError::Invalid(errs))
    };
    match result {
        Ok(l) => Redirect::to(&format!("/leads/{}?created=1", l.id)).into_response(),
        Err(AppError::Invalid(i)) => {
            leads_page(
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

pub struct TimelineEntry {
    /// "stage", "activity", "scheduled" or "overdue".
    pub kind: String,
    pub at: String,
    pub text: String,
    pub by: String,
    /// A scheduled activity that can be marked done from the timeline.
    pub complete_id: Option<String>,
    pub version: i64,
    pub outcomes: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "lead.html")]
struct LeadPage {
    ctx: PageCtx,
    form: LeadForm,
    status: String,
    status_label: String,
    is_open: bool,
    stage_name: String,
    amount: String,
    rotting: bool,
    lost_reason: String,
    competitor: String,
    stages: Vec<Choice>,
    companies: Vec<Choice>,
    contacts: Vec<Choice>,
    owners: Vec<Choice>,
    sources: Vec<Choice>,
    categories: Vec<Choice>,
    timeline: Vec<TimelineEntry>,
    log_choices: Vec<Choice>,
    type_choices: Vec<Choice>,
    editable: bool,
    errors: FieldErrors,
    scripts: Vec<Choice>,
    script_id: String,
    questions: Vec<super::prospecting::QuestionRow>,
    answers_action: String,
    from_prospect: String,
}

fn t_args(ctx: &PageCtx, key: &str, args: &[(&str, String)]) -> String {
    let args: Vec<(&str, FluentValue<'static>)> = args
        .iter()
        .map(|(k, v)| (*k, FluentValue::from(v.clone())))
        .collect();
    crate::i18n::t_args(ctx.lang, key, &args)
}

#[allow(clippy::too_many_arguments)]
async fn lead_page(
    s: &AppState,
    session: &Session,
    id: LeadId,
    typed: Option<LeadForm>,
    errors: FieldErrors,
    notice: Option<&str>,
    status: StatusCode,
    script: Option<salesops_domain::ScriptId>,
) -> Response {
    let a = session.actor();
    let lang = a.locale;
    let mut ctx = session.ctx("leads");
    ctx.notice = notice.map(|k| ctx.t(k));
    let result = async {
        let l = s.app.get_lead(a, id).await?;
        let history = s.app.lead_history(a, id).await?;
        let pipeline = s.app.get_pipeline(a, l.pipeline_id).await?;
        let editable = s.app.may_update_account(a, l.owner_id).await?;
        let form = typed.unwrap_or_else(|| LeadForm::of(&l, lang == Locale::De));
        let opts = options(s, session, &ctx, &form).await?;
        let acts = s
            .app
            .list_activities(
                a,
                salesops_store::activities::Filter {
                    lead: Some(id),
                    ..Default::default()
                },
                500,
                true,
            )
            .await?;
        let log_choices = super::activities::log_choices(s, session).await?;
        let all_types = s.app.list_activity_types(a, false).await?;
        let (type_names, outcome_names) = super::activities::type_names(s, session).await?;
        let mut by_ids: Vec<UserId> = history
            .iter()
            .filter_map(|h| h.by_user_id.map(UserId))
            .collect();
        by_ids.extend(acts.iter().map(|x| x.user_id));
        let people: HashMap<Uuid, String> = if by_ids.is_empty() {
            HashMap::new()
        } else {
            s.app
                .list_users(
                    a,
                    UserFilter {
                        ids: Some(by_ids),
                        ..Default::default()
                    },
                    None,
                    salesops_app::MAX_LIMIT,
                )
                .await?
                .items
                .into_iter()
                .map(|u| (u.user.id.0, u.user.name))
                .collect()
        };
        let rates = s.app.rate_table(a).await?;
        let panel = super::prospecting::lead_script(s, session, id, script).await?;
        Ok::<_, AppError>((
            panel,
            l,
            history,
            pipeline,
            editable,
            form,
            opts,
            people,
            (
                acts,
                log_choices,
                all_types,
                type_names,
                outcome_names,
                rates,
            ),
        ))
    };
    let (
        panel,
        l,
        history,
        pipeline,
        editable,
        form,
        opts,
        people,
        (acts, log_choices, all_types, type_names, outcome_names, rates),
    ) = match result.await {
        Ok(v) => v,
        Err(e) => return UiError::new(lang, e).into_response(),
    };
    let stage_name = |sid: Option<Uuid>| -> String {
        sid.and_then(|x| {
            pipeline
                .stages
                .iter()
                .find(|st| st.id.0 == x)
                .map(|st| st.name.clone())
        })
        .unwrap_or_else(|| "–".into())
    };
    let current_stage = pipeline.stages.iter().find(|st| st.id == l.stage_id);
    let now = chrono::Utc::now();
    // Times are shown in the reader's time zone.
    let tz = session.actor().tz();
    let mut entries: Vec<(chrono::DateTime<chrono::Utc>, TimelineEntry)> = acts
        .iter()
        .map(|x| {
            let when = x.happened_at.or(x.due_at).unwrap_or(x.created_at);
            let mut text = super::activities::label(x, &type_names, &outcome_names);
            if let Some(d) = x.duration_minutes {
                text.push_str(&format!(" ({d} min)"));
            }
            if let Some(n) = &x.notes {
                text.push_str(&format!(": {n}"));
            }
            let kind = if x.done {
                "activity"
            } else if x.due_at.is_some_and(|d| d < now) {
                "overdue"
            } else {
                "scheduled"
            };
            let by = people
                .get(&x.user_id.0)
                .map(|n| t_args(&ctx, "leads-by", &[("name", n.clone())]))
                .unwrap_or_default();
            let outcomes = all_types
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
                .unwrap_or_default();
            let at = when.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
            let at = if x.done {
                at
            } else {
                t_args(&ctx, "activities-due", &[("at", at)])
            };
            (
                when,
                TimelineEntry {
                    kind: kind.into(),
                    at,
                    text,
                    by,
                    complete_id: (!x.done && editable).then(|| x.id.to_string()),
                    version: x.version,
                    outcomes,
                },
            )
        })
        .collect();
    let stage_entries = history.iter().map(|h| {
        let to = stage_name(Some(h.to_stage_id));
        let text = match (&h.from_status, h.from_stage_id) {
            (None, _) => t_args(&ctx, "leads-created-event", &[("stage", to)]),
            (Some(fs), Some(from)) if *fs == h.to_status && from != h.to_stage_id => t_args(
                &ctx,
                "leads-moved-event",
                &[("from", stage_name(Some(from))), ("to", to)],
            ),
            _ => t_args(
                &ctx,
                "leads-status-event",
                &[
                    ("status", ctx.t(&format!("status-{}", h.to_status))),
                    ("stage", to),
                ],
            ),
        };
        let by = h
            .by_user_id
            .and_then(|u| people.get(&u).cloned())
            .map(|n| t_args(&ctx, "leads-by", &[("name", n)]))
            .unwrap_or_default();
        (
            h.at,
            TimelineEntry {
                kind: "stage".into(),
                at: h.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                text,
                by,
                complete_id: None,
                version: 0,
                outcomes: vec![],
            },
        )
    });
    entries.extend(stage_entries);
    // Newest first; scheduled ones by their due time.
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    let timeline = entries.into_iter().map(|(_, e)| e).collect();
    let type_choices = all_types
        .iter()
        .map(|t| Choice {
            value: t.activity_type.id.to_string(),
            label: t.activity_type.name.clone(),
            selected: false,
        })
        .collect();
    let stages = pipeline
        .stages
        .iter()
        .map(|st| Choice {
            selected: st.id == l.stage_id,
            value: st.id.to_string(),
            label: format!("{} ({} %)", st.name, st.win_probability),
        })
        .collect();
    let page = LeadPage {
        status: l.status.to_string(),
        status_label: ctx.t(&format!("status-{}", l.status.as_str())),
        is_open: l.status == LeadStatus::Open,
        stage_name: current_stage.map(|st| st.name.clone()).unwrap_or_default(),
        amount: lead_amount(&l)
            .map(|m| {
                match rates.to_base(m, l.closed_at.unwrap_or_else(chrono::Utc::now).date_naive()) {
                    Some(b) if b.currency != m.currency => {
                        format!("{} (≈ {})", ctx.money(&m), ctx.money(&b))
                    }
                    _ => ctx.money(&m),
                }
            })
            .unwrap_or_default(),
        rotting: current_stage.is_some_and(|st| is_rotting(&l, st, chrono::Utc::now())),
        lost_reason: l.lost_reason.clone().unwrap_or_default(),
        competitor: l.competitor.clone().unwrap_or_default(),
        stages,
        companies: opts.companies,
        contacts: opts.contacts,
        owners: opts.owners,
        sources: opts.sources,
        categories: opts.categories,
        scripts: panel.scripts,
        script_id: panel.script_id,
        questions: panel.questions,
        answers_action: format!("/leads/{id}/answers"),
        from_prospect: panel.from_prospect,
        timeline,
        log_choices,
        type_choices,
        editable,
        errors,
        ctx,
        form,
    };
    (status, render(&page)).into_response()
}

pub async fn show(
    State(s): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let id = match super::parse_id::<LeadId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let q = super::query(&uri);
    let notice = [
        ("created", "leads-created"),
        ("saved", "leads-saved"),
        ("moved", "leads-moved"),
        ("won", "leads-won"),
        ("lost", "leads-lost"),
        ("cancelled", "leads-cancelled"),
        ("reopened", "leads-reopened"),
        ("logged", "activities-logged"),
        ("scheduled", "activities-scheduled"),
        ("completed", "activities-completed"),
        ("answered", "scripts-answers-saved"),
    ]
    .into_iter()
    .find(|(k, _)| q.contains_key(*k))
    .map(|(_, v)| v);
    lead_page(
        &s,
        &session,
        id,
        None,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
        q.get("script").and_then(|x| x.parse().ok()),
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
    let id = match super::parse_id::<LeadId>(&session, &id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let mut errs = Invalid::default();
    let input = lead_input(
        &form,
        &mut errs,
        false,
        session.actor().locale == Locale::De,
    );
    let typed = LeadForm::from_form(&form);
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = if errs.is_empty() {
        s.app.update_lead(session.actor(), id, version, input).await
    } else {
        Err(AppError::Invalid(errs))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/leads/{id}?saved=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            lead_page(
                &s,
                &session,
                id,
                Some(typed),
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => UiError::new(session.actor().locale, e).into_response(),
    }
}

/// The lead actions of the lead page: move, win, lose, cancel, reopen, delete.
pub async fn act(
    State(s): State<AppState>,
    session: Session,
    Path((id, action)): Path<(String, String)>,
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
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let result = match action.as_str() {
        "move" => match form.get("stage_id").and_then(|x| x.parse::<StageId>().ok()) {
            Some(stage) => s
                .app
                .move_lead(a, id, version, stage)
                .await
                .map(|_| "moved"),
            None => Err(AppError::Invalid(Invalid::one(
                "stage_id",
                "choose a stage",
            ))),
        },
        "win" => s.app.win_lead(a, id, version).await.map(|_| "won"),
        "lose" => s
            .app
            .lose_lead(
                a,
                id,
                version,
                &form.str("reason"),
                form.opt("competitor").as_deref(),
            )
            .await
            .map(|_| "lost"),
        "cancel" => s
            .app
            .cancel_lead(a, id, version, form.opt("reason").as_deref())
            .await
            .map(|_| "cancelled"),
        "reopen" => s.app.reopen_lead(a, id, version).await.map(|_| "reopened"),
        "delete" => {
            return match s.app.delete_lead(a, id, version).await {
                Ok(()) => Redirect::to("/leads?deleted=1").into_response(),
                Err(e) => UiError::new(a.locale, e).into_response(),
            };
        }
        _ => Err(AppError::NotFound),
    };
    match result {
        // From the board, go back to it.
        Ok(done) if form.get("back") == Some("board") => {
            Redirect::to(&format!("/board?{done}=1")).into_response()
        }
        Ok(done) => Redirect::to(&format!("/leads/{id}?{done}=1")).into_response(),
        Err(AppError::Invalid(i)) => {
            lead_page(
                &s,
                &session,
                id,
                None,
                FieldErrors::of(&i),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => UiError::new(a.locale, e).into_response(),
    }
}
