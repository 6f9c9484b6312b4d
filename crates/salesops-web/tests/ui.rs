//! The browser UI through the real router: language, sign-in with CSRF,
//! forms, readable errors.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{PASSWORD, TestApp, get, hidden, post, ui_login};

#[tokio::test]
async fn the_sign_in_page_speaks_the_browsers_language_until_switched() {
    for t in TestApp::all().await {
        let de = t.raw(get("/login", "", "de-DE,de;q=0.9,en;q=0.5")).await;
        assert_eq!(de.status, StatusCode::OK);
        assert!(
            de.text().contains("<html lang=\"de\">") && de.text().contains("Anmelden"),
            "{}",
            t.backend
        );
        let en = t.raw(get("/login", "", "en-GB,en;q=0.9")).await;
        assert!(en.text().contains("<html lang=\"en\">") && en.text().contains("Sign in"));
        let fr = t.raw(get("/login", "", "fr-FR")).await;
        assert!(
            fr.text().contains("<html lang=\"en\">"),
            "English when nothing matches"
        );
        // The switch sets a cookie that beats Accept-Language.
        let r = t.raw(get("/lang?set=de&next=/login", "", "en")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.header("location"), Some("/login"));
        let lang = r.cookie("salesops_lang").unwrap();
        assert_eq!(lang, "salesops_lang=de");
        let page = t.raw(get("/login", &lang, "en")).await;
        assert!(page.text().contains("Anmelden"));
        // Only local redirects are followed.
        let r = t
            .raw(get("/lang?set=en&next=//evil.example/x", "", "en"))
            .await;
        assert_eq!(r.header("location"), Some("/home"));
    }
}

