//! Leads through the API, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Cred, Req, TestApp};
use serde_json::{Value, json};

async fn default_pipeline(t: &TestApp, cred: &Cred) -> Value {
    let list = t
        .send(Req::new(Method::GET, "/api/v1/pipelines").cred(cred))
        .await
        .json();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["is_default"] == json!(true))
        .unwrap()
        .clone()
}

fn stage(p: &Value, i: usize) -> String {
    p["stages"][i]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_lead_moves_through_its_pipeline_and_every_step_is_kept() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let tok = t.token(rep).await;
        let p = default_pipeline(&t, &tok).await;
        let r = t.send(Req::new(Method::POST, "/api/v1/leads").cred(&tok).json(json!({"title": "Fräsmaschine für Weber", "amount": {"amount": "48000.00", "currency": "EUR"}, "source": "marketing", "expected_close_date": "2026-12-15"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
        let l = r.json();
        let id = l["id"].as_str().unwrap().to_string();
        assert_eq!(
            (l["status"].as_str(), l["stage_id"].as_str()),
            (Some("open"), Some(stage(&p, 0).as_str())),
            "first stage of the default pipeline"
        );
        assert_eq!(l["owner_id"], json!(rep), "a rep's new lead is theirs");
        assert_eq!(
            l["amount"],
            json!({"amount": "48000.00", "currency": "EUR"})
        );
        // Move forward twice; moving to the same stage changes nothing.
        for i in [1, 3, 3] {
            let r = t
                .send(
                    Req::new(Method::POST, format!("/api/v1/leads/{id}/move"))
                        .cred(&tok)
                        .json(json!({"stage_id": stage(&p, i)})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            assert_eq!(r.json()["stage_id"], json!(stage(&p, i)));
        }
        let r = t
            .send(Req::new(Method::POST, format!("/api/v1/leads/{id}/win")).cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            (
                r.json()["status"].as_str(),
                r.json()["forecast_category"].as_str()
            ),
            (Some("won"), Some("closed"))
        );
        assert!(r.json()["closed_at"].is_string());
        let r = t
            .send(Req::new(Method::POST, format!("/api/v1/leads/{id}/win")).cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "winning twice");
        assert!(r.json()["detail"].as_str().unwrap().contains("already won"));
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{id}/move"))
                    .cred(&tok)
                    .json(json!({"stage_id": stage(&p, 0)})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "a won lead does not move");
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{id}/reopen"))
                    .cred(&tok)
                    .json(json!({})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            (r.json()["status"].as_str(), r.json()["closed_at"].clone()),
            (Some("open"), Value::Null)
        );
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{id}/lose"))
                    .cred(&tok)
                    .json(json!({"reason": ""})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["reason"]);
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{id}/lose"))
                    .cred(&tok)
                    .json(json!({"reason": "Preis zu hoch", "competitor": "Maschinen AG"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            (
                r.json()["lost_reason"].as_str(),
                r.json()["competitor"].as_str()
            ),
            (Some("Preis zu hoch"), Some("Maschinen AG"))
        );
        // The history: created, 2 moves, won, reopened, lost — who and when.
        let h = t
            .send(Req::new(Method::GET, format!("/api/v1/leads/{id}/history")).cred(&tok))
            .await
            .json();
        let steps: Vec<(Option<&str>, &str)> = h["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["from_status"].as_str(), e["to_status"].as_str().unwrap()))
            .collect();
        assert_eq!(
            steps,
            vec![
                (None, "open"),
                (Some("open"), "open"),
                (Some("open"), "open"),
                (Some("open"), "won"),
                (Some("won"), "open"),
                (Some("open"), "lost")
            ],
            "{}",
            t.backend
        );
        assert!(
            h["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["by_user_id"] == json!(rep))
        );
        assert_eq!(h["items"][1]["from_stage_id"], json!(stage(&p, 0)));
        assert_eq!(h["items"][2]["to_stage_id"], json!(stage(&p, 3)));
        // Cancelling a lost lead needs a reopen first.
        let r = t
            .send(Req::new(Method::POST, format!("/api/v1/leads/{id}/cancel")).cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn bad_input_for_leads_is_refused_and_nothing_is_written() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let p = default_pipeline(&t, &admin).await;
        let r = t.send(Req::new(Method::POST, "/api/v1/pipelines").cred(&admin).json(json!({"name": "Upsell", "kind": "upsell", "stages": [{"name": "Idee", "win_probability": 20}]}))).await;
        let other_stage = r.json()["stages"][0]["id"].as_str().unwrap().to_string();
        let r = t.send(Req::new(Method::POST, "/api/v1/leads").cred(&admin).json(json!({"title": "", "amount": {"amount": "-5", "currency": "EUR"}, "probability": 140, "source": "magic", "forecast_category": "maybe"}))).await;
        let mut f = r.problem_fields();
        f.sort();
        assert_eq!(
            f,
            vec![
                "amount",
                "forecast_category",
                "probability",
                "source",
                "title"
            ],
            "{}",
            t.backend
        );
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&admin)
                    .json(json!({"title": "X", "amount": {"amount": "5", "currency": "EURO"}})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["amount"], "unknown currency");
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&admin)
                    .json(json!({"title": "X", "stage_id": other_stage})),
            )
            .await;
        assert_eq!(
            r.problem_fields(),
            vec!["stage_id"],
            "a stage of another pipeline"
        );
        let list = t
            .send(Req::new(Method::GET, "/api/v1/leads").cred(&admin))
            .await
            .json();
        assert!(
            list["items"].as_array().unwrap().is_empty(),
            "nothing written"
        );
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/leads").cred(&admin).json(
                    json!({"title": "Real", "amount": {"amount": "1000", "currency": "USD"}}),
                ),
            )
            .await;
        let id = r.json()["id"].as_str().unwrap().to_string();
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{id}/move"))
                    .cred(&admin)
                    .json(json!({"stage_id": other_stage})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem_fields(), vec!["stage_id"]);
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/leads/{id}"))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"stage_id": stage(&p, 2)})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["stage_id"], "PATCH does not move");
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{id}/win"))
                    .cred(&admin)
                    .json(json!({"amount": 5})),
            )
            .await;
        assert_eq!(
            r.problem_fields(),
            vec!["amount"],
            "unknown fields are named"
        );
        // A stage that holds leads, and a company with leads, are not deleted.
        let r = t
            .send(
                Req::new(
                    Method::DELETE,
                    format!(
                        "/api/v1/pipelines/{}/stages/{}",
                        p["id"].as_str().unwrap(),
                        stage(&p, 0)
                    ),
                )
                .cred(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert!(r.json()["detail"].as_str().unwrap().contains("holds leads"));
        let co = t
            .send(
                Req::new(Method::POST, "/api/v1/companies")
                    .cred(&admin)
                    .json(json!({"name": "Weber KG"})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/leads/{id}"))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"company_id": co})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/companies/{co}")).cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.json()["detail"].as_str().unwrap().contains("has leads"));
        // Search finds the lead by its company's name.
        let r = t
            .send(Req::new(Method::GET, "/api/v1/leads?q=weber").cred(&admin))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
        let r = t
            .send(Req::new(Method::GET, "/api/v1/leads?status=sleeping").cred(&admin))
            .await;
        assert_eq!(r.problem_fields(), vec!["status"]);
    }
}

#[tokio::test]
async fn the_board_counts_and_weighs_exactly() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let p = default_pipeline(&t, &admin).await;
        let pid = p["id"].as_str().unwrap().to_string();
        // Stage 1 (10 %): 1000.00 EUR and 333.33 EUR with a 50 % override, 200 USD, and one without amount.
        for body in [
            json!({"title": "A", "amount": {"amount": "1000.00", "currency": "EUR"}}),
            json!({"title": "B", "amount": {"amount": "333.33", "currency": "EUR"}, "probability": 50}),
            json!({"title": "C", "amount": {"amount": "200", "currency": "USD"}}),
            json!({"title": "D"}),
        ] {
            assert_eq!(
                t.send(
                    Req::new(Method::POST, "/api/v1/leads")
                        .cred(&admin)
                        .json(body)
                )
                .await
                .status,
                StatusCode::CREATED
            );
        }
        let won = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&admin)
                    .json(json!({"title": "W", "amount": {"amount": "99", "currency": "EUR"}})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        t.send(Req::new(Method::POST, format!("/api/v1/leads/{won}/win")).cred(&admin))
            .await;
        let b = t
            .send(Req::new(Method::GET, format!("/api/v1/pipelines/{pid}/board")).cred(&admin))
            .await;
        assert_eq!(b.status, StatusCode::OK, "{}", b.text());
        let col = &b.json()["columns"][0];
        assert_eq!(col["count"], 4, "{}: open leads only", t.backend);
        let mut total = col["total"].as_array().unwrap().clone();
        total.sort_by_key(|m| m["currency"].as_str().unwrap().to_string());
        assert_eq!(
            total,
            vec![
                json!({"amount": "1333.33", "currency": "EUR"}),
                json!({"amount": "200.00", "currency": "USD"})
            ]
        );
        // 1000.00 × 10 % + 333.33 × 50 % = 100.00 + 166.665 → 266.67 (half away from zero); 200 × 10 % = 20.00.
        let mut weighted = col["weighted"].as_array().unwrap().clone();
        weighted.sort_by_key(|m| m["currency"].as_str().unwrap().to_string());
        assert_eq!(
            weighted,
            vec![
                json!({"amount": "266.67", "currency": "EUR"}),
                json!({"amount": "20.00", "currency": "USD"})
            ]
        );
        assert_eq!(col["leads"].as_array().unwrap().len(), 4);
        assert_eq!(b.json()["columns"].as_array().unwrap().len(), 5);
        assert_eq!(b.json()["columns"][1]["count"], 0);
    }
}

#[tokio::test]
async fn concurrent_moves_of_one_version_let_one_win() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let p = default_pipeline(&t, &admin).await;
        let id = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&admin)
                    .json(json!({"title": "Race"})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let moves = (1..5).map(|i| {
            t.send(
                Req::new(Method::POST, format!("/api/v1/leads/{id}/move"))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"stage_id": stage(&p, i)})),
            )
        });
        let results = futures::future::join_all(moves).await;
        let ok = results
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        assert_eq!(
            ok,
            1,
            "{}: {:?}",
            t.backend,
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        let h = t
            .send(Req::new(Method::GET, format!("/api/v1/leads/{id}/history")).cred(&admin))
            .await
            .json();
        assert_eq!(
            h["items"].as_array().unwrap().len(),
            2,
            "one creation, one move"
        );
    }
}

