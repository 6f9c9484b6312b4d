//! The digest as an e-mail (HTML and plain text, in the recipient's
//! language), and the sentence each alert reads as (pages and e-mails).

use crate::i18n;
use askama::Template;
use fluent_templates::fluent_bundle::FluentValue;
use salesops_app::notify::alerts::Alert;
use salesops_app::notify::digest::{Digest, DigestRenderer, GoalLine, MemberDigest, Rendered};
use salesops_domain::goals::PaceStatus;
use salesops_domain::{GoalMetric, Locale, Money};
use uuid::Uuid;

/// An amount as the language writes it (`12.500,00 EUR` / `12,500.00 EUR`).
pub fn money(lang: Locale, m: &Money) -> String {
    format!(
        "{} {}",
        m.amount_localized(lang == Locale::De, true),
        m.currency
    )
}

fn date(lang: Locale, d: chrono::NaiveDate) -> String {
    match lang {
        Locale::De => d.format("%d.%m.%Y").to_string(),
        Locale::En => d.format("%Y-%m-%d").to_string(),
    }
}

fn s(v: &serde_json::Value) -> FluentValue<'static> {
    match v {
        serde_json::Value::String(x) => FluentValue::from(x.clone()),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => FluentValue::from(i),
            None => FluentValue::from(n.to_string()),
        },
        serde_json::Value::Null => FluentValue::from(String::new()),
        other => FluentValue::from(other.to_string()),
    }
}

/// A goal figure: a count, or for revenue an amount in minor units.
fn figure(lang: Locale, metric: &str, n: i64, currency: Option<&str>) -> String {
    match (metric, currency.and_then(|c| c.parse().ok())) {
        ("revenue_won", Some(c)) => money(lang, &Money::new(n, c)),
        _ => n.to_string(),
    }
}

/// The sentence an alert reads as.
pub fn alert_text(lang: Locale, a: &Alert) -> String {
    let d = &a.detail;
    let title = FluentValue::from(a.title.clone());
    match a.kind.as_str() {
        "rotting" => i18n::t_args(
            lang,
            "alert-rotting",
            &[
                ("title", title),
                ("stage", s(&d["stage"])),
                ("days", s(&d["days"])),
                ("limit", s(&d["rotting_days"])),
            ],
        ),
        "idle" => i18n::t_args(
            lang,
            "alert-idle",
            &[("title", title), ("days", s(&d["days"]))],
        ),
        "close_date_passed" => {
            let when = d["date"]
                .as_str()
                .and_then(|x| x.parse().ok())
                .map(|x| date(lang, x))
                .unwrap_or_default();
            i18n::t_args(
                lang,
                "alert-close-date-passed",
                &[
                    ("title", title),
                    ("date", FluentValue::from(when)),
                    ("days", s(&d["days"])),
                ],
            )
        }
        "behind_pace" => {
            let metric = d["metric"].as_str().unwrap_or("");
            let cur = d["currency"].as_str();
            let f =
                |k: &str| FluentValue::from(figure(lang, metric, d[k].as_i64().unwrap_or(0), cur));
            i18n::t_args(
                lang,
                "alert-behind-pace",
                &[
                    ("title", title),
                    (
                        "metric",
                        FluentValue::from(i18n::t(lang, &format!("goal-metric-{metric}"))),
                    ),
                    ("actual", f("actual")),
                    ("expected", f("expected")),
                    ("target", f("target")),
                ],
            )
        }
        "low_coverage" => {
            let fmt = |k: &str| {
                let v = d[k].as_str().unwrap_or("").to_string();
                FluentValue::from(if lang == Locale::De {
                    v.replace('.', ",")
                } else {
                    v
                })
            };
            i18n::t_args(
                lang,
                "alert-low-coverage",
                &[
                    ("title", title),
                    ("coverage", fmt("coverage")),
                    ("target", fmt("target")),
                ],
            )
        }
        other => format!("{other}: {}", a.title),
    }
}

/// Where an alert leads: its lead, or the goals page.
pub fn alert_link(a: &Alert) -> String {
    match (a.lead_id, a.goal_id) {
        (Some(l), _) => format!("/leads/{l}"),
        (None, Some(_)) => "/goals".into(),
        _ => "/alerts".into(),
    }
}

/// What the templates read: the digest and the reader's language.
struct View<'a> {
    d: &'a Digest,
    lang: Locale,
}