#[tokio::test]
async fn signing_in_through_the_form_uses_the_users_language() {
    for t in TestApp::all().await {
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        // The org's default language is German; the admin was created with it.
        let home = t.raw(get("/home", &cookie, "en")).await;
        assert_eq!(home.status, StatusCode::OK, "{}", t.backend);
        let html = home.text();
        assert!(html.contains("Willkommen, Ada Admin"), "{html}");
        for nav in ["/people", "/teams", "/tokens", "/settings"] {
            assert!(html.contains(&format!("href=\"{nav}\"")), "nav lacks {nav}");
        }
        // Switching saves the setting (CSRF-protected) and the next page is English.
        let csrf = hidden(&home, "csrf");
        let r = t
            .raw(post(
                "/settings/locale",
                &cookie,
                &[("csrf", &csrf), ("locale", "en"), ("next", "/home")],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let home = t.raw(get("/home", &cookie, "de")).await;
        assert!(
            home.text().contains("Welcome, Ada Admin"),
            "{}",
            home.text()
        );
        let me = t
            .app
            .get_user(&t.actor(t.admin).await, t.admin)
            .await
            .unwrap();
        assert_eq!(me.user.locale.as_str(), "en");
        // Every page of the shell renders in both languages.
        for path in [
            "/people",
            "/teams",
            "/tokens",
            "/settings",
            &format!("/people/{}", t.admin),
        ] {
            let r = t.raw(get(path, &cookie, "en")).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        }
    }
}

#[tokio::test]
async fn wrong_passwords_and_missing_tokens_get_readable_answers() {
    for t in TestApp::all().await {
        let page = t.raw(get("/login", "", "de")).await;
        let pre = page.cookie("salesops_csrf").unwrap();
        let csrf = hidden(&page, "csrf");
        let wrong = t
            .raw(post(
                "/login",
                &pre,
                &[
                    ("csrf", &csrf),
                    ("email", "admin@test.example"),
                    ("password", "nope"),
                ],
            ))
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", t.backend);
        assert!(wrong.text().contains("E-Mail oder Passwort ist falsch."));
        assert!(wrong.cookie("salesops_session").is_none());
        let unknown = t
            .raw(post(
                "/login",
                &pre,
                &[
                    ("csrf", &csrf),
                    ("email", "ghost@test.example"),
                    ("password", "nope"),
                ],
            ))
            .await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert!(unknown.text().contains("E-Mail oder Passwort ist falsch."));
        // A sign-in form without its CSRF cookie is refused.
        let r = t
            .raw(post(
                "/login",
                "",
                &[
                    ("csrf", &csrf),
                    ("email", "admin@test.example"),
                    ("password", PASSWORD),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.cookie("salesops_session").is_none());
        // Pages need a session.
        let r = t.raw(get("/home", "", "en")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.header("location"), Some("/login?next=%2Fhome"));
    }
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_show_field_errors() {
    for t in TestApp::all().await {
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        let people = t.raw(get("/people", &cookie, "en")).await;
        let csrf = hidden(&people, "csrf");
        let form = [
            ("email", "lena@test.example"),
            ("name", "Lena Fischer"),
            ("role", "rep"),
            ("password", "long enough pw"),
            ("locale", "de"),
        ];
        // Without the token: refused, nothing written.
        let r = t.raw(post("/people", &cookie, &form)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", t.backend);
        assert!(
            r.text().contains("Das Formular war abgelaufen"),
            "the admin reads German: {}",
            r.text()
        );
        // Invalid values: the form comes back with the messages and the typed values.
        let mut bad = form.to_vec();
        bad[0] = ("email", "lena");
        bad.push(("csrf", &csrf));
        bad.push(("hire_date", "morgen"));
        let r = t.raw(post("/people", &cookie, &bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let html = r.text();
        assert!(
            html.contains("must be a date like 2026-03-01")
                && html.contains("value=\"Lena Fischer\""),
            "{html}"
        );
        let mut good = form.to_vec();
        good.push(("csrf", &csrf));
        let r = t.raw(post("/people", &cookie, &good)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let location = r.header("location").unwrap().to_string();
        let page = t.raw(get(&location, &cookie, "en")).await;
        assert!(page.text().contains("Lena Fischer"));
        // A stale edit is refused with a readable message.
        let version = hidden(&page, "version");
        let edit = |v: &str, name: &str| {
            vec![
                ("csrf".to_string(), csrf.clone()),
                ("version".to_string(), v.to_string()),
                ("email".into(), "lena@test.example".into()),
                ("name".into(), name.into()),
                ("role".into(), "rep".into()),
                ("locale".into(), "de".into()),
                ("time_zone".into(), "Europe/Berlin".into()),
                ("active".into(), "on".into()),
            ]
        };
        let path = location.split('?').next().unwrap().to_string();
        let body = |f: Vec<(String, String)>| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(f)
                .finish()
        };
        let send = |f| {
            Request::builder()
                .method(Method::POST)
                .uri(&path)
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body(f)))
                .unwrap()
        };
        assert_eq!(
            t.raw(send(edit(&version, "Lena F."))).await.status,
            StatusCode::SEE_OTHER
        );
        let r = t.raw(send(edit(&version, "Lena X."))).await;
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
        assert!(
            r.text()
                .contains("Jemand anderes hat diesen Datensatz inzwischen geändert")
        );
        // Sign out ends the session.
        let r = t.raw(post("/logout", &cookie, &[("csrf", &csrf)])).await;
        assert_eq!(r.header("location"), Some("/login?signed_out=1"));
        assert_eq!(
            t.raw(get("/home", &cookie, "en")).await.status,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn a_rep_reads_but_cannot_administer() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let cookie = ui_login(&t, "rep@test.example", PASSWORD).await;
        let people = t.raw(get("/people", &cookie, "en")).await;
        assert!(!people.text().contains("id=\"new-user\""), "{}", t.backend);
        let teams = t.raw(get("/teams", &cookie, "en")).await;
        assert!(!teams.text().contains("id=\"new-team\""));
        let csrf = hidden(&people, "csrf");
        let r = t
            .raw(post(
                "/teams",
                &cookie,
                &[("csrf", &csrf), ("name", "Mine"), ("segment", "sales")],
            ))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let admin_page = t
            .raw(get(&format!("/people/{}", t.admin), &cookie, "en"))
            .await;
        assert_eq!(
            admin_page.status,
            StatusCode::NOT_FOUND,
            "another team's person is hidden"
        );
        let own = t.raw(get(&format!("/people/{rep}"), &cookie, "en")).await;
        assert_eq!(own.status, StatusCode::OK);
        // Tokens: create one and see it once.
        let r = t
            .raw(post(
                "/tokens",
                &cookie,
                &[("csrf", &csrf), ("name", "crm sync")],
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text().contains("id=\"token-secret\""));
    }
}

#[tokio::test]
async fn the_sign_in_page_keeps_the_destination_and_works_in_two_tabs() {
    for t in TestApp::all().await {
        // Redirected from /teams: the language switch comes back with the destination.
        let page = t.raw(get("/login?next=%2Fteams", "", "en")).await;
        let html = page.text();
        assert!(
            html.contains("/lang?set=de&amp;next=/login%3Fnext%3D%252Fteams"),
            "{}: {html}",
            t.backend
        );
        assert_eq!(hidden(&page, "next"), "/teams");
        // A second tab reuses the form cookie, so the first tab's form still works.
        let pre = page.cookie("salesops_csrf").unwrap();
        let first_csrf = hidden(&page, "csrf");
        let second = t.raw(get("/login", &pre, "en")).await;
        assert_eq!(second.cookie("salesops_csrf").unwrap(), pre);
        let r = t
            .raw(post(
                "/login",
                &pre,
                &[
                    ("csrf", &first_csrf),
                    ("email", "admin@test.example"),
                    ("password", PASSWORD),
                    ("next", "/teams"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(r.header("location"), Some("/teams"));
    }
}

#[tokio::test]
async fn redirects_never_leave_the_site() {
    for t in TestApp::all().await {
        for next in [
            "/%09/evil.example",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/%0d%0aSet-Cookie:x=1",
        ] {
            let r = t
                .raw(get(&format!("/lang?set=en&next={next}"), "", "en"))
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{next}");
            assert_eq!(r.header("location"), Some("/home"), "{}: {next}", t.backend);
        }
    }
}

#[tokio::test]
async fn companies_and_contacts_through_the_pages() {
    for t in TestApp::all().await {
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        let page = t.raw(get("/companies", &cookie, "de")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", t.backend);
        assert!(page.text().contains("Neue Firma"));
        let csrf = hidden(&page, "csrf");
        // German spreadsheet habits: a decimal comma and thousands dots.
        let form = [
            ("csrf", csrf.as_str()),
            ("name", "Weber Logistik KG"),
            ("city", "Bremen"),
            ("value_amount", "25.000,50"),
            ("value_currency", "EUR"),
            ("website", "weber-logistik.example"),
            ("owner_id", ""),
        ];
        let r = t.raw(post("/companies", &cookie, &form)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let location = r.header("location").unwrap().to_string();
        let company = t.raw(get(&location, &cookie, "de")).await;
        let html = company.text();
        assert!(
            html.contains("Firma angelegt.") && html.contains("value=\"25000,50\""),
            "{html}"
        );
        // A contact added on the company's page comes back to it.
        let company_id = location
            .trim_start_matches("/companies/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let r = t
            .raw(post(
                "/contacts",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("back", "company"),
                    ("company_id", &company_id),
                    ("name", "Tobias Weber"),
                    ("email", "t.weber@weber.example"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(
            r.header("location").unwrap(),
            format!("/companies/{company_id}?contact_added=1")
        );
        let company = t
            .raw(get(&format!("/companies/{company_id}"), &cookie, "de"))
            .await;
        assert!(company.text().contains("Tobias Weber"));
        // A bad contact on the company page shows the error there.
        let r = t
            .raw(post(
                "/contacts",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("back", "company"),
                    ("company_id", &company_id),
                    ("name", "X"),
                    ("email", "kaputt"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text().contains("Weber Logistik KG")
                && r.text().contains("must be an e-mail address")
        );
        // Search finds both.
        let list = t.raw(get("/contacts?q=weber", &cookie, "de")).await;
        assert!(list.text().contains("Tobias Weber"));
        let list = t.raw(get("/companies?q=BREMEN", &cookie, "de")).await;
        assert!(list.text().contains("Weber Logistik KG"));
        // A wrong amount is a field error, nothing is written.
        let r = t
            .raw(post(
                "/companies",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("name", "Kaputt GmbH"),
                    ("value_amount", "zehn"),
                    ("value_currency", "EUR"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            !t.raw(get("/companies?q=kaputt", &cookie, "de"))
                .await
                .text()
                .contains("<td><a href=\"/companies/")
        );
    }
}

#[tokio::test]
async fn viewers_do_not_see_accounts_and_reps_read_teammates_records() {
    for t in TestApp::all().await {
        t.user("viewer@test.example", "viewer").await;
        let rep = t.user("rep@test.example", "rep").await;
        let mate = t.user("mate@test.example", "rep").await;
        t.team("Nord", None, &[rep, mate]).await;
        let admin = t.actor(t.admin).await;
        let input = salesops_app::crm::CompanyInput {
            name: Some("Mates Kunde".into()),
            owner_id: Some(Some(mate)),
            ..Default::default()
        };
        let co = t.app.create_company(&admin, input).await.unwrap();
        let v = ui_login(&t, "viewer@test.example", PASSWORD).await;
        let home = t.raw(get("/home", &v, "en")).await;
        assert!(
            !home.text().contains("href=\"/companies\""),
            "{}",
            t.backend
        );
        assert_eq!(
            t.raw(get("/companies", &v, "en")).await.status,
            StatusCode::FORBIDDEN
        );
        let r = ui_login(&t, "rep@test.example", PASSWORD).await;
        let page = t.raw(get(&format!("/companies/{}", co.id), &r, "en")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text()
                .contains("Sie können diesen Datensatz ansehen, aber nicht ändern.")
                && !page.text().contains("id=\"company-form\""),
            "the rep reads German, the organisation's language"
        );
    }
}

#[tokio::test]
async fn ops_shape_pipelines_on_the_page_and_reps_read_them() {
    for t in TestApp::all().await {
        t.user("ops@test.example", "ops").await;
        t.user("rep@test.example", "rep").await;
        let ops = ui_login(&t, "ops@test.example", PASSWORD).await;
        let list = t.raw(get("/pipelines", &ops, "de")).await;
        assert_eq!(list.status, StatusCode::OK, "{}", t.backend);
        assert!(
            list.text().contains("Neukundengewinnung")
                && list.text().contains("id=\"new-pipeline\"")
        );
        let csrf = hidden(&list, "csrf");
        let r = t
            .raw(post(
                "/pipelines",
                &ops,
                &[
                    ("csrf", &csrf),
                    ("name", "Recruiting"),
                    ("kind", "recruiting"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let path = r
            .header("location")
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        // Add three stages; a bad one comes back with its message.
        for (name, prob) in [("Bewerbung", "10"), ("Interview", "40"), ("Angebot", "80")] {
            let r = t
                .raw(post(
                    &format!("{path}/stages"),
                    &ops,
                    &[
                        ("csrf", &csrf),
                        ("name", name),
                        ("win_probability", prob),
                        ("colour", "#3f7fbf"),
                        ("checklist", "Lebenslauf prüfen\nReferenzen"),
                    ],
                ))
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        }
        let r = t
            .raw(post(
                &format!("{path}/stages"),
                &ops,
                &[
                    ("csrf", &csrf),
                    ("name", "Kaputt"),
                    ("win_probability", "viel"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("must be a whole number"));
        let page = t.raw(get(&path, &ops, "de")).await;
        let html = page.text();
        // Where each stage's heading stands in the page.
        let order = |html: &str| -> Vec<usize> {
            ["Bewerbung", "Interview", "Angebot"]
                .iter()
                .map(|n| html.find(&format!(". {n}</strong>")).unwrap())
                .collect()
        };
        let before = order(&html);
        assert!(before[0] < before[1] && before[1] < before[2]);
        assert!(html.contains("data-reorder=") && html.contains("/static/app.js"));
        // The arrows work without JavaScript: move "Angebot" up.
        let ids: Vec<String> = html
            .match_indices("data-id=\"")
            .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 3);
        let version = html
            .split("data-version=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let r = t
            .raw(post(
                &format!("{path}/stages/{}/move", ids[2]),
                &ops,
                &[("csrf", &csrf), ("version", &version), ("dir", "up")],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let html = t.raw(get(&path, &ops, "de")).await.text();
        let after = order(&html);
        assert!(after[2] < after[1], "Angebot now comes before Interview");
        // The drag-and-drop script posts JSON with the session's CSRF token.
        let html_ids: Vec<String> = html
            .match_indices("data-id=\"")
            .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_string())
            .collect();
        let version = html
            .split("data-version=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let api_path = format!("/api/v1{}/stages/order", path);
        let body =
            serde_json::json!({"stage_ids": [html_ids[2], html_ids[1], html_ids[0]]}).to_string();
        let req = Request::builder()
            .method(Method::POST)
            .uri(&api_path)
            .header(header::COOKIE, &ops)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-csrf-token", &csrf)
            .header(header::IF_MATCH, format!("\"{version}\""))
            .body(Body::from(body))
            .unwrap();
        let r = t.raw(req).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // A rep reads the stages but gets no forms.
        let rep = ui_login(&t, "rep@test.example", PASSWORD).await;
        let page = t.raw(get(&path, &rep, "de")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text().contains("Bewerbung") && !page.text().contains("data-reorder="));
        let r = t
            .raw(post(
                &format!("{path}/stages"),
                &rep,
                &[
                    ("csrf", &hidden(&page, "csrf")),
                    ("name", "X"),
                    ("win_probability", "1"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn ops_manage_activity_types_on_their_page() {
    for t in TestApp::all().await {
        t.user("ops@test.example", "ops").await;
        let ops = ui_login(&t, "ops@test.example", PASSWORD).await;
        let page = t.raw(get("/activity-types", &ops, "de")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", t.backend);
        let html = page.text();
        assert!(
            html.contains("nicht erreicht") && html.contains("id=\"new-type\""),
            "{html}"
        );
        let csrf = hidden(&page, "csrf");
        let r = t
            .raw(post(
                "/activity-types",
                &ops,
                &[
                    ("csrf", &csrf),
                    ("name", "Qualifizierungsanruf"),
                    ("kind", "call"),
                    ("icon", "phone"),
                    ("colour", "#112233"),
                    ("counts_as_selling", "on"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let types = t
            .app
            .list_activity_types(&t.actor(t.admin).await, false)
            .await
            .unwrap();
        let q = types
            .iter()
            .find(|v| v.activity_type.name == "Qualifizierungsanruf")
            .unwrap();
        let id = q.activity_type.id;
        for name in ["Top Fit", "Good Fit", "Bad Fit"] {
            let positive: &[(&str, &str)] = if name == "Bad Fit" {
                &[]
            } else {
                &[("positive", "on")]
            };
            let mut form = vec![
                ("csrf", csrf.as_str()),
                ("name", name),
                ("colour", "#2f9e5a"),
            ];
            form.extend_from_slice(positive);
            let r = t
                .raw(post(&format!("/activity-types/{id}/outcomes"), &ops, &form))
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        }
        let v = t
            .app
            .get_activity_type(&t.actor(t.admin).await, id)
            .await
            .unwrap();
        let got: Vec<(String, bool)> = v
            .outcomes
            .iter()
            .map(|o| (o.name.clone(), o.positive))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Top Fit".into(), true),
                ("Good Fit".into(), true),
                ("Bad Fit".into(), false)
            ]
        );
        // Archive the type: it leaves the page until archived ones are shown.
        let r = t
            .raw(post(
                &format!("/activity-types/{id}"),
                &ops,
                &[
                    ("csrf", &csrf),
                    ("version", &v.activity_type.version.to_string()),
                    ("archive", "1"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert!(
            !t.raw(get("/activity-types", &ops, "de"))
                .await
                .text()
                .contains("Qualifizierungsanruf")
        );
        assert!(
            t.raw(get("/activity-types?archived=1", &ops, "de"))
                .await
                .text()
                .contains("Qualifizierungsanruf")
        );
        // A bad name comes back with its message.
        let r = t
            .raw(post(
                "/activity-types",
                &ops,
                &[
                    ("csrf", &csrf),
                    ("name", "Anruf"),
                    ("kind", "call"),
                    ("icon", "phone"),
                    ("colour", "#112233"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("the name is already used"));
    }
}

#[tokio::test]
async fn a_lead_is_created_moved_won_and_shown_on_the_board() {
    for t in TestApp::all().await {
        t.user("rep@test.example", "rep").await;
        let rep = ui_login(&t, "rep@test.example", PASSWORD).await;
        let page = t.raw(get("/leads", &rep, "de")).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "{}: {}",
            t.backend,
            page.text()
        );
        let csrf = hidden(&page, "csrf");
        let r = t
            .raw(post(
                "/leads",
                &rep,
                &[
                    ("csrf", &csrf),
                    ("title", "Drehbank für Nord"),
                    ("amount", "12.500,00"),
                    ("currency", "EUR"),
                    ("source", "sales"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let path = r
            .header("location")
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let lead = t.raw(get(&path, &rep, "de")).await;
        let html = lead.text();
        assert!(
            html.contains("12.500,00 EUR") && html.contains("Angelegt in Akquise"),
            "{html}"
        );
        // Move with the form (no JavaScript), then win.
        let version = hidden(&lead, "version");
        let pipelines = t.app.list_pipelines(&t.actor(t.admin).await).await.unwrap();
        let stage = pipelines[0].stages[2].id.to_string();
        let r = t
            .raw(post(
                &format!("{path}/move"),
                &rep,
                &[("csrf", &csrf), ("version", &version), ("stage_id", &stage)],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let lead = t.raw(get(&path, &rep, "de")).await;
        assert!(
            lead.text()
                .contains("Von Akquise nach Nutzen demonstrieren verschoben"),
            "{}",
            lead.text()
        );
        // Losing needs a reason; the page says so.
        let version = hidden(&lead, "version");
        let r = t
            .raw(post(
                &format!("{path}/lose"),
                &rep,
                &[("csrf", &csrf), ("version", &version), ("reason", " ")],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("must not be empty"));
        // The board shows the lead in its column with count and amount.
        let board = t.raw(get("/board", &rep, "de")).await;
        let b = board.text();
        assert!(
            b.contains("Drehbank für Nord")
                && b.contains("12.500,00 EUR")
                && b.contains("1 Lead")
                && b.contains("data-board"),
            "{b}"
        );
        let r = t
            .raw(post(
                &format!("{path}/win"),
                &rep,
                &[("csrf", &csrf), ("version", &version)],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let lead = t.raw(get(&format!("{path}?won=1"), &rep, "de")).await;
        assert!(
            lead.text().contains("Lead gewonnen.")
                && lead.text().contains("gewonnen in Nutzen demonstrieren"),
            "{}",
            lead.text()
        );
        assert!(
            !t.raw(get("/board", &rep, "de"))
                .await
                .text()
                .contains("Drehbank für Nord"),
            "won leads leave the board"
        );
        // Winning again from a stale page is refused readably.
        let r = t
            .raw(post(
                &format!("{path}/win"),
                &rep,
                &[("csrf", &csrf), ("version", &version)],
            ))
            .await;
        assert!(
            r.status == StatusCode::PRECONDITION_FAILED || r.status == StatusCode::CONFLICT,
            "{}",
            r.status
        );
    }
}

#[tokio::test]
async fn a_call_is_logged_in_two_clicks_and_work_is_scheduled() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let actor = t.actor(rep).await;
        let lead = t
            .app
            .create_lead(
                &actor,
                salesops_app::leads::LeadInput {
                    title: Some("Weber Fräse".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let cookie = ui_login(&t, "rep@test.example", PASSWORD).await;
        let page = t
            .raw(get(&format!("/leads/{}", lead.id), &cookie, "de"))
            .await;
        let html = page.text();
        assert!(
            html.contains("Anruf — nicht erreicht") && html.contains("id=\"log-form\""),
            "{}: {html}",
            t.backend
        );
        let csrf = hidden(&page, "csrf");
        let types = t.app.list_activity_types(&actor, false).await.unwrap();
        let call = &types[0];
        let unanswered = call
            .outcomes
            .iter()
            .find(|o| o.name == "nicht erreicht")
            .unwrap();
        let choice = format!("{}:{}", call.activity_type.id, unanswered.id);
        let r = t
            .raw(post(
                &format!("/leads/{}/activities", lead.id),
                &cookie,
                &[("csrf", &csrf), ("activity", &choice)],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = t
            .raw(get(&format!("/leads/{}?logged=1", lead.id), &cookie, "de"))
            .await;
        let html = page.text();
        assert!(
            html.contains("Aktivität erfasst.") && html.contains("<li class=\"activity\">"),
            "{html}"
        );
        // Schedule a meeting for tomorrow; it shows on "my activities" and is done from there.
        let meeting = types
            .iter()
            .find(|v| v.activity_type.name == "Termin")
            .unwrap();
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
            .format("%Y-%m-%dT10:00")
            .to_string();
        let r = t
            .raw(post(
                &format!("/leads/{}/activities", lead.id),
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("activity", &meeting.activity_type.id.to_string()),
                    ("due_at", &tomorrow),
                    ("notes", "Vorführung"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let agenda = t.raw(get("/activities", &cookie, "de")).await;
        let html = agenda.text();
        assert!(
            html.contains("Termin") && html.contains("Vorführung") && html.contains("Weber Fräse"),
            "{html}"
        );
        let id = html
            .split("/activities/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let held = meeting
            .outcomes
            .iter()
            .find(|o| o.name == "stattgefunden")
            .unwrap();
        let r = t
            .raw(post(
                &format!("/activities/{id}/complete"),
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("version", "1"),
                    ("outcome_id", &held.id.to_string()),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let agenda = t.raw(get("/activities?completed=1", &cookie, "de")).await;
        assert!(
            agenda.text().contains("Aktivität erledigt.")
                && agenda.text().contains("Termin — stattgefunden"),
            "{}",
            agenda.text()
        );
        // An overdue one stands out on the lead's timeline.
        let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
            .format("%Y-%m-%dT09:00")
            .to_string();
        t.raw(post(
            &format!("/leads/{}/activities", lead.id),
            &cookie,
            &[
                ("csrf", &csrf),
                ("activity", &call.activity_type.id.to_string()),
                ("due_at", &yesterday),
            ],
        ))
        .await;
        let page = t
            .raw(get(&format!("/leads/{}", lead.id), &cookie, "de"))
            .await;
        assert!(
            page.text().contains("<li class=\"overdue\">"),
            "{}",
            page.text()
        );
    }
}

#[tokio::test]
async fn a_company_page_lists_its_leads_and_activities() {
    for t in TestApp::all().await {
        let admin = t.actor(t.admin).await;
        let co = t
            .app
            .create_company(
                &admin,
                salesops_app::crm::CompanyInput {
                    name: Some("Weber KG".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let input = salesops_app::leads::LeadInput {
            title: Some("Retrofit Halle 3".into()),
            company_id: Some(Some(co.id)),
            ..Default::default()
        };
        let lead = t.app.create_lead(&admin, input).await.unwrap();
        let call = t
            .app
            .list_activity_types(&admin, false)
            .await
            .unwrap()
            .remove(0);
        t.app
            .log_activity(
                &admin,
                salesops_app::activities::ActivityInput {
                    type_id: Some(call.activity_type.id),
                    lead_id: Some(lead.id),
                    company_id: Some(co.id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        let page = t
            .raw(get(&format!("/companies/{}", co.id), &cookie, "de"))
            .await;
        let html = page.text();
        assert!(
            html.contains("id=\"company-leads\"") && html.contains("Retrofit Halle 3"),
            "{}: {html}",
            t.backend
        );
        assert!(
            html.contains("id=\"company-activities\"") && html.contains("Anruf"),
            "{html}"
        );
    }
}

#[tokio::test]
async fn the_lead_timeline_speaks_the_readers_time_zone() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let actor = t.actor(rep).await;
        assert_eq!(actor.time_zone, "Europe/Berlin", "the organisation's zone");
        let lead = t
            .app
            .create_lead(
                &actor,
                salesops_app::leads::LeadInput {
                    title: Some("Zeitzone".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let cookie = ui_login(&t, "rep@test.example", PASSWORD).await;
        let page = t
            .raw(get(&format!("/leads/{}", lead.id), &cookie, "de"))
            .await;
        let csrf = hidden(&page, "csrf");
        let meeting = t
            .app
            .list_activity_types(&actor, false)
            .await
            .unwrap()
            .into_iter()
            .find(|v| v.activity_type.name == "Termin")
            .unwrap();
        // 10:00 in Berlin on a summer day is 08:00 UTC.
        let r = t
            .raw(post(
                &format!("/leads/{}/activities", lead.id),
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("activity", &meeting.activity_type.id.to_string()),
                    ("due_at", "2030-06-01T10:00"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let stored = t
            .app
            .list_activities(
                &actor,
                salesops_store::activities::Filter {
                    lead: Some(lead.id),
                    ..Default::default()
                },
                10,
                true,
            )
            .await
            .unwrap();
        assert_eq!(
            stored[0].due_at.unwrap().to_rfc3339(),
            "2030-06-01T08:00:00+00:00",
            "{}",
            t.backend
        );
        let page = t
            .raw(get(&format!("/leads/{}", lead.id), &cookie, "de"))
            .await;
        assert!(
            page.text().contains("fällig 2030-06-01 10:00"),
            "{}",
            page.text()
        );
    }
}

#[tokio::test]
async fn foreign_amounts_show_in_the_base_currency_too() {
    for t in TestApp::all().await {
        let admin = t.actor(t.admin).await;
        t.app
            .set_rate(&admin, "CHF", "2020-01-01".parse().unwrap(), "1,05")
            .await
            .unwrap();
        let input = salesops_app::leads::LeadInput {
            title: Some("Zürich".into()),
            amount: Some(Some(salesops_domain::MoneyJson {
                amount: "1000".into(),
                currency: "CHF".into(),
            })),
            ..Default::default()
        };
        let lead = t.app.create_lead(&admin, input).await.unwrap();
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        let page = t
            .raw(get(&format!("/leads/{}", lead.id), &cookie, "de"))
            .await;
        assert!(
            page.text().contains("1.000,00 CHF (≈ 1.050,00 EUR)"),
            "{}: {}",
            t.backend,
            page.text()
        );
        let board = t.raw(get("/board", &cookie, "de")).await;
        assert!(board.text().contains("≈ 1.050,00 EUR"), "{}", board.text());
    }
}

#[tokio::test]
async fn ops_set_exchange_rates_on_their_page() {
    for t in TestApp::all().await {
        t.user("ops@test.example", "ops").await;
        let cookie = ui_login(&t, "ops@test.example", PASSWORD).await;
        let page = t.raw(get("/exchange-rates", &cookie, "de")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", t.backend);
        let csrf = hidden(&page, "csrf");
        let r = t
            .raw(post(
                "/exchange-rates",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("currency", "chf"),
                    ("valid_from", "2026-01-01"),
                    ("rate", "1,0650"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = t.raw(get("/exchange-rates?saved=1", &cookie, "de")).await;
        assert!(
            page.text().contains("Kurs gespeichert.") && page.text().contains("1.065"),
            "{}",
            page.text()
        );
        let r = t
            .raw(post(
                "/exchange-rates",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("currency", "CHF"),
                    ("valid_from", "2026-01-01"),
                    ("rate", "null"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("is not a rate"));
    }
}

#[tokio::test]
async fn a_german_thousands_dot_is_not_a_decimal_point() {
    for t in TestApp::all().await {
        let cookie = ui_login(&t, "admin@test.example", PASSWORD).await;
        let page = t.raw(get("/leads", &cookie, "de")).await;
        let csrf = hidden(&page, "csrf");
        let r = t
            .raw(post(
                "/leads",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("title", "Punkt"),
                    ("amount", "25.000"),
                    ("currency", "EUR"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let id = r
            .header("location")
            .unwrap()
            .trim_start_matches("/leads/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let lead = t
            .app
            .get_lead(&t.actor(t.admin).await, id.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(
            lead.amount_minor,
            Some(2_500_000),
            "{}: 25.000 EUR in German is twenty-five thousand",
            t.backend
        );
        let r = t
            .raw(post(
                "/leads",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("title", "Mehrdeutig"),
                    ("amount", "1.2.3"),
                    ("currency", "EUR"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "never guessed");
    }
}
