//! Translations (Fluent): English and German, chosen per request.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};
use salesops_domain::Locale;
use std::borrow::Cow;
use std::collections::HashMap;

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LanguageIdentifier = langid!("en");
static DE: LanguageIdentifier = langid!("de");

fn id(l: Locale) -> &'static LanguageIdentifier {
    match l {
        Locale::De => &DE,
        Locale::En => &EN,
    }
}

/// The text of `key` in `lang`.
pub fn t(lang: Locale, key: &str) -> String {
    LOCALES.lookup(id(lang), key)
}

/// The text of `key` with arguments.
pub fn t_args(lang: Locale, key: &str, args: &[(&str, FluentValue<'static>)]) -> String {
    let map: HashMap<Cow<'static, str>, FluentValue<'static>> = args
        .iter()
        .map(|(k, v)| (Cow::Owned(k.to_string()), v.clone()))
        .collect();
    LOCALES.lookup_with_args(id(lang), key, &map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(src: &str) -> BTreeSet<String> {
        src.lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
            .filter_map(|l| l.split_once(" = ").or_else(|| l.split_once(" =")))
            .map(|(k, _)| k.trim().to_string())
            .collect()
    }

    #[test]
    fn english_and_german_have_the_same_keys() {
        let en = keys(include_str!("../locales/en/main.ftl"));
        let de = keys(include_str!("../locales/de/main.ftl"));
        assert!(en.len() > 50);
        let only_en: Vec<_> = en.difference(&de).collect();
        let only_de: Vec<_> = de.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_de.is_empty(),
            "only in en: {only_en:?}; only in de: {only_de:?}"
        );
    }

    #[test]
    fn lookups_translate_with_arguments() {
        assert_eq!(t(Locale::De, "login-title"), "Anmelden");
        assert_eq!(t(Locale::En, "login-title"), "Sign in");
        let s = t_args(Locale::De, "teams-members-count", &[("count", 3.into())]);
        assert_eq!(s, "3 Mitglieder");
        let s = t_args(Locale::En, "teams-members-count", &[("count", 1.into())]);
        assert_eq!(s, "1 member");
    }
}
