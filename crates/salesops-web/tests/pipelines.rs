//! Pipelines and stages through the API, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Req, TestApp};
use serde_json::{Value, json};

fn names(p: &Value) -> Vec<String> {
    p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

fn positions(p: &Value) -> Vec<i64> {
    p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["position"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn every_organisation_starts_with_the_acquisition_pipeline() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let tok = t.token(rep).await;
        let r = t
            .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", t.backend);
        let items = r.json()["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1);
        let p = &items[0];
        assert_eq!(
            (p["kind"].as_str(), p["is_default"].as_bool()),
            (Some("acquisition"), Some(true))
        );
        // The sales process of the seeds, in the organisation's language (German).
        assert_eq!(
            names(p),
            vec![
                "Akquise",
                "Kontakt & Qualifizierung",
                "Nutzen demonstrieren",
                "Einwände behandeln",
                "Abschluss"
            ]
        );
        assert_eq!(positions(p), vec![1, 2, 3, 4, 5]);
        let probs: Vec<i64> = p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["win_probability"].as_i64().unwrap())
            .collect();
        assert!(
            probs.windows(2).all(|w| w[0] < w[1]),
            "probabilities rise stage by stage: {probs:?}"
        );
        assert!(
            p["stages"][0]["checklist"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        );
        // Starting again does not add a second one.
        t.app.ensure_default_org("Test GmbH").await.unwrap();
        let r = t
            .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&tok))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn stages_are_added_edited_reordered_and_deleted() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let ops = t.token(ops).await;
        let r = t
            .send(Req::new(Method::POST, "/api/v1/pipelines").cred(&ops).json(json!({
                "name": "Verlängerungen", "kind": "renewal",
                "stages": [
                    {"name": "Fällig", "win_probability": 50, "rotting_days": 30, "colour": "#AABBCC"},
                    {"name": "Verhandlung", "win_probability": 70, "checklist": ["Preis prüfen", " "]}
                ]
            })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
        let p = r.json();
        let id = p["id"].as_str().unwrap().to_string();
        assert_eq!(p["stages"][0]["colour"], "#aabbcc");
        assert_eq!(p["stages"][1]["checklist"], json!(["Preis prüfen"]));
        // Insert at position 2.
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/pipelines/{id}/stages"))
                    .cred(&ops)
                    .json(json!({"name": "Angebot", "win_probability": 60, "position": 2})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let p = r.json();
        assert_eq!(names(&p), vec!["Fällig", "Angebot", "Verhandlung"]);
        assert_eq!(positions(&p), vec![1, 2, 3]);
        let ids: Vec<String> = p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        let version = p["version"].as_i64().unwrap();
        // Reorder: every stage once; with the pipeline's version.
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/pipelines/{id}/stages/order"))
                    .cred(&ops)
                    .header("if-match", &format!("\"{version}\""))
                    .json(json!({"stage_ids": [ids[2], ids[0], ids[1]]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(names(&r.json()), vec!["Verhandlung", "Fällig", "Angebot"]);
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/pipelines/{id}/stages/order"))
                    .cred(&ops)
                    .header("if-match", &format!("\"{version}\""))
                    .json(json!({"stage_ids": [ids[0], ids[1], ids[2]]})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::PRECONDITION_FAILED,
            "the order changed since that version"
        );
        for bad in [
            json!([ids[0], ids[1]]),
            json!([ids[0], ids[0], ids[1]]),
            json!([ids[0], ids[1], "0190c5a4-0000-7000-8000-000000000000"]),
        ] {
            let r = t
                .send(
                    Req::new(Method::POST, format!("/api/v1/pipelines/{id}/stages/order"))
                        .cred(&ops)
                        .json(json!({"stage_ids": bad})),
                )
                .await;
            assert_eq!(r.problem_fields(), vec!["stage_ids"], "{bad}");
        }
        // Edit a stage: checked field by field.
        let stage = format!("/api/v1/pipelines/{id}/stages/{}", ids[1]);
        let r = t.send(Req::new(Method::PATCH, &stage).cred(&ops).header("if-match", "\"1\"").json(json!({"win_probability": 120, "colour": "blue", "rotting_days": 0, "name": ""}))).await;
        let mut f = r.problem_fields();
        f.sort();
        assert_eq!(f, vec!["colour", "name", "rotting_days", "win_probability"]);
        let r = t
            .send(
                Req::new(Method::PATCH, &stage)
                    .cred(&ops)
                    .json(json!({"name": "Neu"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED);
        let cur = t
            .send(Req::new(Method::GET, format!("/api/v1/pipelines/{id}")).cred(&ops))
            .await
            .json();
        let sv = cur["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == json!(ids[1]))
            .unwrap()["version"]
            .as_i64()
            .unwrap();
        let r = t
            .send(
                Req::new(Method::PATCH, &stage)
                    .cred(&ops)
                    .header("if-match", &format!("\"{sv}\""))
                    .json(json!({"name": "Angebot offen", "rotting_days": null})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["rotting_days"], Value::Null);
        // A stage addressed through another pipeline is not found.
        let other = t
            .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&ops))
            .await
            .json()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = t
            .send(
                Req::new(
                    Method::DELETE,
                    format!("/api/v1/pipelines/{other}/stages/{}", ids[1]),
                )
                .cred(&ops),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // Deleting closes the gap.
        let r = t
            .send(
                Req::new(
                    Method::DELETE,
                    format!("/api/v1/pipelines/{id}/stages/{}", ids[2]),
                )
                .cred(&ops),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(names(&r.json()), vec!["Fällig", "Angebot offen"]);
        assert_eq!(positions(&r.json()), vec![1, 2]);
        // Out-of-range insert position.
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/pipelines/{id}/stages"))
                    .cred(&ops)
                    .json(json!({"name": "X", "win_probability": 1, "position": 9})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["position"]);
    }
}

#[tokio::test]
async fn the_default_pipeline_moves_but_is_never_deleted() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let list = t
            .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&admin))
            .await
            .json();
        let default_id = list["items"][0]["id"].as_str().unwrap().to_string();
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/pipelines/{default_id}")).cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", t.backend);
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/pipelines")
                    .cred(&admin)
                    .json(json!({"name": "Upsell", "kind": "upsell"})),
            )
            .await;
        let up = r.json()["id"].as_str().unwrap().to_string();
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/pipelines")
                    .cred(&admin)
                    .json(json!({"name": "Upsell", "kind": "upsell"})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["name"], "names are unique");
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/pipelines")
                    .cred(&admin)
                    .json(
                        json!({"name": "X", "kind": "charity", "stages": [{"win_probability": 5}]}),
                    ),
            )
            .await;
        let mut f = r.problem_fields();
        f.sort();
        assert_eq!(f, vec!["kind", "stages[0].name"]);
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/pipelines/{up}"))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"is_default": true})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let list = t
            .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&admin))
            .await
            .json();
        let defaults: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["is_default"] == json!(true))
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(defaults, vec!["Upsell"], "exactly one default");
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/pipelines/{default_id}")).cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(
            t.send(Req::new(Method::GET, format!("/api/v1/pipelines/{default_id}")).cred(&admin))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}
