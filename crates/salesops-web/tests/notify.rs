//! Webhooks, alerts and the digest, end to end on both databases: a
//! webhook receiver and a real SMTP server (Python's aiosmtpd) on loopback.

mod common;

use axum::http::{HeaderMap, Method, StatusCode};
use chrono::{Duration, Utc};
use common::{Cred, Req, TestApp};
use salesops_app::Settings;
use salesops_app::notify::digest::DigestRun;
use salesops_app::notify::mail::{MailConfig, Mailer};
use salesops_app::notify::webhooks::signature;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// What the receiver got: headers and body of each request.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, String)>>>);

impl Received {
    fn events(&self) -> Vec<Value> {
        let v = self.0.lock().unwrap();
        v.iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect()
    }
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A webhook receiver on loopback: answers 500 to the first `fail`
/// requests, takes `hang_ms` before answering, records what it accepted.
struct Receiver {
    url: String,
    got: Received,
    fail: Arc<AtomicU32>,
    hang_ms: Arc<AtomicU32>,
}

async fn receiver() -> Receiver {
    let got = Received::default();
    let fail = Arc::new(AtomicU32::new(0));
    let hang_ms = Arc::new(AtomicU32::new(0));
    let (g, f, h) = (got.clone(), fail.clone(), hang_ms.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (g, f, h) = (g.clone(), f.clone(), h.clone());
            async move {
                let wait = h.load(Ordering::SeqCst);
                if wait > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(wait.into())).await;
                }
                if f.load(Ordering::SeqCst) > 0 {
                    f.fetch_sub(1, Ordering::SeqCst);
                    return (StatusCode::INTERNAL_SERVER_ERROR, "database down");
                }
                g.0.lock().unwrap().push((headers, body));
                (StatusCode::NO_CONTENT, "")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
        fail,
        hang_ms,
    }
}

fn quick() -> Settings {
    let mut s = Settings::default();
    s.notify.allow_private_webhooks = true;
    s.notify.retry_base = Duration::milliseconds(100);
    s.notify.webhook_timeout = std::time::Duration::from_millis(700);
    s
}

