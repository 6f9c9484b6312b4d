//! Webhook endpoints (ops register them), and their delivery: signed
//! (HMAC-SHA256 over `timestamp.body`, `Salesops-Signature: t=…,v1=…`),
//! at least once, in order per record and endpoint, retried with
//! exponential backoff until a day has passed, every attempt logged.
//!
//! Endpoints on loopback, private, link-local and other internal addresses
//! are refused unless the configuration allows them: when they are
//! registered, and again when each delivery connects, after the name was
//! resolved (the connection goes to the checked addresses only).

use super::events::{self, EVENT_TYPES, TEST_EVENT};
use super::{backoff, source_chain};
use crate::App;
use crate::error::{AppError, Result};
use crate::permissions::{Action, Actor, Resource, require};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use salesops_domain::Invalid;
use salesops_store::webhooks::{self as store, AttemptRow, DeliveryRow, WebhookRow};
use salesops_store::{StoreError, now};
use sha2::Sha256;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use uuid::Uuid;

/// An endpoint as the API and the pages show it.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// The signing secret (shown to ops so that the receiver can check).
    pub secret: String,
    pub active: bool,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Clone, Debug, Default)]
pub struct WebhookInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// Is the address one a webhook may not reach by default?
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                // Shared address space (carrier-grade NAT), 100.64.0.0/10.
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                // IETF protocol assignments, 192.0.0.0/24, and benchmarking, 198.18.0.0/15.
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let v4 = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::new(
                    (hi >> 8) as u8,
                    hi as u8,
                    (lo >> 8) as u8,
                    lo as u8,
                ))
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // IPv4-compatible ::a.b.c.d and ::ffff:0:a.b.c.d (and
                // everything else in ::/64): none is a public endpoint.
                || s[..4] == [0, 0, 0, 0]
                // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                // NAT64 (64:ff9b::/96 and the local 64:ff9b:1::/48), Teredo
                // (2001::/32), documentation (2001:db8::/32).
                || (s[0] == 0x64 && s[1] == 0xff9b)
                || (s[0] == 0x2001 && (s[1] == 0 || s[1] == 0x0db8))
                // 6to4 (2002::/16) with an internal IPv4 address inside.
                || (s[0] == 0x2002 && is_internal(v4(s[1], s[2])))
        }
    }
}

/// Checks an endpoint URL: http or https, a host, no user name or
/// password, and (unless allowed) no internal address as its host.
pub fn check_url(raw: &str, allow_private: bool) -> std::result::Result<url::Url, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is required".into());
    }
    if raw.len() > 2000 {
        return Err("is longer than 2000 characters".into());
    }
    let u = url::Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("must be an http or https URL, not {}:", u.scheme()));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    let Some(host) = u.host() else {
        return Err("has no host".into());
    };
    if !allow_private {
        let internal = match host {
            url::Host::Ipv4(ip) => is_internal(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => is_internal(IpAddr::V6(ip)),
            url::Host::Domain(d) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                d == "localhost" || d.ends_with(".localhost") || d.ends_with(".internal")
            }
        };
        if internal {
            return Err(
                "points at a loopback, private or link-local address; the configuration does not allow those"
                    .into(),
            );
        }
    }
    Ok(u)
}

/// Resolves names for deliveries and keeps only the addresses a webhook
/// may reach: the connection goes to what was checked.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> {
                    format!("cannot resolve {host}: {e}").into()
                })?
                .collect();
            let ok: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| allow || !is_internal(a.ip()))
                .collect();
            if ok.is_empty() {
                let msg = if addrs.is_empty() {
                    format!("{host} has no address")
                } else {
                    format!(
                        "{host} resolves only to internal addresses, which the configuration does not allow"
                    )
                };
                return Err(msg.into());
            }
            let it: reqwest::dns::Addrs = Box::new(ok.into_iter());
            Ok(it)
        })
    }
}

/// The HTTP client deliveries use: no redirects, no proxy, the guarded resolver.
pub fn client(allow_private: bool, timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("salesops-webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .build()
        .expect("a TLS backend is compiled in")
}

/// `Salesops-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// An endpoint with the events it subscribes to (`subs`: the organisation's).
fn view(w: WebhookRow, subs: &[store::Subscription]) -> Webhook {
    Webhook {
        events: subs
            .iter()
            .filter(|s| s.webhook_id == w.id)
            .map(|s| s.event_type.clone())
            .collect(),
        id: w.id,
        url: w.url,
        description: w.description,
        secret: w.secret,
        active: w.active,
        created_at: w.created_at,
        updated_at: w.updated_at,
        version: w.version,
    }
}

fn new_secret() -> String {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).expect("the system's random source");
    format!("whsec_{}", hex::encode(b))
}

