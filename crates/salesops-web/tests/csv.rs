//! CSV import jobs and exports through the router, on both databases.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Req, Resp, TestApp};
use serde_json::Value;

/// Uploads a file and waits for its job to end; returns the finished job.
async fn import(t: &TestApp, token: &str, kind: &str, csv: &[u8], extra: &[(&str, &str)]) -> Value {
    let r = upload(t, token, kind, csv, extra).await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "{}: {}",
        t.backend,
        r.text()
    );
    let location = r.header("location").unwrap().to_string();
    for _ in 0..200 {
        let j = t
            .send(
                Req::new(Method::GET, &location)
                    .header("authorization", &format!("Bearer {token}")),
            )
            .await;
        assert_eq!(j.status, StatusCode::OK, "{}", j.text());
        let v = j.json();
        if v["status"] == "done" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not end");
}

async fn upload(t: &TestApp, token: &str, kind: &str, csv: &[u8], extra: &[(&str, &str)]) -> Resp {
    upload_with(t, token, kind, csv, extra, None).await
}

async fn upload_with(
    t: &TestApp,
    token: &str,
    kind: &str,
    csv: &[u8],
    extra: &[(&str, &str)],
    key: Option<&str>,
) -> Resp {
    let boundary = "XbOuNdArYx";
    let mut body = vec![];
    let mut part = |name: &str, value: &[u8], file: bool| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        if file {
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"f.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
            );
        } else {
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    };
    part("kind", kind.as_bytes(), false);
    for (k, v) in extra {
        part(k, v.as_bytes(), false);
    }
    part("file", csv, true);
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/imports")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    t.raw(req.body(Body::from(body)).unwrap()).await
}

async fn companies(t: &TestApp, token: &str) -> Vec<Value> {
    let r = t
        .send(
            Req::new(Method::GET, "/api/v1/companies?limit=200")
                .header("authorization", &format!("Bearer {token}")),
        )
        .await;
    r.json()["items"].as_array().unwrap().clone()
}

fn bearer(c: &common::Cred) -> String {
    match c {
        common::Cred::Bearer(t) => t.clone(),
        _ => unreachable!(),
    }
}

const GERMAN: &[u8] = "\u{feff}Externe ID;Firma;Ort;PLZ;Betrag;Währung\nA1;Acme GmbH;Berlin;10115;30.000,50;EUR\nA2;;Köln;50667;1,5;EUR\nA3;Beta AG;München;80331;12x;EUR\n".as_bytes();

#[tokio::test]
async fn a_dry_run_reports_every_bad_row_and_writes_nothing() {
    for t in TestApp::all().await {
        let admin = bearer(&t.token(t.admin).await);
        let j = import(&t, &admin, "companies", GERMAN, &[("dry_run", "true")]).await;
        assert_eq!(j["status"], "done", "{}: {j}", t.backend);
        let r = &j["report"];
        assert_eq!(r["rows"], 3);
        assert_eq!(r["valid"], 1);
        assert_eq!(r["error_count"], 2);
        assert_eq!(r["errors"][0]["row"], 3);
        assert_eq!(r["errors"][0]["column"], "Firma");
        assert_eq!(r["errors"][1]["row"], 4);
        assert_eq!(r["errors"][1]["column"], "Betrag");
        assert!(companies(&t, &admin).await.is_empty());
        // Without the dry run: all or nothing.
        let j = import(&t, &admin, "companies", GERMAN, &[]).await;
        assert_eq!(j["report"]["written"], false, "{j}");
        assert!(companies(&t, &admin).await.is_empty());
    }
}

