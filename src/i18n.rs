//! The page's words, one Fluent file per language in `www/i18n/`.
//!
//! The files use the simple subset of Fluent the page needs: `key = value`
//! messages, `#` comments, and `{ $name }` variables. A small reader here
//! instead of `fluent-bundle` keeps the first load small (the full Fluent
//! runtime brings plural rules and number formatting for every locale, which
//! these strings do not use). A translator adds a language by adding an
//! `.ftl` file named by its tag (`www/i18n/<tag>.ftl`); the enum below then
//! gets one variant, and the demo agency's form (`sealtip-relay init`) labels
//! for that tag.

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
    /// Portuguese.
    Pt,
    /// Arabic, written right to left.
    Ar,
    /// Chinese in Simplified characters.
    ZhHans,
    /// Vietnamese.
    Vi,
    /// Russian.
    Ru,
    /// Tagalog (Filipino).
    Tl,
    /// Haitian Creole.
    Ht,
}

impl Lang {
    /// Every language, in the order the picker lists them.
    pub const ALL: [Lang; 10] = [
        Lang::En,
        Lang::Es,
        Lang::Fr,
        Lang::Pt,
        Lang::Ar,
        Lang::ZhHans,
        Lang::Vi,
        Lang::Ru,
        Lang::Tl,
        Lang::Ht,
    ];

    /// The BCP 47 tag (`en`, `zh-Hans`), as in `<html lang>`, the `.ftl`
    /// file name and the keys of an agency's per-language labels.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Fr => "fr",
            Lang::Pt => "pt",
            Lang::Ar => "ar",
            Lang::ZhHans => "zh-Hans",
            Lang::Vi => "vi",
            Lang::Ru => "ru",
            Lang::Tl => "tl",
            Lang::Ht => "ht",
        }
    }

    /// The language's own name, as the picker shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Es => "Español",
            Lang::Fr => "Français",
            Lang::Pt => "Português",
            Lang::Ar => "العربية",
            Lang::ZhHans => "简体中文",
            Lang::Vi => "Tiếng Việt",
            Lang::Ru => "Русский",
            Lang::Tl => "Tagalog",
            Lang::Ht => "Kreyòl ayisyen",
        }
    }

    /// Whether the script runs right to left (`dir="rtl"`).
    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Ar)
    }

    /// The language for a tag, by its primary subtag: `es-MX` and `es` give
    /// Spanish, `pt-BR` Portuguese, `fil-PH` Tagalog (Filipino is its
    /// standard form); unknown tags give `None`.
    ///
    /// Every Chinese tag gives Simplified Chinese: `zh`, `zh-CN`, `zh-SG` and
    /// `zh-Hans` are written in it, and for `zh-TW`, `zh-HK` or `zh-Hant`
    /// readers Simplified is much closer than English, the other fallback.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") {
            return Some(Lang::ZhHans);
        }
        if primary.eq_ignore_ascii_case("fil") {
            return Some(Lang::Tl);
        }
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
            Lang::Pt => include_str!("../www/i18n/pt.ftl"),
            Lang::Ar => include_str!("../www/i18n/ar.ftl"),
            Lang::ZhHans => include_str!("../www/i18n/zh-Hans.ftl"),
            Lang::Vi => include_str!("../www/i18n/vi.ftl"),
            Lang::Ru => include_str!("../www/i18n/ru.ftl"),
            Lang::Tl => include_str!("../www/i18n/tl.ftl"),
            Lang::Ht => include_str!("../www/i18n/ht.ftl"),
        }
    }
}

/// Reads `key = value` messages; comments, blank lines and lines without
/// `=` are skipped. Indented lines continue the previous value. A string
/// literal placeable, `{ ", " }`, keeps spaces the trimming would lose.
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
    for value in messages.values_mut() {
        *value = string_literals(value);
    }
    messages
}

