//! KPIs and the weighted pipeline on a small fixture whose values are
//! computed by hand in the comments, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use common::{Cred, PASSWORD, Req, TestApp, get, ui_login};
use salesops_domain::{ActivityId, ForecastCategory, HistoryId, LeadId, LeadStatus, UserId};
use salesops_store::activities::Activity;
use salesops_store::leads::{HistoryEntry, Lead};
use serde_json::{Value, json};
use uuid::Uuid;

fn at(s: &str) -> DateTime<Utc> {
    format!("{s}T12:00:00Z").parse().unwrap()
}

struct Fixture {
    rep_a: UserId,
    rep_b: UserId,
    admin: Cred,
    /// L1 to L7.
    leads: Vec<Uuid>,
    /// The default pipeline's stages.
    stages: Vec<Uuid>,
    call: Uuid,
}

/// March 2026 (and February before it), by hand:
///
/// | lead | owner | created | status, closed | amount | history |
/// |---|---|---|---|---|---|
/// | L1 | A | 02-10 | won 03-10 | 30,000 | s0 02-10, s1 02-20, s3 03-01 |
/// | L2 | A | 03-05 | won 03-25 | 20,000 (marketing) | s0 03-05, s1 03-06 |
/// | L3 | A | 03-02 | lost 03-20 | 10,000 (marketing) | s0 03-02 |
/// | L4 | B | 03-03 | open in s1, close 03-28 | 40,000 (sales) | s0 03-03, s1 03-04 |
/// | L5 | B | 03-15 | open in s0 at 50 %, close 05-10 | 8,000 | s0 03-15 |
/// | L6 | B | 02-01 | lost 02-15 | 5,000 | s0 02-01 |
/// | L7 | A | 02-05 | won 02-20 | 12,000 | s0 02-05 |
///
/// Activities in March: A calls on L2 (30 min), proposes on L3 (60 min),
/// e-mails on L1 (no duration), receives an e-mail on L1 (20 min); B calls
/// on L4 (10 min). A has a monthly revenue goal of 60,000.
async fn fixture(t: &TestApp) -> Fixture {
    let rep_a = t.user("a@test.example", "rep").await;
    let rep_b = t.user("b@test.example", "rep").await;
    let admin = t.token(t.admin).await;
    let pipelines = t
        .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&admin))
        .await
        .json();
    let p = pipelines["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["is_default"] == json!(true))
        .unwrap()
        .clone();
    let stage = |i: usize| -> Uuid { p["stages"][i]["id"].as_str().unwrap().parse().unwrap() };
    assert_eq!(p["stages"][1]["win_probability"], json!(25));
    let pipeline: Uuid = p["id"].as_str().unwrap().parse().unwrap();
    let types = t
        .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&admin))
        .await
        .json();
    let ty = |kind: &str| -> Uuid {
        types["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["kind"] == json!(kind))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let r = t
        .send(
            Req::new(Method::POST, "/api/v1/companies")
                .cred(&admin)
                .json(json!({"name": "Weber GmbH"})),
        )
        .await;
    let company: Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();

    struct L {
        owner: UserId,
        created: &'static str,
        status: LeadStatus,
        closed: Option<&'static str>,
        amount: i64,
        source: Option<&'static str>,
        stage: usize,
        probability: Option<i32>,
        close: Option<&'static str>,
        history: &'static [(usize, &'static str)],
    }
    let (a, b) = (rep_a, rep_b);
    use LeadStatus::*;
    let fixture = [
        L {
            owner: a,
            created: "2026-02-10",
            status: Won,
            closed: Some("2026-03-10"),
            amount: 30_000,
            source: None,
            stage: 3,
            probability: None,
            close: None,
            history: &[(0, "2026-02-10"), (1, "2026-02-20"), (3, "2026-03-01")],
        },
        L {
            owner: a,
            created: "2026-03-05",
            status: Won,
            closed: Some("2026-03-25"),
            amount: 20_000,
            source: Some("marketing"),
            stage: 1,
            probability: None,
            close: None,
            history: &[(0, "2026-03-05"), (1, "2026-03-06")],
        },
        L {
            owner: a,
            created: "2026-03-02",
            status: Lost,
            closed: Some("2026-03-20"),
            amount: 10_000,
            source: Some("marketing"),
            stage: 0,
            probability: None,
            close: None,
            history: &[(0, "2026-03-02")],
        },
        L {
            owner: b,
            created: "2026-03-03",
            status: Open,
            closed: None,
            amount: 40_000,
            source: Some("sales"),
            stage: 1,
            probability: None,
            close: Some("2026-03-28"),
            history: &[(0, "2026-03-03"), (1, "2026-03-04")],
        },
        L {
            owner: b,
            created: "2026-03-15",
            status: Open,
            closed: None,
            amount: 8_000,
            source: None,
            stage: 0,
            probability: Some(50),
            close: Some("2026-05-10"),
            history: &[(0, "2026-03-15")],
        },
        L {
            owner: b,
            created: "2026-02-01",
            status: Lost,
            closed: Some("2026-02-15"),
            amount: 5_000,
            source: None,
            stage: 0,
            probability: None,
            close: None,
            history: &[(0, "2026-02-01")],
        },
        L {
            owner: a,
            created: "2026-02-05",
            status: Won,
            closed: Some("2026-02-20"),
            amount: 12_000,
            source: None,
            stage: 0,
            probability: None,
            close: None,
            history: &[(0, "2026-02-05")],
        },
    ];
    let mut c = t.app.db.clone();
    let mut ids = vec![];
    for (i, l) in fixture.iter().enumerate() {
        let id = LeadId::new();
        ids.push(id.0);
        let created = at(l.created);
        let closed = l.closed.map(at);
        salesops_store::leads::insert(
            &mut c,
            &Lead {
                org_id: t.org,
                id,
                title: format!("L{}", i + 1),
                pipeline_id: salesops_domain::PipelineId(pipeline),
                stage_id: salesops_domain::StageId(stage(l.stage)),
                status: l.status,
                amount_minor: Some(l.amount * 100),
                currency: Some("EUR".into()),
                probability: l.probability,
                expected_close_date: l.close.map(|d| d.parse::<NaiveDate>().unwrap()),
                owner_id: Some(l.owner.0),
                company_id: Some(company),
                contact_id: None,
                source: l.source.map(str::to_string),
                campaign: None,
                forecast_category: if l.status == Won {
                    ForecastCategory::Closed
                } else {
                    ForecastCategory::Pipeline
                },
                next_step_date: None,
                // The marketing leads became marketing-qualified when
                // created; L2 sales-qualified the next day.
                mql_at: (l.source == Some("marketing")).then_some(created),
                sql_at: (i == 1).then(|| at("2026-03-06")),
                closed_at: closed,
                lost_reason: None,
                competitor: None,
                stage_entered_at: at(l.history.last().unwrap().1),
                external_id: None,
                created_at: created,
                updated_at: closed.unwrap_or(created),
                version: 1,
            },
        )
        .await
        .unwrap();
        let mut prev = None;
        for (s, d) in l.history {
            salesops_store::leads::insert_history(
                &mut c,
                &HistoryEntry {
                    org_id: t.org,
                    id: HistoryId::new(),
                    lead_id: id,
                    from_stage_id: prev,
                    to_stage_id: stage(*s),
                    from_status: prev.map(|_| "open".into()),
                    to_status: "open".into(),
                    at: at(d),
                    by_user_id: Some(l.owner.0),
                },
            )
            .await
            .unwrap();
            prev = Some(stage(*s));
        }
        if let Some(cl) = l.closed {
            salesops_store::leads::insert_history(
                &mut c,
                &HistoryEntry {
                    org_id: t.org,
                    id: HistoryId::new(),
                    lead_id: id,
                    from_stage_id: prev,
                    to_stage_id: stage(l.stage),
                    from_status: Some("open".into()),
                    to_status: l.status.as_str().into(),
                    at: at(cl),
                    by_user_id: Some(l.owner.0),
                },
            )
            .await
            .unwrap();
        }
    }
    for (user, kind, lead, day, minutes) in [
        (a, "call", 1, "2026-03-06", Some(30)),
        (a, "proposal", 2, "2026-03-12", Some(60)),
        (a, "email", 0, "2026-03-03", None),
        (a, "email_received", 0, "2026-03-04", Some(20)),
        (b, "call", 3, "2026-03-05", Some(10)),
    ] {
        salesops_store::activities::insert(
            &mut c,
            &Activity {
                org_id: t.org,
                id: ActivityId::new(),
                type_id: salesops_domain::ActivityTypeId(ty(kind)),
                outcome_id: None,
                user_id: user,
                lead_id: Some(ids[lead]),
                company_id: None,
                contact_id: None,
                prospect_id: None,
                done: true,
                happened_at: Some(at(day)),
                due_at: None,
                duration_minutes: minutes,
                notes: None,
                created_at: at(day),
                updated_at: at(day),
                version: 1,
            },
        )
        .await
        .unwrap();
    }
    let r = t
        .send(
            Req::new(Method::POST, "/api/v1/goals")
                .cred(&admin)
                .json(json!({
            "assignee": "user", "user_id": a, "metric": "revenue_won", "period": "month",
            "target": 60000, "valid_from": "2026-01-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    Fixture {
        rep_a,
        rep_b,
        admin,
        leads: ids,
        stages: (0..p["stages"].as_array().unwrap().len())
            .map(stage)
            .collect(),
        call: ty("call"),
    }
}

fn kpi<'a>(v: &'a Value, key: &str) -> &'a Value {
    v["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == json!(key))
        .unwrap_or_else(|| panic!("no {key}"))
}

#[tokio::test]
async fn every_kpi_of_march_by_hand() {
    for t in TestApp::all().await {
        let f = fixture(&t).await;
        let r = t
            .send(
                Req::new(Method::GET, "/api/v1/kpis?from=2026-03-01&to=2026-04-01").cred(&f.admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", t.backend, r.text());
        let v = r.json();
        assert_eq!(
            (v["previous_from"].as_str(), v["previous_to"].as_str()),
            (Some("2026-02-01"), Some("2026-03-01"))
        );
        assert_eq!(v["currency"], json!("EUR"));
        let expect = [
            ("leads_created", "4", Some("3")),
            ("won", "2", Some("1")),
            ("lost", "1", Some("1")),
            ("cancelled", "0", Some("0")),
            ("revenue", "50000", Some("12000")),
            ("won_without_rate", "0", Some("0")),
            // 2 / (2 + 1); February 1 / (1 + 1).
            ("win_rate", "0.6667", Some("0.5")),
            // Created in March: L2 L3 L4 L5; won by now: L2.
            ("close_rate", "0.25", None),
            ("lead_to_sale", "0.25", None),
            // ... of them L2 and L4 reached the second stage.
            ("lead_to_opportunity", "0.5", None),
            // L1 reached the fourth stage in March (won), L3 had a proposal (lost).
            ("proposal_to_close", "0.5", None),
            ("average_deal_size", "25000", Some("12000")),
            // L1: 28 days, L2: 20 days.
            ("sales_cycle_mean", "24", Some("15")),
            ("sales_cycle_median", "24", Some("15")),
            // Open at the end of March: L4 and L5.
            ("pipeline_value", "48000", None),
            // 40,000 × 25 % + 8,000 × 50 %.
            ("weighted_pipeline_value", "14000", None),
            ("pipeline_inflow_count", "4", Some("3")),
            ("pipeline_inflow_amount", "78000", Some("47000")),
            ("pipeline_outflow_count", "3", Some("2")),
            ("pipeline_outflow_amount", "60000", Some("17000")),
            // L4 expected in March: 40,000 / (60,000 − 50,000).
            ("pipeline_coverage", "4", None),
            // A has 50,000 of 60,000.
            ("quota_attainment_rate", "0", Some("0")),
            // 5 activities / (2 reps × 22 working days).
            ("activities_per_rep_per_day", "0.11", None),
            // 100 selling minutes of 120.
            ("selling_time_share", "0.8333", None),
            ("marketing_sourced_share", "0.5", None),
            ("sales_sourced_share", "0.25", None),
            // 2 open × 2/3 × 25,000 / 24 days.
            ("sales_velocity", "1388.89", None),
            ("revenue_per_account", "50000", Some("12000")),
            ("open_leads_per_rep", "1", None),
            // 5 / 2 reps / (31 / 7 weeks).
            ("activities_per_rep_per_week", "0.56", None),
            ("team_turnover", "0", Some("0")),
            // (50,000 − 12,000) / 12,000.
            ("sales_growth", "3.1667", None),
        ];
        for (key, value, previous) in expect {
            let k = kpi(&v, key);
            assert_eq!(k["value"], json!(value), "{}: {key}: {k}", t.backend);
            if let Some(p) = previous {
                assert_eq!(k["previous"], json!(p), "{key} previous: {k}");
            }
        }
        // L2 and L3 became marketing-qualified in March, L2 sales-qualified.
        assert_eq!(kpi(&v, "mql_to_sql_drop_off")["value"], json!("0.5"));
        // Zero denominators and inputs that do not exist yet are null with the reason.
        assert_eq!(kpi(&v, "mql_to_sql_drop_off")["previous"], Value::Null);
        assert_eq!(kpi(&v, "ramp_time_days")["value"], Value::Null);
        for (key, why) in [
            ("cac", "cost entries"),
            ("churn_rate", "contracts"),
            ("nps", "NPS responses"),
            ("forecast_accuracy", "forecast snapshots"),
        ] {
            let k = kpi(&v, key);
            assert_eq!(k["value"], Value::Null);
            assert!(k["reason"].as_str().unwrap().contains(why), "{k}");
        }
        assert_eq!(kpi(&v, "revenue")["change"], json!("38000"));
        // Filtered by the only pipeline (read from the tables): the same.
        let pipes = t
            .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&f.admin))
            .await
            .json();
        let pid = pipes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["is_default"] == json!(true))
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/kpis?from=2026-03-01&to=2026-04-01&pipeline={pid}"),
                )
                .cred(&f.admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["kpis"], v["kpis"], "{}", t.backend);

        // A was hired on 15 January: first win 20 February (36 days); the
        // first month at 80 % of the 60,000 quota is March (50,000; January
        // 0, February 12,000): 75 days to 31 March.
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/users/{}", f.rep_a)).cred(&f.admin))
            .await;
        let etag = r.header("etag").unwrap().to_string();
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/users/{}", f.rep_a))
                    .cred(&f.admin)
                    .header("if-match", &etag)
                    .json(json!({"hire_date": "2026-01-15"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let hired = t
            .send(
                Req::new(Method::GET, "/api/v1/kpis?from=2026-03-01&to=2026-04-01").cred(&f.admin),
            )
            .await
            .json();
        assert_eq!(kpi(&hired, "ramp_time_days")["value"], Value::Null);
        assert_eq!(kpi(&hired, "ramp_time_days")["previous"], json!("36"));
        assert_eq!(kpi(&hired, "ramp_time_to_quota_days")["value"], json!("75"));
        assert_eq!(
            kpi(&hired, "ramp_time_to_quota_days")["previous"],
            Value::Null
        );

        // Rep B's own figures, and what B may not see.
        let tok = t.token(f.rep_b).await;
        let r = t
            .send(Req::new(Method::GET, "/api/v1/kpis?from=2026-03-01&to=2026-04-01").cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        assert_eq!(v["scope"], json!("user"));
        assert_eq!(kpi(&v, "leads_created")["value"], json!("2"));
        assert_eq!(kpi(&v, "revenue")["value"], json!("0"));
        assert_eq!(kpi(&v, "win_rate")["value"], Value::Null);
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/kpis?user={}", f.rep_a)).cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
        for (q, field) in [
            ("from=2026-04-01&to=2026-03-01", "to"),
            ("from=2006-01-01&to=2026-03-01", "to"),
            ("preset=fortnight", "preset"),
            ("from=2026-03-01", "to"),
        ] {
            let r = t
                .send(Req::new(Method::GET, format!("/api/v1/kpis?{q}")).cred(&f.admin))
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{q}: {}",
                r.text()
            );
            assert_eq!(r.problem_fields(), vec![field.to_string()], "{q}");
        }
    }
}

#[tokio::test]
async fn the_weighted_pipeline_by_close_month_by_hand() {
    for t in TestApp::all().await {
        let f = fixture(&t).await;
        let r = t
            .send(Req::new(Method::GET, "/api/v1/forecast").cred(&f.admin))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", t.backend, r.text());
        let v = r.json();
        assert_eq!(v["months"], json!(["2026-03", "2026-05"]));
        assert_eq!(
            v["total"]["total"],
            json!({"count": 2, "amount": "48000.00", "weighted": "14000.00"})
        );
        assert_eq!(
            v["total"]["months"],
            json!([
                {"month": "2026-03", "count": 1, "amount": "40000.00", "weighted": "10000.00"},
                {"month": "2026-05", "count": 1, "amount": "8000.00", "weighted": "4000.00"}
            ])
        );
        let users = v["by_user"].as_array().unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0]["id"], json!(f.rep_b));
        assert_eq!(v["by_pipeline"].as_array().unwrap().len(), 1);
        // Rep A has no open lead.
        let tok = t.token(f.rep_a).await;
        let v = t
            .send(Req::new(Method::GET, "/api/v1/forecast").cred(&tok))
            .await
            .json();
        assert_eq!(v["total"]["total"]["count"], json!(0));
        let r = t
            .send(Req::new(Method::GET, "/api/v1/forecast?pipeline=nope").cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

        // The page: per rep, B's line and the total, by month.
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        let page = t
            .raw(get("/reports/forecast?view=user", &cookie, "de"))
            .await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{}: {}",
            t.backend,
            page.text()
        );
        let html = page.text();
        assert!(html.contains("Gewichtete Pipeline"), "{html}");
        let table = &html[html.find("id=\"forecast\"").unwrap()..];
        for needle in [
            "2026-03",
            "2026-05",
            "<th>b</th>",
            "10.000,00",
            "4.000,00",
            "14.000,00",
            "48.000,00",
        ] {
            assert!(table.contains(needle), "{needle} missing: {table}");
        }
        assert!(html.contains("<svg"), "a chart");
        let page = t
            .raw(get("/reports/forecast?pipeline=nope", &cookie, "en"))
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.text().contains("pipeline"), "{}", page.text());
        let page = t
            .raw(get("/reports/forecast?view=region", &cookie, "en"))
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.text().contains("pipeline, team or user"),
            "{}",
            page.text()
        );
        // s1 at 60 % instead of 25 %: L4 weighs 24,000 (L5 keeps its own 50 %).
        let pipeline = default_pipeline(&t, &f.admin).await;
        let stage = t
            .send(Req::new(Method::GET, format!("/api/v1/pipelines/{pipeline}")).cred(&f.admin))
            .await
            .json()["stages"][1]
            .clone();
        assert_eq!(stage["id"], json!(f.stages[1]));
        let r = t
            .send(
                Req::new(
                    Method::PATCH,
                    format!("/api/v1/pipelines/{pipeline}/stages/{}", f.stages[1]),
                )
                .cred(&f.admin)
                .header("if-match", &format!("\"{}\"", stage["version"]))
                .json(json!({"win_probability": 60})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v2 = t
            .send(Req::new(Method::GET, "/api/v1/forecast").cred(&f.admin))
            .await
            .json();
        assert_eq!(
            v2["total"]["total"],
            json!({"count": 2, "amount": "48000.00", "weighted": "28000.00"})
        );
        assert_eq!(v2["total"]["months"][0]["weighted"], json!("24000.00"));
    }
}