#[tokio::test]
async fn skip_invalid_writes_the_good_rows_and_a_second_import_creates_nothing() {
    for t in TestApp::all().await {
        let admin = bearer(&t.token(t.admin).await);
        let j = import(&t, &admin, "companies", GERMAN, &[("skip_invalid", "true")]).await;
        assert_eq!(j["report"]["created"], 1, "{}: {j}", t.backend);
        assert_eq!(j["report"]["skipped"], 2);
        let c = companies(&t, &admin).await;
        assert_eq!(c.len(), 1);
        assert_eq!(c[0]["name"], "Acme GmbH");
        assert_eq!(c[0]["value"]["amount"], "30000.50");
        let j = import(&t, &admin, "companies", GERMAN, &[("skip_invalid", "true")]).await;
        assert_eq!(j["report"]["created"], 0, "{j}");
        assert_eq!(j["report"]["updated"], 1);
        assert_eq!(companies(&t, &admin).await.len(), 1);
    }
}

#[tokio::test]
async fn an_export_imports_again_unchanged() {
    for t in TestApp::all().await {
        let admin = bearer(&t.token(t.admin).await);
        let csv = b"external_id,name,city,value,currency\nX1,\"Gamma, Inc.\",Boston,\"1,250.75\",USD\nX2,Delta,Paris,,\n";
        let j = import(&t, &admin, "companies", csv, &[]).await;
        assert_eq!(j["report"]["created"], 2, "{}: {j}", t.backend);
        for excel in ["false", "true"] {
            let r = t
                .send(
                    Req::new(
                        Method::GET,
                        format!("/api/v1/exports/companies?excel={excel}"),
                    )
                    .header("authorization", &format!("Bearer {admin}")),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK);
            assert!(r.header("content-type").unwrap().starts_with("text/csv"));
            let text = r.text();
            if excel == "true" {
                assert!(r.body.starts_with(b"\xEF\xBB\xBF"));
                assert!(text.contains("1250,75;USD"), "{text}");
            } else {
                assert!(text.contains("\"Gamma, Inc.\""), "{text}");
                assert!(text.contains("1250.75,USD"), "{text}");
            }
            let j = import(&t, &admin, "companies", &r.body, &[]).await;
            assert_eq!(j["report"]["created"], 0, "{j}");
            assert_eq!(j["report"]["updated"], 2, "{j}");
        }
        let c = companies(&t, &admin).await;
        assert_eq!(c.len(), 2);
        let g = c.iter().find(|c| c["external_id"] == "X1").unwrap();
        assert_eq!(g["value"]["amount"], "1250.75");
        assert_eq!(g["name"], "Gamma, Inc.");
    }
}

