//! Activities through the API, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Cred, Req, TestApp};
use serde_json::{Value, json};

async fn types(t: &TestApp, cred: &Cred) -> Value {
    t.send(Req::new(Method::GET, "/api/v1/activity-types").cred(cred))
        .await
        .json()
}

fn type_id(types: &Value, name: &str) -> String {
    types["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == json!(name))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn outcome_id(types: &Value, ty: &str, name: &str) -> String {
    let t = types["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == json!(ty))
        .unwrap();
    t["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == json!(name))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn calls_are_logged_scheduled_and_completed() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let tok = t.token(rep).await;
        let ty = types(&t, &tok).await;
        let lead = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&tok)
                    .json(json!({"title": "Weber"})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        // Two clicks: type and outcome.
        let r = t.send(Req::new(Method::POST, "/api/v1/activities").cred(&tok).json(json!({"type_id": type_id(&ty, "Anruf"), "outcome_id": outcome_id(&ty, "Anruf", "nicht erreicht"), "lead_id": lead}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
        let a = r.json();
        assert_eq!(
            (a["done"].as_bool(), a["user_id"].as_str()),
            (Some(true), Some(rep.to_string().as_str()))
        );
        assert!(a["happened_at"].is_string());
        // Scheduled for yesterday: overdue; then done with its outcome.
        let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
        let r = t.send(Req::new(Method::POST, "/api/v1/activities").cred(&tok).json(json!({"type_id": type_id(&ty, "Termin"), "lead_id": lead, "due_at": yesterday, "notes": "Demo vor Ort"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let meeting = r.json();
        assert_eq!(
            (meeting["done"].as_bool(), meeting["overdue"].as_bool()),
            (Some(false), Some(true))
        );
        let mid = meeting["id"].as_str().unwrap().to_string();
        let r = t
            .send(Req::new(Method::GET, "/api/v1/activities?overdue=true").cred(&tok))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/activities/{mid}/complete"))
                    .cred(&tok)
                    .json(json!({"outcome_id": outcome_id(&ty, "Anruf", "erreicht")})),
            )
            .await;
        assert_eq!(
            r.problem_fields(),
            vec!["outcome_id"],
            "an outcome of another type"
        );
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/activities/{mid}/complete"))
                    .cred(&tok)
                    .json(json!({"outcome_id": outcome_id(&ty, "Termin", "stattgefunden")})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            (r.json()["done"].as_bool(), r.json()["overdue"].as_bool()),
            (Some(true), Some(false))
        );
        let r = t
            .send(Req::new(Method::POST, format!("/api/v1/activities/{mid}/complete")).cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "done twice");
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/activities?lead_id={lead}")).cred(&tok))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/activities?overdue=true").cred(&tok))
                .await
                .json()["items"]
                .as_array()
                .unwrap()
                .len(),
            0
        );
    }
}

#[tokio::test]
async fn bad_activities_are_refused_field_by_field() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let other = t.user("other@test.example", "rep").await;
        let tok = t.token(rep).await;
        let admin = t.token(t.admin).await;
        let ty = types(&t, &tok).await;
        let call = type_id(&ty, "Anruf");
        let lead = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&tok)
                    .json(json!({"title": "Mine"})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let hidden = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&admin)
                    .json(json!({"title": "Theirs", "owner_id": other})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let post = |body: Value| {
            Req::new(Method::POST, "/api/v1/activities")
                .cred(&tok)
                .json(body)
        };
        let r = t.send(post(json!({"type_id": call, "outcome_id": outcome_id(&ty, "Termin", "stattgefunden"), "lead_id": lead}))).await;
        assert_eq!(
            r.problem_fields(),
            vec!["outcome_id"],
            "{}: an outcome of another type",
            t.backend
        );
        let r = t.send(post(json!({"type_id": call}))).await;
        assert_eq!(r.problem_fields(), vec!["lead_id"], "on nothing");
        let r = t
            .send(post(json!({"type_id": call, "lead_id": hidden})))
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "a record the user may not see"
        );
        let future = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
        let r = t.send(post(json!({"type_id": call, "lead_id": lead, "happened_at": future, "duration_minutes": 5000}))).await;
        let mut f = r.problem_fields();
        f.sort();
        assert_eq!(f, vec!["duration_minutes", "happened_at"]);
        let r = t.send(post(json!({"type_id": call, "lead_id": lead, "due_at": future, "outcome_id": outcome_id(&ty, "Anruf", "erreicht")}))).await;
        assert_eq!(
            r.problem_fields(),
            vec!["outcome_id"],
            "outcome before it is done"
        );
        let r = t
            .send(post(
                json!({"type_id": "0190c5a4-0000-7000-8000-000000000000", "lead_id": lead}),
            ))
            .await;
        assert_eq!(r.problem_fields(), vec!["type_id"]);
        assert!(
            t.send(Req::new(Method::GET, "/api/v1/activities").cred(&tok))
                .await
                .json()["items"]
                .as_array()
                .unwrap()
                .is_empty(),
            "nothing written"
        );
        // A type in use is archived, not deleted.
        assert_eq!(
            t.send(post(json!({"type_id": call, "lead_id": lead})))
                .await
                .status,
            StatusCode::CREATED
        );
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/activity-types/{call}")).cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(
            r.json()["detail"]
                .as_str()
                .unwrap()
                .contains("archive it instead")
        );
        // Viewers do not read activities.
        let viewer = t.user("viewer@test.example", "viewer").await;
        let v = t.token(viewer).await;
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/activities").cred(&v))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/activities")
                    .cred(&v)
                    .json(json!({"type_id": call, "lead_id": lead})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn review_fixes_hold() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let rep = t.user("rep@test.example", "rep").await;
        let mate = t.user("mate@test.example", "rep").await;
        let other = t.user("other@test.example", "rep").await;
        t.team("Nord", None, &[rep, mate]).await;
        t.team("Süd", None, &[other]).await;
        let ty = types(&t, &admin).await;
        let meeting = type_id(&ty, "Termin");
        // A teammate's activity on a lead the rep may not see stays hidden.
        let hidden = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&admin)
                    .json(json!({"title": "Süd only", "owner_id": other})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let act = t
            .app
            .log_activity(
                &t.actor(t.admin).await,
                salesops_app::activities::ActivityInput {
                    type_id: Some(meeting.parse().unwrap()),
                    lead_id: Some(hidden.parse().unwrap()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let rep_tok = t.token(rep).await;
        let list = t
            .send(Req::new(Method::GET, "/api/v1/activities").cred(&rep_tok))
            .await
            .json();
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["lead_id"] != json!(hidden)),
            "{}",
            t.backend
        );
        assert_eq!(
            t.send(Req::new(Method::GET, format!("/api/v1/activities/{}", act.id)).cred(&rep_tok))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // A scheduled activity of a type archived since can still be completed.
        let lead = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&rep_tok)
                    .json(json!({"title": "Mine"})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let due = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        let sched = t
            .send(
                Req::new(Method::POST, "/api/v1/activities")
                    .cred(&rep_tok)
                    .json(json!({"type_id": meeting, "lead_id": lead, "due_at": due})),
            )
            .await
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let v = t
            .send(Req::new(Method::GET, format!("/api/v1/activity-types/{meeting}")).cred(&admin))
            .await
            .json()["version"]
            .as_i64()
            .unwrap();
        t.send(
            Req::new(Method::PATCH, format!("/api/v1/activity-types/{meeting}"))
                .cred(&admin)
                .header("if-match", &format!("\"{v}\""))
                .json(json!({"archived": true})),
        )
        .await;
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/activities/{sched}/complete"))
                    .cred(&rep_tok)
                    .json(json!({"outcome_id": outcome_id(&ty, "Termin", "stattgefunden")})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/activities")
                    .cred(&rep_tok)
                    .json(json!({"type_id": meeting, "lead_id": lead})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["type_id"], "but no new ones");
        // A rep cannot delete a lead that carries someone else's activities.
        let call = type_id(&ty, "Anruf");
        t.app
            .log_activity(
                &t.actor(t.admin).await,
                salesops_app::activities::ActivityInput {
                    type_id: Some(call.parse().unwrap()),
                    lead_id: Some(lead.parse().unwrap()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/leads/{lead}")).cred(&rep_tok))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        // Amounts above a hundred billion are refused, not overflowed.
        let r = t.send(Req::new(Method::POST, "/api/v1/leads").cred(&rep_tok).json(json!({"title": "Huge", "amount": {"amount": "90000000000000000", "currency": "EUR"}}))).await;
        assert_eq!(r.problem_fields(), vec!["amount"]);
    }
}
