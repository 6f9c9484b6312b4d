//! The alerts, digest and webhook pages through the real router.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{PASSWORD, TestApp, get, hidden, post, ui_login};

#[tokio::test]
async fn ops_register_a_webhook_and_set_up_the_digest_in_the_browser() {
    let mut settings = salesops_app::Settings::default();
    settings.notify.allow_private_webhooks = false;
    for t in TestApp::all_with(settings).await {
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        let page = t.raw(get("/admin/webhooks", &cookie, "de")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        assert!(page.text().contains("Neuer Endpunkt"));
        let csrf = hidden(&page, "csrf");
        // An internal address is refused in place, in the user's language's page.
        let r = t
            .raw(post(
                "/admin/webhooks",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("url", "http://127.0.0.1/x"),
                    ("events", "lead.won"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("loopback"), "{}", r.text());
        assert!(
            r.text().contains("value=\"lead.won\" checked"),
            "the choice is kept"
        );
        let r = t
            .raw(post(
                "/admin/webhooks",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("url", "https://hooks.example.com/salesops"),
                    ("events", "lead.won"),
                    ("events", "lead.created"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let to = r.header("location").unwrap().to_string();
        let page = t.raw(get(&to, &cookie, "de")).await;
        let html = page.text();
        assert!(
            html.contains("Endpunkt angelegt") && html.contains("whsec_"),
            "{html}"
        );
        assert!(html.contains("value=\"lead.created\" checked"));
        // The test button queues an event that shows in the delivery log.
        let path = to.split('?').next().unwrap().to_string();
        let r = t
            .raw(post(&path, &cookie, &[("csrf", &csrf), ("test", "1")]))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let html = t.raw(get(&path, &cookie, "de")).await.text();
        assert!(
            html.contains("webhook.test") && html.contains("Wartet"),
            "{html}"
        );

        // Digest settings: a bad hour is refused in place; a good one saved.
        let page = t.raw(get("/admin/notifications", &cookie, "de")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        assert!(
            page.text().contains("id=\"mail-off\""),
            "e-mail is not configured here"
        );
        let version = hidden(&page, "version");
        let form = |hour: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("version", version.clone()),
                ("digest_enabled", "1".into()),
                ("digest_hour", hour.into()),
                ("idle_days", "10".into()),
                ("coverage_target", "2,5".into()),
            ]
        };
        let bad = form("25");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = t.raw(post("/admin/notifications", &cookie, &bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("0 to 23"));
        let good = form("6");
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = t.raw(post("/admin/notifications", &cookie, &good)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let html = t
            .raw(get("/admin/notifications?saved=1", &cookie, "de"))
            .await
            .text();
        assert!(
            html.contains("value=\"2,5\"") && html.contains("value=\"6\""),
            "{html}"
        );
        // The same form again at the old version: refused, nothing overwritten.
        let r = t.raw(post("/admin/notifications", &cookie, &good)).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        // A rep has no such pages.
        t.user("rep@test.example", "rep").await;
        let rep = ui_login(&t, "rep@test.example", PASSWORD).await;
        assert_eq!(
            t.raw(get("/admin/webhooks", &rep, "de")).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            t.raw(get("/admin/notifications", &rep, "de")).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn people_read_and_dismiss_alerts_and_preview_their_digest() {
    for t in TestApp::all().await {
        let boss = t.user("boss@test.example", "manager").await;
        let rep = t.user("rep@test.example", "rep").await;
        t.team("Nord", Some(boss), &[rep]).await;
        let rep_actor = t.actor(rep).await;
        let lead = t
            .app
            .create_lead(
                &rep_actor,
                salesops_app::leads::LeadInput {
                    title: Some("Müller & Söhne".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let old = Utc::now() - Duration::days(30);
        let mut c = t.app.db.clone();
        salesops_store::leads::update(
            &mut c,
            t.org,
            lead.id,
            None,
            vec![("created_at", old.into()), ("stage_entered_at", old.into())],
            Utc::now(),
        )
        .await
        .unwrap();
        t.app.run_alerts(t.org).await.unwrap();
        let cookie = ui_login(&t, "rep@test.example", PASSWORD).await;
        let page = t.raw(get("/alerts", &cookie, "de")).await;
        assert_eq!(page.status, StatusCode::OK);
        let html = page.text();
        assert!(
            html.contains("Seit 30 Tagen keine Aktivität bei „Müller &#38; Söhne“"),
            "{html}"
        );
        assert!(html.contains(&format!("/leads/{}", lead.id)));
        let csrf = hidden(&page, "csrf");
        let first = html
            .split("action=\"/alerts/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let r = t
            .raw(post(
                &format!("/alerts/{first}"),
                &cookie,
                &[("csrf", &csrf)],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let html = t.raw(get("/alerts?done=1", &cookie, "de")).await.text();
        assert!(html.contains("Warnung ausgeblendet"));
        assert_eq!(
            html.matches("action=\"/alerts/").count(),
            1,
            "one left: {html}"
        );
        let html = t
            .raw(get("/alerts?dismissed=1", &cookie, "de"))
            .await
            .text();
        assert!(html.contains("ausgeblendet</span>"));

        // The digest: opt in, then preview it.
        let page = t.raw(get("/settings", &cookie, "de")).await;
        assert!(page.text().contains("id=\"digest-form\""));
        let r = t
            .raw(post(
                "/settings/digest",
                &cookie,
                &[("csrf", &csrf), ("digest", "weekly")],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let html = t.raw(get("/settings?digest=1", &cookie, "de")).await.text();
        assert!(html.contains("value=\"weekly\" checked"), "{html}");
        let page = t
            .raw(get("/digest/preview?date=2026-11-23", &cookie, "de"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let html = page.text();
        assert!(html.contains("Ihr Wochenbericht ab 16.11.2026"), "{html}");
        assert!(
            html.contains("srcdoc=\"&#60;!DOCTYPE html&#62;"),
            "the e-mail, escaped into the frame: {html}"
        );
        let page = t
            .raw(get("/digest/preview?date=23.11.", &cookie, "de"))
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The manager previews the rep's digest; the rep not the manager's.
        let bc = ui_login(&t, "boss@test.example", PASSWORD).await;
        let page = t
            .raw(get(&format!("/digest/preview?user={rep}"), &bc, "en"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let page = t
            .raw(get(&format!("/digest/preview?user={boss}"), &cookie, "en"))
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    }
}
