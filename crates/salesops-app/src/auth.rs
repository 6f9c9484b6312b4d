//! Sign-in: passwords (argon2), browser sessions, API tokens and the limits
//! on failed attempts.

use crate::permissions::Actor;
use crate::{App, AppError, Result};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use salesops_domain::{OrgId, UserId};
use salesops_store::{auth, now, orgs, teams, users};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use tokio::sync::Semaphore;

/// At most this many password hashes are computed at once (each takes
/// about 19 MiB and a core for tens of milliseconds); others wait.
const PARALLEL_HASHES: usize = 4;

fn hash_permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(PARALLEL_HASHES))
}

/// Active, and not past the leave date.
pub(crate) fn may_sign_in(u: &users::User, today: chrono::NaiveDate) -> bool {
    u.active && u.leave_date.is_none_or(|d| d > today)
}

/// Random bytes from the operating system, base64url.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source");
    URL_SAFE_NO_PAD.encode(buf)
}

pub fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

/// Hashes a password with argon2id (runs on a blocking thread).
pub async fn hash_password(pw: &str) -> Result<String> {
    let pw = pw.to_string();
    let _permit = hash_permits()
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

async fn verify_password(pw: &str, hash: &str) -> bool {
    let (pw, hash) = (pw.to_string(), hash.to_string());
    let Ok(_permit) = hash_permits().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(pw.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A hash nobody knows the password of: unknown e-mails are checked against
/// it so that they take as long as wrong passwords.
async fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return h;
    }
    let h = hash_password(&random_token(24)).await.unwrap_or_default();
    DUMMY.get_or_init(|| h)
}

pub struct LoginInput<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// Organisation slug, needed only when the e-mail exists in several.
    pub org: Option<&'a str>,
    /// The client's address, for the per-address limit.
    pub ip: &'a str,
}

/// A new browser session: the cookie value (shown once, stored hashed) and
/// its CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
}

/// A new API token; `secret` is shown once and stored only as a hash.
pub struct NewToken {
    pub secret: String,
    pub token: auth::ApiToken,
}

pub const TOKEN_PREFIX: &str = "so_";

impl App {
    /// Loads what the permission rule needs about a user.
    pub async fn actor(&self, org: OrgId, user: UserId) -> Result<Actor> {
        let u = users::get(&mut self.conn(), org, user).await?;
        self.actor_of(u).await
    }

    async fn actor_of(&self, u: users::User) -> Result<Actor> {
        let member_of = teams::of_user(&mut self.conn(), u.org_id, u.id).await?;
        let manages = teams::managed_by(&mut self.conn(), u.org_id, u.id).await?;
        Ok(Actor {
            org_id: u.org_id,
            user_id: u.id,
            role: u.role,
            name: u.name,
            email: u.email,
            locale: u.locale,
            time_zone: u.time_zone,
            member_of,
            manages,
        })
    }

    /// Records a sign-in attempt as failed *before* the password is checked
    /// (a success removes it again), then counts: concurrent guesses cannot
    /// all slip under the limit.
    async fn reserve_attempt(&self, email: &str, ip: &str, at: DateTime<Utc>) -> Result<()> {
        let s = &self.settings;
        let org = match orgs::default_org(&mut self.conn()).await? {
            Some(o) => o.id,
            None => return Err(AppError::Unauthenticated),
        };
        auth::record_failure(&mut self.conn(), org, email, ip, at).await?;
        let since = at - s.failure_window;
        for (key, by_ip, max) in [
            (email, false, s.max_failures_per_account),
            (ip, true, s.max_failures_per_ip),
        ] {
            let max = max.max(1);
            let fails =
                auth::failures_since(&mut self.conn(), key, by_ip, since, u64::from(max) + 1)
                    .await?;
            if fails.len() as u32 > max {
                let oldest = fails[0];
                let wait = (oldest + s.failure_window - at).num_seconds().max(1) as u64;
                return Err(AppError::TooManyAttempts {
                    retry_after_secs: wait,
                });
            }
        }
        Ok(())
    }

