//! The prospecting pages through the real router: lists, working a
//! prospect row by row, converting, scripts.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, TestApp, get, hidden, post, ui_login};

#[tokio::test]
async fn a_rep_works_a_list_row_by_row_and_converts_a_prospect() {
    for t in TestApp::all().await {
        let ops = t.user("ops@test.example", "ops").await;
        let rep = t.user("rep@test.example", "rep").await;
        let team = t.team("SDR", None, &[rep]).await;
        let ops_a = t.actor(ops).await;
        let script = t
            .app
            .create_script(
                &ops_a,
                salesops_app::scripts::ScriptInput {
                    name: Some("Erstgespräch".into()),
                    questions: Some(vec![salesops_app::scripts::QuestionInput {
                        text: Some("Passt es?".into()),
                        kind: Some("choice".into()),
                        choices: Some(vec!["Top fit".into(), "Bad fit".into()]),
                        archived: None,
                    }]),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let list = t
            .app
            .create_prospect_list(
                &ops_a,
                salesops_app::prospecting::ListInput {
                    name: Some("Maschinenbau".into()),
                    team_id: Some(Some(team)),
                    script_id: Some(Some(script.script.id)),
                    reps: Some(vec![rep]),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .list;
        let mut ids = vec![];
        for name in ["Weber GmbH", "Huber AG"] {
            let p = t
                .app
                .create_prospect(
                    &ops_a,
                    list.id,
                    salesops_app::prospecting::ProspectInput {
                        company_name: Some(Some(name.into())),
                        phone: Some(Some("+49 89 1".into())),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            ids.push(p.id);
        }
        let cookie = ui_login(&t, "rep@test.example", PASSWORD).await;
        // The list page in German, with the inline call log per row.
        let page = t.raw(get("/prospect-lists", &cookie, "de")).await;
        assert!(page.text().contains("Maschinenbau"), "{}", page.text());
        let page = t
            .raw(get(&format!("/prospect-lists/{}", list.id), &cookie, "de"))
            .await;
        let html = page.text();
        assert!(
            html.contains("Weber GmbH")
                && html.contains("data-inline")
                && html.contains("Liste abarbeiten"),
            "{}: {html}",
            t.backend
        );
        let csrf = hidden(&page, "csrf");
        let actor = t.actor(rep).await;
        let types = t.app.list_activity_types(&actor, false).await.unwrap();
        let call = &types[0];
        let unanswered = call.outcomes.iter().find(|o| !o.positive).unwrap();
        let choice = format!("{}:{}", call.activity_type.id, unanswered.id);
        // Logged inline: back to the list, at the row.
        let r = t
            .raw(post(
                &format!("/prospects/{}/activities", ids[0]),
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("activity", &choice),
                    ("back", "list"),
                    ("list", &list.id.to_string()),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(
            r.header("location"),
            Some(format!("/prospect-lists/{}?logged=1#p-{}", list.id, ids[0]).as_str())
        );
        // The prospect page: the call, the script beside it, the next prospect.
        let page = t
            .raw(get(&format!("/prospects/{}", ids[0]), &cookie, "de"))
            .await;
        let html = page.text();
        assert!(
            html.contains("nicht erreicht")
                && html.contains("Passt es?")
                && html.contains(&format!("/prospects/{}", ids[1])),
            "{html}"
        );
        let q = &script.questions[0].id;
        let r = t
            .raw(post(
                &format!("/prospects/{}/answers", ids[0]),
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("script_id", &script.script.id.to_string()),
                    (&format!("q_{q}"), "Top fit"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let r = t
            .raw(post(
                &format!("/prospects/{}/answers", ids[0]),
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("script_id", &script.script.id.to_string()),
                    (&format!("q_{q}"), "Vielleicht"),
                ],
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a choice not offered"
        );
        assert!(r.text().contains("Top fit, Bad fit"), "{}", r.text());
        // Convert with a German amount: the lead page opens and shows the answers.
        let page = t
            .raw(get(&format!("/prospects/{}", ids[0]), &cookie, "de"))
            .await;
        let version = hidden(&page, "version");
        let r = t
            .raw(post(
                &format!("/prospects/{}/convert", ids[0]),
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("title", "Weber Fräse"),
                    ("amount", "30.000,00"),
                    ("currency", "EUR"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let to = r.header("location").unwrap().to_string();
        assert!(to.starts_with("/leads/"), "{to}");
        let page = t.raw(get(&to, &cookie, "de")).await;
        let html = page.text();
        assert!(
            html.contains("Weber Fräse")
                && html.contains("30.000,00")
                && html.contains("früher beantwortet: Top fit")
                && html.contains("id=\"from-prospect\""),
            "{html}"
        );
        // Disqualify the second with a reason; the list counts follow.
        let page = t
            .raw(get(&format!("/prospects/{}", ids[1]), &cookie, "en"))
            .await;
        let version = hidden(&page, "version");
        let r = t
            .raw(post(
                &format!("/prospects/{}/disqualify", ids[1]),
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("version", &version),
                    ("reason", "bad fit"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = t
            .raw(get(
                &format!("/prospect-lists/{}?status=all", list.id),
                &cookie,
                "en",
            ))
            .await;
        let html = page.text();
        assert!(
            html.contains("1 umgewandelt") && html.contains("1 disqualifiziert"),
            "{html}"
        );
        // A rep cannot manage the list nor add prospects.
        assert!(!html.contains("id=\"edit-list\""));
        let r = t
            .raw(post(
                &format!("/prospect-lists/{}/prospects", list.id),
                &cookie,
                &[("csrf", &csrf), ("company_name", "Nope")],
            ))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn ops_write_scripts_on_their_page() {
    for t in TestApp::all().await {
        t.user("ops@test.example", "ops").await;
        let cookie = ui_login(&t, "ops@test.example", PASSWORD).await;
        let page = t.raw(get("/scripts", &cookie, "en")).await;
        let csrf = hidden(&page, "csrf");
        let r = t
            .raw(post(
                "/scripts",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("op", "create"),
                    ("name", "Discovery"),
                    ("questions", "Who decides?\nHow many machines?"),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let page = t.raw(get("/scripts", &cookie, "en")).await;
        let html = page.text();
        assert!(
            html.contains("Who decides?") && html.contains("How many machines?"),
            "{html}"
        );
        // A choice question without choices is refused with a readable message.
        let sid = hidden(&page, "script_id");
        let r = t
            .raw(post(
                "/scripts",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("op", "add-question"),
                    ("script_id", &sid),
                    ("text", "Fit?"),
                    ("kind", "choice"),
                    ("choices", ""),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().contains("needs its choices"), "{}", r.text());
        // Move the second question up.
        let html = page.text();
        // Two forms per question (edit, archive): the third field is the second question.
        let second = html
            .match_indices("name=\"question_id\" value=\"")
            .nth(2)
            .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_string())
            .unwrap();
        let r = t
            .raw(post(
                "/scripts",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("op", "up"),
                    ("script_id", &sid),
                    ("question_id", &second),
                ],
            ))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let html = t.raw(get("/scripts", &cookie, "en")).await.text();
        assert!(html.find("How many machines?").unwrap() < html.find("Who decides?").unwrap());
    }
}

#[tokio::test]
async fn leads_filter_by_pipeline_and_owner_and_contacts_list_their_leads() {
    for t in TestApp::all().await {
        let rep = t.user("rep@test.example", "rep").await;
        let mate = t.user("mate@test.example", "rep").await;
        t.team("Sales", None, &[rep, mate]).await;
        let a = t.actor(rep).await;
        let m = t.actor(mate).await;
        let contact = t
            .app
            .create_contact(
                &a,
                salesops_app::crm::ContactInput {
                    name: Some("Anna Weber".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for (actor, title) in [(&a, "Mine"), (&m, "Theirs")] {
            t.app
                .create_lead(
                    actor,
                    salesops_app::leads::LeadInput {
                        title: Some(title.into()),
                        contact_id: Some(Some(contact.id)),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        let cookie = ui_login(&t, "rep@test.example", PASSWORD).await;
        let html = t
            .raw(get(&format!("/leads?owner_id={rep}"), &cookie, "en"))
            .await
            .text();
        assert!(
            html.contains(">Mine<") && !html.contains(">Theirs<"),
            "{html}"
        );
        let html = t.raw(get("/leads", &cookie, "en")).await.text();
        assert!(html.contains(">Mine<") && html.contains(">Theirs<"));
        let html = t
            .raw(get(&format!("/contacts/{}", contact.id), &cookie, "en"))
            .await
            .text();
        assert!(
            html.contains("id=\"contact-leads\"") && html.contains(">Theirs<"),
            "{html}"
        );
    }
}
