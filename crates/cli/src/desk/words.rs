//! The desk's words: the `desk-…` messages of the page's language files,
//! `www/i18n/<tag>.ftl`, compiled into the binary (build.rs lists the folder).
//!
//! The reader is the small subset of Fluent those files use, as in the
//! page's `src/i18n.rs`: `key = value` lines, `#` comments, indented lines
//! continuing a value, `{ "text" }` string literals and `{ $name }`
//! variables. The desk keeps only its own messages and the language's name
//! and direction.

use std::collections::BTreeMap;

use sealtip_api::ftl::Catalog;

mod files {
    include!(concat!(env!("OUT_DIR"), "/desk_languages.rs"));
}

/// The desk's words in one language, falling back to English.
pub struct Words {
    tag: String,
    rtl: bool,
    words: Catalog,
}

/// `words.get(id)`, `words.with(id, args)`: the words, by message id.
impl std::ops::Deref for Words {
    type Target = Catalog;

    fn deref(&self) -> &Catalog {
        &self.words
    }
}

impl Words {
    /// The words of the language `wanted` names (`fr`, `pt-BR`, `zh_CN.UTF-8`,
    /// `fil`), else English.
    pub fn for_tag(wanted: &str) -> Words {
        let english = parse(source("en").unwrap_or_default());
        let tag = language_of(wanted).unwrap_or("en");
        let messages = parse(source(tag).unwrap_or_default());
        Words {
            tag: tag.to_string(),
            rtl: messages.get("-direction").is_some_and(|d| d == "rtl"),
            words: Catalog::new(messages, english),
        }
    }

    /// The language's tag, as in `<html lang>`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Whether the language is written right to left.
    pub fn rtl(&self) -> bool {
        self.rtl
    }
}

/// The tags of every language file.
pub fn tags() -> impl Iterator<Item = &'static str> {
    files::FILES.iter().map(|(tag, _)| *tag)
}

/// Whether `wanted` names a language the desk speaks.
pub fn knows(wanted: &str) -> bool {
    language_of(wanted).is_some()
}

fn source(tag: &str) -> Option<&'static str> {
    files::FILES
        .iter()
        .find(|(file_tag, _)| *file_tag == tag)
        .map(|(_, text)| *text)
}

/// The file tag for a language tag or locale, by its primary subtag
/// (`fil` is Tagalog, every Chinese tag is Simplified Chinese).
fn language_of(wanted: &str) -> Option<&'static str> {
    let primary = wanted
        .split(['-', '_', '.', '@'])
        .next()?
        .to_ascii_lowercase();
    let primary = if primary == "fil" {
        "tl".into()
    } else {
        primary
    };
    tags().find(|tag| {
        let own = tag.split('-').next().unwrap_or_default();
        own.eq_ignore_ascii_case(&primary)
    })
}

/// The desk's messages and the language's terms in an `.ftl` text (the
/// page reads the same files with the same reader).
fn parse(source: &str) -> BTreeMap<String, String> {
    sealtip_api::ftl::parse(source, |key| {
        key.starts_with("desk-") || key.starts_with('-')
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn variables(text: &str) -> Vec<&str> {
        let mut found: Vec<&str> = text
            .split("{ $")
            .skip(1)
            .filter_map(|rest| rest.split(" }").next())
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn every_language_has_every_desk_message_with_its_variables() {
        let english = parse(source("en").unwrap());
        assert!(english.keys().filter(|k| k.starts_with("desk-")).count() > 40);
        for tag in tags() {
            let messages = parse(source(tag).unwrap());
            for (key, text) in english.iter().filter(|(k, _)| k.starts_with("desk-")) {
                let Some(translated) = messages.get(key) else {
                    panic!("{tag} lacks {key}");
                };
                assert_eq!(variables(translated), variables(text), "{tag} {key}");
                if tag != "en" {
                    assert!(!translated.is_empty(), "{tag} {key}");
                }
            }
        }
    }

    #[test]
    fn the_language_comes_from_a_tag_or_a_locale() {
        assert_eq!(Words::for_tag("fr_FR.UTF-8").tag(), "fr");
        assert_eq!(Words::for_tag("pt-BR").tag(), "pt");
        assert_eq!(Words::for_tag("zh_TW").tag(), "zh-Hans");
        assert_eq!(Words::for_tag("fil").tag(), "tl");
        assert_eq!(Words::for_tag("C").tag(), "en");
        assert_eq!(Words::for_tag("").tag(), "en");
        assert!(Words::for_tag("ar").rtl() && !Words::for_tag("es").rtl());
    }

    #[test]
    fn variables_literals_and_fallback() {
        let words = Words::for_tag("en");
        assert_eq!(
            words.with("desk-inbox-of", &[("agency", "demo")]),
            "Inbox of demo"
        );
        assert_eq!(words.get("desk-no-such-key"), "desk-no-such-key");
        let m = parse("desk-a = one\n  two\ndesk-sep = {\", \"}\nother = x\n");
        assert_eq!(m["desk-a"], "one two");
        assert_eq!(m["desk-sep"], ", ");
        assert!(!m.contains_key("other"));
    }
}