    /// Signs a user in. Wrong password and unknown e-mail give the same
    /// answer after the same work.
    pub async fn login(&self, input: LoginInput<'_>) -> Result<NewSession> {
        let at = now();
        let email = input.email.trim().to_lowercase();
        self.reserve_attempt(&email, input.ip, at).await?;
        let mut candidates = users::by_email_any_org(&mut self.conn(), &email).await?;
        if let Some(slug) = input.org.filter(|s| !s.is_empty()) {
            let org = orgs::by_slug(&mut self.conn(), slug).await?;
            candidates.retain(|u| org.as_ref().is_some_and(|o| o.id == u.org_id));
        }
        let user = match candidates.len() {
            1 => candidates.pop(),
            _ => None,
        };
        let hash = match &user {
            Some(u) => u.password_hash.clone(),
            None => dummy_hash().await.to_string(),
        };
        let ok = verify_password(input.password, &hash).await;
        let Some(user) = user.filter(|u| ok && may_sign_in(u, at.date_naive())) else {
            auth::purge_failures(&mut self.conn(), at - chrono::Duration::days(1)).await?;
            return Err(AppError::Unauthenticated);
        };
        auth::clear_failures(&mut self.conn(), &email).await?;
        self.start_session(user).await
    }

    async fn start_session(&self, user: users::User) -> Result<NewSession> {
        let at = now();
        let token = random_token(32);
        let csrf = random_token(32);
        let session = auth::Session {
            org_id: user.org_id,
            id_hash: sha256(&token),
            user_id: user.id,
            csrf_token: csrf.clone(),
            created_at: at,
            expires_at: at + self.settings.session_ttl,
        };
        auth::insert_session(&mut self.conn(), &session).await?;
        auth::purge_expired_sessions(&mut self.conn(), at).await?;
        let actor = self.actor_of(user).await?;
        Ok(NewSession {
            token,
            csrf,
            expires_at: session.expires_at,
            actor,
        })
    }

    /// Starts a fresh session for an actor (after a password change ended the old ones).
    pub async fn renew_session(&self, actor: &Actor) -> Result<NewSession> {
        let u = users::get(&mut self.conn(), actor.org_id, actor.user_id).await?;
        self.start_session(u).await
    }

    /// The actor and CSRF token of a live session cookie.
    pub async fn session(&self, token: &str) -> Result<Option<(Actor, String)>> {
        let Some(s) = auth::live_session(&mut self.conn(), &sha256(token), now()).await? else {
            return Ok(None);
        };
        let u = match users::get(&mut self.conn(), s.org_id, s.user_id).await {
            Ok(u) if may_sign_in(&u, now().date_naive()) => u,
            Ok(_) | Err(salesops_store::StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(Some((self.actor_of(u).await?, s.csrf_token)))
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        auth::delete_session(&mut self.conn(), &sha256(token)).await?;
        Ok(())
    }

    /// The actor of a bearer token, or `None` when it is unknown, revoked or expired.
    pub async fn token_actor(&self, secret: &str) -> Result<Option<Actor>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(t) = auth::token_by_hash(&mut self.conn(), &sha256(secret)).await? else {
            return Ok(None);
        };
        let at = now();
        if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= at) {
            return Ok(None);
        }
        let u = match users::get(&mut self.conn(), t.org_id, t.user_id).await {
            Ok(u) if may_sign_in(&u, at.date_naive()) => u,
            Ok(_) | Err(salesops_store::StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // Record use at most once a minute, not on every request.
        if t.last_used_at
            .is_none_or(|l| at - l > chrono::Duration::minutes(1))
        {
            auth::touch_token(&mut self.conn(), t.org_id, t.id, at).await?;
        }
        Ok(Some(self.actor_of(u).await?))
    }

    /// Drops expired sessions and old idempotency records.
    pub async fn housekeeping(&self) -> Result<()> {
        let at = now();
        auth::purge_expired_sessions(&mut self.conn(), at).await?;
        auth::purge_failures(&mut self.conn(), at - chrono::Duration::days(1)).await?;
        salesops_store::idempotency::purge(&mut self.conn(), at - chrono::Duration::hours(24))
            .await?;
        self.fail_abandoned_imports(at - chrono::Duration::hours(6))
            .await?;
        self.prune_feed(std::time::Duration::from_secs(7 * 86_400))
            .await?;
        // Webhook logs for 30 days; digest sends and cleared alerts for 90.
        salesops_store::webhooks::purge(&mut self.conn(), at - chrono::Duration::days(30)).await?;
        salesops_store::notify::purge(&mut self.conn(), at - chrono::Duration::days(90)).await?;
        Ok(())
    }
}

/// Work shared by the password checks of the profile pages.
pub(crate) async fn password_matches(pw: &str, hash: &str) -> bool {
    verify_password(pw, hash).await
}
