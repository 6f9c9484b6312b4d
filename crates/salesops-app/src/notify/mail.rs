//! Sending e-mail: SMTP (lettre: `smtps://` for TLS from the first byte,
//! `smtp://…?tls=required` for STARTTLS, credentials in the URL), or a
//! directory that receives one `.eml` file per message (development).

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where e-mail goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailConfig {
    /// Not configured: nothing is sent (the digest job plans nothing).
    Off,
    /// An SMTP URL such as `smtp://user:pass@mail.example.com:587?tls=required`.
    Smtp(String),
    /// A directory: each message is written to it as an `.eml` file.
    Dir(std::path::PathBuf),
}

impl MailConfig {
    /// Says where e-mail goes, without the password.
    pub fn describe(&self) -> String {
        match self {
            MailConfig::Off => "off".into(),
            MailConfig::Smtp(u) => salesops_store::redact_url(u),
            MailConfig::Dir(d) => format!("directory {}", d.display()),
        }
    }
}

/// A ready transport.
#[derive(Clone)]
pub enum Mailer {
    Off,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Dir(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn new(c: &MailConfig) -> Result<Mailer, String> {
        Ok(match c {
            MailConfig::Off => Mailer::Off,
            MailConfig::Smtp(url) => {
                let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("invalid SMTP URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build();
                Mailer::Smtp(t)
            }
            MailConfig::Dir(d) => {
                std::fs::create_dir_all(d).map_err(|e| {
                    format!("cannot create the mail directory {}: {e}", d.display())
                })?;
                Mailer::Dir(AsyncFileTransport::<Tokio1Executor>::new(d))
            }
        })
    }

    pub fn is_off(&self) -> bool {
        matches!(self, Mailer::Off)
    }

    pub async fn send(&self, m: Message) -> Result<(), String> {
        match self {
            Mailer::Off => Err("no mail transport is configured (set smtp_url or mail_dir)".into()),
            Mailer::Smtp(t) => t.send(m).await.map(|_| ()).map_err(|e| smtp_error(&e)),
            Mailer::Dir(t) => t
                .send(m)
                .await
                .map(|_| ())
                .map_err(|e| format!("cannot write the message: {e}")),
        }
    }
}

fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    let what = if e.is_permanent() {
        "the SMTP server refused"
    } else if e.is_transient() {
        "the SMTP server deferred"
    } else {
        "SMTP"
    };
    format!("{what}: {}", super::source_chain(e))
}

/// An e-mail with an HTML and a plain-text part.
#[allow(clippy::too_many_arguments)]
pub fn message(
    from: &str,
    to_name: &str,
    to_email: &str,
    subject: &str,
    html: String,
    text: String,
    message_id: String,
) -> Result<Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("the sender address {from:?} is invalid: {e}"))?;
    let to: Mailbox = format!(
        "{} <{}>",
        to_name.replace(['<', '>', '"', ','], " "),
        to_email
    )
    .parse()
    .or_else(|_| to_email.parse())
    .map_err(|e| format!("the address {to_email:?} is invalid: {e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(message_id))
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| format!("cannot build the message: {e}"))
}