/// The id of the default pipeline.
async fn default_pipeline(t: &TestApp, cred: &Cred) -> Uuid {
    let v = t
        .send(Req::new(Method::GET, "/api/v1/pipelines").cred(cred))
        .await
        .json();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["is_default"] == json!(true))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Puts the default pipeline's stages in `order`.
async fn reorder(t: &TestApp, cred: &Cred, order: &[Uuid]) {
    let pipeline = default_pipeline(t, cred).await;
    let r = t
        .send(
            Req::new(
                Method::POST,
                format!("/api/v1/pipelines/{pipeline}/stages/order"),
            )
            .cred(cred)
            .json(json!({"stage_ids": order})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

fn col(v: &Value, key: &str) -> usize {
    v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["key"] == json!(key))
        .unwrap_or_else(|| panic!("no column {key}"))
}

fn cells(v: &Value, row: &Value, keys: &[&str]) -> Vec<Value> {
    keys.iter()
        .map(|k| row["cells"][col(v, k)].clone())
        .collect()
}

async fn report(t: &TestApp, cred: &Cred, q: &str) -> Value {
    let r = t
        .send(Req::new(Method::GET, format!("/api/v1/reports/{q}")).cred(cred))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}: {q}: {}", t.backend, r.text());
    r.json()
}

#[tokio::test]
async fn the_five_reports_of_march_by_hand() {
    for t in TestApp::all().await {
        let f = fixture(&t).await;
        let march = "from=2026-03-01&to=2026-04-01";

        // Team performance.
        let v = report(&t, &f.admin, &format!("team?{march}")).await;
        let keys = [
            "leads_created",
            "leads_won",
            "revenue",
            "leads_lost",
            "leads_cancelled",
            "conversion_rate",
            "average_deal_size",
            "cycle_days",
        ];
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "the two reps with leads: {v}");
        assert_eq!(rows[0]["user_id"], json!(f.rep_a));
        assert_eq!(
            cells(&v, &rows[0], &keys),
            json!(["2", "2", "50000", "1", "0", "0.5", "25000", "24"])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &rows[1], &keys),
            json!(["2", "0", "0", "0", "0", "0", null, null])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &v["total"], &keys),
            json!(["4", "2", "50000", "1", "0", "0.25", "25000", "24"])
                .as_array()
                .unwrap()
                .clone()
        );
        // February: L1, L6, L7 created (L1 and L7 won by now); L7 won, L6 lost.
        assert_eq!(
            cells(&v, &v["previous_total"], &keys),
            json!(["3", "1", "12000", "1", "0", "0.6667", "12000", "15"])
                .as_array()
                .unwrap()
                .clone()
        );
        let csv = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/reports/team?{march}&format=csv"),
                )
                .cred(&f.admin),
            )
            .await;
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        let text = csv.text();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .starts_with("a,2,2,50000,1,0,0.5,25000,24"),
            "{text}"
        );

        // Company performance by month over the first quarter.
        let v = report(
            &t,
            &f.admin,
            "company?from=2026-01-01&to=2026-04-01&bucket=month",
        )
        .await;
        let keys = [
            "leads_created",
            "leads_won",
            "leads_lost",
            "revenue",
            "growth",
        ];
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            cells(&v, &rows[0], &keys),
            json!(["0", "0", "0", "0", null])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &rows[1], &keys),
            json!(["3", "1", "1", "12000", null])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &rows[2], &keys),
            json!(["4", "2", "1", "50000", "3.1667"])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &v["total"], &keys),
            json!(["7", "3", "2", "62000", null])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            (rows[2]["from"].as_str(), rows[2]["to"].as_str()),
            (Some("2026-03-01"), Some("2026-04-01"))
        );

        // Pipeline performance: the leads that entered each stage in March.
        let v = report(&t, &f.admin, &format!("pipeline?{march}")).await;
        let keys = [
            "entered",
            "moved_on",
            "still",
            "lost_here",
            "cancelled_here",
            "moved_on_share",
            "still_share",
            "lost_share",
            "days_in_stage",
        ];
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(
            cells(&v, &rows[0], &keys),
            json!(["4", "2", "1", "1", "0", "0.5", "0.25", "0.25", "6.7"])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &rows[1], &keys),
            json!(["2", "1", "1", "0", "0", "0.5", "0.5", "0", "14"])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &rows[2], &keys),
            json!(["0", "0", "0", "0", "0", null, null, null, null])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &rows[3], &keys),
            json!(["1", "1", "0", "0", "0", "1", "0", "0", "9"])
                .as_array()
                .unwrap()
                .clone()
        );
        let flagged: Vec<bool> = rows
            .iter()
            .map(|r| r["flagged"].as_bool().unwrap())
            .collect();
        assert_eq!(
            flagged,
            vec![true, false, false, false, false],
            "the first of the weakest steps"
        );
        // With s1 put before s0, moving from s0 to s1 is no longer moving
        // on: L4 stays "still" in s0 (the index computes its sums again).
        let mut order = f.stages.clone();
        order.swap(0, 1);
        reorder(&t, &f.admin, &order).await;
        let v = report(&t, &f.admin, &format!("pipeline?{march}")).await;
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows[0]["key"], json!(f.stages[1]));
        assert_eq!(
            cells(&v, &rows[0], &keys),
            json!(["2", "1", "1", "0", "0", "0.5", "0.5", "0", "14"])
                .as_array()
                .unwrap()
                .clone()
        );
        assert_eq!(
            cells(&v, &rows[1], &keys),
            json!(["4", "1", "2", "1", "0", "0.25", "0.5", "0.25", "6.7"])
                .as_array()
                .unwrap()
                .clone()
        );
        reorder(&t, &f.admin, &f.stages).await;
        let v = report(&t, &f.admin, &format!("pipeline?{march}")).await;
        assert_eq!(
            cells(&v, &v["rows"][0], &keys),
            json!(["4", "2", "1", "1", "0", "0.5", "0.25", "0.25", "6.7"])
                .as_array()
                .unwrap()
                .clone()
        );

        // Activity report: per member, by type, with leads, revenue and goals.
        let v = report(&t, &f.admin, &format!("activity?{march}")).await;
        let rows = v["rows"].as_array().unwrap();
        let a = rows
            .iter()
            .find(|r| r["user_id"] == json!(f.rep_a))
            .unwrap();
        let keys = [
            "activities",
            "leads_created",
            "leads_won",
            "revenue",
            "goals_met",
            "goals",
        ];
        assert_eq!(
            cells(&v, a, &keys),
            json!(["4", "2", "2", "50000", "0", "1"])
                .as_array()
                .unwrap()
                .clone()
        );
        let call_col = v["columns"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c["label"] == json!("Anruf"))
            .unwrap();
        assert_eq!(a["cells"][call_col], json!("1"));
        assert_eq!(v["total"]["cells"][call_col], json!("2"));
        assert_eq!(v["total"]["cells"][col(&v, "activities")], json!("5"));
        assert_eq!(
            v["chart_labels"].as_array().unwrap().len(),
            6,
            "weeks touching March"
        );

        // Bad filters name the parameter; an unknown report is not found.
        for (q, field) in [
            (format!("team?{march}&bucket=fortnight"), "bucket"),
            (
                "company?from=2020-01-01&to=2026-01-01&bucket=day".to_string(),
                "bucket",
            ),
            (format!("team?{march}&format=xml"), "format"),
            ("team?from=2026-03-01&to=2046-03-02".to_string(), "to"),
        ] {
            let r = t
                .send(Req::new(Method::GET, format!("/api/v1/reports/{q}")).cred(&f.admin))
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{q}: {}",
                r.text()
            );
            assert_eq!(r.problem_fields(), vec![field.to_string()], "{q}");
        }
        let r = t
            .send(Req::new(Method::GET, "/api/v1/reports/gossip").cred(&f.admin))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // A rep reads their own report, not a team they are not in.
        let tok = t.token(f.rep_b).await;
        let v = report(&t, &tok, &format!("team?{march}")).await;
        assert_eq!(v["scope"], json!("user"));
        assert_eq!(v["rows"].as_array().unwrap().len(), 1);
        let other = t.team("Süd", None, &[f.rep_a]).await;
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/reports/team?team={other}")).cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    }
}

