//! The web layer: router, extractors, error mapping, API handlers, UI pages,
//! OpenAPI and translations. Handlers call only `salesops-app`.

pub mod api;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod mail;
pub mod middleware;
pub mod openapi;
pub mod state;
mod ui;

pub use state::{AppState, WebConfig};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// Constant-time comparison of CSRF tokens.
pub(crate) fn csrf_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub fn state(app: salesops_app::App, config: WebConfig) -> AppState {
    AppState {
        app,
        config: Arc::new(config),
    }
}

/// Removes abandoned CSV uploads of the import page older than `max_age`.
pub fn sweep_uploads(max_age: std::time::Duration) -> usize {
    ui::imports::sweep_uploads(max_age)
}

/// The whole application: API, UI, documents and health checks.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/login", post(api::auth::login))
        .route("/auth/logout", post(api::auth::logout))
        .route("/auth/me", get(api::auth::me))
        .route("/users", get(api::users::list).post(api::users::create))
        .route(
            "/users/{id}",
            get(api::users::get)
                .patch(api::users::update)
                .delete(api::users::deactivate),
        )
        .route("/teams", get(api::teams::list).post(api::teams::create))
        .route("/goals", get(api::goals::list).post(api::goals::create))
        .route("/goals/progress", get(api::goals::progress))
        .route("/planner", post(api::planner::plan))
        .route("/kpis", get(api::analytics::kpis))
        .route("/forecast", get(api::analytics::forecast))
        .route("/reports/{kind}", get(api::reports::report))
        .route("/planner/apply", post(api::planner::apply))
        .route(
            "/goals/{id}",
            get(api::goals::get)
                .patch(api::goals::update)
                .delete(api::goals::delete),
        )
        .route(
            "/teams/{id}",
            get(api::teams::get)
                .patch(api::teams::update)
                .delete(api::teams::delete),
        )
        .route(
            "/api-tokens",
            get(api::tokens::list).post(api::tokens::create),
        )
        .route(
            "/api-tokens/{id}",
            get(api::tokens::get).delete(api::tokens::revoke),
        )
        .route(
            "/companies",
            get(api::crm::list_companies).post(api::crm::create_company),
        )
        .route(
            "/companies/{id}",
            get(api::crm::get_company)
                .patch(api::crm::update_company)
                .delete(api::crm::delete_company),
        )
        .route(
            "/contacts",
            get(api::crm::list_contacts).post(api::crm::create_contact),
        )
        .route(
            "/contacts/{id}",
            get(api::crm::get_contact)
                .patch(api::crm::update_contact)
                .delete(api::crm::delete_contact),
        )
        .route(
            "/pipelines",
            get(api::pipelines::list).post(api::pipelines::create),
        )
        .route(
            "/pipelines/{id}",
            get(api::pipelines::get)
                .patch(api::pipelines::update)
                .delete(api::pipelines::delete),
        )
        .route("/pipelines/{id}/stages", post(api::pipelines::add_stage))
        .route(
            "/pipelines/{id}/stages/order",
            post(api::pipelines::reorder),
        )
        .route(
            "/pipelines/{id}/stages/{stage_id}",
            axum::routing::patch(api::pipelines::update_stage).delete(api::pipelines::delete_stage),
        )
        .route(
            "/activity-types",
            get(api::activity_types::list).post(api::activity_types::create),
        )
        .route(
            "/activity-types/{id}",
            get(api::activity_types::get)
                .patch(api::activity_types::update)
                .delete(api::activity_types::delete),
        )
        .route(
            "/activity-types/{id}/outcomes",
            post(api::activity_types::add_outcome),
        )
        .route(
            "/activity-types/{id}/outcomes/{outcome_id}",
            axum::routing::patch(api::activity_types::update_outcome)
                .delete(api::activity_types::delete_outcome),
        )
        .route("/leads", get(api::leads::list).post(api::leads::create))
        .route(
            "/leads/{id}",
            get(api::leads::get)
                .patch(api::leads::update)
                .delete(api::leads::delete),
        )
        .route("/leads/{id}/move", post(api::leads::move_lead))
        .route("/leads/{id}/win", post(api::leads::win))
        .route("/leads/{id}/lose", post(api::leads::lose))
        .route("/leads/{id}/cancel", post(api::leads::cancel))
        .route("/leads/{id}/reopen", post(api::leads::reopen))
        .route("/leads/{id}/history", get(api::leads::history))
        .route("/pipelines/{id}/board", get(api::leads::board))
        .route(
            "/activities",
            get(api::activities::list).post(api::activities::create),
        )
        .route(
            "/activities/{id}",
            get(api::activities::get)
                .patch(api::activities::update)
                .delete(api::activities::delete),
        )
        .route("/activities/{id}/complete", post(api::activities::complete))
        .route(
            "/prospect-lists",
            get(api::prospecting::list_lists).post(api::prospecting::create_list),
        )
        .route(
            "/prospect-lists/{id}",
            get(api::prospecting::get_list)
                .patch(api::prospecting::update_list)
                .delete(api::prospecting::delete_list),
        )
        .route(
            "/prospects",
            get(api::prospecting::list_prospects).post(api::prospecting::create_prospect),
        )
        .route(
            "/prospects/{id}",
            get(api::prospecting::get_prospect)
                .patch(api::prospecting::update_prospect)
                .delete(api::prospecting::delete_prospect),
        )
        .route("/prospects/{id}/convert", post(api::prospecting::convert))
        .route(
            "/prospects/{id}/disqualify",
            post(api::prospecting::disqualify),
        )
        .route("/prospects/{id}/reopen", post(api::prospecting::reopen))
        .route(
            "/prospects/{id}/answers",
            get(api::prospecting::prospect_answers).put(api::prospecting::put_prospect_answers),
        )
        .route(
            "/leads/{id}/answers",
            get(api::prospecting::lead_answers).put(api::prospecting::put_lead_answers),
        )
        .route(
            "/scripts",
            get(api::prospecting::list_scripts).post(api::prospecting::create_script),
        )
        .route(
            "/scripts/{id}",
            get(api::prospecting::get_script)
                .patch(api::prospecting::update_script)
                .delete(api::prospecting::delete_script),
        )
        .route(
            "/scripts/{id}/questions",
            post(api::prospecting::add_question),
        )
        .route(
            "/scripts/{id}/questions/reorder",
            post(api::prospecting::reorder_questions),
        )
        .route(
            "/scripts/{id}/questions/{question_id}",
            axum::routing::patch(api::prospecting::update_question)
                .delete(api::prospecting::delete_question),
        )
        .route(
            "/imports",
            post(api::imports::create).layer(DefaultBodyLimit::max(api::imports::UPLOAD_LIMIT)),
        )
        .route("/imports/{id}", get(api::imports::get))
        .route("/exports/{kind}", get(api::imports::export))
        .route("/exchange-rates", get(api::rates::list))
        .route(
            "/exchange-rates/{currency}/{valid_from}",
            axum::routing::put(api::rates::put).delete(api::rates::delete),
        )
        .route(
            "/webhooks",
            get(api::notify::list_webhooks).post(api::notify::create_webhook),
        )
        .route(
            "/webhooks/{id}",
            get(api::notify::get_webhook)
                .patch(api::notify::update_webhook)
                .delete(api::notify::delete_webhook),
        )
        .route("/webhooks/{id}/deliveries", get(api::notify::deliveries))
        .route("/webhooks/{id}/test", post(api::notify::test_event))
        .route(
            "/webhooks/{id}/deliveries/{event_id}/retry",
            post(api::notify::redeliver),
        )
        .route("/alerts", get(api::notify::list_alerts))
        .route("/alerts/{id}/dismiss", post(api::notify::dismiss_alert))
        .route("/digest/preview", get(api::notify::preview))
        .route("/digest/sends", get(api::notify::sends))
        .route("/digest/sends/{id}/retry", post(api::notify::retry_send))
        .route(
            "/notification-settings",
            get(api::notify::get_settings).put(api::notify::put_settings),
        )
        .route(
            "/users/{id}/digest",
            get(api::notify::get_choice).put(api::notify::put_choice),
        )
        .fallback(api_not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::idempotency,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::resolve_caller,
        ));

    Router::new()
        .nest("/api/v1", api)
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", openapi::ApiDoc::openapi()))
        .merge(ui::routes(state.clone()))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn api_not_found() -> Response {
    error::ApiError::App(salesops_app::AppError::NotFound).into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.app.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database not reachable").into_response()
        }
    }
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
