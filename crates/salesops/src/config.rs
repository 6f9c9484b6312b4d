//! Configuration: defaults, then `salesops.toml` (or `--config FILE`), then
//! `SALESOPS_*` environment variables, then command-line flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to serve on.
    pub listen: String,
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`.
    pub database_url: String,
    /// Public URL of the app (links in e-mails; `https://` turns on Secure cookies).
    pub base_url: String,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter such as `info` or `salesops=debug,info`.
    pub log_level: String,
    /// Name of the organisation `migrate` creates.
    pub org_name: String,
    pub session_ttl_hours: i64,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
    pub body_limit_bytes: usize,
    pub max_failed_logins_per_account: u32,
    pub max_failed_logins_per_ip: u32,
    /// Where the analytic index is saved for a fast restart: a file path,
    /// `off`, or empty for the default (beside a SQLite database file;
    /// off for PostgreSQL, where each instance names its own file).
    pub index_snapshot: String,
    /// Where e-mail goes: `smtps://user:pass@host:465` (TLS),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtp://host:25` (plain, for a relay on the same machine). Empty: off.
    pub smtp_url: String,
    /// A directory that receives each e-mail as an `.eml` file instead
    /// (development); used when `smtp_url` is empty.
    pub mail_dir: String,
    /// The sender of e-mails.
    pub mail_from: String,
    /// Allow webhook endpoints on loopback, private and link-local addresses.
    pub webhooks_allow_private: bool,
    /// Seconds a webhook receiver has to answer.
    pub webhook_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://salesops.db".into(),
            base_url: "http://127.0.0.1:8080".into(),
            log_format: "text".into(),
            log_level: "info".into(),
            org_name: "My organisation".into(),
            session_ttl_hours: 12,
            trust_forwarded_for: false,
            body_limit_bytes: 1024 * 1024,
            max_failed_logins_per_account: 5,
            max_failed_logins_per_ip: 30,
            index_snapshot: String::new(),
            smtp_url: String::new(),
            mail_dir: String::new(),
            mail_from: "salesops <salesops@localhost>".into(),
            webhooks_allow_private: false,
            webhook_timeout_secs: 10,
        }
    }
}

/// Flags given on the command line; only those set override the rest.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    /// The file the analytic index is saved in, if any.
    pub fn index_snapshot_path(&self) -> Option<std::path::PathBuf> {
        match self.index_snapshot.trim() {
            "off" => None,
            "" => {
                let path = self.database_url.strip_prefix("sqlite://")?;
                let path = path.split('?').next().unwrap_or(path);
                (!path.is_empty() && !path.contains(":memory:"))
                    .then(|| std::path::PathBuf::from(format!("{path}.index")))
            }
            p => Some(p.into()),
        }
    }

    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                anyhow::ensure!(f.exists(), "config file {} does not exist", f.display());
                fig = fig.merge(Toml::file_exact(f));
            }
            None => fig = fig.merge(Toml::file("salesops.toml")),
        }
        // The environment contributes the configuration's own keys only:
        // other SALESOPS_* variables (the test suites' switches, say) are not settings.
        let keys: Vec<String> = Figment::from(Serialized::defaults(Config::default()))
            .extract::<std::collections::BTreeMap<String, figment::value::Value>>()
            .map(|m| m.into_keys().collect())
            .unwrap_or_default();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let fig = fig
            .merge(Env::prefixed("SALESOPS_").only(&keys))
            .merge(Serialized::defaults(overrides));
        let c: Config = fig
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        anyhow::ensure!(
            matches!(c.log_format.as_str(), "text" | "json"),
            "invalid configuration: log_format must be text or json"
        );
        anyhow::ensure!(
            (1..=24 * 90).contains(&c.session_ttl_hours),
            "invalid configuration: session_ttl_hours must be between 1 and 2160"
        );
        anyhow::ensure!(
            c.max_failed_logins_per_account >= 1 && c.max_failed_logins_per_ip >= 1,
            "invalid configuration: max_failed_logins_per_account and max_failed_logins_per_ip must be at least 1"
        );
        anyhow::ensure!(
            c.body_limit_bytes >= 1024,
            "invalid configuration: body_limit_bytes must be at least 1024"
        );
        anyhow::ensure!(
            (1..=120).contains(&c.webhook_timeout_secs),
            "invalid configuration: webhook_timeout_secs must be between 1 and 120"
        );
        if !c.smtp_url.trim().is_empty() {
            salesops_app::notify::mail::Mailer::new(&salesops_app::notify::mail::MailConfig::Smtp(
                c.smtp_url.trim().to_string(),
            ))
            .map_err(|e| anyhow::anyhow!("invalid configuration: smtp_url: {e}"))?;
        }
        anyhow::ensure!(
            c.mail_from.parse::<lettre::message::Mailbox>().is_ok(),
            "invalid configuration: mail_from must be an address such as \"salesops <sales@example.com>\""
        );
        Ok(c)
    }

    /// Where e-mail goes.
    pub fn mail(&self) -> salesops_app::notify::mail::MailConfig {
        use salesops_app::notify::mail::MailConfig;
        if !self.smtp_url.trim().is_empty() {
            MailConfig::Smtp(self.smtp_url.trim().to_string())
        } else if !self.mail_dir.trim().is_empty() {
            MailConfig::Dir(self.mail_dir.trim().into())
        } else {
            MailConfig::Off
        }
    }

    /// The configuration as it may be logged: secrets replaced.
    pub fn redacted(&self) -> Config {
        Config {
            smtp_url: salesops_store::redact_url(&self.smtp_url),
            database_url: salesops_store::redact_url(&self.database_url),
            ..self.clone()
        }
    }
}

#[cfg(test)]
// figment::Jail fixes the closure's error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_secrets_are_redacted() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "salesops.toml",
                "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\n",
            )?;
            jail.set_env("SALESOPS_LISTEN", "127.0.0.1:9100");
            jail.set_env("SALESOPS_DATABASE_URL", "postgres://app:s3cret@db/salesops");
            jail.set_env("SALESOPS_SOMETHING_ELSE", "not a setting");
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "127.0.0.1:9100", "environment beats the file");
            assert_eq!(c.log_format, "json", "the file beats the defaults");
            let flags = Overrides {
                listen: Some("127.0.0.1:9200".into()),
                database_url: None,
            };
            let c = Config::load(None, &flags).map_err(|e| e.to_string())?;
            assert_eq!(c.listen, "127.0.0.1:9200", "flags beat the environment");
            let shown = format!("{:?}", c.redacted());
            assert!(
                !shown.contains("s3cret") && shown.contains("app:***@db"),
                "{shown}"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("salesops.toml", "lisen = \"x\"\n")?;
            let e = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains("lisen"), "{e}");
            jail.create_file("salesops.toml", "log_format = \"xml\"\n")?;
            assert!(Config::load(None, &Overrides::default()).is_err());
            jail.create_file("salesops.toml", "max_failed_logins_per_ip = 0\n")?;
            let e = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(e.contains("at least 1"), "{e}");
            Ok(())
        });
    }
}