fn check_events(errs: &mut Invalid, events: &[String]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for e in events {
        let e = e.trim();
        if !EVENT_TYPES.contains(&e) {
            errs.push(
                "events",
                format!("unknown event {e:?}; known: {}", EVENT_TYPES.join(", ")),
            );
        } else if !out.iter().any(|x| x == e) {
            out.push(e.to_string());
        }
    }
    if out.is_empty() && errs.is_empty() {
        errs.push("events", "choose at least one event");
    }
    out
}

/// What a delivery run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryRun {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

impl App {
    async fn webhook_view(&self, w: WebhookRow) -> Result<Webhook> {
        let subs = store::subscriptions(&mut self.conn(), salesops_domain::OrgId(w.org_id)).await?;
        Ok(view(w, &subs))
    }

    pub async fn list_webhooks(&self, actor: &Actor) -> Result<Vec<Webhook>> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let rows = store::list_webhooks(&mut self.conn(), actor.org_id).await?;
        let subs = store::subscriptions(&mut self.conn(), actor.org_id).await?;
        Ok(rows.into_iter().map(|w| view(w, &subs)).collect())
    }

    pub async fn get_webhook(&self, actor: &Actor, id: Uuid) -> Result<Webhook> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let w = store::get_webhook(&mut self.conn(), actor.org_id, id).await?;
        self.webhook_view(w).await
    }

    pub async fn create_webhook(&self, actor: &Actor, input: WebhookInput) -> Result<Webhook> {
        require(actor, Resource::Settings, Action::Create, None)?;
        let mut errs = Invalid::default();
        let url = match check_url(
            input.url.as_deref().unwrap_or(""),
            self.settings.notify.allow_private_webhooks,
        ) {
            Ok(u) => u.to_string(),
            Err(e) => {
                errs.push("url", e);
                String::new()
            }
        };
        let description = input.description.unwrap_or_default().trim().to_string();
        if description.chars().count() > 200 {
            errs.push("description", "is longer than 200 characters");
        }
        let events = check_events(&mut errs, input.events.as_deref().unwrap_or(&[]));
        errs.into_result()?;
        let at = now();
        let row = WebhookRow {
            org_id: actor.org_id.0,
            id: Uuid::now_v7(),
            url,
            description,
            secret: new_secret(),
            active: input.active.unwrap_or(true),
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let mut tx = self.db.begin().await?;
        store::insert_webhook(&mut tx, &row).await?;
        store::set_subscriptions(&mut tx, actor.org_id, row.id, &events).await?;
        tx.commit().await?;
        self.webhook_view(row).await
    }

    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: Uuid,
        input: WebhookInput,
        if_match: Option<i64>,
    ) -> Result<Webhook> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let mut tx = self.db.begin().await?;
        let mut w = store::get_webhook(&mut tx, actor.org_id, id).await?;
        if if_match.is_some_and(|v| v != w.version) {
            return Err(AppError::Stale);
        }
        let mut errs = Invalid::default();
        if let Some(u) = &input.url {
            match check_url(u, self.settings.notify.allow_private_webhooks) {
                Ok(u) => w.url = u.to_string(),
                Err(e) => errs.push("url", e),
            }
        }
        if let Some(d) = &input.description {
            if d.chars().count() > 200 {
                errs.push("description", "is longer than 200 characters");
            }
            w.description = d.trim().to_string();
        }
        let events = input.events.as_ref().map(|e| check_events(&mut errs, e));
        errs.into_result()?;
        if let Some(a) = input.active {
            w.active = a;
        }
        w.version += 1;
        w.updated_at = now();
        if !store::update_webhook(&mut tx, &w).await? {
            return Err(AppError::Stale);
        }
        if let Some(e) = events {
            store::set_subscriptions(&mut tx, actor.org_id, id, &e).await?;
        }
        tx.commit().await?;
        self.webhook_view(w).await
    }

    pub async fn delete_webhook(&self, actor: &Actor, id: Uuid) -> Result<()> {
        require(actor, Resource::Settings, Action::Delete, None)?;
        let mut tx = self.db.begin().await?;
        if store::delete_webhook(&mut tx, actor.org_id, id).await? == 0 {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues a `webhook.test` event for one endpoint (delivered by the
    /// job like any other); returns the event's id.
    pub async fn send_test_event(&self, actor: &Actor, id: Uuid) -> Result<Uuid> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let w = store::get_webhook(&mut self.conn(), actor.org_id, id).await?;
        let mut tx = self.db.begin().await?;
        let event = events::emit(
            &mut tx,
            actor.org_id,
            TEST_EVENT,
            w.id,
            serde_json::json!({ "webhook_id": w.id, "message": "A test event sent from salesops.", "sent_by": actor.user_id.0 }),
            Some(w.id),
        )
        .await?;
        tx.commit().await?;
        Ok(event)
    }

    /// The latest deliveries to an endpoint with their attempts.
    pub async fn webhook_log(
        &self,
        actor: &Actor,
        id: Uuid,
        limit: u64,
    ) -> Result<(Vec<store::LogRow>, Vec<store::AttemptLog>)> {
        require(actor, Resource::Settings, Action::Update, None)?;
        store::get_webhook(&mut self.conn(), actor.org_id, id).await?;
        let log = store::delivery_log(&mut self.conn(), actor.org_id, id, limit).await?;
        let attempts = store::attempts(&mut self.conn(), actor.org_id, id, None, limit * 4).await?;
        Ok((log, attempts))
    }

    /// Puts a failed delivery back in the queue.
    pub async fn redeliver(&self, actor: &Actor, webhook: Uuid, event: Uuid) -> Result<()> {
        require(actor, Resource::Settings, Action::Update, None)?;
        if !store::redeliver(&mut self.conn(), actor.org_id, webhook, event, now()).await? {
            return Err(AppError::Conflict(
                "only a delivery that was given up can be sent again".into(),
            ));
        }
        Ok(())
    }

    /// Attempts every delivery that is due, endpoints in parallel and each
    /// endpoint's in order.
    pub async fn deliver_webhooks(&self) -> Result<DeliveryRun> {
        let due = store::due_deliveries(&mut self.conn(), now(), 500).await?;
        let mut by_hook: Vec<(Uuid, Vec<DeliveryRow>)> = vec![];
        for d in due {
            match by_hook.iter_mut().find(|(w, _)| *w == d.webhook_id) {
                Some((_, v)) => v.push(d),
                None => by_hook.push((d.webhook_id, vec![d])),
            }
        }
        let client = client(
            self.settings.notify.allow_private_webhooks,
            self.settings.notify.webhook_timeout,
        );
        let mut set = tokio::task::JoinSet::new();
        for (_, ds) in by_hook {
            let app = self.clone();
            let client = client.clone();
            set.spawn(async move {
                app.deliver_batch(&client, ds).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "webhook delivery");
                    DeliveryRun::default()
                })
            });
        }
        let mut total = DeliveryRun::default();
        while let Some(r) = set.join_next().await {
            if let Ok(r) = r {
                total.delivered += r.delivered;
                total.retrying += r.retrying;
                total.failed += r.failed;
            }
        }
        Ok(total)
    }

    /// One run for one endpoint: the oldest waiting event of each record
    /// (order per record), at most a hundred, claimed in one transaction,
    /// posted one after the other, and recorded in one transaction; none
    /// after a failure (an endpoint that is down costs one timeout per run,
    /// not one per waiting event), the rest given back unattempted.
    async fn deliver_batch(
        &self,
        client: &reqwest::Client,
        due: Vec<DeliveryRow>,
    ) -> Result<DeliveryRun> {
        let cfg = &self.settings.notify;
        let mut run = DeliveryRun::default();
        let Some(first) = due.first() else {
            return Ok(run);
        };
        let (org, webhook) = (first.org_id, first.webhook_id);
        let hook = match store::get_webhook(&mut self.conn(), salesops_domain::OrgId(org), webhook)
            .await
        {
            Ok(h) => h,
            // Deleted meanwhile: its deliveries went with it.
            Err(StoreError::NotFound) => return Ok(run),
            Err(e) => return Err(e.into()),
        };
        let mut records: Vec<Uuid> = due.iter().map(|d| d.record_id).collect();
        records.sort_unstable();
        records.dedup();
        let oldest: std::collections::HashMap<Uuid, Uuid> =
            store::oldest_waiting(&mut self.conn(), org, webhook, &records)
                .await?
                .into_iter()
                .collect();
        let next: Vec<DeliveryRow> = due
            .into_iter()
            .filter(|d| oldest.get(&d.record_id) == Some(&d.event_id))
            .take(100)
            .collect();
        if next.is_empty() {
            return Ok(run);
        }
        let at = now();
        let lease = chrono::Duration::from_std(cfg.webhook_timeout).unwrap_or_default()
            * (next.len() as i32).min(100)
            + chrono::Duration::seconds(60);
        let mut claimed: Vec<(DeliveryRow, i32)> = vec![];
        let mut tx = self.db.begin().await?;
        for d in next {
            if let Some(attempt) = store::claim_delivery(&mut tx, &d, at + lease, at).await? {
                claimed.push((d, attempt));
            }
        }
        tx.commit().await?;
        let mut done: Vec<(DeliveryRow, AttemptRow, &'static str, DateTime<Utc>)> = vec![];
        let mut left: Vec<(DeliveryRow, i32)> = vec![];
        let mut stopped = false;
        for (d, attempt) in claimed {
            if stopped {
                left.push((d, attempt));
                continue;
            }
            let event = store::get_event(&mut self.conn(), d.org_id, d.event_id).await?;
            let attempted_at = now();
            let started = std::time::Instant::now();
            let outcome = self.post(client, &hook, &event, attempt).await;
            let duration_ms = started.elapsed().as_millis() as i64;
            let (code, error) = match &outcome {
                Ok(c) => (Some(*c), None),
                Err((c, e)) => (*c, Some(e.clone())),
            };
            let next_at = now() + backoff(cfg.retry_base, attempt);
            let status = if outcome.is_ok() {
                run.delivered += 1;
                "delivered"
            } else if next_at - event.created_at > cfg.webhook_give_up {
                run.failed += 1;
                stopped = true;
                "failed"
            } else {
                run.retrying += 1;
                stopped = true;
                "pending"
            };
            let a = AttemptRow {
                attempt,
                attempted_at,
                status_code: code.map(i32::from),
                error,
                duration_ms,
            };
            done.push((d, a, status, next_at));
        }
        let mut tx = self.db.begin().await?;
        for (d, a, status, next_at) in &done {
            if !store::finish_delivery(&mut tx, d, a, status, *next_at).await? {
                tracing::warn!(event = %d.event_id, "webhook delivery: the claim ran out before the answer came");
            }
        }
        for (d, attempt) in &left {
            store::release_delivery(&mut tx, d, *attempt).await?;
        }
        tx.commit().await?;
        Ok(run)
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        h: &WebhookRow,
        e: &store::EventRow,
        attempt: i32,
    ) -> std::result::Result<u16, (Option<u16>, String)> {
        let url = check_url(&h.url, self.settings.notify.allow_private_webhooks)
            .map_err(|m| (None, format!("the URL {m}")))?;
        let t = now().timestamp();
        let body = e.payload.clone().into_bytes();
        let res = client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Salesops-Signature", signature(&h.secret, t, &body))
            .header("Salesops-Event", &e.event_type)
            .header("Salesops-Event-Id", e.id.to_string())
            .header("Salesops-Delivery-Attempt", attempt.to_string())
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
            Ok(mut r) => {
                let code = r.status().as_u16();
                // The start of the answer, never more than a kilobyte of it.
                let mut body: Vec<u8> = vec![];
                while body.len() < 1024 {
                    match r.chunk().await {
                        Ok(Some(c)) => body.extend_from_slice(&c[..c.len().min(1024 - body.len())]),
                        _ => break,
                    }
                }
                let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                Err((
                    Some(code),
                    format!("the receiver answered {code} {}", text.trim()),
                ))
            }
            Err(err) => {
                let what = if err.is_timeout() {
                    "no answer within the timeout".to_string()
                } else if err.is_connect() {
                    format!("cannot connect: {}", source_chain(&err))
                } else {
                    source_chain(&err)
                };
                Err((None, what))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "::7f00:1",
            "::ffff:0:7f00:1",
            "64:ff9b:1::a00:1",
            "2002:c0a8:101::1",
            "2002:7f00:1::1",
            "fec0::1",
            "2001:0:4136:e378::1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2a00:1450:4001:80b::200e",
            "2002:5db8:d822::1",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://hooks.example.com/x", false).is_ok());
        assert!(
            check_url("ftp://example.com/", false)
                .unwrap_err()
                .contains("http")
        );
        assert!(check_url("not a url", false).is_err());
        assert!(
            check_url("http://127.0.0.1:9/x", false)
                .unwrap_err()
                .contains("loopback")
        );
        assert!(check_url("http://[::1]/x", false).is_err());
        assert!(check_url("http://localhost/x", false).is_err());
        assert!(check_url("http://169.254.169.254/latest", false).is_err());
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_url("https://user:pw@example.com/", false).is_err());
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }
}
