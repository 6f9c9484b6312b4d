use crate::api;
use crate::error::{Problem, ProblemField};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "salesops API", version = "1", description = "Sales operations: users, teams, sign-in, companies and contacts, pipelines and stages, activity types and outcomes, leads, activities, prospecting lists and prospects, sales scripts, goals and their progress, the backwards planner, KPIs, the weighted pipeline and the five reports (JSON or CSV). Errors are application/problem+json (RFC 9457); lists are cursor-paginated; PATCH needs If-Match; POST accepts Idempotency-Key."),
    paths(
        api::auth::login, api::auth::logout, api::auth::me,
        api::users::list, api::users::create, api::users::get, api::users::update, api::users::deactivate,
        api::teams::list, api::teams::create, api::teams::get, api::teams::update, api::teams::delete,
        api::goals::list, api::goals::create, api::goals::get, api::goals::update, api::goals::delete, api::goals::progress,
        api::planner::plan, api::planner::apply,
        api::analytics::kpis, api::analytics::forecast, api::reports::report,
        api::tokens::list, api::tokens::create, api::tokens::get, api::tokens::revoke,
        api::crm::list_companies, api::crm::create_company, api::crm::get_company, api::crm::update_company, api::crm::delete_company,
        api::crm::list_contacts, api::crm::create_contact, api::crm::get_contact, api::crm::update_contact, api::crm::delete_contact,
        api::pipelines::list, api::pipelines::create, api::pipelines::get, api::pipelines::update, api::pipelines::delete,
        api::pipelines::add_stage, api::pipelines::update_stage, api::pipelines::delete_stage, api::pipelines::reorder,
        api::activity_types::list, api::activity_types::create, api::activity_types::get, api::activity_types::update, api::activity_types::delete,
        api::activity_types::add_outcome, api::activity_types::update_outcome, api::activity_types::delete_outcome,
        api::leads::list, api::leads::create, api::leads::get, api::leads::update, api::leads::delete,
        api::leads::move_lead, api::leads::win, api::leads::lose, api::leads::cancel, api::leads::reopen,
        api::leads::history, api::leads::board,
        api::activities::list, api::activities::create, api::activities::get, api::activities::update, api::activities::delete,
        api::activities::complete,
        api::rates::list, api::rates::put, api::rates::delete,
        api::notify::list_webhooks, api::notify::create_webhook, api::notify::get_webhook, api::notify::update_webhook, api::notify::delete_webhook,
        api::notify::deliveries, api::notify::test_event, api::notify::redeliver,
        api::notify::list_alerts, api::notify::dismiss_alert,
        api::notify::preview, api::notify::sends, api::notify::retry_send, api::notify::get_settings, api::notify::put_settings,
        api::notify::get_choice, api::notify::put_choice,
        api::imports::create, api::imports::get, api::imports::export,
        api::prospecting::list_lists, api::prospecting::create_list, api::prospecting::get_list, api::prospecting::update_list, api::prospecting::delete_list,
        api::prospecting::list_prospects, api::prospecting::create_prospect, api::prospecting::get_prospect, api::prospecting::update_prospect, api::prospecting::delete_prospect,
        api::prospecting::convert, api::prospecting::disqualify, api::prospecting::reopen,
        api::prospecting::prospect_answers, api::prospecting::put_prospect_answers, api::prospecting::lead_answers, api::prospecting::put_lead_answers,
        api::prospecting::list_scripts, api::prospecting::create_script, api::prospecting::get_script, api::prospecting::update_script, api::prospecting::delete_script,
        api::prospecting::add_question, api::prospecting::update_question, api::prospecting::delete_question, api::prospecting::reorder_questions,
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags((name = "auth"), (name = "users"), (name = "teams"), (name = "api-tokens"), (name = "companies"), (name = "contacts"), (name = "pipelines"), (name = "activity-types"), (name = "leads"), (name = "activities"), (name = "exchange-rates"), (name = "prospecting"), (name = "scripts"), (name = "imports"), (name = "goals"), (name = "planner"), (name = "reports"), (name = "webhooks"), (name = "alerts"), (name = "digest"))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::extract::SESSION_COOKIE,
                "Browser session; state-changing requests also need X-CSRF-Token",
            ))),
        );
    }
}
