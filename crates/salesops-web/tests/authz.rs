//! The authorization matrix: every role against every endpoint built so far,
//! through the real router, on both databases.

mod common;

use axum::http::{Method, StatusCode};
use common::{Cred, Req, TestApp};
use serde_json::{Value, json};

const ROLES: [&str; 5] = ["admin", "ops", "manager", "rep", "viewer"];

/// The world every role is tested in:
/// team North (managed by the manager; members: rep, colleague),
/// team South (members: outsider), and one user per role.
struct World {
    creds: Vec<(&'static str, Cred, salesops_domain::UserId)>,
    colleague: salesops_domain::UserId,
    outsider: salesops_domain::UserId,
    north: salesops_domain::TeamId,
    south: salesops_domain::TeamId,
    admin_token_id: String,
    colleagues_company: String,
    outsiders_company: String,
    north_list: String,
    south_list: String,
}

/// A prospect on a list (created by the admin), optionally assigned.
async fn prospect(
    t: &TestApp,
    list: &str,
    assigned: Option<salesops_domain::UserId>,
    role: &str,
) -> String {
    let a = t.actor(t.admin).await;
    let input = salesops_app::prospecting::ProspectInput {
        company_name: Some(Some(format!("Prospect for {role}"))),
        assigned_to: assigned.map(Some),
        ..Default::default()
    };
    t.app
        .create_prospect(&a, list.parse().unwrap(), input)
        .await
        .unwrap()
        .id
        .to_string()
}

async fn world(t: &TestApp) -> World {
    let ops = t.user("ops@test.example", "ops").await;
    let manager = t.user("manager@test.example", "manager").await;
    let rep = t.user("rep@test.example", "rep").await;
    let viewer = t.user("viewer@test.example", "viewer").await;
    let colleague = t.user("colleague@test.example", "rep").await;
    let outsider = t.user("outsider@test.example", "rep").await;
    let north = t.team("North", Some(manager), &[rep, colleague]).await;
    let south = t.team("South", None, &[outsider]).await;
    let admin_actor = t.actor(t.admin).await;
    let admin_token = t
        .app
        .create_token(&admin_actor, "matrix", None)
        .await
        .unwrap();
    let mut creds = vec![("admin", Cred::Bearer(admin_token.secret.clone()), t.admin)];
    for (role, id) in [
        ("ops", ops),
        ("manager", manager),
        ("rep", rep),
        ("viewer", viewer),
    ] {
        creds.push((role, t.token(id).await, id));
    }
    let company = |owner: salesops_domain::UserId| {
        let admin_actor = admin_actor.clone();
        async move {
            let input = salesops_app::crm::CompanyInput {
                name: Some(format!("Account of {owner}")),
                owner_id: Some(Some(owner)),
                ..Default::default()
            };
            t.app
                .create_company(&admin_actor, input)
                .await
                .unwrap()
                .id
                .to_string()
        }
    };
    let colleagues_company = company(colleague).await;
    let outsiders_company = company(outsider).await;
    let list =
        |team: salesops_domain::TeamId, reps: Vec<salesops_domain::UserId>, name: &'static str| {
            let admin_actor = admin_actor.clone();
            async move {
                let input = salesops_app::prospecting::ListInput {
                    name: Some(name.into()),
                    team_id: Some(Some(team)),
                    reps: Some(reps),
                    ..Default::default()
                };
                t.app
                    .create_prospect_list(&admin_actor, input)
                    .await
                    .unwrap()
                    .list
                    .id
                    .to_string()
            }
        };
    let north_list = list(north, vec![rep, colleague], "North list").await;
    let south_list = list(south, vec![outsider], "South list").await;
    World {
        creds,
        colleague,
        outsider,
        north,
        south,
        admin_token_id: admin_token.token.id.to_string(),
        colleagues_company,
        outsiders_company,
        north_list,
        south_list,
    }
}

/// The current version of a record, read by the admin.
async fn version(t: &TestApp, admin: &Cred, path: &str) -> String {
    let r = t.send(Req::new(Method::GET, path).cred(admin)).await;
    format!("\"{}\"", r.json()["version"])
}

struct Case {
    name: &'static str,
    /// Expected status per role, in the order of ROLES.
    expect: [u16; 5],
}

