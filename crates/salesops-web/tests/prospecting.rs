//! Prospecting lists, prospects and sales scripts through the API, on both
//! databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Cred, Req, TestApp};
use serde_json::{Value, json};

async fn call_type(t: &TestApp, cred: &Cred) -> (String, String, String) {
    let types = t
        .send(Req::new(Method::GET, "/api/v1/activity-types").cred(cred))
        .await
        .json();
    let call = types["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == json!("call"))
        .unwrap()
        .clone();
    let outcome = |positive: bool| {
        call["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["positive"] == json!(positive))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    (
        call["id"].as_str().unwrap().to_string(),
        outcome(true),
        outcome(false),
    )
}

async fn post(t: &TestApp, cred: &Cred, path: &str, body: Value) -> common::Resp {
    t.send(Req::new(Method::POST, path).cred(cred).json(body))
        .await
}

#[tokio::test]
async fn a_list_is_worked_row_by_row_and_a_prospect_becomes_a_lead() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let rep = t.user("rep@test.example", "rep").await;
        let other = t.user("other@test.example", "rep").await;
        let team = t.team("SDR", None, &[rep]).await;
        let _other_team = t.team("Elsewhere", None, &[other]).await;
        let ops_tok = t.token(ops).await;
        let rep_tok = t.token(rep).await;
        let other_tok = t.token(other).await;

        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospect-lists",
            json!({"name": "Maschinenbau Bayern", "team_id": team, "reps": [rep]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
        let list = r.json()["id"].as_str().unwrap().to_string();
        let mut ids = vec![];
        for (company, contact) in [("Weber GmbH", "Anna Weber"), ("Huber AG", "Max Huber")] {
            let r = post(&t, &ops_tok, "/api/v1/prospects", json!({"list_id": list, "company_name": company, "contact_name": contact, "phone": "+49 89 1234", "email": "Info@Example.DE", "fields": {"Mitarbeiter": "120"}})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            assert_eq!(r.json()["email"], json!("info@example.de"));
            ids.push(r.json()["id"].as_str().unwrap().to_string());
        }
        // The rep sees the list and its prospects, in row order; a rep of
        // another team sees neither.
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/prospects?list_id={list}")).cred(&rep_tok))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let rows: Vec<&str> = r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["company_name"].as_str().unwrap())
            .collect::<Vec<_>>()
            .into_iter()
            .map(|s| {
                if s.starts_with("Weber") {
                    "Weber"
                } else {
                    "Huber"
                }
            })
            .collect();
        assert_eq!(rows, ["Weber", "Huber"]);
        let r = t
            .send(Req::new(Method::GET, "/api/v1/prospect-lists").cred(&other_tok))
            .await;
        assert_eq!(r.json()["items"], json!([]));
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/prospects/{}", ids[0])).cred(&other_tok))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // ... and cannot log on it (404, not 403: it does not exist for them).
        let (call, answered, unanswered) = call_type(&t, &rep_tok).await;
        let r = post(
            &t,
            &other_tok,
            "/api/v1/activities",
            json!({"type_id": call, "outcome_id": unanswered, "prospect_id": ids[0]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // The rep logs an unanswered call, then an answered one.
        for o in [&unanswered, &answered] {
            let r = post(&t, &rep_tok, "/api/v1/activities", json!({"type_id": call, "outcome_id": o, "prospect_id": ids[0], "duration_minutes": 3})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            assert_eq!(r.json()["prospect_id"], json!(ids[0]));
        }
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/activities?prospect_id={}", ids[0]),
                )
                .cred(&rep_tok),
            )
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 2);
        // Convert: a lead with a new company and contact, linked both ways.
        let r = post(
            &t,
            &rep_tok,
            &format!("/api/v1/prospects/{}/convert", ids[0]),
            json!({"lead": {"amount": {"amount": "30000.00", "currency": "EUR"}}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let c = r.json();
        assert_eq!(c["prospect"]["status"], json!("converted"));
        assert_eq!(c["prospect"]["lead_id"], c["lead"]["id"]);
        assert_eq!(c["lead"]["title"], json!("Weber GmbH · Anna Weber"));
        assert_eq!(c["lead"]["owner_id"], json!(rep));
        assert_eq!(
            c["lead"]["amount"],
            json!({"amount": "30000.00", "currency": "EUR"})
        );
        assert_eq!(c["lead"]["company_id"], c["prospect"]["company_id"]);
        let company = c["lead"]["company_id"].as_str().unwrap();
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/companies/{company}")).cred(&rep_tok))
            .await;
        assert_eq!(r.json()["name"], json!("Weber GmbH"));
        let contact = c["lead"]["contact_id"].as_str().unwrap();
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/contacts/{contact}")).cred(&rep_tok))
            .await;
        assert_eq!(
            (r.json()["name"].clone(), r.json()["company_id"].clone()),
            (json!("Anna Weber"), json!(company))
        );
        // Converting twice is a conflict; the call history stays on the prospect.
        let r = post(
            &t,
            &rep_tok,
            &format!("/api/v1/prospects/{}/convert", ids[0]),
            json!({}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // The second one is disqualified, then reopened.
        let r = post(
            &t,
            &rep_tok,
            &format!("/api/v1/prospects/{}/disqualify", ids[1]),
            json!({"reason": "bad fit"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            (
                r.json()["status"].clone(),
                r.json()["disqualify_reason"].clone()
            ),
            (json!("disqualified"), json!("bad fit"))
        );
        let r = post(
            &t,
            &rep_tok,
            &format!("/api/v1/prospects/{}/convert", ids[1]),
            json!({}),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::CONFLICT,
            "a disqualified prospect is not converted"
        );
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/prospects/{}/reopen", ids[1]))
                    .cred(&rep_tok),
            )
            .await;
        assert_eq!(r.json()["status"], json!("open"));
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/prospect-lists/{list}")).cred(&rep_tok))
            .await;
        let l = r.json();
        assert_eq!(
            (
                l["prospects"].as_i64(),
                l["open"].as_i64(),
                l["converted"].as_i64()
            ),
            (Some(2), Some(1), Some(1))
        );
        // A list whose prospect became a lead is archived, not deleted.
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/prospect-lists/{list}")).cred(&ops_tok))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // Deleting the lead keeps the prospect.
        let lead = c["lead"]["id"].as_str().unwrap();
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/leads/{lead}")).cred(&ops_tok))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/prospects/{}", ids[0])).cred(&rep_tok))
            .await;
        assert_eq!(
            (r.json()["status"].clone(), r.json()["lead_id"].clone()),
            (json!("open"), Value::Null),
            "deleting the lead opens the prospect again"
        );
        // The contact and company made from it can be deleted (the prospect lets go).
        for path in [
            format!("/api/v1/contacts/{contact}"),
            format!("/api/v1/companies/{company}"),
        ] {
            let r = t.send(Req::new(Method::DELETE, path).cred(&ops_tok)).await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        }
    }
}

#[tokio::test]
async fn prospect_rules_and_bad_input() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let rep = t.user("rep@test.example", "rep").await;
        let mate = t.user("mate@test.example", "rep").await;
        let team = t.team("SDR", None, &[rep, mate]).await;
        let ops_tok = t.token(ops).await;
        let rep_tok = t.token(rep).await;
        let mate_tok = t.token(mate).await;
        // Reps do not create lists; a list needs a name.
        let r = post(
            &t,
            &rep_tok,
            "/api/v1/prospect-lists",
            json!({"name": "Mine", "team_id": team}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospect-lists",
            json!({"team_id": team, "reps": [rep, mate]}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["name"]);
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospect-lists",
            json!({"name": "L", "team_id": team, "reps": [rep, mate], "colour": "red"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown field");
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospect-lists",
            json!({"name": "L", "team_id": team, "reps": [rep, mate]}),
        )
        .await;
        let list = r.json()["id"].as_str().unwrap().to_string();
        // A prospect needs a name; the e-mail must be one; an assignee must be a rep of the list.
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospects",
            json!({"list_id": list, "phone": "1"}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["company_name"]);
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospects",
            json!({"list_id": list, "company_name": "X", "email": "nope"}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["email"]);
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospects",
            json!({"list_id": list, "company_name": "X", "assigned_to": ops}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["assigned_to"]);
        let r = post(
            &t,
            &rep_tok,
            "/api/v1/prospects",
            json!({"list_id": list, "company_name": "X"}),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "reps work lists, ops fill them"
        );
        let r = post(&t, &ops_tok, "/api/v1/prospects", json!({"list_id": list, "company_name": "Assigned", "assigned_to": mate, "external_id": "P-1"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let p = r.json();
        let id = p["id"].as_str().unwrap();
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospects",
            json!({"list_id": list, "company_name": "Again", "external_id": "P-1"}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["external_id"]);
        // Assigned to the mate: the rep reads it but may not work it.
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/prospects/{id}")).cred(&rep_tok))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let r = post(
            &t,
            &rep_tok,
            &format!("/api/v1/prospects/{id}/disqualify"),
            json!({}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let (call, _, unanswered) = call_type(&t, &rep_tok).await;
        let r = post(
            &t,
            &rep_tok,
            "/api/v1/activities",
            json!({"type_id": call, "outcome_id": unanswered, "prospect_id": id}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = post(
            &t,
            &mate_tok,
            "/api/v1/activities",
            json!({"type_id": call, "outcome_id": unanswered, "prospect_id": id}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
        // Stale edits are refused.
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/prospects/{id}"))
                    .cred(&mate_tok)
                    .header("If-Match", "\"99\"")
                    .json(json!({"city": "Köln"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/prospects/{id}"))
                    .cred(&mate_tok)
                    .header("If-Match", "\"1\"")
                    .json(json!({"city": "Köln", "company_name": null})),
            )
            .await;
        assert_eq!(
            r.problem_fields(),
            ["company_name"],
            "the last name cannot be cleared"
        );
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/prospects/{id}"))
                    .cred(&mate_tok)
                    .header("If-Match", "\"1\"")
                    .json(json!({"city": "Köln"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // Search finds it by city, case-folded.
        let r = t
            .send(Req::new(Method::GET, "/api/v1/prospects?q=KÖLN").cred(&rep_tok))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
        // Converting into a stage of another pipeline is refused.
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/pipelines",
            json!({"name": "Renewals", "kind": "renewal"}),
        )
        .await;
        let other = r.json()["id"].as_str().unwrap().to_string();
        let r = post(
            &t,
            &ops_tok,
            &format!("/api/v1/pipelines/{other}/stages"),
            json!({"name": "Verlängern", "win_probability": 50}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let other = r.json();
        let r = post(
            &t,
            &mate_tok,
            &format!("/api/v1/prospects/{id}/convert"),
            json!({"lead": {"stage_id": other["stages"][0]["id"]}}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["stage_id"], "{}", r.text());
        let r = post(
            &t,
            &mate_tok,
            &format!("/api/v1/prospects/{id}/convert"),
            json!({"lead": {"amount": {"amount": "-5", "currency": "EUR"}}}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["amount"]);
        // Nothing was half-written: still open, no companies created.
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/prospects/{id}")).cred(&mate_tok))
            .await;
        assert_eq!(r.json()["status"], json!("open"));
        let r = t
            .send(Req::new(Method::GET, "/api/v1/companies").cred(&ops_tok))
            .await;
        assert_eq!(r.json()["items"], json!([]));
        // Viewers see no prospects.
        let viewer = t.user("viewer@test.example", "viewer").await;
        let vt = t.token(viewer).await;
        let r = t
            .send(Req::new(Method::GET, "/api/v1/prospects").cred(&vt))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn scripts_and_answers_on_prospects_and_leads() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let rep = t.user("rep@test.example", "rep").await;
        let team = t.team("SDR", None, &[rep]).await;
        let ops_tok = t.token(ops).await;
        let rep_tok = t.token(rep).await;
        let r = post(
            &t,
            &rep_tok,
            "/api/v1/scripts",
            json!({"name": "Kaltakquise"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "ops write scripts");
        let r = post(&t, &ops_tok, "/api/v1/scripts", json!({"name": "Kaltakquise", "questions": [
            {"text": "Wer entscheidet?", "kind": "text"},
            {"text": "Wie viele Maschinen?", "kind": "number"},
            {"text": "Passt es?", "kind": "choice", "choices": ["Top fit", "Good fit", "Bad fit"]},
            {"text": "Leer", "kind": "choice"}
        ]})).await;
        assert_eq!(r.problem_fields(), ["questions[3].choices"]);
        let r = post(&t, &ops_tok, "/api/v1/scripts", json!({"name": "Kaltakquise", "questions": [
            {"text": "Wer entscheidet?", "kind": "text"},
            {"text": "Wie viele Maschinen?", "kind": "number"},
            {"text": "Passt es?", "kind": "choice", "choices": ["Top fit", "Good fit", "Bad fit"]}
        ]})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let s = r.json();
        let sid = s["id"].as_str().unwrap().to_string();
        let q: Vec<String> = s["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["id"].as_str().unwrap().to_string())
            .collect();
        // Reorder: the fit question first.
        let r = post(
            &t,
            &ops_tok,
            &format!("/api/v1/scripts/{sid}/questions/reorder"),
            json!({"question_ids": [q[2], q[0], q[1]]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["questions"][0]["text"], json!("Passt es?"));
        let r = post(
            &t,
            &ops_tok,
            &format!("/api/v1/scripts/{sid}/questions/reorder"),
            json!({"question_ids": [q[2], q[0]]}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["question_ids"]);
        // A list shows the script; the rep answers on a prospect.
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospect-lists",
            json!({"name": "L", "team_id": team, "script_id": sid, "reps": [rep]}),
        )
        .await;
        assert_eq!(r.json()["script_id"], json!(sid));
        let list = r.json()["id"].as_str().unwrap().to_string();
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospects",
            json!({"list_id": list, "company_name": "Weber"}),
        )
        .await;
        let pid = r.json()["id"].as_str().unwrap().to_string();
        let put = |body: Value| {
            Req::new(Method::PUT, format!("/api/v1/prospects/{pid}/answers"))
                .cred(&rep_tok)
                .json(body)
        };
        let r = t.send(put(json!({"script_id": sid, "answers": {q[1].clone(): "viele", q[2].clone(): "Vielleicht"}}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem_fields().len(), 2, "{}", r.text());
        let r = t.send(put(json!({"script_id": sid, "answers": {q[0].clone(): "Frau Weber", q[1].clone(): "12,5", q[2].clone(): "Good fit"}}))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let values: Vec<Value> = r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["value"].clone())
            .collect();
        assert_eq!(
            values,
            [json!("Good fit"), json!("Frau Weber"), json!("12.5")]
        );
        // Answered questions cannot be deleted or change kind; archive instead.
        let r = t
            .send(
                Req::new(
                    Method::DELETE,
                    format!("/api/v1/scripts/{sid}/questions/{}", q[0]),
                )
                .cred(&ops_tok),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/scripts/{sid}")).cred(&ops_tok))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // After conversion the lead shows the prospect's answers, and its own win.
        let r = post(
            &t,
            &rep_tok,
            &format!("/api/v1/prospects/{pid}/convert"),
            json!({}),
        )
        .await;
        let lead = r.json()["lead"]["id"].as_str().unwrap().to_string();
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/leads/{lead}/answers?script_id={sid}"),
                )
                .cred(&rep_tok),
            )
            .await;
        assert_eq!(r.json()["items"][0]["value"], json!("Good fit"));
        let r = t
            .send(
                Req::new(Method::PUT, format!("/api/v1/leads/{lead}/answers"))
                    .cred(&rep_tok)
                    .json(json!({"script_id": sid, "answers": {q[2].clone(): "Top fit"}})),
            )
            .await;
        assert_eq!(r.json()["items"][0]["value"], json!("Top fit"));
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/prospects/{pid}/answers?script_id={sid}"),
                )
                .cred(&rep_tok),
            )
            .await;
        assert_eq!(
            r.json()["items"][0]["value"],
            json!("Good fit"),
            "the prospect keeps its own answer"
        );
        // Missing script id.
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/leads/{lead}/answers")).cred(&rep_tok))
            .await;
        assert_eq!(r.problem_fields(), ["script_id"]);
    }
}

#[tokio::test]
async fn a_list_belongs_to_its_team_not_to_the_teams_of_its_reps() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let boss_a = t.user("boss-a@test.example", "manager").await;
        let rep_a = t.user("rep-a@test.example", "rep").await;
        let mate_a = t.user("mate-a@test.example", "rep").await;
        let rep_b = t.user("rep-b@test.example", "rep").await;
        let team_a = t.team("A", Some(boss_a), &[rep_a, mate_a]).await;
        let team_b = t.team("B", None, &[rep_b]).await;
        let ops_tok = t.token(ops).await;
        // Ops shares a list with team B and also puts rep A on it.
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospect-lists",
            json!({"name": "B-Liste", "team_id": team_b, "reps": [rep_b, rep_a]}),
        )
        .await;
        let list = r.json()["id"].as_str().unwrap().to_string();
        let r = post(
            &t,
            &ops_tok,
            "/api/v1/prospects",
            json!({"list_id": list, "company_name": "Weber", "phone": "+49 1"}),
        )
        .await;
        let pid = r.json()["id"].as_str().unwrap().to_string();
        // Rep A works it (on the list); A's manager and A's teammate do not see it.
        let r = t
            .send(
                Req::new(Method::GET, format!("/api/v1/prospects/{pid}"))
                    .cred(&t.token(rep_a).await),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        for who in [boss_a, mate_a] {
            let cred = t.token(who).await;
            let r = t
                .send(Req::new(Method::GET, format!("/api/v1/prospect-lists/{list}")).cred(&cred))
                .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", t.backend);
            let r = t
                .send(Req::new(Method::GET, "/api/v1/prospects").cred(&cred))
                .await;
            assert_eq!(r.json()["items"], json!([]));
        }
        // Taken off the list, rep A no longer sees its rows.
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/prospect-lists/{list}"))
                    .cred(&ops_tok)
                    .header("If-Match", "\"1\"")
                    .json(json!({"reps": [rep_b]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = t
            .send(Req::new(Method::GET, "/api/v1/prospects").cred(&t.token(rep_a).await))
            .await;
        assert_eq!(r.json()["items"], json!([]));
        // A manager staffs a list only from its team.
        let r = post(
            &t,
            &t.token(boss_a).await,
            "/api/v1/prospect-lists",
            json!({"name": "A-Liste", "team_id": team_a, "reps": [rep_b]}),
        )
        .await;
        assert_eq!(r.problem_fields(), ["reps"]);
    }
}