impl View<'_> {
    fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    fn period(&self) -> String {
        let p = self.d.period;
        if self.d.weekly {
            i18n::t_args(
                self.lang,
                "digest-period-week",
                &[
                    ("from", FluentValue::from(date(self.lang, p.from))),
                    (
                        "to",
                        FluentValue::from(date(self.lang, p.to - chrono::Duration::days(1))),
                    ),
                ],
            )
        } else {
            i18n::t_args(
                self.lang,
                "digest-period-day",
                &[("day", FluentValue::from(date(self.lang, p.from)))],
            )
        }
    }

    fn greeting(&self) -> String {
        i18n::t_args(
            self.lang,
            "digest-greeting",
            &[("name", FluentValue::from(self.d.recipient_name.clone()))],
        )
    }

    fn money(&self, m: &Option<Money>) -> String {
        match m {
            Some(m) => money(self.lang, m),
            None => self.t("digest-no-rate"),
        }
    }

    fn goal(&self, g: &GoalLine) -> String {
        let metric = self.t(&format!("goal-metric-{}", g.metric.as_str()));
        let label = match &g.label {
            Some(l) => format!("{metric} ({l})"),
            None => metric,
        };
        let fig = |n: i64| {
            if g.metric == GoalMetric::RevenueWon {
                figure(self.lang, "revenue_won", n, Some(self.d_base()))
            } else {
                n.to_string()
            }
        };
        format!("{label}: {} / {}", fig(g.actual), fig(g.target))
    }

    fn d_base(&self) -> &str {
        self.d.base.code()
    }

    fn status(&self, g: &GoalLine) -> String {
        let n = FluentValue::from((g.expected - g.actual).max(0));
        match g.status {
            PaceStatus::Achieved => self.t("goal-status-achieved"),
            PaceStatus::OnTrack => self.t("goal-status-on_track"),
            PaceStatus::Behind => i18n::t_args(self.lang, "goal-status-behind", &[("n", n)]),
            PaceStatus::Missed => i18n::t_args(
                self.lang,
                "goal-status-missed",
                &[("n", FluentValue::from((g.target - g.actual).max(0)))],
            ),
            PaceStatus::NotStarted => self.t("goal-status-not_started"),
        }
    }

    fn status_class(&self, g: &GoalLine) -> &'static str {
        match g.status {
            PaceStatus::Achieved | PaceStatus::OnTrack => "#1a7f37",
            PaceStatus::Behind | PaceStatus::Missed => "#b42318",
            PaceStatus::NotStarted => "#555555",
        }
    }

    fn types(&self, m: &MemberDigest) -> String {
        m.by_type
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    fn outcomes(&self, m: &MemberDigest) -> String {
        m.outcomes
            .iter()
            .map(|(n, c)| format!("{n} {c}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    fn alert(&self, a: &Alert) -> String {
        let who = a
            .user_id
            .and_then(|u| self.d.names.get(&u))
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        format!("{}{who}", alert_text(self.lang, a))
    }

    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.d.base_url)
    }

    fn alert_link(&self, a: &Alert) -> String {
        self.link(&alert_link(a))
    }

    fn name(&self, id: &Uuid) -> String {
        self.d.names.get(id).cloned().unwrap_or_default()
    }

    fn subject(&self) -> String {
        let key = if self.d.weekly {
            "digest-subject-week"
        } else {
            "digest-subject-day"
        };
        i18n::t_args(
            self.lang,
            key,
            &[
                ("org", FluentValue::from(self.d.org_name.clone())),
                (
                    "day",
                    FluentValue::from(date(self.lang, self.d.period.from)),
                ),
            ],
        )
    }
}

#[derive(Template)]
#[template(path = "email_digest.html")]
struct DigestHtml<'a> {
    v: View<'a>,
}

#[derive(Template)]
#[template(path = "email_digest.txt")]
struct DigestText<'a> {
    v: View<'a>,
}

/// Renders digests with the templates and translations of this crate.
#[derive(Clone, Copy, Debug, Default)]
pub struct Renderer;

impl DigestRenderer for Renderer {
    fn render(&self, d: &Digest) -> Rendered {
        let subject = View { d, lang: d.locale }.subject();
        let html = DigestHtml {
            v: View { d, lang: d.locale },
        }
        .render()
        .unwrap_or_else(|e| format!("<p>{e}</p>"));
        let text = DigestText {
            v: View { d, lang: d.locale },
        }
        .render()
        .unwrap_or_else(|e| e.to_string());
        Rendered {
            subject,
            html,
            text,
        }
    }
}