#[tokio::test]
async fn every_role_against_every_endpoint() {
    for t in TestApp::all().await {
        let w = world(&t).await;
        let admin = w.creds[0].1.clone();
        let mut failures = vec![];
        let mut checked = 0;
        for (i, role) in ROLES.iter().enumerate() {
            let (_, cred, me) = &w.creds[i];
            let cases: Vec<(Case, Req)> = vec![
                (Case { name: "GET /auth/me", expect: [200; 5] }, Req::new(Method::GET, "/api/v1/auth/me")),
                (Case { name: "GET /users", expect: [200; 5] }, Req::new(Method::GET, "/api/v1/users")),
                (
                    Case { name: "POST /users", expect: [201, 403, 403, 403, 403] },
                    Req::new(Method::POST, "/api/v1/users").json(json!({"email": format!("new-{role}@test.example"), "name": "New", "role": "rep", "password": "long enough pw"})),
                ),
                (Case { name: "GET /users/{self}", expect: [200; 5] }, Req::new(Method::GET, format!("/api/v1/users/{me}"))),
                (
                    Case { name: "GET /users/{same team}", expect: [200, 200, 200, 200, 200] },
                    Req::new(Method::GET, format!("/api/v1/users/{}", w.colleague)),
                ),
                (
                    Case { name: "GET /users/{other team}", expect: [200, 200, 404, 404, 200] },
                    Req::new(Method::GET, format!("/api/v1/users/{}", w.outsider)),
                ),
                (
                    Case { name: "PATCH /users/{self} name", expect: [200; 5] },
                    Req::new(Method::PATCH, format!("/api/v1/users/{me}"))
                        .header("if-match", &version(&t, &admin, &format!("/api/v1/users/{me}")).await)
                        .json(json!({"name": format!("{role} renamed")})),
                ),
                (
                    Case { name: "PATCH /users/{self} role", expect: [422, 403, 403, 403, 403] },
                    Req::new(Method::PATCH, format!("/api/v1/users/{me}"))
                        .header("if-match", &version(&t, &admin, &format!("/api/v1/users/{me}")).await)
                        .json(json!({"role": "rep"})),
                ),
                (
                    Case { name: "PATCH /users/{same team}", expect: [200, 403, 403, 403, 403] },
                    Req::new(Method::PATCH, format!("/api/v1/users/{}", w.colleague))
                        .header("if-match", &version(&t, &admin, &format!("/api/v1/users/{}", w.colleague)).await)
                        .json(json!({"name": "Colleague"})),
                ),
                (
                    Case { name: "PATCH /users/{other team}", expect: [200, 403, 404, 404, 403] },
                    Req::new(Method::PATCH, format!("/api/v1/users/{}", w.outsider))
                        .header("if-match", &version(&t, &admin, &format!("/api/v1/users/{}", w.outsider)).await)
                        .json(json!({"name": "Outsider"})),
                ),
                (
                    Case { name: "DELETE /users/{other team}", expect: [200, 403, 404, 404, 403] },
                    Req::new(Method::DELETE, format!("/api/v1/users/{}", t.user(&format!("leaver-{role}@test.example"), "rep").await)),
                ),
                (Case { name: "GET /teams", expect: [200; 5] }, Req::new(Method::GET, "/api/v1/teams")),
                (
                    Case { name: "POST /teams", expect: [201, 201, 403, 403, 403] },
                    Req::new(Method::POST, "/api/v1/teams").json(json!({"name": format!("Team of {role}"), "segment": "marketing"})),
                ),
                (Case { name: "GET /teams/{own}", expect: [200; 5] }, Req::new(Method::GET, format!("/api/v1/teams/{}", w.north))),
                (
                    Case { name: "GET /teams/{other}", expect: [200, 200, 404, 404, 200] },
                    Req::new(Method::GET, format!("/api/v1/teams/{}", w.south)),
                ),
                (
                    Case { name: "PATCH /teams/{own}", expect: [200, 200, 403, 403, 403] },
                    Req::new(Method::PATCH, format!("/api/v1/teams/{}", w.north))
                        .header("if-match", &version(&t, &admin, &format!("/api/v1/teams/{}", w.north)).await)
                        .json(json!({"segment": "sales"})),
                ),
                (
                    Case { name: "DELETE /teams/{other}", expect: [204, 204, 404, 404, 403] },
                    Req::new(Method::DELETE, format!("/api/v1/teams/{}", t.team(&format!("Doomed {role}"), None, &[]).await)),
                ),
                (Case { name: "GET /api-tokens", expect: [200; 5] }, Req::new(Method::GET, "/api/v1/api-tokens")),
                (
                    Case { name: "POST /api-tokens", expect: [201; 5] },
                    Req::new(Method::POST, "/api/v1/api-tokens").json(json!({"name": "mine"})),
                ),
                (
                    Case { name: "GET /api-tokens/{admin's}", expect: [200, 404, 404, 404, 404] },
                    Req::new(Method::GET, format!("/api/v1/api-tokens/{}", w.admin_token_id)),
                ),
                (
                    Case { name: "GET /api-tokens?all=true", expect: [200; 5] },
                    Req::new(Method::GET, "/api/v1/api-tokens?all=true"),
                ),
                (Case { name: "GET /companies", expect: [200, 200, 200, 200, 403] }, Req::new(Method::GET, "/api/v1/companies")),
                (
                    Case { name: "POST /companies", expect: [201, 201, 201, 201, 403] },
                    Req::new(Method::POST, "/api/v1/companies").json(json!({"name": format!("Co of {role}")})),
                ),
                (
                    Case { name: "GET /companies/{same team's}", expect: [200, 200, 200, 200, 404] },
                    Req::new(Method::GET, format!("/api/v1/companies/{}", w.colleagues_company)),
                ),
                (
                    Case { name: "GET /companies/{other team's}", expect: [200, 200, 404, 404, 404] },
                    Req::new(Method::GET, format!("/api/v1/companies/{}", w.outsiders_company)),
                ),
                (
                    Case { name: "PATCH /companies/{same team's}", expect: [200, 200, 200, 403, 404] },
                    Req::new(Method::PATCH, format!("/api/v1/companies/{}", w.colleagues_company))
                        .header("if-match", &version(&t, &admin, &format!("/api/v1/companies/{}", w.colleagues_company)).await)
                        .json(json!({"industry": role})),
                ),
                (
                    Case { name: "DELETE /companies/{other team's}", expect: [204, 204, 404, 404, 404] },
                    {
                        let a = t.actor(t.admin).await;
                        let input = salesops_app::crm::CompanyInput { name: Some(format!("Doomed co {role}")), owner_id: Some(Some(w.outsider)), ..Default::default() };
                        let id = t.app.create_company(&a, input).await.unwrap().id;
                        Req::new(Method::DELETE, format!("/api/v1/companies/{id}"))
                    },
                ),
                (Case { name: "GET /contacts", expect: [200, 200, 200, 200, 403] }, Req::new(Method::GET, "/api/v1/contacts")),
                (Case { name: "GET /pipelines", expect: [200; 5] }, Req::new(Method::GET, "/api/v1/pipelines")),
                (Case { name: "GET /activity-types", expect: [200; 5] }, Req::new(Method::GET, "/api/v1/activity-types")),
                (Case { name: "GET /leads", expect: [200, 200, 200, 200, 403] }, Req::new(Method::GET, "/api/v1/leads")),
                (Case { name: "GET /activities", expect: [200, 200, 200, 200, 403] }, Req::new(Method::GET, "/api/v1/activities")),
                (Case { name: "GET /exchange-rates", expect: [200; 5] }, Req::new(Method::GET, "/api/v1/exchange-rates")),
                (
                    Case { name: "PUT /exchange-rates/{c}/{d}", expect: [200, 200, 403, 403, 403] },
                    Req::new(Method::PUT, "/api/v1/exchange-rates/CHF/2026-01-01").json(json!({"rate": "1.07"})),
                ),
                (
                    Case { name: "POST /leads", expect: [201, 201, 201, 201, 403] },
                    Req::new(Method::POST, "/api/v1/leads").json(json!({"title": format!("Lead of {role}")})),
                ),
                (
                    Case { name: "POST /leads/{other team's}/win", expect: [200, 200, 404, 404, 404] },
                    {
                        let a = t.actor(t.admin).await;
                        let input = salesops_app::leads::LeadInput { title: Some(format!("Won by {role}?")), owner_id: Some(Some(w.outsider)), ..Default::default() };
                        let id = t.app.create_lead(&a, input).await.unwrap().id;
                        Req::new(Method::POST, format!("/api/v1/leads/{id}/win"))
                    },
                ),
                (
                    Case { name: "POST /leads/{same team's}/move", expect: [200, 200, 200, 403, 404] },
                    {
                        let a = t.actor(t.admin).await;
                        let input = salesops_app::leads::LeadInput { title: Some(format!("Moved by {role}?")), owner_id: Some(Some(w.colleague)), ..Default::default() };
                        let lead = t.app.create_lead(&a, input).await.unwrap();
                        let p = t.app.get_pipeline(&a, lead.pipeline_id).await.unwrap();
                        Req::new(Method::POST, format!("/api/v1/leads/{}/move", lead.id)).json(json!({"stage_id": p.stages[1].id}))
                    },
                ),
                (
                    Case { name: "POST /activity-types", expect: [201, 201, 403, 403, 403] },
                    Req::new(Method::POST, "/api/v1/activity-types").json(json!({"name": format!("Type of {role}"), "kind": "task"})),
                ),
                (
                    Case { name: "POST /pipelines", expect: [201, 201, 403, 403, 403] },
                    Req::new(Method::POST, "/api/v1/pipelines").json(json!({"name": format!("Pipeline of {role}")})),
                ),
                (
                    Case { name: "POST /pipelines/{id}/stages", expect: [201, 201, 403, 403, 403] },
                    {
                        let p = t.send(Req::new(Method::GET, "/api/v1/pipelines").cred(&admin)).await.json()["items"][0]["id"].as_str().unwrap().to_string();
                        Req::new(Method::POST, format!("/api/v1/pipelines/{p}/stages")).json(json!({"name": format!("Stage of {role}"), "win_probability": 5}))
                    },
                ),
                (Case { name: "GET /prospect-lists", expect: [200, 200, 200, 200, 403] }, Req::new(Method::GET, "/api/v1/prospect-lists")),
                (Case { name: "GET /prospects", expect: [200, 200, 200, 200, 403] }, Req::new(Method::GET, "/api/v1/prospects")),
                (
                    Case { name: "POST /prospect-lists", expect: [201, 201, 201, 403, 403] },
                    Req::new(Method::POST, "/api/v1/prospect-lists").json(json!({"name": format!("List of {role}"), "team_id": w.north})),
                ),
                (
                    Case { name: "GET /prospect-lists/{own team's}", expect: [200, 200, 200, 200, 404] },
                    Req::new(Method::GET, format!("/api/v1/prospect-lists/{}", w.north_list)),
                ),
                (
                    Case { name: "GET /prospect-lists/{other team's}", expect: [200, 200, 404, 404, 404] },
                    Req::new(Method::GET, format!("/api/v1/prospect-lists/{}", w.south_list)),
                ),
                (
                    Case { name: "PATCH /prospect-lists/{own team's}", expect: [200, 200, 200, 403, 404] },
                    Req::new(Method::PATCH, format!("/api/v1/prospect-lists/{}", w.north_list))
                        .header("if-match", &version(&t, &admin, &format!("/api/v1/prospect-lists/{}", w.north_list)).await)
                        .json(json!({"description": role})),
                ),
                (
                    Case { name: "POST /prospects (own team's list)", expect: [201, 201, 201, 403, 404] },
                    Req::new(Method::POST, "/api/v1/prospects").json(json!({"list_id": w.north_list, "company_name": format!("Added by {role}")})),
                ),
                (
                    Case { name: "POST /prospects/{unassigned, own team's}/disqualify", expect: [200, 200, 200, 200, 404] },
                    Req::new(Method::POST, format!("/api/v1/prospects/{}/disqualify", prospect(&t, &w.north_list, None, role).await)),
                ),
                (
                    Case { name: "POST /prospects/{colleague's}/disqualify", expect: [200, 200, 200, 403, 404] },
                    Req::new(Method::POST, format!("/api/v1/prospects/{}/disqualify", prospect(&t, &w.north_list, Some(w.colleague), role).await)),
                ),
                (
                    Case { name: "POST /prospects/{other team's}/convert", expect: [201, 201, 404, 404, 404] },
                    Req::new(Method::POST, format!("/api/v1/prospects/{}/convert", prospect(&t, &w.south_list, None, role).await)),
                ),
                (Case { name: "GET /scripts", expect: [200; 5] }, Req::new(Method::GET, "/api/v1/scripts")),
                (
                    Case { name: "POST /scripts", expect: [201, 201, 403, 403, 403] },
                    Req::new(Method::POST, "/api/v1/scripts").json(json!({"name": format!("Script of {role}"), "questions": [{"text": "Budget?", "kind": "number"}]})),
                ),
                (
                    Case { name: "POST /contacts", expect: [201, 201, 201, 201, 403] },
                    Req::new(Method::POST, "/api/v1/contacts").json(json!({"name": format!("Contact of {role}"), "company_id": w.colleagues_company})),
                ),
            ];
            for (case, req) in cases {
                let r = t.send(req.cred(cred)).await;
                checked += 1;
                if r.status.as_u16() != case.expect[i] {
                    failures.push(format!(
                        "{} as {role}: expected {}, got {} {}",
                        case.name,
                        case.expect[i],
                        r.status,
                        r.text()
                    ));
                }
                if r.status.is_client_error() {
                    assert_eq!(
                        r.header("content-type"),
                        Some("application/problem+json"),
                        "{} as {role}",
                        case.name
                    );
                }
            }
            // Non-admins listing "all" tokens still see only their own.
            let r = t
                .send(Req::new(Method::GET, "/api/v1/api-tokens?all=true").cred(cred))
                .await;
            let owners: Vec<Value> = r.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["user_id"].clone())
                .collect();
            if *role != "admin" {
                assert!(
                    owners.iter().all(|o| *o == json!(me)),
                    "{role} saw other people's tokens"
                );
            }
            // Lists are scoped: managers and reps see only their teams' people.
            let r = t
                .send(Req::new(Method::GET, "/api/v1/users?limit=200").cred(cred))
                .await;
            let ids: Vec<Value> = r.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].clone())
                .collect();
            let sees_outsider = ids.contains(&json!(w.outsider));
            assert_eq!(
                sees_outsider,
                matches!(*role, "admin" | "ops" | "viewer"),
                "{role} user list scope"
            );
            let r = t
                .send(Req::new(Method::GET, "/api/v1/teams?limit=200").cred(cred))
                .await;
            let ids: Vec<Value> = r.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].clone())
                .collect();
            assert_eq!(
                ids.contains(&json!(w.south)),
                matches!(*role, "admin" | "ops" | "viewer"),
                "{role} team list scope"
            );
        }
        assert!(
            failures.is_empty(),
            "{}: {} of {checked} checks failed:\n{}",
            t.backend,
            failures.len(),
            failures.join("\n")
        );
        assert!(checked >= 100);
    }
}

