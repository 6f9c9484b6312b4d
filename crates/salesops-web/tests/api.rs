//! API behaviour through the real router on both databases.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Cred, PASSWORD, Req, TestApp};
use salesops_app::Settings;
use serde_json::json;

#[tokio::test]
async fn health_ready_and_openapi() {
    for t in TestApp::all().await {
        let r = t.send(Req::new(Method::GET, "/healthz")).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::OK, "ok"),
            "{}",
            t.backend
        );
        let r = t.send(Req::new(Method::GET, "/readyz")).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = t.send(Req::new(Method::GET, "/api/v1/openapi.json")).await;
        assert_eq!(r.status, StatusCode::OK);
        let doc = r.json();
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        for p in [
            "/api/v1/users",
            "/api/v1/users/{id}",
            "/api/v1/teams",
            "/api/v1/teams/{id}",
            "/api/v1/api-tokens",
            "/api/v1/api-tokens/{id}",
            "/api/v1/auth/login",
            "/api/v1/goals",
            "/api/v1/goals/{id}",
            "/api/v1/goals/progress",
            "/api/v1/planner",
            "/api/v1/planner/apply",
            "/api/v1/kpis",
            "/api/v1/forecast",
            "/api/v1/reports/{kind}",
        ] {
            assert!(doc["paths"].get(p).is_some(), "OpenAPI lacks {p}");
        }
        assert!(doc["components"]["schemas"].get("Problem").is_some());
        let r = t.send(Req::new(Method::GET, "/api/docs/")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text().to_lowercase().contains("swagger"));
    }
}

