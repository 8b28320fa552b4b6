//! The page's words, one Fluent file per language in `www/i18n/`.
//!
//! The files use the simple subset of Fluent the page needs: `key = value`
//! messages, `#` comments, and `{ $name }` variables. A small reader here
//! instead of `fluent-bundle` keeps the first load small (the full Fluent
//! runtime brings plural rules and number formatting for every locale, which
//! these strings do not use). A translator adds a language by adding an
//! `.ftl` file and one line to [`Lang::ALL`].

use std::collections::HashMap;

/// A language the page speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English (complete; every other language falls back to it).
    En,
    /// Spanish.
    Es,
    /// French.
    Fr,
    /// Arabic, written right to left.
    Ar,
}

impl Lang {
    /// Every language, in the order the picker lists them.
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Es, Lang::Fr, Lang::Ar];

    /// The BCP 47 tag (`en`, `ar`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Fr => "fr",
            Lang::Ar => "ar",
        }
    }

    /// The language's own name, as the picker shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
            Lang::Fr => "Français",
            Lang::Ar => "العربية",
        }
    }

    /// Whether the script runs right to left (`dir="rtl"`).
    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Ar)
    }

    /// The language for a tag: `es-MX` and `es` give Spanish; unknown tags give `None`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        Lang::ALL
            .into_iter()
            .find(|lang| lang.tag().eq_ignore_ascii_case(primary))
    }

    /// The first of the browser's preferred languages the page speaks, else English.
    pub fn negotiate<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        preferred
            .into_iter()
            .find_map(Lang::from_tag)
            .unwrap_or(Lang::En)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../www/i18n/en.ftl"),
            Lang::Es => include_str!("../www/i18n/es.ftl"),
            Lang::Fr => include_str!("../www/i18n/fr.ftl"),
            Lang::Ar => include_str!("../www/i18n/ar.ftl"),
        }
    }
}

/// Reads `key = value` messages; comments, blank lines and lines without
/// `=` are skipped. Indented lines continue the previous value.
pub fn parse(source: &str) -> HashMap<&str, String> {
    let mut messages: HashMap<&str, String> = HashMap::new();
    let mut last: Option<&str> = None;
    for line in source.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with(' ') {
            if let Some(value) = last.and_then(|key| messages.get_mut(key)) {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let key = key.trim();
            messages.insert(key, value.trim().to_string());
            last = Some(key);
        }
    }
    messages
}

/// The page's words in one language, falling back to English.
#[derive(Debug, Clone, PartialEq)]
pub struct Texts {
    lang: Lang,
    messages: HashMap<&'static str, String>,
    fallback: HashMap<&'static str, String>,
}

impl Texts {
    /// Loads the messages of `lang`.
    pub fn new(lang: Lang) -> Self {
        Texts {
            lang,
            messages: parse(lang.source()),
            fallback: parse(Lang::En.source()),
        }
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message `key`; the key itself if no language has it.
    pub fn get(&self, key: &str) -> String {
        self.with(key, &[])
    }

    /// The message `key` with `{ $name }` replaced by the given values.
    pub fn with(&self, key: &str, args: &[(&str, &str)]) -> String {
        let Some(text) = self.messages.get(key).or_else(|| self.fallback.get(key)) else {
            return key.to_string();
        };
        let mut out = text.clone();
        for (name, value) in args {
            out = out.replace(&format!("{{ ${name} }}"), value);
        }
        out
    }

    /// The agency's text for this language, else its default language's, else any.
    pub fn pick<'a>(
        &self,
        localized: &'a sealtip_api::Localized,
        default: Option<&str>,
    ) -> &'a str {
        localized
            .get(self.lang.tag())
            .or_else(|| default.and_then(|tag| localized.get(tag)))
            .or_else(|| localized.values().next())
            .map(String::as_str)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_key() {
        let english = parse(Lang::En.source());
        for lang in Lang::ALL {
            let messages = parse(lang.source());
            let missing: Vec<_> = english
                .keys()
                .filter(|k| !messages.contains_key(*k))
                .collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        }
    }

    #[test]
    fn variables_and_fallback() {
        let texts = Texts::new(Lang::Es);
        assert!(
            texts
                .with("intro-only", &[("agency", "ACME")])
                .contains("ACME")
        );
        assert_eq!(texts.get("no-such-key"), "no-such-key");
    }

    #[test]
    fn negotiation_takes_the_first_known_language() {
        assert_eq!(Lang::negotiate(["de-DE", "es-MX", "en"]), Lang::Es);
        assert_eq!(Lang::negotiate(["ar"]), Lang::Ar);
        assert_eq!(Lang::negotiate(["de"]), Lang::En);
        assert_eq!(Lang::negotiate([]), Lang::En);
    }

    #[test]
    fn continuation_lines_join_the_value() {
        let m = parse("# c\na = one\n  two\nb=three\n");
        assert_eq!(m["a"], "one two");
        assert_eq!(m["b"], "three");
    }
}
