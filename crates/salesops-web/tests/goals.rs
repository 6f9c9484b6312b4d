//! Goals and their progress through the API, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Cred, Req, TestApp};
use serde_json::{Value, json};

async fn types(t: &TestApp, cred: &Cred) -> Value {
    t.send(Req::new(Method::GET, "/api/v1/activity-types").cred(cred))
        .await
        .json()
}

fn find<'a>(items: &'a Value, name: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == json!(name))
        .unwrap_or_else(|| panic!("no {name} in {items}"))
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn log(t: &TestApp, cred: &Cred, body: Value) {
    let r = t
        .send(
            Req::new(Method::POST, "/api/v1/activities")
                .cred(cred)
                .json(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

async fn company(t: &TestApp, cred: &Cred) -> String {
    let r = t
        .send(
            Req::new(Method::POST, "/api/v1/companies")
                .cred(cred)
                .json(json!({"name": "Weber Maschinenbau"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    id(&r.json())
}

async fn progress(t: &TestApp, cred: &Cred, query: &str) -> Vec<Value> {
    let r = t
        .send(Req::new(Method::GET, format!("/api/v1/goals/progress?{query}")).cred(cred))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn goals_for_each_member_count_their_calls_with_pace() {
    for t in TestApp::all().await {
        let boss = t.user("boss@test.example", "manager").await;
        let anna = t.user("anna@test.example", "rep").await;
        let ben = t.user("ben@test.example", "rep").await;
        let team = t.team("Vertrieb Nord", Some(boss), &[anna, ben]).await;
        let (boss_tok, anna_tok, ben_tok) =
            (t.token(boss).await, t.token(anna).await, t.token(ben).await);
        let ty = types(&t, &anna_tok).await;
        let call = find(&ty["items"], "Anruf");
        let answered = id(find(&call["outcomes"], "erreicht"));
        let unanswered = id(find(&call["outcomes"], "nicht erreicht"));
        let call = id(call);

        // 20 calls a week for each member, 5 of them answered.
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/goals")
                    .cred(&boss_tok)
                    .json(json!({
                "assignee": "each_member", "team_id": team, "metric": "activities",
                "activity_type_id": call, "period": "week", "target": 20,
                "valid_from": "2026-01-01"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
        assert_eq!(r.json()["target"], json!("20"));
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/goals")
                    .cred(&boss_tok)
                    .json(json!({
                "assignee": "each_member", "team_id": team, "metric": "activities",
                "activity_type_id": call, "outcome_id": answered, "period": "week",
                "target": "5", "valid_from": "2026-01-01"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

        let co = company(&t, &anna_tok).await;
        // Week of Monday 2 November 2026: Anna makes 9 calls (4 answered) by
        // Wednesday, one on the Monday after (another week), Ben makes 2.
        for (i, outcome) in [
            &answered,
            &answered,
            &answered,
            &answered,
            &unanswered,
            &unanswered,
            &unanswered,
            &unanswered,
            &unanswered,
        ]
        .into_iter()
        .enumerate()
        {
            log(
                &t,
                &anna_tok,
                json!({"type_id": call, "outcome_id": outcome, "company_id": co,
                "happened_at": format!("2026-11-0{}T09:{i:02}:00Z", 2 + i % 3)}),
            )
            .await;
        }
        log(
            &t,
            &anna_tok,
            json!({"type_id": call, "outcome_id": answered, "company_id": co,
            "happened_at": "2026-11-09T08:00:00Z"}),
        )
        .await;
        for _ in 0..2 {
            log(
                &t,
                &ben_tok,
                json!({"type_id": call, "outcome_id": unanswered, "company_id": co,
                "happened_at": "2026-11-03T10:00:00Z"}),
            )
            .await;
        }

        // Thursday 5 November: 3 of 5 working days gone; 20 × 3/5 = 12 expected.
        let mine = progress(&t, &anna_tok, "date=2026-11-05").await;
        assert_eq!(mine.len(), 2, "{mine:?}");
        let calls = mine.iter().find(|p| p["outcome_id"].is_null()).unwrap();
        assert_eq!(calls["actual"], json!("9"));
        assert_eq!(calls["target"], json!("20"));
        assert_eq!(calls["percent"], json!("45.00"));
        assert_eq!(calls["expected"], json!("12"));
        assert_eq!(calls["status"], json!("behind"));
        assert_eq!(calls["behind_by"], json!("3"));
        assert_eq!(calls["needed_per_day"], json!("5.50"));
        assert_eq!(
            (calls["from"].as_str(), calls["to"].as_str()),
            (Some("2026-11-02"), Some("2026-11-09"))
        );
        let reached = mine.iter().find(|p| !p["outcome_id"].is_null()).unwrap();
        assert_eq!(reached["actual"], json!("4"));
        assert_eq!(reached["expected"], json!("3"));
        assert_eq!(reached["status"], json!("on_track"));

        // The manager sees a line per member and goal.
        let lines = progress(&t, &boss_tok, &format!("team={team}&date=2026-11-05")).await;
        assert_eq!(lines.len(), 4);
        let ben_calls = lines
            .iter()
            .find(|p| p["user_id"] == json!(ben) && p["outcome_id"].is_null())
            .unwrap();
        assert_eq!(ben_calls["actual"], json!("2"));
        assert_eq!(ben_calls["name"], json!("ben"));
        // The next week starts again from the call on Monday.
        let next = progress(&t, &anna_tok, "date=2026-11-09").await;
        let calls = next.iter().find(|p| p["outcome_id"].is_null()).unwrap();
        assert_eq!(
            (calls["actual"].as_str(), calls["status"].as_str()),
            (Some("1"), Some("on_track"))
        );
        // A week long past is missed.
        let past = progress(&t, &anna_tok, "date=2026-11-05").await;
        assert_eq!(past.len(), 2);

        // Ben may not read the manager's lines of another team he is not in,
        // nor create goals.
        let other = t.team("Vertrieb Süd", None, &[]).await;
        let r = t
            .send(
                Req::new(Method::GET, format!("/api/v1/goals/progress?team={other}"))
                    .cred(&ben_tok),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
        let r = t
            .send(Req::new(Method::POST, "/api/v1/goals").cred(&ben_tok).json(json!({
                "assignee": "user", "user_id": ben, "metric": "leads_won", "period": "month", "target": 3})))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        // Nor may the manager set goals for a team he does not manage.
        let r = t
            .send(Req::new(Method::POST, "/api/v1/goals").cred(&boss_tok).json(json!({
                "assignee": "team", "team_id": other, "metric": "leads_won", "period": "month", "target": 3})))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
}

#[tokio::test]
async fn a_revenue_quota_counts_won_deals_in_the_base_currency() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let admin = t.token(t.admin).await;
        let tok = t.token(rep).await;
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/goals")
                    .cred(&admin)
                    .json(json!({
                "assignee": "user", "user_id": rep, "metric": "revenue_won",
                "period": "quarter", "target": "90000"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
        let goal = r.json();
        assert_eq!(
            (goal["target"].as_str(), goal["currency"].as_str()),
            (Some("90000.00"), Some("EUR"))
        );
        // 48,000 EUR won; a lost deal and an open one do not count.
        for (amount, action) in [
            ("48000.00", Some("win")),
            ("30000.00", Some("lose")),
            ("12000.00", None),
        ] {
            let r = t
                .send(Req::new(Method::POST, "/api/v1/leads").cred(&tok).json(json!({
                    "title": format!("Deal {amount}"), "amount": {"amount": amount, "currency": "EUR"}})))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            let lead = id(&r.json());
            if let Some(a) = action {
                let body = if a == "lose" {
                    json!({"reason": "Preis"})
                } else {
                    json!({})
                };
                let r = t
                    .send(
                        Req::new(Method::POST, format!("/api/v1/leads/{lead}/{a}"))
                            .cred(&tok)
                            .json(body),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            }
        }
        let lines = progress(&t, &tok, "").await;
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["actual"], json!("48000.00"));
        assert_eq!(lines[0]["target"], json!("90000.00"));
        assert_eq!(lines[0]["percent"], json!("53.33"));
        assert_eq!(lines[0]["currency"], json!("EUR"));

        // Raising the quota needs the current version.
        let gid = id(&goal);
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/goals/{gid}"))
                    .cred(&admin)
                    .header("If-Match", "\"1\"")
                    .json(json!({"target": "120000"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["target"], json!("120000.00"));
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/goals/{gid}"))
                    .cred(&admin)
                    .header("If-Match", "\"1\"")
                    .json(json!({"target": "100000"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.text());
        let r = t
            .send(
                Req::new(Method::DELETE, format!("/api/v1/goals/{gid}"))
                    .cred(&admin)
                    .header("If-Match", "\"1\""),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.text());
        let r = t
            .send(
                Req::new(Method::DELETE, format!("/api/v1/goals/{gid}"))
                    .cred(&admin)
                    .header("If-Match", "\"2\""),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        assert!(progress(&t, &tok, "").await.is_empty());
    }
}

#[tokio::test]
async fn bad_goals_are_refused_with_the_field_named() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let ty = types(&t, &admin).await;
        let call = find(&ty["items"], "Anruf");
        let meeting = find(&ty["items"], "Termin");
        let no_show = id(&meeting["outcomes"][1]);
        let call = id(call);
        let team = t.team("Team", None, &[]).await;
        for (body, field) in [
            (
                json!({"assignee": "team", "team_id": team, "metric": "leads_won", "period": "month", "target": 0}),
                "target",
            ),
            (
                json!({"assignee": "team", "team_id": team, "metric": "leads_won", "period": "month", "target": -3}),
                "target",
            ),
            (
                json!({"assignee": "team", "team_id": team, "metric": "leads_won", "period": "month", "target": 2.5}),
                "target",
            ),
            (
                json!({"assignee": "team", "team_id": team, "metric": "leads_won", "period": "month"}),
                "target",
            ),
            (
                json!({"assignee": "team", "team_id": team, "metric": "calls", "period": "month", "target": 3}),
                "metric",
            ),
            (
                json!({"assignee": "team", "team_id": team, "metric": "leads_won", "period": "fortnight", "target": 3}),
                "period",
            ),
            (
                json!({"assignee": "crowd", "team_id": team, "metric": "leads_won", "period": "month", "target": 3}),
                "assignee",
            ),
            (
                json!({"assignee": "user", "metric": "leads_won", "period": "month", "target": 3}),
                "user_id",
            ),
            (
                json!({"assignee": "team", "team_id": team, "metric": "activities", "period": "month", "target": 3}),
                "activity_type_id",
            ),
            (
                json!({"assignee": "team", "team_id": team, "metric": "activities", "activity_type_id": call, "outcome_id": no_show, "period": "month", "target": 3}),
                "outcome_id",
            ),
            (
                json!({"assignee": "team", "team_id": team, "metric": "leads_won", "period": "month", "target": 3, "valid_from": "2026-05-01", "valid_until": "2026-04-01"}),
                "valid_until",
            ),
            (
                json!({"assignee": "team", "team_id": "0192f6c1-0000-7000-8000-000000000000", "metric": "leads_won", "period": "month", "target": 3}),
                "team_id",
            ),
        ] {
            let r = t
                .send(
                    Req::new(Method::POST, "/api/v1/goals")
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
        let r = t
            .send(Req::new(Method::GET, "/api/v1/goals/progress?date=2026-02-30").cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem_fields(), vec!["date".to_string()]);
        assert!(
            t.send(Req::new(Method::GET, "/api/v1/goals").cred(&admin))
                .await
                .json()["items"]
                .as_array()
                .unwrap()
                .is_empty(),
            "nothing was written"
        );
    }
}