/// Runs the delivery job until `done` or five seconds have passed.
async fn deliver_until(t: &TestApp, done: impl Fn() -> bool) {
    for _ in 0..50 {
        t.app.deliver_webhooks().await.unwrap();
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{}: the deliveries did not arrive", t.backend);
}

async fn register(t: &TestApp, cred: &Cred, url: &str, events: Value) -> Value {
    let r = t
        .send(
            Req::new(Method::POST, "/api/v1/webhooks")
                .cred(cred)
                .json(json!({"url": url, "events": events, "description": "CRM sync"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}: {}", t.backend, r.text());
    r.json()
}

async fn new_lead(t: &TestApp, cred: &Cred, title: &str) -> Value {
    let r = t
        .send(
            Req::new(Method::POST, "/api/v1/leads")
                .cred(cred)
                .json(json!({"title": title, "amount": {"amount": "12000.00", "currency": "EUR"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn sales_events_reach_the_receiver_signed_and_in_order() {
    for t in TestApp::all_with(quick()).await {
        let rx = receiver().await;
        let admin = t.token(t.admin).await;
        let rep = t.user("rep@test.example", "rep").await;
        let tok = t.token(rep).await;
        let hook = register(
            &t,
            &admin,
            &rx.url,
            json!(["lead.created", "lead.moved", "lead.won", "activity.created"]),
        )
        .await;
        let secret = hook["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"));
        // A refused change writes no event: a lead without a title.
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&tok)
                    .json(json!({})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let lead = new_lead(&t, &tok, "Weber Maschinenbau").await;
        let lead_id = id(&lead);
        let stage = t
            .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&tok))
            .await
            .json()["items"][0]["stages"][1]["id"]
            .clone();
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{lead_id}/move"))
                    .cred(&tok)
                    .json(json!({"stage_id": stage})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let types = t
            .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&tok))
            .await
            .json();
        let call = types["items"][0]["id"].clone();
        let r = t
            .send(Req::new(Method::POST, "/api/v1/activities").cred(&tok).json(
                json!({"type_id": call, "lead_id": lead_id, "happened_at": "2026-11-20T09:00:00Z"}),
            ))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{lead_id}/win"))
                    .cred(&tok)
                    .json(json!({})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());

        deliver_until(&t, || rx.got.len() == 4).await;
        let events = rx.got.events();
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        // The lead's three events in the order they happened.
        let lead_kinds: Vec<&str> = kinds
            .iter()
            .copied()
            .filter(|k| k.starts_with("lead."))
            .collect();
        assert_eq!(
            lead_kinds,
            ["lead.created", "lead.moved", "lead.won"],
            "{}",
            t.backend
        );
        assert!(kinds.contains(&"activity.created"));
        let won = events.iter().find(|e| e["type"] == "lead.won").unwrap();
        assert_eq!(won["data"]["id"], json!(lead_id));
        assert_eq!(won["data"]["status"], "won");
        assert_eq!(
            won["data"]["amount"],
            json!({"amount": "12000.00", "currency": "EUR"})
        );
        let moved = events.iter().find(|e| e["type"] == "lead.moved").unwrap();
        assert_eq!(moved["data"]["stage_id"], stage);
        // Every request is signed over "timestamp.body" with the endpoint's secret.
        for (headers, body) in rx.got.0.lock().unwrap().iter() {
            let sig = headers["salesops-signature"].to_str().unwrap();
            let t_part = sig.split(',').next().unwrap().strip_prefix("t=").unwrap();
            let ts: i64 = t_part.parse().unwrap();
            assert!((Utc::now().timestamp() - ts).abs() < 60);
            assert_eq!(sig, signature(&secret, ts, body.as_bytes()));
            let payload: Value = serde_json::from_str(body).unwrap();
            assert_eq!(
                headers["salesops-event-id"].to_str().unwrap(),
                payload["id"].as_str().unwrap()
            );
            assert_eq!(
                headers["salesops-event"].to_str().unwrap(),
                payload["type"].as_str().unwrap()
            );
            assert_eq!(headers["content-type"], "application/json");
        }
        // Nothing is delivered twice.
        t.app.deliver_webhooks().await.unwrap();
        assert_eq!(rx.got.len(), 4);
        // The delivery log.
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/webhooks/{}/deliveries", id(&hook)),
                )
                .cred(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let items = r.json()["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 4);
        assert!(
            items
                .iter()
                .all(|d| d["status"] == "delivered" && d["attempts"] == 1)
        );
        assert_eq!(items[0]["attempt_log"][0]["status_code"], 204);
        // The test button: one event for this endpoint only.
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/webhooks/{}/test", id(&hook))).cred(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
        deliver_until(&t, || rx.got.len() == 5).await;
        assert_eq!(rx.got.events()[4]["type"], "webhook.test");
        // Switched off, an endpoint's waiting events stay; switched on,
        // they go out (events that happen while it is off are not kept).
        new_lead(&t, &tok, "Wartet GmbH").await;
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/webhooks/{}", id(&hook)))
                    .cred(&admin)
                    .header("If-Match", "\"1\"")
                    .json(json!({"active": false})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        t.app.deliver_webhooks().await.unwrap();
        assert_eq!(
            rx.got.len(),
            5,
            "{}: nothing to a switched-off endpoint",
            t.backend
        );
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/webhooks/{}", id(&hook)))
                    .cred(&admin)
                    .header("If-Match", "\"2\"")
                    .json(json!({"active": true})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        deliver_until(&t, || rx.got.len() == 6).await;
        assert_eq!(rx.got.events()[5]["data"]["title"], "Wartet GmbH");
        // A rep may not see or register endpoints.
        let r = t
            .send(Req::new(Method::GET, "/api/v1/webhooks").cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_and_later_events_wait() {
    for t in TestApp::all_with(quick()).await {
        let rx = receiver().await;
        let admin = t.token(t.admin).await;
        let hook = register(&t, &admin, &rx.url, json!(["lead.created", "lead.won"])).await;
        rx.fail.store(2, Ordering::SeqCst);
        let lead = new_lead(&t, &admin, "Retry GmbH").await;
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{}/win", id(&lead)))
                    .cred(&admin)
                    .json(json!({})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        // First run: lead.created fails (500), lead.won waits behind it.
        t.app.deliver_webhooks().await.unwrap();
        assert_eq!(rx.got.len(), 0);
        deliver_until(&t, || rx.got.len() == 2).await;
        let kinds: Vec<String> = rx
            .got
            .events()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            kinds,
            ["lead.created", "lead.won"],
            "{}: in order despite the retries",
            t.backend
        );
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/webhooks/{}/deliveries", id(&hook)),
                )
                .cred(&admin),
            )
            .await;
        let items = r.json()["items"].as_array().unwrap().clone();
        let created = items
            .iter()
            .find(|d| d["event_type"] == "lead.created")
            .unwrap();
        assert_eq!(created["attempts"], 3, "{}", t.backend);
        let codes: Vec<Value> = created["attempt_log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status_code"].clone())
            .collect();
        assert_eq!(codes, [json!(204), json!(500), json!(500)]);
        assert!(
            created["attempt_log"][1]["error"]
                .as_str()
                .unwrap()
                .contains("500")
        );

        // A receiver that hangs: a timeout, recorded, then a retry.
        rx.hang_ms.store(1_500, Ordering::SeqCst);
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/webhooks/{}/test", id(&hook))).cred(&admin),
            )
            .await;
        let event = r.json()["event_id"].as_str().unwrap().to_string();
        t.app.deliver_webhooks().await.unwrap();
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/webhooks/{}/deliveries", id(&hook)),
                )
                .cred(&admin),
            )
            .await;
        let items = r.json()["items"].as_array().unwrap().clone();
        let test = items
            .iter()
            .find(|d| d["event_id"] == json!(event))
            .unwrap();
        assert_eq!(test["status"], "pending", "{}", t.backend);
        assert!(
            test["last_error"].as_str().unwrap().contains("timeout"),
            "{test}"
        );
        rx.hang_ms.store(0, Ordering::SeqCst);
        let before = rx.got.len();
        deliver_until(&t, || rx.got.len() > before).await;
    }
}

#[tokio::test]
async fn internal_and_bad_endpoints_are_refused() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        for (url, word) in [
            ("http://127.0.0.1:9/hook", "loopback"),
            ("http://169.254.169.254/latest/meta-data", "link-local"),
            ("http://10.0.0.5/hook", "private"),
            ("ftp://example.com/hook", "http"),
            ("not a url", "URL"),
        ] {
            let r = t
                .send(
                    Req::new(Method::POST, "/api/v1/webhooks")
                        .cred(&admin)
                        .json(json!({"url": url, "events": ["lead.won"]})),
                )
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
            let p = r.json();
            assert_eq!(p["errors"][0]["field"], "url");
            assert!(
                p["errors"][0]["message"].as_str().unwrap().contains(word),
                "{p}"
            );
        }
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/webhooks")
                    .cred(&admin)
                    .json(
                        json!({"url": "https://hooks.example.com/x", "events": ["lead.exploded"]}),
                    ),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.json()["errors"][0]["field"], "events");
    }
    // Registered while allowed, refused again when delivered by an
    // instance whose configuration no longer allows it.
    for t in TestApp::all_with(quick()).await {
        let rx = receiver().await;
        let admin = t.token(t.admin).await;
        let hook = register(&t, &admin, &rx.url, json!(["lead.created"])).await;
        new_lead(&t, &admin, "SSRF AG").await;
        let strict = salesops_app::App::new(t.app.db.clone(), {
            let mut s = quick();
            s.notify.allow_private_webhooks = false;
            s
        });
        strict.deliver_webhooks().await.unwrap();
        assert_eq!(rx.got.len(), 0);
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/webhooks/{}/deliveries", id(&hook)),
                )
                .cred(&admin),
            )
            .await;
        let d = &r.json()["items"][0];
        assert!(
            d["last_error"].as_str().unwrap().contains("loopback"),
            "{d}"
        );
        // An unreachable host: an error recorded, nothing lost.
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/webhooks/{}", id(&hook)))
                    .cred(&admin)
                    .header("If-Match", "\"1\"")
                    .json(json!({"url": "http://127.0.0.1:1/hook"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/webhooks/{}", id(&hook)))
                    .cred(&admin)
                    .header("If-Match", "\"1\"")
                    .json(json!({"description": "stale"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        t.app.deliver_webhooks().await.unwrap();
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/webhooks/{}/deliveries", id(&hook)),
                )
                .cred(&admin),
            )
            .await;
        let d = &r.json()["items"][0];
        assert_eq!(d["status"], "pending");
        assert!(d["last_error"].as_str().unwrap().contains("connect"), "{d}");
    }
}

#[tokio::test]
async fn alerts_are_raised_dismissed_and_cleared() {
    for t in TestApp::all().await {
        let boss = t.user("boss@test.example", "manager").await;
        let anna = t.user("anna@test.example", "rep").await;
        let other = t.user("otto@test.example", "rep").await;
        t.team("Nord", Some(boss), &[anna]).await;
        let (anna_tok, boss_tok, otto_tok) = (
            t.token(anna).await,
            t.token(boss).await,
            t.token(other).await,
        );
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/leads")
                    .cred(&anna_tok)
                    .json(json!({
                "title": "Alt GmbH", "expected_close_date": "2026-01-15",
                "amount": {"amount": "5000.00", "currency": "EUR"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let lead = id(&r.json());
        // Twenty days in its first stage (rotting after 14), no activity.
        let old = Utc::now() - Duration::days(20);
        let mut c = t.app.db.clone();
        salesops_store::leads::update(
            &mut c,
            t.org,
            lead.parse::<salesops_domain::LeadId>().unwrap(),
            None,
            vec![("stage_entered_at", old.into()), ("created_at", old.into())],
            Utc::now(),
        )
        .await
        .unwrap();
        let run = t.app.run_alerts(t.org).await.unwrap();
        assert_eq!((run.open, run.written), (3, 3), "{}", t.backend);
        let run = t.app.run_alerts(t.org).await.unwrap();
        assert_eq!(
            (run.open, run.written),
            (3, 0),
            "{}: nothing changed, nothing written",
            t.backend
        );
        let list = |cred: Cred| {
            let t = &t;
            async move {
                let r = t
                    .send(Req::new(Method::GET, "/api/v1/alerts").cred(&cred))
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                r.json()["items"].as_array().unwrap().clone()
            }
        };
        let mine = list(anna_tok.clone()).await;
        let mut kinds: Vec<&str> = mine.iter().map(|a| a["kind"].as_str().unwrap()).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            ["close_date_passed", "idle", "rotting"],
            "{}",
            t.backend
        );
        let rotting = mine.iter().find(|a| a["kind"] == "rotting").unwrap();
        assert_eq!(rotting["link"], json!(format!("/leads/{lead}")));
        assert!(rotting["message"].as_str().unwrap().contains("Alt GmbH"));
        assert_eq!(rotting["detail"]["days"], 20);
        assert_eq!(
            list(boss_tok.clone()).await.len(),
            3,
            "the manager sees the team's"
        );
        let viewer = t.user("vera@test.example", "viewer").await;
        assert!(
            list(t.token(viewer).await).await.is_empty(),
            "a viewer reads no leads, nor their alerts"
        );
        assert!(
            list(otto_tok.clone()).await.is_empty(),
            "another rep sees none"
        );
        let idle = mine.iter().find(|a| a["kind"] == "idle").unwrap();
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/alerts/{}/dismiss", id(idle)))
                    .cred(&otto_tok),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/alerts/{}/dismiss", id(idle)))
                    .cred(&anna_tok),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        t.app.run_alerts(t.org).await.unwrap();
        assert_eq!(
            list(anna_tok.clone()).await.len(),
            2,
            "{}: the dismissal stays",
            t.backend
        );
        // Moving the lead ends the rotting; an activity ends the silence.
        let stage = t
            .send(Req::new(Method::GET, "/api/v1/pipelines").cred(&anna_tok))
            .await
            .json()["items"][0]["stages"][1]["id"]
            .clone();
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{lead}/move"))
                    .cred(&anna_tok)
                    .json(json!({"stage_id": stage})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let run = t.app.run_alerts(t.org).await.unwrap();
        assert_eq!((run.open, run.resolved), (2, 1), "{}", t.backend);
        let left: Vec<Value> = list(anna_tok.clone()).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["kind"], "close_date_passed");
        // German for a German reader.
        let r = t
            .send(
                Req::new(Method::GET, "/api/v1/alerts")
                    .cred(&anna_tok)
                    .header("Accept-Language", "de"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn goals_raise_pace_and_coverage_alerts_and_goal_achieved_events() {
    for t in TestApp::all_with(quick()).await {
        let rx = receiver().await;
        let admin = t.token(t.admin).await;
        register(&t, &admin, &rx.url, json!(["goal.achieved"])).await;
        let rep = t.user("rep@test.example", "rep").await;
        let tok = t.token(rep).await;
        let types = t
            .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&tok))
            .await
            .json();
        let call = types["items"][0]["id"].clone();
        let lead = new_lead(&t, &tok, "Ohne Abschlussdatum KG").await;
        for body in [
            // Reached with one activity this year.
            json!({"assignee": "user", "user_id": rep, "metric": "activities", "activity_type_id": call, "period": "year", "target": 1, "valid_from": "2020-01-01"}),
            // Far out of reach: behind pace, and nothing in the pipeline.
            json!({"assignee": "user", "user_id": rep, "metric": "revenue_won", "period": "year", "target": "9000000", "valid_from": "2020-01-01"}),
        ] {
            let r = t
                .send(
                    Req::new(Method::POST, "/api/v1/goals")
                        .cred(&admin)
                        .json(body),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        let r = t
            .send(Req::new(Method::POST, "/api/v1/activities").cred(&tok).json(json!({"type_id": call, "lead_id": id(&lead), "happened_at": Utc::now() - Duration::minutes(5)})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let run = t.app.run_alerts(t.org).await.unwrap();
        assert_eq!(run.achieved, 1, "{}", t.backend);
        let run = t.app.run_alerts(t.org).await.unwrap();
        assert_eq!(run.achieved, 0, "{}: once per period", t.backend);
        let r = t
            .send(Req::new(Method::GET, "/api/v1/alerts").cred(&tok))
            .await;
        let items = r.json()["items"].as_array().unwrap().clone();
        let kinds: Vec<&str> = items.iter().map(|a| a["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"low_coverage"), "{}: {kinds:?}", t.backend);
        let cov = items.iter().find(|a| a["kind"] == "low_coverage").unwrap();
        assert_eq!(cov["detail"]["coverage"], "0");
        assert_eq!(cov["detail"]["target"], "3");
        deliver_until(&t, || rx.got.len() == 1).await;
        let e = &rx.got.events()[0];
        assert_eq!(e["type"], "goal.achieved");
        assert_eq!(e["data"]["user_id"], json!(rep));
        assert_eq!(e["data"]["actual"], 1);
    }
}

/// An SMTP server (aiosmtpd) on a free loopback port, writing to a Maildir.
struct Smtp {
    port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python with aiosmtpd: the system's when it has it, else a virtual
/// environment under the target directory, made once.
fn python() -> String {
    static PY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PY.get_or_init(|| {
        let has = |py: &str| {
            std::process::Command::new(py)
                .args(["-c", "import aiosmtpd"])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if has("python3") {
            return "python3".into();
        }
        let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("smtp-venv");
        let py = venv.join("bin/python3").display().to_string();
        if !has(&py) {
            let ok = std::process::Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success())
                && std::process::Command::new(&py)
                    .args(["-m", "pip", "install", "-q", "aiosmtpd==1.4.6"])
                    .status()
                    .is_ok_and(|s| s.success());
            assert!(
                ok,
                "cannot install aiosmtpd (python3 with venv and pip is needed)"
            );
        }
        py
    })
    .clone()
}

impl Smtp {
    fn start() -> Smtp {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");
        let mut child = std::process::Command::new(python())
            .args([
                script,
                &port.to_string(),
                &dir.path().join("mail").display().to_string(),
                "digest",
                "s3cret",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP server did not start (is aiosmtpd installed?)"
        );
        Smtp { port, dir, child }
    }

    fn url(&self, password: &str) -> String {
        format!("smtp://digest:{password}@127.0.0.1:{}", self.port)
    }

    /// The messages received, as text.
    fn messages(&self) -> Vec<String> {
        let mut out = vec![];
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.dir.path().join("mail").join(sub)) {
                for e in rd {
                    out.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
                }
            }
        }
        out
    }
}

/// Quoted-printable soft breaks and escapes undone, enough to search the text.
fn unfold(m: &str) -> String {
    m.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
        .replace("=E2=80=93", "–")
}

#[tokio::test]
async fn the_digest_goes_out_once_per_recipient_and_day_over_smtp() {
    let smtp = Smtp::start();
    let mut settings = quick();
    settings.notify.mail = MailConfig::Smtp(smtp.url("s3cret"));
    settings.notify.mail_from = "salesops <sales@test.example>".into();
    settings.notify.base_url = "https://sales.test.example".into();
    for t in TestApp::all_with(settings.clone()).await {
        let before = smtp.messages().len();
        let boss = t
            .user(&format!("boss-{}@test.example", t.backend), "manager")
            .await;
        let anna = t
            .user(&format!("anna-{}@test.example", t.backend), "rep")
            .await;
        let carl = t
            .user(&format!("carl-{}@test.example", t.backend), "rep")
            .await;
        t.team("Nord", Some(boss), &[anna]).await;
        let anna_tok = t.token(anna).await;
        let today = t.app.org_today(t.org).await.unwrap();
        let yesterday = today - Duration::days(1);
        let types = t
            .send(Req::new(Method::GET, "/api/v1/activity-types").cred(&anna_tok))
            .await
            .json();
        let call = types["items"][0]["id"].clone();
        let lead = new_lead(&t, &anna_tok, "Digest AG").await;
        for h in [8, 9, 10] {
            let r = t
                .send(Req::new(Method::POST, "/api/v1/activities").cred(&anna_tok).json(json!({
                    "type_id": call, "lead_id": id(&lead), "happened_at": format!("{yesterday}T{h:02}:30:00Z")})))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/activities")
                    .cred(&anna_tok)
                    .json(json!({
                "type_id": call, "lead_id": id(&lead), "due_at": format!("{today}T13:00:00Z")})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        // Carl opted in, but his address is broken: skipped with a reason.
        let carl_tok = t.token(carl).await;
        let r = t
            .send(
                Req::new(Method::PUT, format!("/api/v1/users/{carl}/digest"))
                    .cred(&carl_tok)
                    .json(json!({"digest": "daily"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = t
            .send(
                Req::new(Method::PUT, format!("/api/v1/users/{carl}/digest"))
                    .cred(&carl_tok)
                    .json(json!({"digest": "hourly"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut c = t.app.db.clone();
        salesops_store::users::update(
            &mut c,
            t.org,
            carl,
            None,
            &salesops_store::users::Patch {
                email: Some("carl-at-nowhere".into()),
                search_text: Some("carl".into()),
                ..Default::default()
            },
            Utc::now(),
        )
        .await
        .unwrap();

        // Two instances plan and send at the same time: one e-mail each.
        let mailer = Mailer::new(&settings.notify.mail).unwrap();
        let other = salesops_app::App::new(t.app.db.clone(), {
            let mut s = settings.clone();
            s.notify.instance = "second".into();
            s
        });
        let r = salesops_web::mail::Renderer;
        let (a, b) = tokio::join!(
            t.app.plan_digests(t.org, today),
            other.plan_digests(t.org, today)
        );
        assert_eq!(
            a.unwrap() + b.unwrap(),
            2,
            "{}: boss and carl, once",
            t.backend
        );
        let (x, y) = tokio::join!(
            t.app.send_due_digests(&mailer, &r),
            other.send_due_digests(&mailer, &r)
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.sent + y.sent, 1, "{}: {x:?} {y:?}", t.backend);
        assert_eq!(x.skipped + y.skipped, 1);
        // Planned again (a restart, a clock that went back): nothing new.
        assert_eq!(t.app.plan_digests(t.org, today).await.unwrap(), 0);
        assert_eq!(
            t.app.send_due_digests(&mailer, &r).await.unwrap(),
            DigestRun::default()
        );
        let msgs = smtp.messages();
        assert_eq!(msgs.len(), before + 1, "{}", t.backend);
        let m = msgs
            .iter()
            .map(|m| unfold(m))
            .find(|m| m.contains(&format!("boss-{}@test.example", t.backend)))
            .unwrap();
        assert!(
            m.contains("Subject: Test GmbH: Ihr Tagesbericht") || m.contains("Subject: =?utf-8?"),
            "{m}"
        );
        assert!(m.contains("multipart/alternative"));
        assert!(
            m.contains(&format!("anna-{}", t.backend)),
            "the member is named"
        );
        assert!(m.contains("Digest AG"), "the activity due today is listed");
        assert!(
            m.contains("https://sales.test.example/leads/"),
            "links into the app"
        );
        assert!(m.contains("3 Aktivit"), "three activities yesterday: {m}");
        // The admin page's list: sent and skipped, with the reason.
        let admin = t.token(t.admin).await;
        let r = t
            .send(Req::new(Method::GET, "/api/v1/digest/sends").cred(&admin))
            .await;
        let items = r.json()["items"].as_array().unwrap().clone();
        let skipped = items.iter().find(|s| s["status"] == "skipped").unwrap();
        assert!(
            skipped["last_error"]
                .as_str()
                .unwrap()
                .contains("e-mail address")
        );
        let r = t
            .send(Req::new(Method::GET, "/api/v1/digest/sends").cred(&anna_tok))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // The preview shows the same e-mail without sending it.
        let boss_tok = t.token(boss).await;
        let r = t
            .send(
                Req::new(Method::GET, format!("/api/v1/digest/preview?date={today}"))
                    .cred(&boss_tok),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let p = r.json();
        assert!(p["text"].as_str().unwrap().contains("Digest AG"));
        assert!(p["html"].as_str().unwrap().contains("<html"));
        assert_eq!(smtp.messages().len(), before + 1);
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/digest/preview?user_id={boss}"),
                )
                .cred(&anna_tok),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "a rep sees only their own");
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    format!("/api/v1/digest/preview?user_id={anna}"),
                )
                .cred(&boss_tok),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "the manager previews a member's");
        let r = t
            .send(Req::new(Method::GET, "/api/v1/digest/preview?date=9999-12-31").cred(&boss_tok))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn a_down_or_refusing_smtp_server_leads_to_retries_not_losses() {
    let smtp = Smtp::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for t in TestApp::all_with(quick()).await {
        let boss = t.user("boss@test.example", "manager").await;
        let anna = t.user("anna@test.example", "rep").await;
        t.team("Nord", Some(boss), &[anna]).await;
        let today = t.app.org_today(t.org).await.unwrap();
        let r = salesops_web::mail::Renderer;
        assert_eq!(t.app.plan_digests(t.org, today).await.unwrap(), 1);
        // The server is down.
        let down = Mailer::new(&MailConfig::Smtp(format!("smtp://127.0.0.1:{dead}"))).unwrap();
        let run = t.app.send_due_digests(&down, &r).await.unwrap();
        assert_eq!(run.retrying, 1, "{}", t.backend);
        // It rejects the login.
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let wrong = Mailer::new(&MailConfig::Smtp(smtp.url("wrong"))).unwrap();
        let run = t.app.send_due_digests(&wrong, &r).await.unwrap();
        assert_eq!(run.retrying, 1, "{}", t.backend);
        let admin = t.token(t.admin).await;
        let r2 = t
            .send(Req::new(Method::GET, "/api/v1/digest/sends").cred(&admin))
            .await;
        let s = r2.json()["items"][0].clone();
        assert_eq!(
            (s["status"].as_str(), s["attempts"].as_i64()),
            (Some("retrying"), Some(2))
        );
        assert!(
            s["last_error"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("auth"),
            "{s}"
        );
        // Not before its time; then delivered once the server takes it.
        let good = Mailer::new(&MailConfig::Smtp(smtp.url("s3cret"))).unwrap();
        assert_eq!(
            t.app.send_due_digests(&good, &r).await.unwrap(),
            DigestRun::default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let run = t.app.send_due_digests(&good, &r).await.unwrap();
        assert_eq!(run.sent, 1, "{}", t.backend);
    }
    assert_eq!(smtp.messages().len(), TestApp::all().await.len());
}

#[tokio::test]
async fn lost_leads_and_converted_prospects_are_reported() {
    for t in TestApp::all_with(quick()).await {
        let rx = receiver().await;
        let admin = t.token(t.admin).await;
        register(
            &t,
            &admin,
            &rx.url,
            json!(["lead.lost", "prospect.converted"]),
        )
        .await;
        let rep = t.user("rep@test.example", "rep").await;
        let team = t.team("SDR", None, &[rep]).await;
        let tok = t.token(rep).await;
        let lead = new_lead(&t, &tok, "Verloren GmbH").await;
        let r = t
            .send(
                Req::new(Method::POST, format!("/api/v1/leads/{}/lose", id(&lead)))
                    .cred(&tok)
                    .json(json!({"reason": "Preis", "competitor": "Konkurrenz AG"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/prospect-lists")
                    .cred(&admin)
                    .json(json!({"name": "Messe", "team_id": team, "reps": [rep]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let list = id(&r.json());
        let r = t
            .send(Req::new(Method::POST, "/api/v1/prospects").cred(&admin)
                .json(json!({"list_id": list, "company_name": "Huber AG", "contact_name": "Max Huber"})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let prospect = id(&r.json());
        let r = t
            .send(
                Req::new(
                    Method::POST,
                    format!("/api/v1/prospects/{prospect}/convert"),
                )
                .cred(&tok)
                .json(json!({})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let new_lead_id = r.json()["lead"]["id"].clone();
        deliver_until(&t, || rx.got.len() == 2).await;
        let events = rx.got.events();
        let lost = events.iter().find(|e| e["type"] == "lead.lost").unwrap();
        assert_eq!(lost["data"]["lost_reason"], "Preis");
        assert_eq!(lost["data"]["competitor"], "Konkurrenz AG");
        let conv = events
            .iter()
            .find(|e| e["type"] == "prospect.converted")
            .unwrap();
        assert_eq!(conv["data"]["prospect_id"], json!(prospect));
        assert_eq!(conv["data"]["lead_id"], new_lead_id);
        assert_eq!(conv["data"]["list_id"], json!(list));
        // Not subscribed: no lead.created for the converted prospect's lead.
        assert_eq!(rx.got.len(), 2, "{}", t.backend);
    }
}