#[tokio::test]
async fn broken_files_get_one_clear_error() {
    for t in TestApp::all().await {
        let admin = bearer(&t.token(t.admin).await);
        let j = import(
            &t,
            &admin,
            "companies",
            b"name,city\nA,Berlin\nB,M\xfcnchen\n",
            &[],
        )
        .await;
        assert_eq!(j["status"], "failed", "{}: {j}", t.backend);
        assert_eq!(j["report"]["errors"][0]["row"], 3);
        assert!(j["report"]["failure"].as_str().unwrap().contains("UTF-8"));
        let j = import(&t, &admin, "companies", b"city,phone\nBerlin,1\n", &[]).await;
        assert_eq!(j["status"], "failed");
        assert_eq!(j["report"]["errors"][0]["column"], "name");
        assert!(companies(&t, &admin).await.is_empty());
        // An upload without a kind or a file is refused at once.
        let r = upload(&t, &admin, "shoes", b"name\nA\n", &[]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    }
}

#[tokio::test]
async fn permissions_apply_to_the_importing_user() {
    for t in TestApp::all().await {
        let viewer = t.user("viewer@test.example", "viewer").await;
        let viewer = bearer(&t.token(viewer).await);
        let r = upload(&t, &viewer, "companies", b"name\nA\n", &[]).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{}: {}",
            t.backend,
            r.text()
        );
        let r = t
            .send(
                Req::new(Method::GET, "/api/v1/exports/companies")
                    .header("authorization", &format!("Bearer {viewer}")),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        let rep_id = t.user("rep@test.example", "rep").await;
        let rep = bearer(&t.token(rep_id).await);
        let csv = b"title,amount,currency\nBig deal,1000,EUR\n";
        let j = import(&t, &rep, "leads", csv, &[]).await;
        assert_eq!(j["report"]["created"], 1, "{j}");
        let r = t
            .send(
                Req::new(Method::GET, "/api/v1/leads")
                    .header("authorization", &format!("Bearer {rep}")),
            )
            .await;
        let items = r.json()["items"].clone();
        assert_eq!(items[0]["owner_id"], rep_id.0.to_string(), "{items}");
        // A rep cannot hand imported records to somebody else.
        let j = import(
            &t,
            &rep,
            "companies",
            b"name,owner_email\nA,admin@test.example\n",
            &[],
        )
        .await;
        assert_eq!(j["report"]["error_count"], 1, "{j}");
        assert_eq!(j["report"]["errors"][0]["column"], "owner_email");
        // Another user's job is not found.
        let admin = bearer(&t.token(t.admin).await);
        let r = upload(&t, &rep, "companies", b"name\nB\n", &[("dry_run", "1")]).await;
        let loc = r.header("location").unwrap().to_string();
        let r = t
            .send(Req::new(Method::GET, &loc).header("authorization", &format!("Bearer {admin}")))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_large_upload_with_an_idempotency_key_is_taken_once() {
    for t in TestApp::all().await {
        let admin = bearer(&t.token(t.admin).await);
        // About 2 MiB: above the limit of ordinary JSON bodies.
        let mut csv = b"external_id;name;city\n".to_vec();
        for i in 0..40_000 {
            csv.extend_from_slice(format!("k-{i:06};Firma Nummer {i:06} GmbH;Stadt\n").as_bytes());
        }
        assert!(csv.len() > 1_500_000);
        let first = upload_with(
            &t,
            &admin,
            "companies",
            &csv,
            &[("dry_run", "true")],
            Some("big-1"),
        )
        .await;
        assert_eq!(
            first.status,
            StatusCode::ACCEPTED,
            "{}: {}",
            t.backend,
            first.text()
        );
        let again = upload_with(
            &t,
            &admin,
            "companies",
            &csv,
            &[("dry_run", "true")],
            Some("big-1"),
        )
        .await;
        assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text());
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(first.json()["id"], again.json()["id"], "one job");
    }
}

#[tokio::test]
async fn a_job_whose_server_stopped_is_marked_failed_by_housekeeping() {
    for t in TestApp::all().await {
        let admin = bearer(&t.token(t.admin).await);
        let job = |age_hours: i64| salesops_store::imports::ImportJob {
            org_id: t.org.0,
            id: uuid::Uuid::now_v7(),
            user_id: t.admin.0,
            kind: "companies".into(),
            status: "running".into(),
            dry_run: false,
            skip_invalid: false,
            list_id: None,
            file_name: "f.csv".into(),
            rows_total: 10,
            rows_done: 3,
            created_count: 0,
            updated_count: 0,
            skipped_count: 0,
            error_count: 0,
            report: "{}".into(),
            created_at: chrono::Utc::now() - chrono::Duration::hours(age_hours),
            started_at: None,
            finished_at: None,
        };
        let (old, fresh) = (job(7), job(1));
        let mut c = t.app.db.clone();
        salesops_store::imports::insert(&mut c, &old).await.unwrap();
        salesops_store::imports::insert(&mut c, &fresh)
            .await
            .unwrap();
        t.app.housekeeping().await.unwrap();
        let get = |id: uuid::Uuid| {
            t.send(
                Req::new(Method::GET, format!("/api/v1/imports/{id}"))
                    .header("authorization", &format!("Bearer {admin}")),
            )
        };
        let v = get(old.id).await.json();
        assert_eq!(v["status"], "failed", "{}: {v}", t.backend);
        assert!(
            v["report"]["failure"]
                .as_str()
                .unwrap()
                .contains("interrupted"),
            "{v}"
        );
        assert_eq!(
            get(fresh.id).await.json()["status"],
            "running",
            "a running job is left alone"
        );
    }
}