#[tokio::test]
async fn sign_in_sets_a_safe_cookie_and_bad_credentials_look_alike() {
    for t in TestApp::all().await {
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/auth/login")
                    .json(json!({"email": "ADMIN@test.example ", "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", t.backend, r.text());
        let set = r.header("set-cookie").unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
            "{set}"
        );
        assert_eq!(r.json()["user"]["email"], "admin@test.example");

        let wrong = t
            .send(
                Req::new(Method::POST, "/api/v1/auth/login")
                    .json(json!({"email": "admin@test.example", "password": "not the password"})),
            )
            .await;
        let unknown = t
            .send(
                Req::new(Method::POST, "/api/v1/auth/login")
                    .json(json!({"email": "nobody@test.example", "password": "not the password"})),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            wrong.body, unknown.body,
            "wrong password and unknown e-mail answer alike"
        );
        assert_eq!(
            wrong.header("content-type"),
            Some("application/problem+json")
        );

        // A deactivated user cannot sign in.
        let rep = t.user("rep@test.example", "rep").await;
        let admin = t.token(t.admin).await;
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/users/{rep}")).cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/auth/login")
                    .json(json!({"email": "rep@test.example", "password": PASSWORD})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_account_and_per_address() {
    let settings = Settings {
        max_failures_per_account: 3,
        max_failures_per_ip: 5,
        ..Settings::default()
    };
    for t in TestApp::all_with(settings).await {
        let login = |email: &str, pw: &str, ip: &str| {
            Req::new(Method::POST, "/api/v1/auth/login")
                .json(json!({"email": email, "password": pw}))
                .ip(ip)
        };
        for _ in 0..3 {
            assert_eq!(
                t.send(login("admin@test.example", "wrong password", "10.0.0.1"))
                    .await
                    .status,
                StatusCode::UNAUTHORIZED
            );
        }
        // Locked for this account, even with the right password and from elsewhere.
        let r = t
            .send(login("admin@test.example", PASSWORD, "10.0.0.2"))
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", t.backend);
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
        assert_eq!(r.json()["type"], "urn:salesops:problem:too-many-attempts");
        // Per address: failures across different accounts add up.
        for i in 0..2 {
            t.send(login(&format!("guess{i}@test.example"), "x", "10.0.0.1"))
                .await;
        }
        let r = t.send(login("someone@test.example", "x", "10.0.0.1")).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", t.backend);
        // Another address is unaffected.
        let r = t.send(login("someone@test.example", "x", "10.0.0.9")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn session_requests_need_the_csrf_token_and_logout_ends_the_session() {
    for t in TestApp::all().await {
        let s = t.login("admin@test.example", PASSWORD).await;
        let Cred::Session { cookie, .. } = &s else {
            unreachable!()
        };
        let no_csrf = Cred::Session {
            cookie: cookie.clone(),
            csrf: String::new(),
        };
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/teams")
                    .json(json!({"name": "A", "segment": "sales"}))
                    .cred(&no_csrf),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", t.backend);
        assert_eq!(r.json()["type"], "urn:salesops:problem:csrf");
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/teams")
                    .json(json!({"name": "A", "segment": "sales"}))
                    .cred(&s),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        // Reading needs no token.
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/teams").cred(&no_csrf))
                .await
                .status,
            StatusCode::OK
        );
        let r = t
            .send(Req::new(Method::POST, "/api/v1/auth/logout").cred(&s))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/auth/me").cred(&s))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn api_tokens_act_as_their_user_until_revoked() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let tok = t.token(rep).await;
        let r = t
            .send(Req::new(Method::GET, "/api/v1/auth/me").cred(&tok))
            .await;
        assert_eq!(r.json()["user"]["role"], "rep", "{}", t.backend);
        assert_eq!(r.json()["csrf_token"], serde_json::Value::Null);
        // The rep's permissions, not more.
        let r = t.send(Req::new(Method::POST, "/api/v1/users").cred(&tok).json(json!({"email": "x@test.example", "name": "X", "role": "admin", "password": "long enough pw"}))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // Created through the API, the secret is shown once and stored hashed.
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/api-tokens")
                    .cred(&tok)
                    .json(json!({"name": "zapier"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let secret = r.json()["secret"].as_str().unwrap().to_string();
        let id = r.json()["token"]["id"].as_str().unwrap().to_string();
        assert!(secret.starts_with("so_") && secret.len() > 40);
        let listed = t
            .send(Req::new(Method::GET, "/api/v1/api-tokens").cred(&tok))
            .await;
        assert!(
            !listed.text().contains(&secret),
            "the secret is never shown again"
        );
        let second = Cred::Bearer(secret);
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/auth/me").cred(&second))
                .await
                .status,
            StatusCode::OK
        );
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/api-tokens/{id}")).cred(&tok))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.json()["revoked_at"].is_string());
        let r = t
            .send(Req::new(Method::GET, "/api/v1/auth/me").cred(&second))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.json()["detail"].as_str().unwrap().contains("revoked"));
        // Garbage and a malformed header.
        let bad = Cred::Bearer("so_not-a-token".into());
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/users").cred(&bad))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
        let r = t
            .send(Req::new(Method::GET, "/api/v1/users").header("authorization", "Basic abc"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // A token that expires in the past is refused.
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/api-tokens")
                    .cred(&tok)
                    .json(json!({"name": "old", "expires_at": "2020-01-01T00:00:00Z"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem_fields(), vec!["expires_at"]);
        // Deactivating the user stops their tokens.
        let admin = t.token(t.admin).await;
        t.send(Req::new(Method::DELETE, format!("/api/v1/users/{rep}")).cred(&admin))
            .await;
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/auth/me").cred(&tok))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn bad_input_gets_problem_documents() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let post = |body: &'static str, ct: &'static str| {
            let Cred::Bearer(tok) = &admin else {
                unreachable!()
            };
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/teams")
                .header(header::AUTHORIZATION, format!("Bearer {tok}"))
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap()
        };
        let r = t.raw(post("{\"name\": ", "application/json")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", t.backend);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(r.json()["status"], 400);
        let r = t
            .raw(post("name=x", "application/x-www-form-urlencoded"))
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let r = t
            .raw(post(
                r#"{"name": "A", "segment": "sales", "colour": "red"}"#,
                "application/json",
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.problem_fields(), vec!["colour"]);
        let r = t
            .raw(post(
                r#"{"name": 7, "segment": "sales"}"#,
                "application/json",
            ))
            .await;
        assert_eq!(r.problem_fields(), vec!["name"]);
        let r = t
            .raw(post(
                r#"{"name": "", "segment": "space"}"#,
                "application/json",
            ))
            .await;
        assert_eq!(r.problem_fields(), vec!["name", "segment"]);
        let big = format!(
            r#"{{"name": "{}", "segment": "sales"}}"#,
            "x".repeat(2 * 1024 * 1024)
        );
        let big: &'static str = Box::leak(big.into_boxed_str());
        let r = t.raw(post(big, "application/json")).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        // Ids that do not exist or are not ids at all.
        let r = t
            .send(
                Req::new(
                    Method::GET,
                    "/api/v1/teams/0190c5a4-0000-7000-8000-000000000000",
                )
                .cred(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/teams/not-an-id").cred(&admin))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let r = t
            .send(Req::new(Method::GET, "/api/v1/users?cursor=zzz").cred(&admin))
            .await;
        assert_eq!(r.problem_fields(), vec!["cursor"]);
        let r = t
            .send(Req::new(Method::GET, "/api/v1/users?limit=500").cred(&admin))
            .await;
        assert_eq!(r.problem_fields(), vec!["limit"]);
        let r = t
            .send(Req::new(Method::GET, "/api/v1/users?role=boss").cred(&admin))
            .await;
        assert_eq!(r.problem_fields(), vec!["role"]);
        // Several invalid fields at once, each named; nothing is written.
        let r = t.send(Req::new(Method::POST, "/api/v1/users").cred(&admin).json(json!({"email": "no", "name": " ", "role": "boss", "password": "short", "time_zone": "Mars/Base", "hire_date": "2025-01-02", "leave_date": "2024-01-01"}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let mut f = r.problem_fields();
        f.sort();
        assert_eq!(
            f,
            vec![
                "email",
                "leave_date",
                "name",
                "password",
                "role",
                "time_zone"
            ]
        );
        let r = t
            .send(Req::new(Method::GET, "/api/v1/users").cred(&admin))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
        // A duplicate e-mail is a field error, not a crash.
        let r = t.send(Req::new(Method::POST, "/api/v1/users").cred(&admin).json(json!({"email": "ADMIN@test.example", "name": "Twin", "role": "rep", "password": "long enough pw"}))).await;
        assert_eq!(r.problem_fields(), vec!["email"]);
    }
}

#[tokio::test]
async fn lists_are_paginated_with_stable_cursors() {
    for t in TestApp::all().await {
        for i in 0..6 {
            t.user(&format!("u{i}@test.example"), "rep").await;
        }
        let admin = t.token(t.admin).await;
        let mut seen = vec![];
        let mut path = "/api/v1/users?limit=3".to_string();
        let mut pages = 0;
        loop {
            let r = t.send(Req::new(Method::GET, &path).cred(&admin)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let j = r.json();
            pages += 1;
            for u in j["items"].as_array().unwrap() {
                seen.push(u["id"].as_str().unwrap().to_string());
            }
            match j["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/users?limit=3&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(pages, 3, "{}", t.backend);
        let mut uniq = seen.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), 7);
        assert_eq!(uniq, seen, "ordered by id");
        let r = t
            .send(Req::new(Method::GET, "/api/v1/users?q=U3&role=rep&active=true").cred(&admin))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn if_match_prevents_lost_updates() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let team = t.team("Nord", None, &[]).await;
        let path = format!("/api/v1/teams/{team}");
        let r = t.send(Req::new(Method::GET, &path).cred(&admin)).await;
        assert_eq!(r.header("etag"), Some("\"1\""));
        let r = t
            .send(
                Req::new(Method::PATCH, &path)
                    .cred(&admin)
                    .json(json!({"name": "Nord 2"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_REQUIRED, "{}", t.backend);
        let a = t
            .send(
                Req::new(Method::PATCH, &path)
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"name": "From A"})),
            )
            .await;
        let b = t
            .send(
                Req::new(Method::PATCH, &path)
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"name": "From B"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("etag"), Some("\"2\""));
        assert_eq!(b.status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(b.json()["type"], "urn:salesops:problem:stale-version");
        let r = t.send(Req::new(Method::GET, &path).cred(&admin)).await;
        assert_eq!(
            r.json()["name"],
            "From A",
            "the second writer changed nothing"
        );
        let r = t
            .send(
                Req::new(Method::PATCH, &path)
                    .cred(&admin)
                    .header("if-match", "soon")
                    .json(json!({"name": "x"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn concurrent_updates_with_one_version_let_exactly_one_win() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let team = t.team("Nord", None, &[]).await;
        let path = format!("/api/v1/teams/{team}");
        let reqs = (0..6).map(|i| {
            t.send(
                Req::new(Method::PATCH, &path)
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"name": format!("Writer {i}")})),
            )
        });
        let results = futures::future::join_all(reqs).await;
        let ok = results
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        let stale = results
            .iter()
            .filter(|r| r.status == StatusCode::PRECONDITION_FAILED)
            .count();
        assert_eq!((ok, stale), (1, 5), "{}", t.backend);
    }
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_result() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let create = |name: &str, key: Option<&str>| {
            let mut r = Req::new(Method::POST, "/api/v1/teams")
                .cred(&admin)
                .json(json!({"name": name, "segment": "sales"}));
            if let Some(k) = key {
                r = r.header("idempotency-key", k);
            }
            r
        };
        let a = t.send(create("Süd", Some("key-1"))).await;
        let b = t.send(create("Süd", Some("key-1"))).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", t.backend);
        assert_eq!(b.status, StatusCode::CREATED);
        assert_eq!(a.json()["id"], b.json()["id"]);
        assert_eq!(b.header("idempotent-replayed"), Some("true"));
        let c = t.send(create("West", Some("key-1"))).await;
        assert_eq!(c.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(c.problem_fields(), vec!["Idempotency-Key"]);
        // A replayed validation error stays the same error.
        let e1 = t.send(create("", Some("key-2"))).await;
        let e2 = t.send(create("", Some("key-2"))).await;
        assert_eq!((e1.status, e1.body.clone()), (e2.status, e2.body));
        let r = t
            .send(Req::new(Method::GET, "/api/v1/teams").cred(&admin))
            .await;
        assert_eq!(
            r.json()["items"].as_array().unwrap().len(),
            1,
            "one team, not two"
        );
        // Keys are per user: another user's same key is independent.
        let ops = t.user("ops@test.example", "ops").await;
        let ops = t.token(ops).await;
        let r = t
            .send(
                Req::new(Method::POST, "/api/v1/teams")
                    .cred(&ops)
                    .header("idempotency-key", "key-1")
                    .json(json!({"name": "Ost", "segment": "marketing"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.json()["name"], "Ost");
    }
}

#[tokio::test]
async fn a_password_change_ends_every_session() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let s1 = t.login("rep@test.example", PASSWORD).await;
        let s2 = t.login("rep@test.example", PASSWORD).await;
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/users/{rep}")).cred(&s1))
            .await;
        let v = r.json()["version"].as_i64().unwrap();
        let path = format!("/api/v1/users/{rep}");
        let r = t
            .send(
                Req::new(Method::PATCH, &path)
                    .cred(&s1)
                    .header("if-match", &format!("\"{v}\""))
                    .json(json!({"password": "a brand new passphrase"})),
            )
            .await;
        assert_eq!(
            r.problem_fields(),
            vec!["current_password"],
            "{}",
            t.backend
        );
        let r = t
            .send(
                Req::new(Method::PATCH, &path)
                    .cred(&s1)
                    .header("if-match", &format!("\"{v}\""))
                    .json(
                        json!({"password": "a brand new passphrase", "current_password": PASSWORD}),
                    ),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        for s in [&s1, &s2] {
            assert_eq!(
                t.send(Req::new(Method::GET, "/api/v1/auth/me").cred(s))
                    .await
                    .status,
                StatusCode::UNAUTHORIZED
            );
        }
        t.login("rep@test.example", "a brand new passphrase").await;
    }
}

#[tokio::test]
async fn users_and_teams_rules() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let rep = t.user("rep@test.example", "rep").await;
        let team = t.team("Nord", None, &[rep]).await;
        // Cycles in the hierarchy are refused.
        let child = t
            .send(
                Req::new(Method::POST, "/api/v1/teams")
                    .cred(&admin)
                    .json(json!({"name": "Nord-Ost", "segment": "sales", "parent_id": team})),
            )
            .await;
        assert_eq!(child.status, StatusCode::CREATED, "{}", t.backend);
        let child_id = child.json()["id"].as_str().unwrap().to_string();
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/teams/{team}"))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"parent_id": child_id})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["parent_id"]);
        // A team with sub-teams is not deleted.
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/teams/{team}")).cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        // Members are replaced; unknown users are named.
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/teams/{team}"))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"member_ids": ["0190c5a4-0000-7000-8000-000000000000"]})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["member_ids"]);
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/teams/{team}"))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"member_ids": [], "manager_id": rep})),
            )
            .await;
        assert_eq!(r.json()["member_ids"], json!([]));
        assert_eq!(r.json()["manager_id"], json!(rep));
        // Nobody deactivates or demotes themselves.
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/users/{}", t.admin)).cred(&admin))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/users/{}", t.admin))
                    .cred(&admin)
                    .header("if-match", "\"1\"")
                    .json(json!({"role": "rep"})),
            )
            .await;
        assert_eq!(r.problem_fields(), vec!["role"]);
        // Deactivation keeps the user, sets the leave date, and is visible.
        let r = t
            .send(Req::new(Method::DELETE, format!("/api/v1/users/{rep}")).cred(&admin))
            .await;
        assert_eq!(r.json()["active"], false);
        assert!(r.json()["leave_date"].is_string());
        let r = t
            .send(Req::new(Method::GET, "/api/v1/users?active=false").cred(&admin))
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
        // Clearing a date with null, keeping it when absent.
        let r = t
            .send(Req::new(Method::GET, format!("/api/v1/users/{rep}")).cred(&admin))
            .await;
        let v = r.json()["version"].as_i64().unwrap();
        let r = t
            .send(
                Req::new(Method::PATCH, format!("/api/v1/users/{rep}"))
                    .cred(&admin)
                    .header("if-match", &format!("\"{v}\""))
                    .json(json!({"leave_date": null, "active": true})),
            )
            .await;
        assert_eq!(
            r.json()["leave_date"],
            serde_json::Value::Null,
            "{}",
            r.text()
        );
        assert_eq!(r.json()["active"], true);
    }
}

#[tokio::test]
async fn token_secrets_are_never_kept_for_replay() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let req = || {
            Req::new(Method::POST, "/api/v1/api-tokens")
                .cred(&admin)
                .header("idempotency-key", "tok-1")
                .json(json!({"name": "crm"}))
        };
        let a = t.send(req()).await;
        let b = t.send(req()).await;
        assert_eq!(
            (a.status, b.status),
            (StatusCode::CREATED, StatusCode::CREATED),
            "{}",
            t.backend
        );
        assert_ne!(
            a.json()["secret"],
            b.json()["secret"],
            "a retry creates a new token instead of replaying a stored secret"
        );
        let salesops_store::Db::Sqlite(_) = &t.app.db else {
            continue;
        };
        let rows = salesops_store::idempotency::get(&mut t.app.db.clone(), t.org, t.admin, "tok-1")
            .await
            .unwrap();
        assert!(rows.is_none(), "nothing about the token response is stored");
    }
}

#[tokio::test]
async fn concurrent_wrong_passwords_cannot_slip_past_the_limit() {
    let settings = Settings {
        max_failures_per_account: 3,
        ..Settings::default()
    };
    for t in TestApp::all_with(settings).await {
        let attempts = (0..12).map(|i| {
            t.send(
                Req::new(Method::POST, "/api/v1/auth/login")
                    .json(json!({"email": "admin@test.example", "password": format!("guess {i}")}))
                    .ip(&format!("10.1.0.{i}")),
            )
        });
        let results = futures::future::join_all(attempts).await;
        let checked = results
            .iter()
            .filter(|r| r.status == StatusCode::UNAUTHORIZED)
            .count();
        let refused = results
            .iter()
            .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert!(
            checked <= 3,
            "{}: {checked} passwords were checked",
            t.backend
        );
        assert_eq!(checked + refused, 12);
    }
}

#[tokio::test]
async fn membership_changes_move_both_versions_and_leavers_lose_access() {
    for t in TestApp::all().await {
        let admin = t.token(t.admin).await;
        let rep = t.user("rep@test.example", "rep").await;
        let team = t.team("Nord", None, &[]).await;
        let team_path = format!("/api/v1/teams/{team}");
        let user_path = format!("/api/v1/users/{rep}");
        let tv = t
            .send(Req::new(Method::GET, &team_path).cred(&admin))
            .await
            .json()["version"]
            .as_i64()
            .unwrap();
        // Adding the rep from the user's side changes the team's version.
        let uv = t
            .send(Req::new(Method::GET, &user_path).cred(&admin))
            .await
            .json()["version"]
            .as_i64()
            .unwrap();
        let r = t
            .send(
                Req::new(Method::PATCH, &user_path)
                    .cred(&admin)
                    .header("if-match", &format!("\"{uv}\""))
                    .json(json!({"team_ids": [team]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // A team form read before that cannot silently remove the rep again.
        let r = t
            .send(
                Req::new(Method::PATCH, &team_path)
                    .cred(&admin)
                    .header("if-match", &format!("\"{tv}\""))
                    .json(json!({"member_ids": []})),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", t.backend);
        // Deleting with a stale version is refused too.
        let r = t
            .send(
                Req::new(Method::DELETE, &team_path)
                    .cred(&admin)
                    .header("if-match", &format!("\"{tv}\"")),
            )
            .await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        // Past the leave date, the rep's token stops working.
        let tok = t.token(rep).await;
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/auth/me").cred(&tok))
                .await
                .status,
            StatusCode::OK
        );
        let uv = t
            .send(Req::new(Method::GET, &user_path).cred(&admin))
            .await
            .json()["version"]
            .as_i64()
            .unwrap();
        let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
            .date_naive()
            .to_string();
        let r = t
            .send(
                Req::new(Method::PATCH, &user_path)
                    .cred(&admin)
                    .header("if-match", &format!("\"{uv}\""))
                    .json(json!({"leave_date": yesterday})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            t.send(Req::new(Method::GET, "/api/v1/auth/me").cred(&tok))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn search_folds_case_the_same_on_both_databases() {
    for t in TestApp::all().await {
        let admin = t.actor(t.admin).await;
        t.app
            .create_user(
                &admin,
                salesops_app::users::NewUser {
                    email: "oezdemir@test.example".into(),
                    name: "Özlem Özdemir".into(),
                    role: "rep".into(),
                    password: PASSWORD.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let tok = t.token(t.admin).await;
        for q in ["özdemir", "ÖZDEMIR", "Özl"] {
            let r = t
                .send(
                    Req::new(
                        Method::GET,
                        format!(
                            "/api/v1/users?q={}",
                            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
                        ),
                    )
                    .cred(&tok),
                )
                .await;
            assert_eq!(
                r.json()["items"].as_array().unwrap().len(),
                1,
                "{}: {q}",
                t.backend
            );
        }
    }
}
