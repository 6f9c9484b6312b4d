//! Companies and contacts through the API, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Req, TestApp};
use serde_json::json;

#[tokio::test]
async fn companies_round_trip_with_exact_money_and_search() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let r = t
            .send(Req::new(Method::POST, "/api/v1/companies").cred(&admin).json(json!({
                "name": "Müller Präzisionstechnik GmbH", "industry": "Maschinenbau", "size_band": "51-200",
                "country": "de", "city": "Stuttgart", "postcode": "70173", "website": "mueller-praezision.example",
                "value": {"amount": "125000.50", "currency": "EUR"}, "external_id": "crm-17"
            })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
        let c = r.json();
        assert_eq!(
            c["value"],
            json!({"amount": "125000.50", "currency": "EUR"})
        );
        assert_eq!(c["country"], "DE");
        assert_eq!(c["website"], "https://mueller-praezision.example");
        assert_eq!(
            c["owner_id"],
            serde_json::Value::Null,
            "admins create unowned records unless they say otherwise"
        );
        let id = c["id"].as_str().unwrap().to_string();
        for q in ["müller", "MÜLLER", "stuttgart", "praezision"] {
            let r = t
                .send(
                    Req::new(
                        Method::GET,
                        format!(
                            "/api/v1/companies?q={}",
                            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
                        ),
                    )
                    .cred(&admin),
                )
                .await;
            assert_eq!(
                r.json()["items"].as_array().unwrap().len(),
                1,
                "{}: {q}",
                t.backend
            );
        }
        // PATCH: absent stays, null clears, search follows the new name.
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/companies/{id}"))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"name": "Müller AG", "city": null})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["city"], serde_json::Value::Null);
        assert_eq!(r.json()["industry"], "Maschinenbau");
        let r = t
            .send(Req::new(Method::GET, "/api/v1/companies?q=stuttgart").cred(&admin))
            .await;
        assert!(r.json()["items"].as_array().unwrap().is_empty());
        let r = t
            .send(Req::new(Method::GET, "/api/v1/companies?q=m%C3%BCller%20ag").cred(&admin))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
        // Contacts belong to it; the company cannot go while they exist.
        let r = t.send(Req::new(Method::POST, "/api/v1/contacts").cred(&admin).json(json!({"name": "Jana Roth", "company_id": id, "email": "Jana.Roth@Mueller.example", "job_title": "Einkauf"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["email"], "jana.roth@mueller.example");
        let contact = r.json()["id"].as_str().unwrap().to_string();
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/contacts?company_id={id}")).cred(&admin))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
        let r = t
            .send(Req::new(Method::GET, "/api/v1/contacts?q=m%C3%BCller").cred(&admin))
            .await;
        assert_eq!(
            r.json()["items"].as_array().unwrap().len(),
            1,
            "contacts are found by their company's name"
        );
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/companies/{id}")).cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(
            t.send(Req::new(Method::DELETE, format!("/api/v1/contacts/{contact}")).cred(&admin))
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        let r = t
            .send(
                Req::new(Method::DELETE, format!("/api/v1/companies/{id}"))
                    .cred(&admin)
                    .header("if-match", "\"1\""),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "stale delete");
        let r = t
            .send(
                Req::new(Method::DELETE, format!("/api/v1/companies/{id}"))
                    .cred(&admin)
                    .header("if-match", "\"2\""),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
}

#[tokio::test]
async fn company_and_contact_input_is_checked_field_by_field() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let r = t
            .send(Req::new(Method::POST, "/api/v1/companies").cred(&admin).json(json!({
                "name": "", "size_band": "huge", "country": "Germany", "website": "not a site",
                "value": {"amount": "-5", "currency": "EUR"}, "owner_id": "0190c5a4-0000-7000-8000-000000000000"
            })))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", t.backend);
        let mut f = r.problem_fields();
        f.sort();
        assert_eq!(
            f,
            vec![
                "country",
                "name",
                "owner_id",
                "size_band",
                "value",
                "website"
            ]
        );
        for (value, why) in [
            (
                json!({"amount": "10", "currency": "XXX"}),
                "unknown currency",
            ),
            (
                json!({"amount": "1.005", "currency": "EUR"}),
                "too many places",
            ),
            (json!({"amount": "1e3", "currency": "EUR"}), "not plain"),
        ] {
            let r = t
                .send(
                    Req::new(Method::POST, "/api/v1/companies")
                        .cred(&admin)
                        .json(json!({"name": "X", "value": value})),
                )
                .await;
            assert_eq!(r.problem_fields(), vec!["value"], "{why}");
        }
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/companies")
                    .cred(&admin)
                    .json(json!({"name": "X", "external_id": "e1"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/companies")
                    .cred(&admin)
                    .json(json!({"name": "Y", "external_id": "e1"})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["external_id"]);
        let r = t.send(Req::new(Method::POST, "/api/v1/contacts").cred(&admin).json(json!({"name": "Z", "email": "nope", "company_id": "0190c5a4-0000-7000-8000-000000000000"}))).await;
        let mut f = r.problem_fields();
        f.sort();
        assert_eq!(f, vec!["company_id", "email"]);
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/contacts")
                    .cred(&admin)
                    .json(json!({"email": "a@b.example"})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["name"]);
        let r = t
            .send(Req::new(Method::GET, "/api/v1/companies").cred(&admin))
            .await;
        assert_eq!(
            r.json()["items"].as_array().unwrap().len(),
            1,
            "nothing half-written"
        );
    }
}

#[tokio::test]
async fn reps_see_their_own_their_teams_and_unowned_accounts() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let mate = t.user("mate@test.example", "rep").await;
        let other = t.user("other@test.example", "rep").await;
        let manager = t.user("manager@test.example", "manager").await;
        t.team("Nord", Some(manager), &[rep, mate]).await;
        t.team("Süd", None, &[other]).await;
        let admin = t.token(t.admin).await;
        let mk = |name: &str, owner: Option<salesops_domain::UserId>| {
            Req::new(Method::POST, "/api/v1/companies")
                .cred(&admin)
                .json(json!({"name": name, "owner_id": owner}))
        };
        let mine = t.send(mk("Mine", Some(rep))).await.json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mates = t.send(mk("Mate's", Some(mate))).await.json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let others = t.send(mk("Other's", Some(other))).await.json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let free = t.send(mk("Unowned", None)).await.json()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let rep_tok = t.token(rep).await;
        let r = t
            .send(Req::new(Method::GET, "/api/v1/companies?limit=200").cred(&rep_tok))
            .await;
        let mut names: Vec<String> = r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        assert_eq!(names, vec!["Mate's", "Mine", "Unowned"], "{}", t.backend);
        assert_eq!(
            t.send(Req::new(Method::GET, format!("/api/v1/companies/{others}")).cred(&rep_tok))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Reps edit their own and unowned ones, not a teammate's; their new records are theirs.
        let patch = |id: &str| {
            Req::new(Method::PATCH, format!("/api/v1/companies/{id}"))
                .cred(&rep_tok)
                .header("if-match", "\"1\"")
                .json(json!({"industry": "Chemie"}))
        };
        assert_eq!(t.send(patch(&mine)).await.status, StatusCode::OK);
        assert_eq!(t.send(patch(&free)).await.status, StatusCode::OK);
        assert_eq!(t.send(patch(&mates)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(t.send(patch(&others)).await.status, StatusCode::NOT_FOUND);
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/companies")
                    .cred(&rep_tok)
                    .json(json!({"name": "New lead co"})),
            )
            .await;
        assert_eq!(r.json()["owner_id"], json!(rep));
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/companies")
                    .cred(&rep_tok)
                    .json(json!({"name": "Gift", "owner_id": mate})),
            )
            .await;
        assert_eq!(
            r.problem_fields(),
            vec!["owner_id"],
            "reps cannot hand records to others"
        );
        // The manager of Nord edits the team's records and reassigns them.
        let mgr = t.token(manager).await;
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/companies/{mates}"))
                    .cred(&mgr)
                    .header("if-match", "\"1\"")
                    .json(json!({"owner_id": rep})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // Viewers read reports, not accounts.
        let viewer = t.user("viewer@test.example", "viewer").await;
        let v = t.token(viewer).await;
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/companies").cred(&v))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            t.send(Req::new(Method::GET, format!("/api/v1/companies/{free}")).cred(&v))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/contacts").cred(&v))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        // A contact cannot be attached to a company the caller may not see.
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/contacts")
                    .cred(&rep_tok)
                    .json(json!({"name": "Spy", "company_id": others})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["company_id"]);
    }
}
