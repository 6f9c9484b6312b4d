//! Activity types and outcomes through the API, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Req, TestApp};
use serde_json::{Value, json};

fn type_named<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == json!(name))
        .unwrap_or_else(|| panic!("no type {name}"))
}

#[tokio::test]
async fn every_organisation_has_the_default_types() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let tok = t.token(rep).await;
        let list = t
            .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&tok))
            .await
            .json();
        let names: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            vec!["Anruf", "E-Mail", "E-Mail erhalten", "Termin", "Angebot"],
            "{}",
            t.backend
        );
        let call = type_named(&list, "Anruf");
        assert_eq!(call["kind"], "call");
        let outcomes: Vec<(&str, bool)> = call["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["name"].as_str().unwrap(),
                    o["positive"].as_bool().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            vec![("erreicht", true), ("nicht erreicht", false)]
        );
        let meeting = type_named(&list, "Termin");
        assert_eq!(meeting["outcomes"].as_array().unwrap().len(), 2);
        assert_eq!(
            type_named(&list, "E-Mail erhalten")["counts_as_selling"],
            false
        );
        t.app.ensure_default_org("Test GmbH").await.unwrap();
        let again = t
            .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&tok))
            .await
            .json();
        assert_eq!(
            again["items"].as_array().unwrap().len(),
            5,
            "defaults are created once"
        );
    }
}

#[tokio::test]
async fn ops_create_edit_archive_and_delete_types_and_outcomes() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let ops = t.token(ops).await;
        let r = t
            .send(Req::new(Method::POST, "/api/v1/activity-types").cred(&ops).json(json!({
                "name": "Qualifizierungsanruf", "kind": "call", "colour": "#112233", "icon": "phone", "counts_as_selling": true,
                "outcomes": [
                    {"name": "Top Fit", "positive": true, "colour": "#2f9e5a"},
                    {"name": "Good Fit", "positive": true},
                    {"name": "Bad Fit", "positive": false, "colour": "#c0392b"}
                ]
            })))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
        let ty = r.json();
        let id = ty["id"].as_str().unwrap().to_string();
        assert_eq!(ty["position"], 6);
        assert_eq!(ty["outcomes"].as_array().unwrap().len(), 3);
        let bad_fit = ty["outcomes"][2]["id"].as_str().unwrap().to_string();
        // Bad input, named per field.
        let r = t.send(Req::new(Method::POST, "/api/v1/activity-types").cred(&ops).json(json!({"name": "", "kind": "fax", "colour": "red", "icon": "rocket", "outcomes": [{"positive": true}]}))).await;
        let mut f = r.problem_fields();
        f.sort();
        assert_eq!(
            f,
            vec!["colour", "icon", "kind", "name", "outcomes[0].name"]
        );
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/activity-types")
                    .cred(&ops)
                    .json(json!({"name": "Anruf", "kind": "call"})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["name"], "names are unique");
        // Edit and archive; archived types leave the default list.
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/activity-types/{id}"))
                    .cred(&ops)
                    .header("if-match", "\"1\"")
                    .json(json!({"name": "Quali-Call", "counts_as_selling": false})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            (
                r.json()["name"].as_str(),
                r.json()["counts_as_selling"].as_bool()
            ),
            (Some("Quali-Call"), Some(false))
        );
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/activity-types/{id}"))
                    .cred(&ops)
                    .header("if-match", "\"1\"")
                    .json(json!({"archived": true})),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/activity-types/{id}"))
                    .cred(&ops)
                    .header("if-match", "\"2\"")
                    .json(json!({"archived": true})),
            )
            .await;
        assert_eq!(r.json()["archived"], true);
        let list = t
            .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&ops))
            .await
            .json();
        assert_eq!(list["items"].as_array().unwrap().len(), 5);
        let all = t
            .send(Req::new(Method::GET, "/api/v1/activity-types?include_archived=true").cred(&ops))
            .await
            .json();
        assert_eq!(all["items"].as_array().unwrap().len(), 6);
        // Outcomes: add, edit, delete; another type's outcome is not found here.
        let r = t
            .send(
                Req::new(
                    Method::POST,
                    format!("/api/v1/activity-types/{id}/outcomes"),
                )
                .cred(&ops)
                .json(json!({"name": "Kein Bedarf", "positive": false})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["outcomes"].as_array().unwrap().len(), 4);
        let r = t
            .send(
                Req::new(
                    Method::PATCH,
                    format!("/api/v1/activity-types/{id}/outcomes/{bad_fit}"),
                )
                .cred(&ops)
                .header("if-match", "\"1\"")
                .json(json!({"name": "Schlechter Fit", "colour": "#aa0000"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["name"], "Schlechter Fit");
        let call = type_named(&list, "Anruf")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = t
            .send(
                Req::new(
                    Method::DELETE,
                    format!("/api/v1/activity-types/{call}/outcomes/{bad_fit}"),
                )
                .cred(&ops),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t
            .send(
                Req::new(
                    Method::DELETE,
                    format!("/api/v1/activity-types/{id}/outcomes/{bad_fit}"),
                )
                .cred(&ops),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        // An unused type can be deleted, with its outcomes.
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/activity-types/{id}")).cred(&ops))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(
            t.send(Req::new(Method::GET, format!("/api/v1/activity-types/{id}")).cred(&ops))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Reps read but do not change them.
        let rep = t.user("rep@test.example", "rep").await;
        let rep = t.token(rep).await;
        let r = t
            .send(
                Req::new(
                    Method::POST,
                    format!("/api/v1/activity-types/{call}/outcomes"),
                )
                .cred(&rep)
                .json(json!({"name": "Mailbox"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}
