//! The exchange-rate table through the API, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Req, TestApp};
use serde_json::json;

#[tokio::test]
async fn ops_keep_rates_and_amounts_show_in_the_base_currency() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let ops = t.token(ops).await;
        let r = t
            .send(
                Req::new(Method::PUT, "/api/v1/exchange-rates/CHF/2024-01-01")
                    .cred(&ops)
                    .json(json!({"rate": "1.0625"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", t.backend, r.text());
        assert_eq!(r.json()["base_currency"], "EUR");
        assert_eq!(
            r.json()["items"],
            json!([{"currency": "CHF", "valid_from": "2024-01-01", "rate": "1.0625"}])
        );
        // The same date replaces; another date adds.
        t.send(
            Req::new(Method::PUT, "/api/v1/exchange-rates/CHF/2024-01-01")
                .cred(&ops)
                .json(json!({"rate": "1.05"})),
        )
        .await;
        let r = t
            .send(
                Req::new(Method::PUT, "/api/v1/exchange-rates/USD/2024-01-01")
                    .cred(&ops)
                    .json(json!({"rate": "0.92"})),
            )
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);
        for (path, body, field) in [
            (
                "/api/v1/exchange-rates/CHF/2024-01-01",
                json!({"rate": "0"}),
                "rate",
            ),
            (
                "/api/v1/exchange-rates/CHF/2024-01-01",
                json!({"rate": "viel"}),
                "rate",
            ),
            (
                "/api/v1/exchange-rates/EUR/2024-01-01",
                json!({"rate": "1"}),
                "rate",
            ),
            (
                "/api/v1/exchange-rates/XYZ/2024-01-01",
                json!({"rate": "1"}),
                "currency",
            ),
            (
                "/api/v1/exchange-rates/CHF/gestern",
                json!({"rate": "1"}),
                "valid_from",
            ),
        ] {
            let r = t
                .send(Req::new(Method::PUT, path).cred(&ops).json(body))
                .await;
            assert_eq!(r.problem_fields(), vec![field], "{path}");
        }
        // The board adds a base-currency line for columns with other currencies.
        let admin = t.token(t.admin).await;
        for body in [
            json!({"title": "CH", "amount": {"amount": "1000", "currency": "CHF"}}),
            json!({"title": "DE", "amount": {"amount": "500", "currency": "EUR"}}),
        ] {
            t.send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&admin)
                    .json(body),
            )
            .await;
        }
        let rates = t.app.rate_table(&t.actor(t.admin).await).await.unwrap();
        let chf =
            salesops_domain::Money::parse("1000", salesops_domain::Currency::parse("CHF").unwrap())
                .unwrap();
        let eur = salesops_domain::Money::parse("500", salesops_domain::Currency::EUR).unwrap();
        let total = rates
            .sum_to_base(&[chf, eur], chrono::Utc::now().date_naive())
            .unwrap();
        assert_eq!(
            total.amount_string(),
            "1550.00",
            "1000 CHF × 1.05 + 500 EUR"
        );
        // Reps read rates but do not set them.
        let rep = t.user("rep@test.example", "rep").await;
        let rep = t.token(rep).await;
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/exchange-rates").cred(&rep))
                .await
                .status,
            StatusCode::OK
        );
        let r = t
            .send(
                Req::new(Method::PUT, "/api/v1/exchange-rates/CHF/2025-01-01")
                    .cred(&rep)
                    .json(json!({"rate": "2"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            t.send(Req::new(Method::DELETE, "/api/v1/exchange-rates/USD/2024-01-01").cred(&ops))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            t.send(Req::new(Method::DELETE, "/api/v1/exchange-rates/USD/2024-01-01").cred(&ops))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}
