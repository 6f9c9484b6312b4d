//! The goals and planner pages through the real router.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, TestApp, get, hidden, post, ui_login};

#[tokio::test]
async fn a_manager_sets_a_goal_and_the_rep_sees_it_on_the_home_page() {
    for t in TestApp::all().await {
        let boss = t.user("boss@test.example", "manager").await;
        let rep = t.user("rep@test.example", "rep").await;
        let team = t.team("Vertrieb Nord", Some(boss), &[rep]).await;
        let cookie = ui_login(&t, "boss@test.example", PASSWORD).await;
        let page = t.raw(get("/goals", &cookie, "en")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        assert!(page.text().contains("id=\"goal-form\""));
        let csrf = hidden(&page, "csrf");
        // A target of zero is refused in place and nothing is saved.
        let form = |target: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("assignee", "each_member".to_string()),
                ("team_id", team.to_string()),
                ("metric", "leads_created".to_string()),
                ("period", "month".to_string()),
                ("target", target.to_string()),
            ]
        };
        let bad = form("0");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = t.raw(post("/goals", &cookie, &bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(r.text().contains("must be more than zero"), "{}", r.text());
        let good = form("4");
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = t.raw(post("/goals", &cookie, &good)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = t.raw(get("/goals", &cookie, "en")).await;
        let html = page.text();
        // Users speak German unless they chose otherwise.
        assert!(
            html.contains("Angelegte Leads") && html.contains("rep"),
            "{html}"
        );
        assert!(html.contains("id=\"goal-progress\""), "{html}");
        // Raise the target in place; a second change at the old version is refused.
        let id = html
            .split("action=\"/goals/")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let path = format!("/goals/{id}");
        let edit = |target: &'static str| {
            post(
                &path,
                &cookie,
                &[
                    ("csrf", csrf.as_str()),
                    ("version", "1"),
                    ("target", target),
                    ("valid_until", ""),
                ],
            )
        };
        let r = t.raw(edit("6")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let r = t.raw(edit("7")).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.text());
        let page = t.raw(get("/goals?updated=1", &cookie, "en")).await;
        assert!(page.text().contains("Ziel geändert."));
        assert!(page.text().contains("value=\"6\""), "{}", page.text());

        // The rep's home page shows the goal with its pace.
        let rep_cookie = ui_login(&t, "rep@test.example", PASSWORD).await;
        let home = t.raw(get("/home", &rep_cookie, "de")).await;
        let html = home.text();
        assert!(html.contains("Ihre Ziele"), "{html}");
        assert!(html.contains("Angelegte Leads"), "{html}");
        assert!(html.contains("<meter"), "{html}");
    }
}

#[tokio::test]
async fn the_planner_page_computes_the_seeds_example_and_applies_it() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let sdr = t.user("sdr@test.example", "rep").await;
        let admin = t.actor(t.admin).await;
        t.app
            .create_team(
                &admin,
                salesops_app::teams::NewTeam {
                    name: "Kaltakquise".into(),
                    segment: "prospecting".into(),
                    member_ids: vec![sdr],
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let _ = ops;
        let cookie = ui_login(&t, "ops@test.example", PASSWORD).await;
        let q = "/planner?target=90000&from=2027-01-01&to=2027-04-01&source=manual&split=evenly\
                 &deal_size=30000&leads_per_deal=4&prospects_per_lead=20&calls_per_prospect=3\
                 &calls_per_lead=8&meetings_per_lead=1&proposals_per_lead=2";
        let page = t.raw(get(q, &cookie, "en")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let html = page.text();
        assert!(html.contains("id=\"plan-totals\""), "{html}");
        for n in ["720", "240", "96"] {
            assert!(
                html.contains(&format!("<td class=\"num\">{n}</td>")),
                "{n} in {html}"
            );
        }
        assert!(html.contains("Von Hand"), "{html}");
        // A zero ratio is named next to its field.
        let bad = q.replace("leads_per_deal=4", "leads_per_deal=0");
        let page = t.raw(get(&bad, &cookie, "en")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.text().contains("must be more than zero"));
        // Applying writes the goals and says how many.
        let page = t.raw(get(q, &cookie, "en")).await;
        let csrf = hidden(&page, "csrf");
        let mut form = vec![("csrf", csrf.as_str())];
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(q.split_once('?').unwrap().1.as_bytes())
                .into_owned()
                .collect();
        form.extend(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let r = t.raw(post("/planner/apply", &cookie, &form)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(r.header("location"), Some("/goals?applied=1"));
        let page = t.raw(get("/goals?applied=1", &cookie, "en")).await;
        assert!(
            page.text().contains("1 Ziele aus dem Plan gesetzt"),
            "{}",
            page.text()
        );
    }
}

#[tokio::test]
async fn report_pages_and_the_dashboard_render_with_drill_down() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let admin = t.actor(t.admin).await;
        let lead = t
            .app
            .create_lead(
                &admin,
                salesops_app::leads::LeadInput {
                    title: Some("Fräsmaschine".into()),
                    owner_id: Some(Some(rep)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        t.app.win_lead(&admin, lead.id, None).await.unwrap();
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        for kind in ["activity", "prospecting", "pipeline", "team", "company"] {
            let page = t
                .raw(get(
                    &format!("/reports/{kind}?preset=this_month"),
                    &cookie,
                    "de",
                ))
                .await;
            assert_eq!(page.status, StatusCode::OK, "{kind}: {}", page.text());
            assert!(page.text().contains("id=\"report\""), "{kind}");
        }
        // The won lead is one click away from the team report.
        let page = t
            .raw(get("/reports/team?preset=this_month", &cookie, "de"))
            .await;
        let html = page.text();
        assert!(html.contains("<svg class=\"chart\""), "a chart: {html}");
        assert!(
            html.contains("<select name=\"by\">"),
            "rows per member or team: {html}"
        );
        let per_team = t
            .raw(get(
                "/reports/team?preset=this_month&by=team",
                &cookie,
                "de",
            ))
            .await;
        assert_eq!(per_team.status, StatusCode::OK, "{}", per_team.text());
        assert!(
            per_team
                .text()
                .contains("<option value=\"team\" selected>Team</option>"),
            "{}",
            per_team.text()
        );
        let href = html
            .split("href=\"")
            .map(|s| s.split('"').next().unwrap())
            .find(|h| h.starts_with("/reports/drill?what=won"))
            .unwrap_or_else(|| panic!("a drill-down link in {html}"))
            .replace("&amp;", "&");
        let drill = t.raw(get(&href, &cookie, "de")).await;
        assert_eq!(drill.status, StatusCode::OK, "{}", drill.text());
        assert!(drill.text().contains("Fräsmaschine"), "{}", drill.text());
        assert!(drill.text().contains(&format!("/leads/{}", lead.id)));
        // Bad filters are a readable page, not a 500.
        let bad = t
            .raw(get(
                "/reports/team?from=2026-05-01&to=2026-04-01",
                &cookie,
                "de",
            ))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let missing = t.raw(get("/reports/gossip", &cookie, "de")).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        let dash = t.raw(get("/dashboard", &cookie, "de")).await;
        assert_eq!(dash.status, StatusCode::OK, "{}", dash.text());
        let html = dash.text();
        assert!(
            html.contains("id=\"kpi-tiles\"") && html.contains("Umsatz"),
            "{html}"
        );
        assert!(html.contains("id=\"leaderboard\"") && html.contains("id=\"funnel\""));
        // Every KPI, and why the ones without inputs are empty, in German.
        assert!(
            html.contains("Alle Kennzahlen") && html.contains("es gibt noch keine Verträge"),
            "{html}"
        );
    }
}
