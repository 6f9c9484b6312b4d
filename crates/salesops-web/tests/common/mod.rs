//! The test harness: the real router on a real database (SQLite, and
//! PostgreSQL when `SALESOPS_TEST_POSTGRES_URL` is set).
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use salesops_app::{Actor, App, Settings};
use salesops_domain::{OrgId, UserId};
use salesops_store::testing::TestDb;
use serde_json::Value;
use std::net::SocketAddr;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub app: App,
    pub router: Router,
    pub org: OrgId,
    pub admin: UserId,
    pub backend: &'static str,
    _db: TestDb,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The `name=value` part of a Set-Cookie header for `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_string())
    }
    pub fn problem_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Cred {
    None,
    Bearer(String),
    Session { cookie: String, csrf: String },
}

pub struct Req {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    pub cred: Cred,
    pub ip: Option<SocketAddr>,
}

impl Req {
    pub fn new(method: Method, path: impl Into<String>) -> Req {
        Req {
            method,
            path: path.into(),
            body: None,
            headers: vec![],
            cred: Cred::None,
            ip: None,
        }
    }
    pub fn json(mut self, v: Value) -> Req {
        self.body = Some(v);
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn cred(mut self, c: &Cred) -> Req {
        self.cred = c.clone();
        self
    }
    pub fn ip(mut self, ip: &str) -> Req {
        self.ip = Some(format!("{ip}:40000").parse().unwrap());
        self
    }
}

impl TestApp {
    pub async fn all() -> Vec<TestApp> {
        Self::all_with(Settings::default()).await
    }

    pub async fn all_with(settings: Settings) -> Vec<TestApp> {
        let mut v = vec![];
        for db in TestDb::all().await {
            v.push(Self::on(db, settings.clone()).await);
        }
        v
    }

    pub async fn on(db: TestDb, settings: Settings) -> TestApp {
        let app = App::new(db.db.clone(), settings);
        let org = app.ensure_default_org("Test GmbH").await.unwrap();
        let admin = salesops_app::users::bootstrap_admin(
            &app,
            org.id,
            "admin@test.example",
            "Ada Admin",
            PASSWORD,
        )
        .await
        .unwrap();
        let state = salesops_web::state(app.clone(), salesops_web::WebConfig::default());
        TestApp {
            router: salesops_web::router(state),
            app,
            org: org.id,
            admin,
            backend: db.name,
            _db: db,
        }
    }

    pub async fn actor(&self, user: UserId) -> Actor {
        self.app.actor(self.org, user).await.unwrap()
    }

    pub async fn send(&self, r: Req) -> Resp {
        self.send_on(&self.router, r).await
    }

    /// Another instance of the application on the same database (its own
    /// analytic index, as a second server would have).
    pub fn another_instance(&self) -> Router {
        let app = App::new(self.app.db.clone(), self.app.settings.clone());
        salesops_web::router(salesops_web::state(app, salesops_web::WebConfig::default()))
    }

    /// Sends a request to `router` (see [`TestApp::another_instance`]).
    pub async fn send_on(&self, router: &Router, r: Req) -> Resp {
        let mut b = Request::builder().method(r.method).uri(&r.path);
        match &r.cred {
            Cred::None => {}
            Cred::Bearer(t) => b = b.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Cred::Session { cookie, csrf } => {
                b = b
                    .header(header::COOKIE, cookie)
                    .header("x-csrf-token", csrf)
            }
        }
        for (k, v) in &r.headers {
            b = b.header(k, v);
        }
        let body = match &r.body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(v).unwrap())
            }
            None => Body::empty(),
        };
        let mut req = b.body(body).unwrap();
        if let Some(ip) = r.ip {
            req.extensions_mut().insert(ConnectInfo(ip));
        }
        Self::raw_on(router, req).await
    }

    pub async fn raw(&self, req: Request<Body>) -> Resp {
        Self::raw_on(&self.router, req).await
    }

    async fn raw_on(router: &Router, req: Request<Body>) -> Resp {
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A user with the given role, created by the admin.
    pub async fn user(&self, email: &str, role: &str) -> UserId {
        let admin = self.actor(self.admin).await;
        let v = self
            .app
            .create_user(
                &admin,
                salesops_app::users::NewUser {
                    email: email.into(),
                    name: email.split('@').next().unwrap().into(),
                    role: role.into(),
                    password: PASSWORD.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        v.user.id
    }

    pub async fn team(
        &self,
        name: &str,
        manager: Option<UserId>,
        members: &[UserId],
    ) -> salesops_domain::TeamId {
        let admin = self.actor(self.admin).await;
        let v = self
            .app
            .create_team(
                &admin,
                salesops_app::teams::NewTeam {
                    name: name.into(),
                    segment: "sales".into(),
                    manager_id: manager,
                    parent_id: None,
                    member_ids: members.to_vec(),
                },
            )
            .await
            .unwrap();
        v.team.id
    }

    /// An API token of that user.
    pub async fn token(&self, user: UserId) -> Cred {
        let a = self.actor(user).await;
        Cred::Bearer(
            self.app
                .create_token(&a, "test", None)
                .await
                .unwrap()
                .secret,
        )
    }

    /// Signs in through the API and returns the session credentials.
    pub async fn login(&self, email: &str, password: &str) -> Cred {
        let r = self
            .send(
                Req::new(Method::POST, "/api/v1/auth/login")
                    .json(serde_json::json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let cookie = r.cookie("salesops_session").unwrap();
        let csrf = r.json()["csrf_token"].as_str().unwrap().to_string();
        Cred::Session { cookie, csrf }
    }
}

// Browser-style requests for the UI tests.

pub fn get(path: &str, cookie: &str, lang: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(axum::http::header::COOKIE, cookie)
        .header(axum::http::header::ACCEPT_LANGUAGE, lang)
        .body(axum::body::Body::empty())
        .unwrap()
}

pub fn post(
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> axum::http::Request<axum::body::Body> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    axum::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(axum::http::header::COOKIE, cookie)
        .header(
            axum::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        // Browsers send their languages with every request.
        .header(axum::http::header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9")
        .body(axum::body::Body::from(body))
        .unwrap()
}

/// The value of a hidden input `name` in a page.
pub fn hidden(page: &Resp, name: &str) -> String {
    let html = page.text();
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// Signs in through the form; returns the session cookie.
pub async fn ui_login(t: &TestApp, email: &str, password: &str) -> String {
    let page = t.raw(get("/login", "", "en")).await;
    let pre = page.cookie("salesops_csrf").unwrap();
    let csrf = hidden(&page, "csrf");
    let r = t
        .raw(post(
            "/login",
            &pre,
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", "/home"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/home"));
    r.cookie("salesops_session").unwrap()
}