#[tokio::test]
async fn every_endpoint_refuses_anonymous_callers() {
    for t in TestApp::all().await {
        let id = "0190c5a4-0000-7000-8000-000000000000";
        let endpoints = [
            (Method::GET, "/api/v1/auth/me".to_string()),
            (Method::POST, "/api/v1/auth/logout".to_string()),
            (Method::GET, "/api/v1/users".to_string()),
            (Method::POST, "/api/v1/users".to_string()),
            (Method::GET, format!("/api/v1/users/{id}")),
            (Method::PATCH, format!("/api/v1/users/{id}")),
            (Method::DELETE, format!("/api/v1/users/{id}")),
            (Method::GET, "/api/v1/teams".to_string()),
            (Method::POST, "/api/v1/teams".to_string()),
            (Method::GET, format!("/api/v1/teams/{id}")),
            (Method::PATCH, format!("/api/v1/teams/{id}")),
            (Method::DELETE, format!("/api/v1/teams/{id}")),
            (Method::GET, "/api/v1/api-tokens".to_string()),
            (Method::POST, "/api/v1/api-tokens".to_string()),
            (Method::GET, format!("/api/v1/api-tokens/{id}")),
            (Method::DELETE, format!("/api/v1/api-tokens/{id}")),
            (Method::GET, "/api/v1/companies".to_string()),
            (Method::POST, "/api/v1/companies".to_string()),
            (Method::GET, format!("/api/v1/companies/{id}")),
            (Method::PATCH, format!("/api/v1/companies/{id}")),
            (Method::DELETE, format!("/api/v1/companies/{id}")),
            (Method::GET, "/api/v1/contacts".to_string()),
            (Method::POST, "/api/v1/contacts".to_string()),
            (Method::GET, format!("/api/v1/contacts/{id}")),
            (Method::PATCH, format!("/api/v1/contacts/{id}")),
            (Method::DELETE, format!("/api/v1/contacts/{id}")),
            (Method::GET, "/api/v1/pipelines".to_string()),
            (Method::POST, "/api/v1/pipelines".to_string()),
            (Method::GET, format!("/api/v1/pipelines/{id}")),
            (Method::PATCH, format!("/api/v1/pipelines/{id}")),
            (Method::DELETE, format!("/api/v1/pipelines/{id}")),
            (Method::POST, format!("/api/v1/pipelines/{id}/stages")),
            (Method::POST, format!("/api/v1/pipelines/{id}/stages/order")),
            (Method::PATCH, format!("/api/v1/pipelines/{id}/stages/{id}")),
            (
                Method::DELETE,
                format!("/api/v1/pipelines/{id}/stages/{id}"),
            ),
        ];
        for (m, p) in endpoints {
            let r = t.send(Req::new(m.clone(), &p).json(json!({}))).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{} {m} {p}", t.backend);
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
        }
    }
}