#[tokio::test]
async fn the_prospecting_list_report_by_hand() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let sara = t.user("sara@test.example", "rep").await;
        let team = t.team("SDR", None, &[sara]).await;
        let ops_a = t.actor(ops).await;
        let sara_a = t.actor(sara).await;
        let list = t
            .app
            .create_prospect_list(
                &ops_a,
                salesops_app::prospecting::ListInput {
                    name: Some("Maschinenbau".into()),
                    team_id: Some(Some(team)),
                    reps: Some(vec![sara]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .list;
        let mut ids = vec![];
        for name in ["Weber GmbH", "Huber AG", "Bauer KG", "Kurz OHG"] {
            let p = t
                .app
                .create_prospect(
                    &ops_a,
                    list.id,
                    salesops_app::prospecting::ProspectInput {
                        company_name: Some(Some(name.into())),
                        assigned_to: Some(Some(sara)),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            ids.push(p.id);
        }
        let types = t.app.list_activity_types(&sara_a, false).await.unwrap();
        let call = types
            .iter()
            .find(|x| x.activity_type.kind == salesops_domain::ActivityKind::Call)
            .unwrap()
            .activity_type
            .id;
        // Sara calls Weber twice, Huber and Bauer once; Kurz is never called.
        for p in [ids[0], ids[0], ids[1], ids[2]] {
            t.app
                .log_activity(
                    &sara_a,
                    salesops_app::activities::ActivityInput {
                        type_id: Some(call),
                        prospect_id: Some(p),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        // Weber becomes a lead (then one call on it); Huber is a bad fit.
        let (_, lead) = t
            .app
            .convert_prospect(&sara_a, ids[0], None, Default::default())
            .await
            .unwrap();
        t.app
            .disqualify_prospect(&sara_a, ids[1], None, Some("Bad fit".into()))
            .await
            .unwrap();
        t.app
            .log_activity(
                &sara_a,
                salesops_app::activities::ActivityInput {
                    type_id: Some(call),
                    lead_id: Some(lead.id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let admin = t.token(t.admin).await;
        let v = report(&t, &admin, "prospecting?preset=this_month").await;
        let rows = v["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{v}");
        assert_eq!(rows[0]["user_id"], json!(sara));
        let keys = [
            "prospects_worked",
            "activities_before_lead",
            "converted",
            "disqualified",
            "conversion_rate",
            "bad_fit_share",
            "activities_on_leads",
        ];
        // 3 worked, 4 calls, 1 converted, 1 disqualified: 1/3 converted, 1/2 bad fit, 1 call on the lead.
        assert_eq!(
            cells(&v, &rows[0], &keys),
            json!(["3", "4", "1", "1", "0.3333", "0.5", "1"])
                .as_array()
                .unwrap()
                .clone()
        );
    }
}

#[tokio::test]
async fn a_region_manager_sees_the_teams_below_and_a_member_of_the_region_does_not() {
    for t in TestApp::all().await {
        let f = fixture(&t).await;
        let admin_a = t.actor(t.admin).await;
        let head = t.user("head@test.example", "manager").await;
        let member = t.user("member@test.example", "rep").await;
        let region = t
            .app
            .create_team(
                &admin_a,
                salesops_app::teams::NewTeam {
                    name: "Region Nord".into(),
                    segment: "sales".into(),
                    manager_id: Some(head),
                    member_ids: vec![member],
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .team
            .id;
        let sub = t
            .app
            .create_team(
                &admin_a,
                salesops_app::teams::NewTeam {
                    name: "Hamburg".into(),
                    segment: "sales".into(),
                    parent_id: Some(region),
                    member_ids: vec![f.rep_a, f.rep_b],
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .team
            .id;
        let march = "from=2026-03-01&to=2026-04-01";
        let head_tok = t.token(head).await;
        let member_tok = t.token(member).await;
        for path in [
            format!("/api/v1/kpis?team={sub}&{march}"),
            format!("/api/v1/reports/team?team={sub}&{march}"),
            format!("/api/v1/goals/progress?team={sub}"),
            format!("/api/v1/forecast?team={sub}"),
        ] {
            let r = t
                .send(Req::new(Method::GET, path.clone()).cred(&head_tok))
                .await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "the region's manager: {path}: {}",
                r.text()
            );
            let r = t
                .send(Req::new(Method::GET, path.clone()).cred(&member_tok))
                .await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "a member of the region: {path}"
            );
        }
        // The forecast of the sub-team has lines for that team only, each lead once.
        let v = t
            .send(Req::new(Method::GET, format!("/api/v1/forecast?team={sub}")).cred(&head_tok))
            .await
            .json();
        let teams = v["by_team"].as_array().unwrap();
        assert_eq!(teams.len(), 1, "{v}");
        assert_eq!(teams[0]["id"], json!(sub));
        assert_eq!(teams[0]["total"]["count"], json!(2));
        // A team goal on top of the reps' quotas does not double the quota:
        // coverage stays 40,000 / (60,000 − 50,000).
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/goals")
                    .cred(&f.admin)
                    .json(json!({
                "assignee": "team", "team_id": sub, "metric": "revenue_won", "period": "month",
                "target": 100000, "valid_from": "2026-01-01"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let v = t
            .send(Req::new(Method::GET, format!("/api/v1/kpis?{march}")).cred(&f.admin))
            .await
            .json();
        assert_eq!(kpi(&v, "pipeline_coverage")["value"], json!("4"));
        // Dates out of the calendar's reach are refused, not a crash.
        for q in [
            "/api/v1/goals/progress?date=+262143-12-31",
            "/api/v1/kpis?from=+262143-12-01&to=+262143-12-31",
        ] {
            let r = t.send(Req::new(Method::GET, q).cred(&f.admin)).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{q}: {}",
                r.text()
            );
        }
    }
}

/// What a second instance and a freshly started one answer must be the
/// same, whatever happened in between: the live index of an instance that
/// saw every change through the change feed equals one built afresh.
async fn same_figures(t: &TestApp, live: &axum::Router, admin: &Cred, when: &str) {
    let fresh = t.another_instance();
    for q in [
        "reports/activity?from=2026-03-01&to=2026-04-01",
        "reports/activity?from=2026-01-01&to=2026-07-01&bucket=month",
        "reports/team?from=2026-03-01&to=2026-04-01",
        "reports/team?from=2026-01-01&to=2027-01-01&by=team",
        "reports/company?from=2026-01-01&to=2027-01-01&bucket=month",
        "reports/pipeline?from=2026-01-01&to=2026-07-01",
        "reports/pipeline?from=2026-03-01&to=2026-04-01",
        "forecast",
        "kpis?from=2026-03-01&to=2026-04-01",
        "kpis?from=2026-01-01&to=2026-04-01",
    ] {
        let get = || Req::new(Method::GET, format!("/api/v1/{q}")).cred(admin);
        let a = t.send_on(live, get()).await;
        let b = t.send_on(&fresh, get()).await;
        assert_eq!(a.status, StatusCode::OK, "{}: {q}: {}", t.backend, a.text());
        assert_eq!(a.json(), b.json(), "{}: {when}: {q}", t.backend);
    }
}

#[tokio::test]
async fn another_instance_sees_every_write_and_agrees_with_a_fresh_start() {
    for t in TestApp::all().await {
        // A second server on the same database, its index built before
        // anything happened.
        let other = t.another_instance();
        let admin = t.token(t.admin).await;
        let r = t
            .send_on(
                &other,
                Req::new(
                    Method::GET,
                    "/api/v1/reports/activity?from=2026-03-01&to=2026-04-01",
                )
                .cred(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["rows"], json!([]), "{}", t.backend);

        let f = fixture(&t).await;
        // The fixture was written by this instance; the other one counts it
        // at its next report (it reads the change feed first).
        let r = t
            .send_on(
                &other,
                Req::new(
                    Method::GET,
                    "/api/v1/reports/activity?from=2026-03-01&to=2026-04-01",
                )
                .cred(&f.admin),
            )
            .await;
        let v = r.json();
        assert_eq!(
            v["total"]["cells"][col(&v, "activities")],
            json!("5"),
            "{}",
            t.backend
        );
        same_figures(&t, &other, &f.admin, "after the fixture").await;

        // An activity logged here shows up there.
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/activities")
                    .cred(&f.admin)
                    .json(json!({"type_id": f.call, "lead_id": f.leads[3],
                                 "happened_at": "2026-03-20T09:00:00Z"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let logged: Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();
        let version = r.header("etag").unwrap().to_string();
        let v = t
            .send_on(
                &other,
                Req::new(
                    Method::GET,
                    "/api/v1/reports/activity?from=2026-03-01&to=2026-04-01",
                )
                .cred(&f.admin),
            )
            .await
            .json();
        assert_eq!(
            v["total"]["cells"][col(&v, "activities")],
            json!("6"),
            "{}",
            t.backend
        );

        // Edits: an outcome, then gone; leads won, reopened,
        // moved, deleted.
        let types = t
            .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&f.admin))
            .await
            .json();
        let outcome = types["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == json!(f.call))
            .unwrap()["outcomes"][0]["id"]
            .clone();
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/activities/{logged}"))
                    .cred(&f.admin)
                    .header("if-match", &version)
                    .json(json!({"outcome_id": outcome})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        same_figures(&t, &other, &f.admin, "after an edit").await;
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/activities/{logged}")).cred(&f.admin))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        for (path, body) in [
            (format!("leads/{}/win", f.leads[3]), None),
            (format!("leads/{}/reopen", f.leads[2]), None),
            (
                format!("leads/{}/move", f.leads[4]),
                Some(json!({"stage_id": f.stages[2]})),
            ),
        ] {
            let mut req = Req::new(Method::POST, format!("/api/v1/{path}")).cred(&f.admin);
            if let Some(b) = body {
                req = req.json(b);
            }
            let r = t.send(req).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{}: {path}: {}",
                t.backend,
                r.text()
            );
        }
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/leads/{}", f.leads[0])).cred(&f.admin))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        same_figures(&t, &other, &f.admin, "after the leads changed").await;
        // ... and this instance, whose index was built after the fixture
        // and kept current since, agrees too.
        same_figures(&t, &t.router, &f.admin, "this instance").await;

        // Saved, then one more change, then loaded by a third instance: it
        // catches up from the feed and agrees too.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("salesops.index");
        t.app.save_index(&path).await.unwrap();
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/activities")
                    .cred(&f.admin)
                    .json(json!({"type_id": f.call, "lead_id": f.leads[1],
                                 "happened_at": "2026-03-21T09:00:00Z"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let loaded = salesops_app::App::new(t.app.db.clone(), t.app.settings.clone());
        assert!(loaded.load_index(&path).await.unwrap(), "{}", t.backend);
        let router = salesops_web::router(salesops_web::state(
            loaded,
            salesops_web::WebConfig::default(),
        ));
        same_figures(&t, &router, &f.admin, "loaded from a saved index").await;

        // Calls stop counting as selling time: the other instance builds
        // its index again and agrees with a fresh start. Minutes in March
        // now: A's call 30 and proposal 60, B's call 10 (L1's went with
        // it); selling: the proposal's 60 of 100.
        let r = t
            .send(
                Req::new(Method::GET, format!("/api/v1/activity-types/{}", f.call)).cred(&f.admin),
            )
            .await;
        let etag = r.header("etag").unwrap().to_string();
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/activity-types/{}", f.call))
                    .cred(&f.admin)
                    .header("if-match", &etag)
                    .json(json!({"counts_as_selling": false})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = t
            .send_on(
                &other,
                Req::new(Method::GET, "/api/v1/kpis?from=2026-03-01&to=2026-04-01").cred(&f.admin),
            )
            .await
            .json();
        assert_eq!(
            kpi(&v, "selling_time_share")["value"],
            json!("0.6"),
            "{}",
            t.backend
        );
        same_figures(&t, &other, &f.admin, "after a type changed").await;
        let _ = (f.rep_a, f.rep_b);
    }
}

#[tokio::test]
async fn rows_per_team_refuse_what_they_cannot_be() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let rep = t.user("r@test.example", "rep").await;
        for (q, field) in [
            ("team?preset=last_quarter&by=squad", "by"),
            ("activity?preset=last_quarter&by=team", "by"),
            (
                &*format!("team?preset=last_quarter&by=team&user={rep}"),
                "by",
            ),
        ] {
            let r = t
                .send(Req::new(Method::GET, format!("/api/v1/reports/{q}")).cred(&admin))
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {q}: {}",
                t.backend,
                r.text()
            );
            assert_eq!(r.problem_fields(), vec![field.to_string()], "{q}");
        }
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    "/api/v1/reports/team?preset=last_quarter&by=member",
                )
                .cred(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
}