/// Replaces each `{ "text" }` by `text`.
fn string_literals(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        let after = rest[open + 1..].trim_start();
        let literal = after
            .strip_prefix('"')
            .and_then(|inner| inner.split_once('"'))
            .and_then(|(text, tail)| tail.trim_start().strip_prefix('}').map(|tail| (text, tail)));
        match literal {
            Some((text, tail)) => {
                out.push_str(&rest[..open]);
                out.push_str(text);
                rest = tail;
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
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

    /// The agency's text for this language (under the page's tag, else under
    /// another tag of the same language, such as `pt-BR` or `zh-CN`), else its
    /// default language's, else any.
    pub fn pick<'a>(
        &self,
        localized: &'a sealtip_api::Localized,
        default: Option<&str>,
    ) -> &'a str {
        localized
            .get(self.lang.tag())
            .or_else(|| {
                localized
                    .iter()
                    .find(|(tag, _)| Lang::from_tag(tag) == Some(self.lang))
                    .map(|(_, text)| text)
            })
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
    fn every_language_keeps_the_english_variables() {
        let english = parse(Lang::En.source());
        for lang in Lang::ALL {
            let messages = parse(lang.source());
            for (key, text) in &english {
                let wanted = variables(text);
                let found = messages.get(key).map(|t| variables(t));
                assert_eq!(found.as_ref(), Some(&wanted), "{lang:?} {key}");
            }
        }
    }

    /// The `{ $name }` placeholders of a message, sorted.
    fn variables(text: &str) -> Vec<&str> {
        let mut names: Vec<&str> = text
            .split("{ $")
            .skip(1)
            .filter_map(|rest| rest.split_once(" }").map(|(name, _)| name))
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn each_language_file_is_named_by_its_tag() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/i18n");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("www/i18n")
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".ftl").map(str::to_string))
            .collect();
        files.sort();
        let mut tags: Vec<String> = Lang::ALL.iter().map(|l| l.tag().to_string()).collect();
        tags.sort();
        assert_eq!(files, tags);
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
            let title = parse(lang.source())["page-title"].clone();
            assert!(
                lang == Lang::En || title != Texts::new(Lang::En).get("page-title"),
                "{lang:?} has the English title"
            );
        }
    }

    #[test]
    fn browser_tags_choose_the_new_languages() {
        for (tags, lang) in [
            (&["pt-BR"][..], Lang::Pt),
            (&["pt-PT", "en"], Lang::Pt),
            (&["zh-CN"], Lang::ZhHans),
            (&["zh"], Lang::ZhHans),
            (&["zh-Hans-SG"], Lang::ZhHans),
            (&["zh-TW", "en"], Lang::ZhHans),
            (&["zh-Hant-HK"], Lang::ZhHans),
            (&["fil-PH"], Lang::Tl),
            (&["fil"], Lang::Tl),
            (&["tl"], Lang::Tl),
            (&["vi"], Lang::Vi),
            (&["ru-RU"], Lang::Ru),
            (&["ht"], Lang::Ht),
            (&["de-DE", "ht-HT", "fr"], Lang::Ht),
        ] {
            assert_eq!(Lang::negotiate(tags.iter().copied()), lang, "{tags:?}");
        }
        assert_eq!(Lang::negotiate(["zz", "fi"]), Lang::En);
        assert!(!Lang::ZhHans.is_rtl() && Lang::Ar.is_rtl());
    }

    #[test]
    fn agency_labels_are_picked_by_language() {
        let labels = |pairs: &[(&str, &str)]| -> sealtip_api::Localized {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let chinese = Texts::new(Lang::ZhHans);
        let exact = labels(&[
            ("en", "When?"),
            ("zh-CN", "何时？"),
            ("zh-Hans", "什么时候？"),
        ]);
        assert_eq!(chinese.pick(&exact, Some("en")), "什么时候？");
        let regional = labels(&[("en", "When?"), ("zh-CN", "何时？")]);
        assert_eq!(chinese.pick(&regional, Some("en")), "何时？");
        let english_only = labels(&[("fr", "Quand ?"), ("en", "When?")]);
        assert_eq!(chinese.pick(&english_only, Some("en")), "When?");
        let filipino = labels(&[("en", "When?"), ("fil", "Kailan?")]);
        assert_eq!(Texts::new(Lang::Tl).pick(&filipino, Some("en")), "Kailan?");
        assert_eq!(Texts::new(Lang::Ru).pick(&filipino, Some("en")), "When?");
    }

    #[test]
    fn string_literals_keep_their_spaces() {
        let messages = parse("sep = { \", \" }\nmixed = a{\"、\"}b { $name }\n");
        assert_eq!(messages["sep"], ", ");
        assert_eq!(messages["mixed"], "a、b { $name }");
    }

    #[test]
    fn continuation_lines_join_the_value() {
        let m = parse("# c\na = one\n  two\nb=three\n");
        assert_eq!(m["a"], "one two");
        assert_eq!(m["b"], "three");
    }
}
