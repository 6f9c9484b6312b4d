//! Users, roles, teams and the values they carry.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct ParseError(pub String);

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, ParseError> {
                s.parse()
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                match s {
                    $($s => Ok($name::$variant),)*
                    _ => Err(ParseError(format!(
                        "must be one of: {}",
                        [$($s),*].join(", ")
                    ))),
                }
            }
        }
    };
}

string_enum!(
    /// What a user may do; see SPEC "Who uses it".
    Role {
        Admin = "admin",
        Ops = "ops",
        Manager = "manager",
        Rep = "rep",
        Viewer = "viewer",
    }
);

string_enum!(
    /// What a team does in the sales process.
    Segment {
        Marketing = "marketing",
        Prospecting = "prospecting",
        Sales = "sales",
        AccountManagement = "account_management",
    }
);

string_enum!(
    /// What a pipeline is for.
    PipelineKind {
        Acquisition = "acquisition",
        Renewal = "renewal",
        Upsell = "upsell",
        Recruiting = "recruiting",
    }
);

string_enum!(
    /// What an activity type is, for reports (calls, e-mails, meetings, ...).
    ActivityKind {
        Call = "call",
        Email = "email",
        EmailReceived = "email_received",
        Meeting = "meeting",
        Proposal = "proposal",
        Task = "task",
        Other = "other",
    }
);

string_enum!(
    /// Where a lead stands.
    LeadStatus {
        Open = "open",
        Won = "won",
        Lost = "lost",
        Cancelled = "cancelled",
    }
);

string_enum!(
    /// How a rep rates a lead for the forecast.
    ForecastCategory {
        Pipeline = "pipeline",
        BestCase = "best_case",
        Commit = "commit",
        Closed = "closed",
        Omitted = "omitted",
    }
);

string_enum!(
    /// Where a lead came from.
    LeadSource {
        Marketing = "marketing",
        Sales = "sales",
        Partner = "partner",
        Referral = "referral",
        Event = "event",
        Inbound = "inbound",
        Other = "other",
    }
);

string_enum!(
    /// What a goal counts (SPEC "Goal"; METRICS.md "goal progress").
    /// `prospects_added`: prospects added to the lists the users created
    /// (marketing delivering prospects to the prospecting team).
    GoalMetric {
        Activities = "activities",
        LeadsCreated = "leads_created",
        LeadsWon = "leads_won",
        RevenueWon = "revenue_won",
        MeetingsHeld = "meetings_held",
        ProspectsAdded = "prospects_added",
    }
);

string_enum!(
    /// Whom a goal is for: one user, a team as a whole, or each member of a
    /// team on their own.
    GoalAssignee {
        User = "user",
        Team = "team",
        EachMember = "each_member",
    }
);

string_enum!(
    /// The two languages the UI speaks.
    Locale {
        De = "de",
        En = "en",
    }
);

impl Locale {
    /// Picks the best supported language from an `Accept-Language` header
    /// (RFC 9110 quality values), or `None` when nothing matches.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(Locale, u32)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let mut q = 1000u32;
            for p in pieces {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v
                        .trim()
                        .parse::<f32>()
                        .map(|f| (f.clamp(0.0, 1.0) * 1000.0) as u32)
                        .unwrap_or(0);
                }
            }
            let primary = tag.split('-').next().unwrap_or("");
            let locale = match primary {
                "de" => Locale::De,
                "en" => Locale::En,
                _ => continue,
            };
            if q == 0 {
                continue;
            }
            if best.is_none_or(|(_, bq)| q > bq) {
                best = Some((locale, q));
            }
        }
        best.map(|(l, _)| l)
    }
}

/// A lower-cased, syntactically plausible e-mail address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, ParseError> {
        let s = s.trim().to_lowercase();
        let err = || ParseError("must be an e-mail address like name@example.com".into());
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err());
        }
        let (local, domain) = s.split_once('@').ok_or_else(err)?;
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(err());
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Email::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A trimmed, non-empty display name of at most `max` characters.
pub fn parse_name(s: &str, max: usize) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ParseError("must not be empty".into()));
    }
    if t.chars().count() > max {
        return Err(ParseError(format!("must be at most {max} characters")));
    }
    if t.chars().any(|c| c.is_control()) {
        return Err(ParseError("must not contain control characters".into()));
    }
    Ok(t.to_string())
}

/// An IANA time zone name such as `Europe/Berlin`.
pub fn parse_time_zone(s: &str) -> Result<chrono_tz::Tz, ParseError> {
    s.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| ParseError("must be an IANA time zone such as Europe/Berlin".into()))
}

/// Minimum length of a new password. Long passphrases are encouraged; no
/// composition rules (NIST SP 800-63B).
pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 256;

pub fn check_new_password(pw: &str) -> Result<(), ParseError> {
    let n = pw.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(ParseError(format!(
            "must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(ParseError(format!(
            "must be at most {MAX_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// Hire and leave dates: a leave date, when given, is not before the hire date.
pub fn check_employment(
    hire: Option<NaiveDate>,
    leave: Option<NaiveDate>,
) -> Result<(), ParseError> {
    if let (Some(h), Some(l)) = (hire, leave)
        && l < h
    {
        return Err(ParseError("must not be before the hire date".into()));
    }
    Ok(())
}

/// A three-letter ISO 4217 currency code (upper case).
pub fn parse_currency(s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    if t.len() == 3 && t.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(t.to_string())
    } else {
        Err(ParseError("must be an ISO 4217 code such as EUR".into()))
    }
}

string_enum!(
    /// Where a cold prospect stands: still being worked, turned into a lead,
    /// or dropped.
    ProspectStatus {
        Open = "open",
        Converted = "converted",
        Disqualified = "disqualified",
    }
);

string_enum!(
    /// How a script question is answered.
    AnswerKind {
        Text = "text",
        Choice = "choice",
        Number = "number",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_print() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        let e = "boss".parse::<Role>().unwrap_err();
        assert!(e.0.contains("admin, ops, manager, rep, viewer"));
    }

    #[test]
    fn accept_language_picks_best_supported() {
        assert_eq!(
            Locale::from_accept_language("de-DE,de;q=0.9,en;q=0.8"),
            Some(Locale::De)
        );
        assert_eq!(
            Locale::from_accept_language("fr-FR, en-GB;q=0.7, de;q=0.5"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::from_accept_language("en;q=0.2, de;q=0.9"),
            Some(Locale::De)
        );
        assert_eq!(Locale::from_accept_language("fr, it"), None);
        assert_eq!(Locale::from_accept_language("de;q=0, en"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language(""), None);
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Anna.Schmidt@Example.DE ").unwrap().as_str(),
            "anna.schmidt@example.de"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.de",
            "a@b",
            "a b@example.de",
            "a@@example.de",
            "a@example.de.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn names_time_zones_passwords_dates() {
        assert_eq!(
            parse_name("  Vertrieb Nord ", 100).unwrap(),
            "Vertrieb Nord"
        );
        assert!(parse_name("   ", 100).is_err());
        assert!(parse_name(&"x".repeat(101), 100).is_err());
        assert!(parse_time_zone("Europe/Berlin").is_ok());
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("a long enough passphrase").is_ok());
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(check_employment(Some(d("2024-01-01")), Some(d("2023-12-31"))).is_err());
        assert!(check_employment(Some(d("2024-01-01")), Some(d("2024-01-01"))).is_ok());
        assert!(check_employment(None, Some(d("2024-01-01"))).is_ok());
        assert_eq!(parse_currency("EUR").unwrap(), "EUR");
        assert!(parse_currency("eur").is_err());
    }
}