#[tokio::test]
async fn reps_see_their_own_their_teams_and_unassigned_leads() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let mate = t.user("mate@test.example", "rep").await;
        let other = t.user("other@test.example", "rep").await;
        t.team("Nord", None, &[rep, mate]).await;
        let admin = t.token(t.admin).await;
        let mk = |title: &str, owner: Option<salesops_domain::UserId>| {
            Req::new(Method::POST, "/api/v1/leads")
                .cred(&admin)
                .json(json!({"title": title, "owner_id": owner}))
        };
        t.send(mk("Mine", Some(rep))).await;
        t.send(mk("Mate's", Some(mate))).await;
        let others = t.send(mk("Other's", Some(other))).await.json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        t.send(mk("Unassigned", None)).await;
        let tok = t.token(rep).await;
        let r = t
            .send(Req::new(Method::GET, "/api/v1/leads").cred(&tok))
            .await;
        let mut titles: Vec<String> = r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["title"].as_str().unwrap().to_string())
            .collect();
        titles.sort();
        assert_eq!(
            titles,
            vec!["Mate's", "Mine", "Unassigned"],
            "{}",
            t.backend
        );
        assert_eq!(
            t.send(Req::new(Method::GET, format!("/api/v1/leads/{others}")).cred(&tok))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.send(Req::new(Method::POST, format!("/api/v1/leads/{others}/win")).cred(&tok))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let viewer = t.user("viewer@test.example", "viewer").await;
        let v = t.token(viewer).await;
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/leads").cred(&v))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
}
