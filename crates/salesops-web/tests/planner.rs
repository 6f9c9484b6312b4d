//! The backwards planner through the API, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Cred, Req, TestApp};
use serde_json::{Value, json};

fn value<'a>(values: &'a Value, metric: &str) -> &'a Value {
    values
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["metric"] == json!(metric))
        .unwrap_or_else(|| panic!("no {metric} in {values}"))
}

fn segment<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["segment"] == json!(name))
        .unwrap()
}

async fn team(t: &TestApp, admin: &Cred, name: &str, segment: &str, members: &[String]) {
    let r = t
        .send(
            Req::new(Method::POST, "/api/v1/teams")
                .cred(admin)
                .json(json!({"name": name, "segment": segment, "member_ids": members})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

fn seeds_example() -> Value {
    json!({"target": 90000, "from": "2027-01-01", "to": "2027-04-01", "source": "manual",
        "split": "evenly",
        "ratios": {"deal_size": "30000", "leads_per_deal": 4, "prospects_per_lead": 20,
            "calls_per_prospect": 3, "calls_per_lead": 8, "meetings_per_lead": 1,
            "proposals_per_lead": 2}})
}

#[tokio::test]
async fn the_seeds_worked_example_comes_out_exactly_and_becomes_goals() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let mut ids = vec![];
        for (i, role) in ["rep"; 6].iter().enumerate() {
            ids.push(
                t.user(&format!("u{i}@test.example"), role)
                    .await
                    .to_string(),
            );
        }
        team(&t, &admin, "Marketing", "marketing", &ids[..1]).await;
        team(&t, &admin, "Kaltakquise", "prospecting", &ids[1..3]).await;
        team(&t, &admin, "Vertrieb", "sales", &ids[3..]).await;

        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/planner")
                    .cred(&admin)
                    .json(seeds_example()),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", t.backend, r.text());
        let p = r.json();
        assert_eq!(
            p["totals"],
            json!({"deals": 3, "leads": 12, "prospects": 240, "cold_calls": 720,
                "calls": 96, "meetings": 12, "proposals": 24})
        );
        assert!(
            p["ratios"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["source"] == json!("manual"))
        );
        assert_eq!(p["weeks"], json!(13));
        // Marketing must deliver 240 prospects; the prospecting team makes
        // the 720 cold calls, 360 each; sales makes 96 calls, 12 meetings and
        // 24 proposals, a third each.
        assert_eq!(
            value(&segment(&p, "marketing")["values"], "prospects")["total"],
            json!("240")
        );
        let cold = segment(&p, "prospecting");
        assert_eq!(value(&cold["values"], "cold_calls")["total"], json!("720"));
        assert_eq!(
            value(&cold["values"], "cold_calls")["per_week"],
            json!("56")
        );
        for m in cold["members"].as_array().unwrap() {
            assert_eq!(value(&m["values"], "cold_calls")["total"], json!("360"));
        }
        let sales = segment(&p, "sales");
        assert_eq!(
            value(&sales["values"], "revenue")["total"],
            json!("90000.00")
        );
        for m in sales["members"].as_array().unwrap() {
            assert_eq!(value(&m["values"], "calls")["total"], json!("32"));
            assert_eq!(value(&m["values"], "meetings")["total"], json!("4"));
            assert_eq!(value(&m["values"], "proposals")["total"], json!("8"));
            assert_eq!(value(&m["values"], "deals")["total"], json!("1"));
            assert_eq!(value(&m["values"], "revenue")["total"], json!("30000.00"));
        }

        // Applied: one goal per member and figure, for the quarter.
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/planner/apply")
                    .cred(&admin)
                    .json(seeds_example()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json()["goals_created"], json!(1 + 2 + 3 * 5));
        let goals = t
            .send(Req::new(Method::GET, format!("/api/v1/goals?user={}", ids[1])).cred(&admin))
            .await
            .json();
        let goals = goals["items"].as_array().unwrap();
        assert_eq!(goals.len(), 1);
        assert_eq!(
            (
                goals[0]["metric"].as_str(),
                goals[0]["period"].as_str(),
                goals[0]["target"].as_str()
            ),
            (Some("activities"), Some("quarter"), Some("360"))
        );
        assert_eq!(
            (
                goals[0]["valid_from"].as_str(),
                goals[0]["valid_until"].as_str()
            ),
            (Some("2027-01-01"), Some("2027-03-31"))
        );
        let quota = t
            .send(Req::new(Method::GET, format!("/api/v1/goals?user={}", ids[5])).cred(&admin))
            .await
            .json();
        assert!(
            quota["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["metric"] == json!("revenue_won") && g["target"] == json!("30000.00"))
        );

        // A rep may neither compute a plan (it reads the whole
        // organisation's history and everybody's activity) nor apply one.
        let rep = t.token(ids[0].parse().unwrap()).await;
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/planner")
                    .cred(&rep)
                    .json(seeds_example()),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/planner/apply")
                    .cred(&rep)
                    .json(seeds_example()),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
}

#[tokio::test]
async fn ratios_from_history_say_where_they_came_from() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let rep = t.user("rep@test.example", "rep").await;
        let tok = t.token(rep).await;
        let types = t
            .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&tok))
            .await
            .json();
        let ty = |name: &str| {
            types["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == json!(name))
                .unwrap()
                .clone()
        };
        let (call, meeting, proposal) = (ty("Anruf"), ty("Termin"), ty("Angebot"));
        let held = meeting["outcomes"][0]["id"].clone();
        let no_show = meeting["outcomes"][1]["id"].clone();
        // Four leads closed: one won at 48,000 EUR, three lost. On them: 8
        // calls, 2 meetings held and 1 no-show, 4 proposals.
        let mut leads = vec![];
        for (i, action) in ["win", "lose", "lose", "lose"].iter().enumerate() {
            let r = t
                .send(Req::new(Method::POST, "/api/v1/leads").cred(&tok).json(
                    json!({"title": format!("Deal {i}"), "amount": {"amount": "48000.00", "currency": "EUR"}}),
                ))
                .await;
            let id = r.json()["id"].as_str().unwrap().to_string();
            leads.push(id.clone());
            let body = if *action == "lose" {
                json!({"reason": "Preis"})
            } else {
                json!({})
            };
            let r = t
                .send(
                    Req::new(Method::POST, format!("/api/v1/leads/{id}/{action}"))
                        .cred(&tok)
                        .json(body),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
        let mut log = vec![];
        for i in 0..8 {
            log.push(json!({"type_id": call["id"], "lead_id": leads[i % 4]}));
        }
        log.push(json!({"type_id": meeting["id"], "outcome_id": held, "lead_id": leads[0]}));
        log.push(json!({"type_id": meeting["id"], "outcome_id": held, "lead_id": leads[1]}));
        log.push(json!({"type_id": meeting["id"], "outcome_id": no_show, "lead_id": leads[2]}));
        for lead in &leads {
            log.push(json!({"type_id": proposal["id"], "lead_id": lead}));
        }
        for body in log {
            let r = t
                .send(
                    Req::new(Method::POST, "/api/v1/activities")
                        .cred(&tok)
                        .json(body),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        let today = chrono::Utc::now().date_naive();
        let body = json!({"target": "96000", "preset": "next_quarter",
            "window_from": (today - chrono::Duration::days(30)).to_string(),
            "window_to": (today + chrono::Duration::days(2)).to_string(),
            "ratios": {"prospects_per_lead": 20, "calls_per_prospect": 3}});
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/planner")
                    .cred(&admin)
                    .json(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", t.backend, r.text());
        let p = r.json();
        let ratio = |name: &str| {
            let r = p["ratios"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == json!(name))
                .unwrap();
            (
                r["value"].as_str().unwrap().to_string(),
                r["source"].as_str().unwrap().to_string(),
                r["numerator"].as_str().map(str::to_string),
                r["denominator"].as_str().map(str::to_string),
            )
        };
        let h = |v: &str, n: &str, d: &str| {
            (
                v.to_string(),
                "history".to_string(),
                Some(n.to_string()),
                Some(d.to_string()),
            )
        };
        assert_eq!(ratio("deal_size"), h("48000", "48000", "1"));
        assert_eq!(ratio("leads_per_deal"), h("4", "4", "1"));
        assert_eq!(ratio("calls_per_lead"), h("2", "8", "4"));
        assert_eq!(ratio("meetings_per_lead"), h("0.5", "2", "4"));
        assert_eq!(ratio("proposals_per_lead"), h("1", "4", "4"));
        assert_eq!(
            ratio("prospects_per_lead"),
            ("20".into(), "manual".into(), None, None)
        );
        // 96,000 / 48,000 = 2 deals, 8 leads, 160 prospects, 480 cold calls,
        // 16 calls, 4 meetings, 8 proposals.
        assert_eq!(
            p["totals"],
            json!({"deals": 2, "leads": 8, "prospects": 160, "cold_calls": 480,
                "calls": 16, "meetings": 4, "proposals": 8})
        );

        // Without prospects in the window those ratios must be typed; a
        // window without history leaves every ratio to be typed.
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/planner")
                    .cred(&admin)
                    .json(json!({"target": 1000, "preset": "next_month"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(
            r.problem_fields(),
            vec!["prospects_per_lead", "calls_per_prospect"]
        );
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/planner")
                    .cred(&admin)
                    .json(json!({"target": 1000, "preset": "next_month",
                "window_from": "2020-01-01", "window_to": "2020-07-01"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let fields = r.problem_fields();
        assert!(
            fields.contains(&"prospects_per_lead".to_string()),
            "{fields:?}"
        );
        assert!(fields.contains(&"deal_size".to_string()), "{fields:?}");
        assert_eq!(fields.len(), 7);
    }
}

#[tokio::test]
async fn bad_planner_input_names_the_field() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let with = |patch: Value| {
            let mut b = seeds_example();
            for (k, v) in patch.as_object().unwrap() {
                if k == "ratios" {
                    for (rk, rv) in v.as_object().unwrap() {
                        b["ratios"][rk] = rv.clone();
                    }
                } else {
                    b[k] = v.clone();
                }
            }
            b
        };
        for (body, field) in [
            (
                with(json!({"ratios": {"leads_per_deal": 0}})),
                "leads_per_deal",
            ),
            (with(json!({"ratios": {"deal_size": "0"}})), "deal_size"),
            (
                with(json!({"ratios": {"calls_per_lead": -1}})),
                "calls_per_lead",
            ),
            (with(json!({"target": 0})), "target"),
            (with(json!({"target": null})), "target"),
            (
                with(json!({"from": "2027-04-01", "to": "2027-01-01"})),
                "to",
            ),
            (
                with(json!({"from": "2027-01-01", "to": "2047-01-01"})),
                "to",
            ),
            (
                with(json!({"from": null, "to": null, "preset": "someday"})),
                "preset",
            ),
            (with(json!({"source": "gut_feeling"})), "source"),
            (with(json!({"split": "by_seniority"})), "split"),
        ] {
            let r = t
                .send(
                    Req::new(Method::POST, "/api/v1/planner")
                        .cred(&admin)
                        .json(body.clone()),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{body}: {}",
                r.text()
            );
            assert!(
                r.problem_fields().contains(&field.to_string()),
                "{body}: {}",
                r.text()
            );
        }
    }
}
