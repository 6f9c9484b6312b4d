//! The store's conformance suite: every test runs on SQLite and, when
//! `SALESOPS_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL schema.

use chrono::Duration;
use salesops_domain::{
    ApiTokenId, CompanyId, ContactId, Locale, OrgId, Role, Segment, TeamId, UserId,
};
use salesops_store::testing::TestDb;
use salesops_store::{Backend, Db, StoreError, auth, crm, idempotency, now, orgs, teams, users};

fn org(slug: &str, default: bool) -> orgs::Org {
    let at = now();
    orgs::Org {
        id: OrgId::new(),
        slug: slug.into(),
        name: format!("Org {slug}"),
        base_currency: "EUR".into(),
        time_zone: "Europe/Berlin".into(),
        default_locale: Locale::De,
        is_default: default,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

fn user(org: OrgId, email: &str, role: Role) -> users::User {
    let at = now();
    users::User {
        org_id: org,
        id: UserId::new(),
        email: email.into(),
        name: email.split('@').next().unwrap().into(),
        password_hash: "x".into(),
        role,
        locale: Locale::En,
        time_zone: "Europe/Berlin".into(),
        hire_date: "2024-02-01".parse().ok(),
        leave_date: None,
        active: true,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

fn team(org: OrgId, name: &str) -> teams::Team {
    let at = now();
    teams::Team {
        org_id: org,
        id: TeamId::new(),
        name: name.into(),
        segment: Segment::Sales,
        manager_id: None,
        parent_id: None,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// Two organisations with one user each.
async fn two_orgs(db: &Db) -> (OrgId, UserId, OrgId, UserId) {
    let mut c = db.clone();
    let a = org("a", true);
    let b = org("b", false);
    orgs::insert(&mut c, &a).await.unwrap();
    orgs::insert(&mut c, &b).await.unwrap();
    let ua = user(a.id, "anna@a.example", Role::Admin);
    let ub = user(b.id, "bert@b.example", Role::Rep);
    users::insert(&mut c, &ua).await.unwrap();
    users::insert(&mut c, &ub).await.unwrap();
    (a.id, ua.id, b.id, ub.id)
}

#[tokio::test]
async fn rows_round_trip_exactly() {
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, _, _) = two_orgs(&t.db).await;
        let got = users::get(&mut c, a, ua).await.unwrap();
        assert_eq!(got.email, "anna@a.example", "{}", t.name);
        assert_eq!(got.role, Role::Admin);
        assert_eq!(got.hire_date, "2024-02-01".parse().ok());
        assert_eq!(got.version, 1);
        let o = orgs::default_org(&mut c).await.unwrap().unwrap();
        assert_eq!(o.id, a, "{}", t.name);
        assert_eq!(orgs::by_slug(&mut c, "b").await.unwrap().unwrap().slug, "b");
        assert_eq!(users::count(&mut c, a).await.unwrap(), 1);
    }
}

#[tokio::test]
async fn no_function_returns_another_organisations_rows() {
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, b, ub) = two_orgs(&t.db).await;
        assert!(
            matches!(users::get(&mut c, a, ub).await, Err(StoreError::NotFound)),
            "{}",
            t.name
        );
        assert!(matches!(
            users::get(&mut c, b, ua).await,
            Err(StoreError::NotFound)
        ));
        let list = users::list(&mut c, a, &users::Filter::default(), None, 100)
            .await
            .unwrap();
        assert_eq!(list.iter().map(|u| u.id).collect::<Vec<_>>(), vec![ua]);
        assert!(
            users::by_email(&mut c, a, "bert@b.example")
                .await
                .unwrap()
                .is_none()
        );
        // Updates through the wrong organisation touch nothing.
        let p = users::Patch {
            name: Some("hijack".into()),
            ..Default::default()
        };
        assert!(matches!(
            users::update(&mut c, a, ub, None, &p, now()).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(users::get(&mut c, b, ub).await.unwrap().name, "bert");
        // A team of org B cannot take a member of org A: the composite keys refuse it.
        let tb = team(b, "B team");
        teams::insert(&mut c, &tb).await.unwrap();
        assert!(
            matches!(
                teams::add_member(&mut c, b, tb.id, ua).await,
                Err(StoreError::Reference(_))
            ),
            "{}",
            t.name
        );
        assert!(matches!(
            teams::get(&mut c, a, tb.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            teams::list(&mut c, a, None, None, None, 100)
                .await
                .unwrap()
                .is_empty()
        );
        // Tokens and idempotency records are per organisation too.
        let tok = token(b, ub, b"secret-b");
        auth::insert_token(&mut c, &tok).await.unwrap();
        assert!(matches!(
            auth::get_token(&mut c, a, tok.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            auth::list_tokens(&mut c, a, None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn versions_detect_concurrent_updates() {
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, _, _) = two_orgs(&t.db).await;
        let p = users::Patch {
            name: Some("Anna B.".into()),
            ..Default::default()
        };
        let u = users::update(&mut c, a, ua, Some(1), &p, now())
            .await
            .unwrap();
        assert_eq!((u.version, u.name.as_str()), (2, "Anna B."), "{}", t.name);
        // A second writer that read version 1 is refused, and changes nothing.
        let p2 = users::Patch {
            name: Some("lost update".into()),
            ..Default::default()
        };
        assert!(matches!(
            users::update(&mut c, a, ua, Some(1), &p2, now()).await,
            Err(StoreError::Stale)
        ));
        assert_eq!(users::get(&mut c, a, ua).await.unwrap().name, "Anna B.");
        // Clearing a nullable field.
        let p3 = users::Patch {
            hire_date: Some(None),
            ..Default::default()
        };
        assert_eq!(
            users::update(&mut c, a, ua, Some(2), &p3, now())
                .await
                .unwrap()
                .hire_date,
            None
        );
    }
}

#[tokio::test]
async fn uniqueness_is_enforced_per_organisation() {
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, _, b, _) = two_orgs(&t.db).await;
        let dup = user(a, "anna@a.example", Role::Rep);
        assert!(
            matches!(
                users::insert(&mut c, &dup).await,
                Err(StoreError::Conflict(_))
            ),
            "{}",
            t.name
        );
        // The same address in another organisation is fine.
        users::insert(&mut c, &user(b, "anna@a.example", Role::Rep))
            .await
            .unwrap();
        assert_eq!(
            users::by_email_any_org(&mut c, "anna@a.example")
                .await
                .unwrap()
                .len(),
            2
        );
        teams::insert(&mut c, &team(a, "Nord")).await.unwrap();
        assert!(matches!(
            teams::insert(&mut c, &team(a, "Nord")).await,
            Err(StoreError::Conflict(_))
        ));
    }
}

#[tokio::test]
async fn teams_members_filters_and_pages() {
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, _, _) = two_orgs(&t.db).await;
        let mut reps = vec![];
        for i in 0..5 {
            let u = user(a, &format!("rep{i}@a.example"), Role::Rep);
            users::insert(&mut c, &u).await.unwrap();
            reps.push(u.id);
        }
        let mut nord = team(a, "Nord");
        nord.manager_id = Some(ua.0);
        teams::insert(&mut c, &nord).await.unwrap();
        let mut sub = team(a, "Nord-Ost");
        sub.parent_id = Some(nord.id.0);
        teams::insert(&mut c, &sub).await.unwrap();
        for r in &reps[..3] {
            teams::add_member(&mut c, a, nord.id, *r).await.unwrap();
        }
        teams::add_member(&mut c, a, nord.id, reps[0])
            .await
            .unwrap(); // idempotent
        assert_eq!(
            teams::members(&mut c, a, nord.id).await.unwrap(),
            reps[..3].to_vec(),
            "{}",
            t.name
        );
        assert_eq!(
            teams::of_user(&mut c, a, reps[0]).await.unwrap(),
            vec![nord.id]
        );
        assert_eq!(
            teams::managed_by(&mut c, a, ua).await.unwrap(),
            vec![nord.id]
        );
        assert_eq!(teams::child_count(&mut c, a, nord.id).await.unwrap(), 1);
        assert_eq!(
            teams::memberships(&mut c, a, Some(&[nord.id]), None)
                .await
                .unwrap()
                .len(),
            3
        );

        // What a manager of Nord sees: themselves and the members.
        let f = users::Filter {
            visible: Some((ua, vec![nord.id])),
            ..Default::default()
        };
        let seen = users::list(&mut c, a, &f, None, 100).await.unwrap();
        assert_eq!(seen.len(), 4, "{}", t.name);
        let f = users::Filter {
            team: Some(nord.id),
            role: Some(Role::Rep),
            ..Default::default()
        };
        assert_eq!(
            users::list(&mut c, a, &f, None, 100).await.unwrap().len(),
            3
        );
        let f = users::Filter {
            q: Some("REP4".into()),
            ..Default::default()
        };
        assert_eq!(
            users::list(&mut c, a, &f, None, 100).await.unwrap().len(),
            1,
            "search ignores case"
        );
        let f = users::Filter {
            ids: Some(vec![reps[1], reps[4]]),
            ..Default::default()
        };
        assert_eq!(
            users::list(&mut c, a, &f, None, 100).await.unwrap().len(),
            2
        );

        // Cursor pages cover everything once, in id order.
        let mut seen = vec![];
        let mut after = None;
        loop {
            let page = users::list(&mut c, a, &users::Filter::default(), after, 2)
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            after = Some(page.last().unwrap().id.0);
            seen.extend(page.into_iter().map(|u| u.id));
        }
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted);
        assert_eq!(seen.len(), 6);

        // Deleting a team takes its memberships with it.
        teams::remove_member(&mut c, a, nord.id, reps[2])
            .await
            .unwrap();
        teams::delete(&mut c, a, sub.id).await.unwrap();
        assert_eq!(teams::child_count(&mut c, a, nord.id).await.unwrap(), 0);
        teams::delete(&mut c, a, nord.id).await.unwrap();
        assert!(
            teams::of_user(&mut c, a, reps[0]).await.unwrap().is_empty(),
            "{}",
            t.name
        );
        assert!(matches!(
            teams::delete(&mut c, a, nord.id).await,
            Err(StoreError::NotFound)
        ));
    }
}

fn token(org: OrgId, user: UserId, hash: &[u8]) -> auth::ApiToken {
    auth::ApiToken {
        org_id: org,
        id: ApiTokenId::new(),
        user_id: user,
        name: "ci".into(),
        token_hash: hash.to_vec(),
        prefix: "so_abc".into(),
        created_at: now(),
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    }
}

#[tokio::test]
async fn sessions_tokens_and_failed_sign_ins() {
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, _, _) = two_orgs(&t.db).await;
        let at = now();
        let live = auth::Session {
            org_id: a,
            id_hash: b"live".to_vec(),
            user_id: ua,
            csrf_token: "csrf".into(),
            created_at: at,
            expires_at: at + Duration::hours(1),
        };
        let expired = auth::Session {
            id_hash: b"old".to_vec(),
            expires_at: at - Duration::seconds(1),
            ..live.clone()
        };
        auth::insert_session(&mut c, &live).await.unwrap();
        auth::insert_session(&mut c, &expired).await.unwrap();
        assert!(
            auth::live_session(&mut c, b"live", at)
                .await
                .unwrap()
                .is_some(),
            "{}",
            t.name
        );
        assert!(
            auth::live_session(&mut c, b"old", at)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(auth::purge_expired_sessions(&mut c, at).await.unwrap(), 1);
        assert_eq!(auth::delete_user_sessions(&mut c, a, ua).await.unwrap(), 1);
        assert!(
            auth::live_session(&mut c, b"live", at)
                .await
                .unwrap()
                .is_none()
        );

        let tok = token(a, ua, b"hash");
        auth::insert_token(&mut c, &tok).await.unwrap();
        assert_eq!(
            auth::token_by_hash(&mut c, b"hash")
                .await
                .unwrap()
                .unwrap()
                .id,
            tok.id
        );
        let r1 = auth::revoke_token(&mut c, a, tok.id, at).await.unwrap();
        let r2 = auth::revoke_token(&mut c, a, tok.id, at + Duration::hours(1))
            .await
            .unwrap();
        assert_eq!(r1.revoked_at, Some(at), "{}", t.name);
        assert_eq!(r2.revoked_at, Some(at), "the first revocation time is kept");

        for i in 0..3 {
            auth::record_failure(
                &mut c,
                a,
                "x@a.example",
                "10.0.0.1",
                at - Duration::minutes(i),
            )
            .await
            .unwrap();
        }
        let f = auth::failures_since(&mut c, "x@a.example", false, at - Duration::minutes(15), 10)
            .await
            .unwrap();
        assert_eq!(f.len(), 3, "{}", t.name);
        assert!(f[0] <= f[2], "oldest first");
        assert_eq!(
            auth::failures_since(&mut c, "10.0.0.1", true, at - Duration::seconds(90), 10)
                .await
                .unwrap()
                .len(),
            2
        );
        auth::clear_failures(&mut c, "x@a.example").await.unwrap();
        assert!(
            auth::failures_since(&mut c, "10.0.0.1", true, at - Duration::hours(1), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn idempotency_keys_are_claimed_once() {
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, _, _) = two_orgs(&t.db).await;
        assert!(
            idempotency::claim(
                &mut c,
                a,
                ua,
                "k",
                b"h1",
                now(),
                now() - Duration::seconds(60)
            )
            .await
            .unwrap(),
            "{}",
            t.name
        );
        assert!(
            !idempotency::claim(
                &mut c,
                a,
                ua,
                "k",
                b"h1",
                now(),
                now() - Duration::seconds(60)
            )
            .await
            .unwrap()
        );
        let pending = idempotency::get(&mut c, a, ua, "k").await.unwrap().unwrap();
        assert_eq!(pending.status_code, None);
        idempotency::complete(
            &mut c,
            a,
            ua,
            "k",
            201,
            b"{\"id\":1}",
            Some("application/json"),
        )
        .await
        .unwrap();
        let done = idempotency::get(&mut c, a, ua, "k").await.unwrap().unwrap();
        assert_eq!(done.status_code, Some(201));
        assert_eq!(done.response_body.as_deref(), Some(&b"{\"id\":1}"[..]));
        assert_eq!(done.request_hash, b"h1");
        idempotency::release(&mut c, a, ua, "k").await.unwrap();
        assert!(
            idempotency::claim(
                &mut c,
                a,
                ua,
                "k",
                b"h2",
                now(),
                now() - Duration::seconds(60)
            )
            .await
            .unwrap()
        );
    }
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_nothing() {
    for t in TestDb::all().await {
        let (a, _, _, _) = two_orgs(&t.db).await;
        let mut tx = t.db.begin().await.unwrap();
        let nord = team(a, "Nord");
        teams::insert(&mut tx, &nord).await.unwrap();
        // A failing statement inside the transaction: the caller drops it.
        let err = teams::add_member(&mut tx, a, nord.id, UserId::new()).await;
        assert!(err.is_err(), "{}", t.name);
        drop(tx);
        let mut c = t.db.clone();
        assert!(
            matches!(
                teams::get(&mut c, a, nord.id).await,
                Err(StoreError::NotFound)
            ),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn migrating_twice_is_harmless_and_ping_works() {
    for t in TestDb::all().await {
        t.db.migrate().await.unwrap();
        t.db.ping().await.unwrap();
    }
}

#[tokio::test]
async fn unopenable_databases_give_one_clear_error() {
    let e = salesops_store::connect("mysql://nope")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("unsupported URL scheme"), "{e}");
    let e = salesops_store::connect("sqlite:///nonexistent-dir/x/y.db")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("cannot open database sqlite:///nonexistent-dir/x/y.db"),
        "{e}"
    );
    let e = salesops_store::connect("postgres://u:secretpw@127.0.0.1:1/db")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("u:***@127.0.0.1:1") && !e.contains("secretpw"),
        "{e}"
    );
}

#[tokio::test]
async fn abandoned_idempotency_claims_can_be_taken_over() {
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, _, _) = two_orgs(&t.db).await;
        let long_ago = now() - Duration::minutes(5);
        assert!(
            idempotency::claim(
                &mut c,
                a,
                ua,
                "k",
                b"h1",
                long_ago,
                long_ago - Duration::seconds(60)
            )
            .await
            .unwrap()
        );
        // Still pending after five minutes: a retry takes it over.
        assert!(
            idempotency::claim(
                &mut c,
                a,
                ua,
                "k",
                b"h1",
                now(),
                now() - Duration::seconds(60)
            )
            .await
            .unwrap(),
            "{}",
            t.name
        );
        // A fresh pending claim is not taken over, and a finished one never.
        assert!(
            !idempotency::claim(
                &mut c,
                a,
                ua,
                "k",
                b"h1",
                now(),
                now() - Duration::seconds(60)
            )
            .await
            .unwrap()
        );
        idempotency::complete(&mut c, a, ua, "k", 201, b"{}", None)
            .await
            .unwrap();
        let later = now() + Duration::hours(1);
        assert!(
            !idempotency::claim(
                &mut c,
                a,
                ua,
                "k",
                b"h1",
                later,
                later - Duration::seconds(60)
            )
            .await
            .unwrap()
        );
    }
}

fn prospect(
    org: OrgId,
    list: salesops_domain::ProspectListId,
    position: i64,
    name: &str,
) -> salesops_store::prospecting::Prospect {
    let at = now();
    salesops_store::prospecting::Prospect {
        org_id: org,
        id: salesops_domain::ProspectId::new(),
        list_id: list,
        position,
        company_name: Some(name.into()),
        contact_name: None,
        job_title: None,
        phone: None,
        email: None,
        website: None,
        city: Some("München".into()),
        postcode: None,
        country: None,
        industry: None,
        notes: None,
        fields: r#"{"Größe":"groß"}"#.into(),
        assigned_to: None,
        status: salesops_domain::ProspectStatus::Open,
        disqualify_reason: None,
        lead_id: None,
        company_id: None,
        contact_id: None,
        closed_at: None,
        external_id: Some(format!("ext-{name}")),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

fn company(org: OrgId, owner: UserId, i: usize) -> crm::Company {
    let at = now();
    crm::Company {
        org_id: org,
        id: CompanyId::new(),
        name: format!("Firma {i}"),
        industry: None,
        size_band: Some("11-50".into()),
        country: Some("DE".into()),
        region: None,
        postcode: None,
        city: Some("Bremen".into()),
        website: None,
        phone: None,
        problems: None,
        value_minor: None,
        value_currency: None,
        owner_id: Some(owner.0),
        external_id: Some(format!("co-{i}")),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

#[tokio::test]
async fn prospecting_lists_prospects_and_answers() {
    use salesops_domain::{AnswerKind, ProspectListId, ProspectStatus, QuestionId, ScriptId};
    use salesops_store::prospecting::{self, Filter, ProspectList, Visible};
    use salesops_store::scripts::{self, Question, Script, Subject};
    for t in TestDb::all().await {
        let db = &t.db;
        let (a, ua, b, _ub) = two_orgs(db).await;
        let at = now();
        let list = |org: OrgId, by: UserId| ProspectList {
            org_id: org,
            id: ProspectListId::new(),
            name: "Kaltakquise Süd".into(),
            description: None,
            team_id: None,
            script_id: None,
            archived: false,
            created_by: by,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let la = list(a, ua);
        prospecting::insert_list(&mut db.clone(), &la)
            .await
            .unwrap();
        prospecting::set_reps(&mut db.clone(), a, la.id, &[ua])
            .await
            .unwrap();
        let rows: Vec<_> = (1..=3)
            .map(|i| prospect(a, la.id, i, &format!("Firma {i}")))
            .collect();
        prospecting::insert_prospects(&mut db.clone(), &rows)
            .await
            .unwrap();
        assert_eq!(
            prospecting::next_position(&mut db.clone(), a, la.id)
                .await
                .unwrap(),
            4
        );
        let got = prospecting::get_prospect(&mut db.clone(), a, rows[1].id)
            .await
            .unwrap();
        assert_eq!(
            (got.fields.as_str(), got.city.as_deref()),
            (r#"{"Größe":"groß"}"#, Some("München"))
        );
        // Another organisation sees nothing of it.
        assert!(matches!(
            prospecting::get_prospect(&mut db.clone(), b, rows[1].id).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            prospecting::list_lists(&mut db.clone(), b, None)
                .await
                .unwrap()
                .is_empty()
        );
        // Visibility: by assigned rep, not by an unrelated team.
        let by_rep = Visible {
            teams: vec![],
            users: vec![ua],
        };
        assert_eq!(
            prospecting::list_lists(&mut db.clone(), a, Some(&by_rep))
                .await
                .unwrap()
                .len(),
            1
        );
        let nobody = Visible {
            teams: vec![TeamId::new()],
            users: vec![UserId::new()],
        };
        assert!(
            prospecting::list_lists(&mut db.clone(), a, Some(&nobody))
                .await
                .unwrap()
                .is_empty()
        );
        // Pages in row order after a cursor; search is case-folded.
        let f = Filter {
            list: Some(la.id),
            ..Default::default()
        };
        let page = prospecting::list_prospects(
            &mut db.clone(),
            a,
            &f,
            Some((la.id.0, 1, rows[0].id.0)),
            10,
        )
        .await
        .unwrap();
        assert_eq!(page.iter().map(|p| p.position).collect::<Vec<_>>(), [2, 3]);
        let f = Filter {
            q: Some("MÜNCHEN".into()),
            ..Default::default()
        };
        assert_eq!(
            prospecting::list_prospects(&mut db.clone(), a, &f, None, 10)
                .await
                .unwrap()
                .len(),
            3
        );
        // Status changes with a version check; the counts follow.
        let p = prospecting::update_prospect(
            &mut db.clone(),
            a,
            rows[0].id,
            Some(1),
            vec![("status", "disqualified".into()), ("closed_at", at.into())],
            at,
        )
        .await
        .unwrap();
        assert_eq!((p.status, p.version), (ProspectStatus::Disqualified, 2));
        assert!(matches!(
            prospecting::update_prospect(
                &mut db.clone(),
                a,
                rows[0].id,
                Some(1),
                vec![("notes", "x".into())],
                at
            )
            .await,
            Err(StoreError::Stale)
        ));
        let c = prospecting::list_counts(&mut db.clone(), a, la.id)
            .await
            .unwrap();
        assert_eq!((c.total, c.open, c.converted, c.disqualified), (3, 2, 0, 1));
        let next = prospecting::neighbour(&mut db.clone(), a, la.id, 1, true, None)
            .await
            .unwrap();
        assert_eq!(next.map(|p| p.position), Some(2));
        // An external id is unique per organisation.
        let dup = prospect(a, la.id, 9, "Firma 1");
        assert!(matches!(
            prospecting::insert_prospects(&mut db.clone(), &[dup]).await,
            Err(StoreError::Conflict(_))
        ));
        // Answers: one per question and record, replaced on upsert.
        let s = Script {
            org_id: a,
            id: ScriptId::new(),
            name: "S".into(),
            description: None,
            archived: false,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        scripts::insert_script(&mut db.clone(), &s).await.unwrap();
        let q = Question {
            org_id: a,
            id: QuestionId::new(),
            script_id: s.id,
            position: 1,
            text: "Budget?".into(),
            kind: AnswerKind::Number,
            choices: String::new(),
            archived: false,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        scripts::insert_question(&mut db.clone(), &q).await.unwrap();
        for v in ["10", "12.5"] {
            scripts::upsert_answer(
                &mut db.clone(),
                a,
                q.id,
                Subject::Prospect(rows[1].id),
                v,
                ua,
                at,
            )
            .await
            .unwrap();
        }
        let ans = scripts::answers(&mut db.clone(), a, Some(rows[1].id), None)
            .await
            .unwrap();
        assert_eq!(
            ans.iter().map(|x| x.value.as_str()).collect::<Vec<_>>(),
            ["12.5"]
        );
        assert_eq!(
            scripts::count_answers(&mut db.clone(), a, q.id)
                .await
                .unwrap(),
            1
        );
        scripts::delete_answer(&mut db.clone(), a, q.id, Subject::Prospect(rows[1].id))
            .await
            .unwrap();
        assert_eq!(
            scripts::count_answers(&mut db.clone(), a, q.id)
                .await
                .unwrap(),
            0
        );
        // Deleting the list's prospects, then the list.
        assert_eq!(
            prospecting::delete_list_prospects(&mut db.clone(), a, la.id)
                .await
                .unwrap(),
            3
        );
        prospecting::delete_list(&mut db.clone(), a, la.id)
            .await
            .unwrap();
    }
}

fn contact(x: &crm::Company, j: usize) -> crm::Contact {
    crm::Contact {
        org_id: x.org_id,
        id: ContactId::new(),
        company_id: Some(x.id.0),
        name: format!("Kontakt {j} {}", x.name),
        job_title: None,
        email: None,
        phone: None,
        notes: None,
        owner_id: x.owner_id,
        external_id: Some(format!("{}-ct-{j}", x.external_id.as_deref().unwrap_or(""))),
        created_at: x.created_at,
        updated_at: x.updated_at,
        version: 1,
    }
}

#[tokio::test]
async fn bulk_inserts_span_several_statements_in_one_transaction() {
    for t in TestDb::all().await {
        let (a, ua, _, _) = two_orgs(&t.db).await;
        // More rows than one statement's parameter limit allows, for both tables.
        let companies: Vec<_> = (0..3_000).map(|i| company(a, ua, i)).collect();
        let contacts: Vec<_> = companies
            .iter()
            .flat_map(|x| [contact(x, 0), contact(x, 1)])
            .collect();
        let mut tx = t.db.begin().await.unwrap();
        crm::insert_companies(&mut tx, &companies).await.unwrap();
        crm::insert_contacts(&mut tx, &contacts).await.unwrap();
        tx.commit().await.unwrap();
        let mut c = t.db.clone();
        let f = crm::Filter::default();
        let got = crm::list_companies(&mut c, a, &f, None, 10_000)
            .await
            .unwrap();
        assert_eq!(got.len(), 3_000, "{}", t.name);
        let got = crm::list_contacts(&mut c, a, &f, None, 10_000)
            .await
            .unwrap();
        assert_eq!(got.len(), 6_000, "{}", t.name);
        let last = crm::company_by_external_id(&mut c, a, "co-2999")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(last.id, companies[2_999].id, "{}", t.name);
    }
}

#[tokio::test]
async fn a_load_pool_writes_what_the_ordinary_pool_reads() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("load.db").display());
    let load = salesops_store::connect_for_load(&url, 64).await.unwrap();
    assert_eq!(load.backend(), Backend::Sqlite);
    load.migrate().await.unwrap();
    let (a, ua, _, _) = two_orgs(&load).await;
    let companies: Vec<_> = (0..2_000).map(|i| company(a, ua, i)).collect();
    let mut tx = load.begin().await.unwrap();
    crm::insert_companies(&mut tx, &companies).await.unwrap();
    tx.commit().await.unwrap();
    load.close().await;
    let db = salesops_store::connect(&url).await.unwrap();
    let got = crm::list_companies(&mut db.clone(), a, &Default::default(), None, 10_000)
        .await
        .unwrap();
    assert_eq!(got.len(), 2_000);
    db.close().await;
    // On PostgreSQL: one connection, ready for use.
    if let Ok(pg) = std::env::var(salesops_store::testing::POSTGRES_ENV) {
        let load = salesops_store::connect_for_load(&pg, 64).await.unwrap();
        assert_eq!(load.backend(), Backend::Postgres);
        load.ping().await.unwrap();
        load.close().await;
    }
}

/// Every index of the schema: name, table and definition.
async fn indexes(db: &Db) -> Vec<(String, String, Option<String>)> {
    match db {
        Db::Sqlite(p) => sqlx::query_as(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Db::Pg(p) => sqlx::query_as(
            "SELECT indexname::text, tablename::text, indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() ORDER BY indexname",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    }
}

/// The indexes of the bulk tables that back no primary key or `UNIQUE`
/// table constraint, by name.
async fn secondary_index_names(db: &Db) -> Vec<String> {
    let constraints: Vec<String> = match db {
        Db::Sqlite(_) => vec![],
        Db::Pg(p) => sqlx::query_scalar(
            "SELECT c.conname::text FROM pg_constraint c \
             JOIN pg_namespace n ON n.oid = c.connamespace \
             WHERE n.nspname = current_schema() AND c.contype IN ('p', 'u')",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    };
    let mut names: Vec<String> = indexes(db)
        .await
        .into_iter()
        .filter(|(name, table, _)| {
            salesops_store::bulk::BULK_TABLES.contains(&table.as_str())
                && !name.starts_with("sqlite_autoindex_")
                && !constraints.contains(name)
        })
        .map(|(name, _, _)| name)
        .collect();
    names.sort();
    names
}

async fn sqlite_setting(db: &Db, pragma: &str) -> String {
    let Db::Sqlite(p) = db else { unreachable!() };
    let v: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST({pragma} AS TEXT) FROM pragma_{pragma}"
    )))
    .fetch_one(p)
    .await
    .unwrap();
    v
}

#[tokio::test]
async fn bulk_load_mode_restores_exactly_the_migrations_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bulk.db").display());
    let sqlite = salesops_store::connect_for_load(&url, 64).await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut dbs = vec![("sqlite", sqlite)];
    let pg = TestDb::postgres().await;
    if let Some(pg) = &pg {
        dbs.push(("postgres", pg.db.clone()));
    }
    for (name, db) in dbs {
        let before = indexes(&db).await;
        // The list in the store is the migrations' secondary indexes, word
        // for word on SQLite.
        let mut listed: Vec<String> = salesops_store::bulk::secondary_indexes(db.backend())
            .iter()
            .map(|i| i.name.to_string())
            .collect();
        listed.sort();
        assert_eq!(secondary_index_names(&db).await, listed, "{name}");
        if db.backend() == Backend::Sqlite {
            for ix in salesops_store::bulk::secondary_indexes(db.backend()) {
                let sql = before.iter().find(|b| b.0 == ix.name).unwrap();
                assert_eq!(sql.1, ix.table, "{name}");
                assert_eq!(sql.2.as_deref(), Some(ix.create), "{name}");
            }
        }

        let mode = salesops_store::bulk::begin(&db).await.unwrap();
        assert!(secondary_index_names(&db).await.is_empty(), "{name}");
        // The change-feed triggers are suspended for the load.
        let triggers = if db.backend() == Backend::Sqlite {
            8
        } else {
            3
        };
        assert_eq!(mode.feed_triggers.len(), triggers, "{name}");
        if db.backend() == Backend::Sqlite {
            assert_eq!(mode.journal_mode.as_deref(), Some("off"));
            assert_eq!(sqlite_setting(&db, "foreign_keys").await, "0");
        }
        let (a, ua, _, _) = two_orgs(&db).await;
        let companies: Vec<_> = (0..500).map(|i| company(a, ua, i)).collect();
        let contacts: Vec<_> = companies.iter().map(|x| contact(x, 0)).collect();
        let mut tx = db.begin().await.unwrap();
        crm::insert_companies(&mut tx, &companies).await.unwrap();
        crm::insert_contacts(&mut tx, &contacts).await.unwrap();
        tx.commit().await.unwrap();
        salesops_store::bulk::finish(&db, &mode).await.unwrap();

        assert_eq!(indexes(&db).await, before, "{name}");
        // ... and on again afterwards.
        let again = salesops_store::bulk::begin(&db).await.unwrap();
        assert_eq!(again.feed_triggers, mode.feed_triggers, "{name}");
        salesops_store::bulk::finish(&db, &again).await.unwrap();
        if db.backend() == Backend::Sqlite {
            assert_eq!(sqlite_setting(&db, "journal_mode").await, "wal");
            assert_eq!(sqlite_setting(&db, "foreign_keys").await, "1");
            assert_eq!(sqlite_setting(&db, "synchronous").await, "2");
        }
        let got = crm::list_contacts(&mut db.clone(), a, &Default::default(), None, 10_000)
            .await
            .unwrap();
        assert_eq!(got.len(), 500, "{name}");
        db.close().await;
    }
}

#[tokio::test]
async fn a_bulk_load_with_dangling_references_fails() {
    // SQLite: the load connection checks no foreign keys; the end of the load does.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bulk.db").display());
    let db = salesops_store::connect_for_load(&url, 64).await.unwrap();
    db.migrate().await.unwrap();
    let (a, ua, _, _) = two_orgs(&db).await;
    let mode = salesops_store::bulk::begin(&db).await.unwrap();
    let companies: Vec<_> = (0..10).map(|i| company(a, ua, i)).collect();
    let contacts: Vec<_> = companies.iter().map(|x| contact(x, 0)).collect();
    let mut tx = db.begin().await.unwrap();
    crm::insert_companies(&mut tx, &companies[1..])
        .await
        .unwrap();
    crm::insert_contacts(&mut tx, &contacts).await.unwrap();
    tx.commit().await.unwrap();
    let err = salesops_store::bulk::finish(&db, &mode).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Reference(m) if m.contains("contacts")),
        "{err}"
    );
    db.close().await;

    // PostgreSQL: a replica session checks none either.
    if let Some(t) = TestDb::postgres().await {
        let (a, ua, _, _) = two_orgs(&t.db).await;
        salesops_store::bulk::check_references(&t.db).await.unwrap();
        let mut tx = t.db.begin().await.unwrap();
        if let salesops_store::Tx::Pg(inner) = &mut tx {
            sqlx::query("SET LOCAL session_replication_role = replica")
                .execute(&mut **inner)
                .await
                .unwrap();
        }
        let x = company(a, ua, 0);
        crm::insert_contacts(&mut tx, &[contact(&x, 0)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let err = salesops_store::bulk::check_references(&t.db)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Reference(m) if m.contains("contacts")),
            "{err}"
        );
    }
}

#[tokio::test]
async fn digest_sends_are_claimed_once_and_retried() {
    use salesops_store::notify::{self, SendRow, SettingsRow};
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, _, _) = two_orgs(&t.db).await;
        // Settings: defaults, then saved, then a stale save is refused.
        let s = notify::settings(&mut c, a).await.unwrap();
        assert_eq!(s, SettingsRow::default(), "{}", t.name);
        let mut s2 = SettingsRow {
            digest_hour: 6,
            ..s.clone()
        };
        assert!(notify::save_settings(&mut c, a, &s2, now()).await.unwrap());
        assert!(
            !notify::save_settings(&mut c, a, &s2, now()).await.unwrap(),
            "{}",
            t.name
        );
        s2.version = 1;
        s2.idle_days = 9;
        assert!(notify::save_settings(&mut c, a, &s2, now()).await.unwrap());
        let s3 = notify::settings(&mut c, a).await.unwrap();
        assert_eq!(
            (s3.digest_hour, s3.idle_days, s3.version),
            (6, 9, 2),
            "{}",
            t.name
        );
        // A choice per user.
        notify::set_user_digest(&mut c, a, ua.0, Some("weekly"), now())
            .await
            .unwrap();
        let d = notify::user_digests(&mut c, a).await.unwrap();
        assert_eq!(d[0].digest.as_deref(), Some("weekly"));
        // Plans are recorded once.
        let day: chrono::NaiveDate = "2026-11-23".parse().unwrap();
        assert!(notify::insert_plan(&mut c, a, day, 1, now()).await.unwrap());
        assert!(!notify::insert_plan(&mut c, a, day, 1, now()).await.unwrap());
        assert_eq!(notify::last_plan(&mut c, a, day).await.unwrap(), Some(day));
        // One send per user and day.
        let at = now();
        let row = SendRow {
            org_id: a.0,
            id: uuid::Uuid::now_v7(),
            user_id: ua.0,
            digest_date: day,
            frequency: "daily".into(),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: at,
            claimed_by: None,
            claimed_until: None,
            email: String::new(),
            last_error: None,
            created_at: at,
            updated_at: at,
            sent_at: None,
        };
        assert!(notify::insert_send(&mut c, &row).await.unwrap());
        let twice = SendRow {
            id: uuid::Uuid::now_v7(),
            ..row.clone()
        };
        assert!(
            !notify::insert_send(&mut c, &twice).await.unwrap(),
            "{}",
            t.name
        );
        let later = now() + Duration::seconds(1);
        let due = notify::due_sends(&mut c, later, 10).await.unwrap();
        assert_eq!(due.len(), 1, "{}", t.name);
        // Two instances race for it: one wins.
        let until = later + Duration::minutes(5);
        let first = notify::claim_send(&mut c, a.0, row.id, "one", until, later)
            .await
            .unwrap();
        let second = notify::claim_send(&mut c, a.0, row.id, "two", until, later)
            .await
            .unwrap();
        assert_eq!((first, second), (Some(1), None), "{}", t.name);
        assert!(
            notify::due_sends(&mut c, later, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // Only the claimer finishes it.
        let next = later + Duration::seconds(30);
        assert!(
            !notify::finish_send(
                &mut c, a.0, row.id, "two", 1, "sent", "x@y.z", None, next, later
            )
            .await
            .unwrap()
        );
        assert!(
            notify::finish_send(
                &mut c,
                a.0,
                row.id,
                "one",
                1,
                "retrying",
                "x@y.z",
                Some("SMTP down"),
                next,
                later
            )
            .await
            .unwrap()
        );
        assert!(
            notify::due_sends(&mut c, later, 10)
                .await
                .unwrap()
                .is_empty(),
            "not before its retry time"
        );
        let again = notify::due_sends(&mut c, next + Duration::seconds(1), 10)
            .await
            .unwrap();
        assert_eq!(
            (again[0].attempts, again[0].last_error.as_deref()),
            (1, Some("SMTP down"))
        );
        // An instance that stops mid-send: its claim runs out, another takes over.
        let t2 = next + Duration::seconds(1);
        assert_eq!(
            notify::claim_send(&mut c, a.0, row.id, "one", t2 + Duration::seconds(5), t2)
                .await
                .unwrap(),
            Some(2)
        );
        assert_eq!(
            notify::claim_send(&mut c, a.0, row.id, "two", t2 + Duration::minutes(5), t2)
                .await
                .unwrap(),
            None
        );
        let t3 = t2 + Duration::seconds(6);
        assert_eq!(
            notify::claim_send(&mut c, a.0, row.id, "two", t3 + Duration::minutes(5), t3)
                .await
                .unwrap(),
            Some(3)
        );
        // The first instance wakes up: its claim is gone, it neither
        // extends nor finishes the send.
        assert!(
            !notify::extend_send(&mut c, a.0, row.id, "one", 2, t3 + Duration::minutes(5))
                .await
                .unwrap()
        );
        assert!(
            !notify::finish_send(&mut c, a.0, row.id, "one", 2, "sent", "x@y.z", None, t3, t3)
                .await
                .unwrap()
        );
        assert!(
            notify::extend_send(&mut c, a.0, row.id, "two", 3, t3 + Duration::minutes(5))
                .await
                .unwrap()
        );
        assert!(
            notify::finish_send(
                &mut c,
                a.0,
                row.id,
                "two",
                3,
                "failed",
                "x@y.z",
                Some("gave up"),
                t3,
                t3
            )
            .await
            .unwrap()
        );
        let listed = notify::list_sends(&mut c, a, Some("failed"), 10)
            .await
            .unwrap();
        assert_eq!((listed.len(), listed[0].attempts), (1, 3), "{}", t.name);
        assert!(notify::retry_send(&mut c, a, row.id, t3).await.unwrap());
        assert_eq!(
            notify::get_send(&mut c, a, row.id).await.unwrap().status,
            "pending"
        );
    }
}

#[tokio::test]
async fn alerts_are_raised_once_resolved_and_dismissed() {
    use salesops_store::notify::{self, AlertFilter, AlertRow};
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, ua, b, _) = two_orgs(&t.db).await;
        let alert = |key: &str, user: Option<uuid::Uuid>| AlertRow {
            org_id: a.0,
            id: uuid::Uuid::now_v7(),
            kind: "idle".into(),
            alert_key: key.into(),
            user_id: user,
            team_id: None,
            lead_id: Some(uuid::Uuid::now_v7()),
            goal_id: None,
            title: "Deal".into(),
            detail: r#"{"days":15}"#.into(),
            raised_at: now(),
            resolved_at: None,
            dismissed_at: None,
            dismissed_by: None,
        };
        notify::raise_alert(&mut c, &alert("k1", Some(ua.0)))
            .await
            .unwrap();
        notify::raise_alert(&mut c, &alert("k1", Some(ua.0)))
            .await
            .unwrap();
        notify::raise_alert(&mut c, &alert("k2", None))
            .await
            .unwrap();
        let all = notify::list_alerts(
            &mut c,
            a,
            &AlertFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(all.len(), 2, "{}: the same key once", t.name);
        let mine = notify::list_alerts(
            &mut c,
            a,
            &AlertFilter {
                users: Some(vec![ua.0]),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(mine.len(), 1);
        assert!(
            notify::list_alerts(
                &mut c,
                b,
                &AlertFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .is_empty()
        );
        // Dismissed: gone from the list, kept when raised again.
        let id = mine[0].id;
        assert_eq!(
            notify::dismiss_alert(&mut c, a, id, ua.0, now())
                .await
                .unwrap(),
            1
        );
        notify::raise_alert(&mut c, &alert("k1", Some(ua.0)))
            .await
            .unwrap();
        assert_eq!(
            notify::list_alerts(
                &mut c,
                a,
                &AlertFilter {
                    limit: 10,
                    ..Default::default()
                }
            )
            .await
            .unwrap()
            .len(),
            1
        );
        let with = notify::list_alerts(
            &mut c,
            a,
            &AlertFilter {
                dismissed: true,
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(with.len(), 2);
        // Resolved when the condition ends; re-opened if the same occurrence returns.
        let open = notify::open_alerts(&mut c, a).await.unwrap();
        assert_eq!(open.len(), 2);
        let k2 = open.iter().find(|o| o.alert_key == "k2").unwrap().id;
        assert_eq!(
            notify::resolve_alert(&mut c, a, k2, now()).await.unwrap(),
            1
        );
        assert_eq!(notify::open_alerts(&mut c, a).await.unwrap().len(), 1);
        notify::raise_alert(&mut c, &alert("k2", None))
            .await
            .unwrap();
        assert_eq!(
            notify::open_alerts(&mut c, a).await.unwrap().len(),
            2,
            "{}",
            t.name
        );
        // Goals reached are recorded once per period.
        let g = uuid::Uuid::now_v7();
        let from: chrono::NaiveDate = "2026-11-01".parse().unwrap();
        assert!(
            notify::insert_achievement(&mut c, a, g, ua.0, from, now())
                .await
                .unwrap()
        );
        assert!(
            !notify::insert_achievement(&mut c, a, g, ua.0, from, now())
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn webhook_events_fan_out_and_deliveries_are_claimed_in_order() {
    use salesops_store::webhooks::{self, AttemptRow, EventRow, WebhookRow};
    for t in TestDb::all().await {
        let mut c = t.db.clone();
        let (a, _, b, _) = two_orgs(&t.db).await;
        let hook = |org: OrgId, active: bool| WebhookRow {
            org_id: org.0,
            id: uuid::Uuid::now_v7(),
            url: "https://hooks.example.com/x".into(),
            description: String::new(),
            secret: "whsec_x".into(),
            active,
            created_at: now(),
            updated_at: now(),
            version: 1,
        };
        let (h1, h2, off, other) = (hook(a, true), hook(a, true), hook(a, false), hook(b, true));
        for (h, ev) in [
            (&h1, vec!["lead.created", "lead.won"]),
            (&h2, vec!["lead.won"]),
            (&off, vec!["lead.created"]),
            (&other, vec!["lead.created"]),
        ] {
            webhooks::insert_webhook(&mut c, h).await.unwrap();
            let ev: Vec<String> = ev.into_iter().map(String::from).collect();
            webhooks::set_subscriptions(&mut c, OrgId(h.org_id), h.id, &ev)
                .await
                .unwrap();
        }
        assert!(webhooks::subscribed(&mut c, a, "lead.won").await.unwrap());
        assert!(
            !webhooks::subscribed(&mut c, a, "activity.created")
                .await
                .unwrap()
        );
        let record = uuid::Uuid::now_v7();
        let event = |kind: &str| EventRow {
            org_id: a.0,
            id: uuid::Uuid::now_v7(),
            event_type: kind.into(),
            record_id: record,
            payload: format!(r#"{{"type":"{kind}"}}"#),
            created_at: now(),
        };
        let e1 = event("lead.created");
        let e2 = event("lead.won");
        let mut tx = t.db.begin().await.unwrap();
        assert_eq!(
            webhooks::insert_event(&mut tx, &e1, None).await.unwrap(),
            1,
            "{}: active subscribers of this org only",
            t.name
        );
        assert_eq!(webhooks::insert_event(&mut tx, &e2, None).await.unwrap(), 2);
        tx.commit().await.unwrap();
        let e3 = event("webhook.test");
        assert_eq!(
            webhooks::insert_event(&mut c, &e3, Some(h2.id))
                .await
                .unwrap(),
            1
        );
        let later = now() + Duration::seconds(1);
        let due = webhooks::due_deliveries(&mut c, later, 10).await.unwrap();
        assert_eq!(due.len(), 4, "{}", t.name);
        let d1 = due
            .iter()
            .find(|d| d.webhook_id == h1.id && d.event_id == e1.id)
            .unwrap()
            .clone();
        let d2 = due
            .iter()
            .find(|d| d.webhook_id == h1.id && d.event_id == e2.id)
            .unwrap()
            .clone();
        // The later event of the record waits for the earlier one.
        assert_eq!(
            webhooks::oldest_waiting(&mut c, a.0, h1.id, &[record])
                .await
                .unwrap(),
            [(record, e1.id)],
            "{}",
            t.name
        );
        let until = later + Duration::seconds(60);
        assert!(
            webhooks::claim_delivery(&mut c, &d1, until, later)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            webhooks::claim_delivery(&mut c, &d1, until, later)
                .await
                .unwrap()
                .is_none(),
            "{}: claimed once",
            t.name
        );
        let attempt = AttemptRow {
            attempt: 1,
            attempted_at: later,
            status_code: Some(500),
            error: Some("the receiver answered 500".into()),
            duration_ms: 12,
        };
        webhooks::finish_delivery(
            &mut c,
            &d1,
            &attempt,
            "pending",
            later + Duration::seconds(30),
        )
        .await
        .unwrap();
        assert_eq!(
            webhooks::oldest_waiting(&mut c, a.0, h1.id, &[record])
                .await
                .unwrap(),
            [(record, e1.id)],
            "{}: still waiting behind the retry",
            t.name
        );
        let t2 = later + Duration::seconds(31);
        assert!(
            webhooks::claim_delivery(&mut c, &d1, t2 + Duration::seconds(60), t2)
                .await
                .unwrap()
                .is_some()
        );
        let ok = AttemptRow {
            attempt: 2,
            attempted_at: t2,
            status_code: Some(204),
            error: None,
            duration_ms: 3,
        };
        webhooks::finish_delivery(&mut c, &d1, &ok, "delivered", t2)
            .await
            .unwrap();
        assert_eq!(
            webhooks::oldest_waiting(&mut c, a.0, h1.id, &[record])
                .await
                .unwrap(),
            [(record, e2.id)],
            "{}: the next event of the record may go",
            t.name
        );
        // Claimed but not attempted: given back, the attempt not counted.
        let n = webhooks::claim_delivery(&mut c, &d2, t2 + Duration::seconds(60), t2)
            .await
            .unwrap()
            .unwrap();
        assert!(webhooks::release_delivery(&mut c, &d2, n).await.unwrap());
        assert!(!webhooks::release_delivery(&mut c, &d2, n).await.unwrap());
        let log = webhooks::delivery_log(&mut c, a, h1.id, 10).await.unwrap();
        assert_eq!(log.len(), 2);
        let first = log.iter().find(|l| l.event_id == e1.id).unwrap();
        assert_eq!(
            (
                first.status.as_str(),
                first.attempts,
                first.last_status,
                first.event_type.as_str()
            ),
            ("delivered", 2, Some(204), "lead.created")
        );
        let attempts = webhooks::attempts(&mut c, a, h1.id, Some(e1.id), 10)
            .await
            .unwrap();
        assert_eq!(
            attempts.iter().map(|x| x.status_code).collect::<Vec<_>>(),
            [Some(204), Some(500)]
        );
        // Given up, then sent again by hand.
        assert!(
            webhooks::claim_delivery(&mut c, &d2, t2 + Duration::seconds(60), t2)
                .await
                .unwrap()
                .is_some()
        );
        let fail = AttemptRow {
            attempt: 1,
            attempted_at: t2,
            status_code: None,
            error: Some("timeout".into()),
            duration_ms: 10_000,
        };
        webhooks::finish_delivery(&mut c, &d2, &fail, "failed", t2)
            .await
            .unwrap();
        assert!(
            webhooks::redeliver(&mut c, a, h1.id, e2.id, t2)
                .await
                .unwrap()
        );
        assert!(
            !webhooks::redeliver(&mut c, a, h1.id, e2.id, t2)
                .await
                .unwrap()
        );
        assert_eq!(
            webhooks::get_event(&mut c, a.0, e2.id)
                .await
                .unwrap()
                .payload,
            r#"{"type":"lead.won"}"#
        );
        // Updating checks the version; deleting takes the log with it.
        let mut h = webhooks::get_webhook(&mut c, a, h1.id).await.unwrap();
        h.version = 2;
        h.active = false;
        assert!(webhooks::update_webhook(&mut c, &h).await.unwrap());
        assert!(
            !webhooks::update_webhook(&mut c, &h).await.unwrap(),
            "{}: stale",
            t.name
        );
        // Housekeeping: settled deliveries, their attempts and events go;
        // what still waits stays.
        let far = now() + Duration::days(40);
        assert!(webhooks::purge(&mut c, far).await.unwrap() > 0);
        let left = webhooks::due_deliveries(&mut c, far, 10).await.unwrap();
        assert!(left.iter().all(|d| d.status == "pending"), "{}", t.name);
        assert!(
            webhooks::get_event(&mut c, a.0, e1.id).await.is_err(),
            "{}: delivered and purged",
            t.name
        );
        assert!(
            webhooks::get_event(&mut c, a.0, e2.id).await.is_ok(),
            "{}: still waiting",
            t.name
        );
        assert_eq!(webhooks::delete_webhook(&mut c, a, h1.id).await.unwrap(), 1);
        assert!(
            webhooks::delivery_log(&mut c, a, h1.id, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(webhooks::list_webhooks(&mut c, a).await.unwrap().len(), 2);
        assert_eq!(webhooks::list_webhooks(&mut c, b).await.unwrap().len(), 1);
    }
}
