//! The platform reaching out: the daily digest (`digest`, sent through
//! `mail`), alerts (`alerts`) and webhooks (`webhooks`, fed by the outbox
//! of `events`). One job runs them all (`App::run_notifications`), on
//! every app instance: each send and each delivery is claimed in the
//! database first, so two instances never do the same one.

pub mod alerts;
pub mod digest;
pub mod events;
pub mod mail;
pub mod webhooks;

use crate::App;
use crate::error::{AppError, Result};
use crate::permissions::{Action, Actor, Resource, require};
use salesops_domain::{Invalid, OrgId, UserId};
use salesops_store::notify::{self, SettingsRow};
use salesops_store::now;

/// How the notifications reach out (from the configuration).
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    /// The app's public URL: links in e-mails.
    pub base_url: String,
    pub mail: mail::MailConfig,
    /// The sender of e-mails.
    pub mail_from: String,
    /// Webhook endpoints on loopback, private or link-local addresses.
    pub allow_private_webhooks: bool,
    /// How long a webhook receiver has to answer.
    pub webhook_timeout: std::time::Duration,
    /// The first retry's delay; each further one doubles it (capped at an hour).
    pub retry_base: chrono::Duration,
    /// Webhook deliveries are given up this long after their event.
    pub webhook_give_up: chrono::Duration,
    /// Digest sends are given up after this many attempts.
    pub digest_max_attempts: i32,
    /// Names this process in the claims it takes.
    pub instance: String,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            base_url: "http://127.0.0.1:8080".into(),
            mail: mail::MailConfig::Off,
            mail_from: "salesops <salesops@localhost>".into(),
            allow_private_webhooks: false,
            webhook_timeout: std::time::Duration::from_secs(10),
            retry_base: chrono::Duration::seconds(30),
            webhook_give_up: chrono::Duration::hours(24),
            digest_max_attempts: 8,
            instance: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple()),
        }
    }
}

/// An error with its causes (each said once), for the logs of sends and
/// deliveries.
pub(crate) fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// A ratio kept in per cent (300) as a decimal (3).
pub fn ratio_of_pct(pct: i32) -> rust_decimal::Decimal {
    (rust_decimal::Decimal::from(pct) / rust_decimal::Decimal::from(100)).normalize()
}

/// The delay before retry number `attempts` (1 = the first retry):
/// `base`, doubled each time, at most an hour.
pub fn backoff(base: chrono::Duration, attempts: i32) -> chrono::Duration {
    let factor = 1i32 << attempts.clamp(1, 16).saturating_sub(1);
    (base * factor).min(chrono::Duration::hours(1))
}

/// The organisation's notification settings as ops edit them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifySettings {
    pub digest_enabled: bool,
    /// Local hour (0–23, the organisation's time zone) the digest goes out.
    pub digest_hour: i32,
    /// Whether the digest lists the recipient's open alerts.
    pub digest_alerts: bool,
    /// An open lead without an activity for this many days raises an alert.
    pub idle_days: i32,
    /// Pipeline coverage below this ratio (in per cent: 300 = 3×) raises one.
    pub coverage_target_pct: i32,
    pub version: i64,
}

impl From<SettingsRow> for NotifySettings {
    fn from(r: SettingsRow) -> Self {
        NotifySettings {
            digest_enabled: r.digest_enabled,
            digest_hour: r.digest_hour,
            digest_alerts: r.digest_alerts,
            idle_days: r.idle_days,
            coverage_target_pct: r.coverage_target_pct,
            version: r.version,
        }
    }
}

/// A digest choice: `daily`, `weekly`, `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestChoice {
    Daily,
    Weekly,
    Off,
}

impl DigestChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            DigestChoice::Daily => "daily",
            DigestChoice::Weekly => "weekly",
            DigestChoice::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<DigestChoice> {
        match s {
            "daily" => Some(DigestChoice::Daily),
            "weekly" => Some(DigestChoice::Weekly),
            "off" => Some(DigestChoice::Off),
            _ => None,
        }
    }
}

impl App {
    pub async fn notification_settings(&self, actor: &Actor) -> Result<NotifySettings> {
        require(actor, Resource::Settings, Action::Read, None)?;
        Ok(notify::settings(&mut self.conn(), actor.org_id)
            .await?
            .into())
    }

    /// Saves the settings; `Stale` when someone saved them since `s.version`.
    pub async fn save_notification_settings(
        &self,
        actor: &Actor,
        s: &NotifySettings,
    ) -> Result<NotifySettings> {
        require(actor, Resource::Settings, Action::Update, None)?;
        let mut errs = Invalid::default();
        if !(0..=23).contains(&s.digest_hour) {
            errs.push("digest_hour", "must be an hour from 0 to 23");
        }
        if !(1..=365).contains(&s.idle_days) {
            errs.push("idle_days", "must be between 1 and 365 days");
        }
        if !(1..=10_000).contains(&s.coverage_target_pct) {
            errs.push("coverage_target", "must be between 0.01 and 100");
        }
        errs.into_result()?;
        let row = SettingsRow {
            digest_enabled: s.digest_enabled,
            digest_hour: s.digest_hour,
            digest_alerts: s.digest_alerts,
            idle_days: s.idle_days,
            coverage_target_pct: s.coverage_target_pct,
            version: s.version,
        };
        if !notify::save_settings(&mut self.conn(), actor.org_id, &row, now()).await? {
            return Err(AppError::Stale);
        }
        Ok(notify::settings(&mut self.conn(), actor.org_id)
            .await?
            .into())
    }

    /// A user's digest choice as stored (`None`: the default for them).
    pub async fn digest_choice(&self, actor: &Actor, user: UserId) -> Result<Option<DigestChoice>> {
        if user != actor.user_id {
            require(actor, Resource::User, Action::Administer, None)?;
        }
        self.digest_choice_of(actor.org_id, user).await
    }

    /// A user's stored choice, unchecked (the preview checks on its own).
    pub(crate) async fn digest_choice_of(
        &self,
        org: OrgId,
        user: UserId,
    ) -> Result<Option<DigestChoice>> {
        let stored = notify::user_digest(&mut self.conn(), org, user.0).await?;
        Ok(stored.as_deref().and_then(DigestChoice::parse))
    }

    /// Sets a user's digest choice: their own, or anyone's for admins.
    pub async fn set_digest_choice(
        &self,
        actor: &Actor,
        user: UserId,
        choice: Option<DigestChoice>,
    ) -> Result<()> {
        if user != actor.user_id {
            require(actor, Resource::User, Action::Administer, None)?;
        }
        let n = notify::set_user_digest(
            &mut self.conn(),
            actor.org_id,
            user.0,
            choice.map(DigestChoice::as_str),
            now(),
        )
        .await?;
        if n == 0 {
            return Err(AppError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let b = chrono::Duration::seconds(30);
        assert_eq!(backoff(b, 1), chrono::Duration::seconds(30));
        assert_eq!(backoff(b, 2), chrono::Duration::seconds(60));
        assert_eq!(backoff(b, 4), chrono::Duration::seconds(240));
        assert_eq!(backoff(b, 8), chrono::Duration::hours(1));
        assert_eq!(backoff(b, 40), chrono::Duration::hours(1));
    }
}
