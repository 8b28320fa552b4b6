//! The page's words, one Fluent file per language in `www/i18n/`.
//!
//! A translator adds a language by adding a file, `www/i18n/<tag>.ftl`;
//! nothing else. The file names the language in its own words
//! (`-language-name = Español`) and, for a script written right to left,
//! says so (`-direction = rtl`). `build.rs` lists the files into a table
//! ([`Lang::ALL`]), with the SHA-256 of each.
//!
//! English is compiled in: it is the first paint for English readers and the
//! fallback of every other language. Any other language is fetched from the
//! page's own origin (`/i18n/<tag>.ftl`) when it is chosen, checked against
//! its hash, and kept in memory for the visit ([`use_texts`]); a reader gets
//! the page's code plus one language file, never all ten.
//!
//! The files use the simple subset of Fluent the page needs: `key = value`
//! messages, `#` comments, and `{ $name }` variables; `build.rs` checks
//! each file with Fluent's own parser and fails on anything else, and names
//! each English message as a constant of [`msg`]. A small reader here
//! instead of `fluent-bundle` keeps the first load small (the full Fluent
//! runtime brings plural rules and number formatting for every locale, which
//! these strings do not use).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use sealtip_api::ftl::Catalog;
use sha2::{Digest, Sha256};
use yew::prelude::*;

use crate::browser;

/// A language the page speaks: one of the files found by `build.rs`, whose
/// constants are named after the tags (`Lang::Es`, `Lang::ZhHans`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lang(usize);

/// What the build read from one language file.
struct LangInfo {
    /// The file's name without `.ftl`.
    tag: &'static str,
    /// Its `-language-name`.
    name: &'static str,
    /// Whether it says `-direction = rtl`.
    rtl: bool,
    /// The SHA-256 of the file's bytes.
    sha256: [u8; 32],
}

/// The page's messages by id, one constant per message of `www/i18n/en.ftl`
/// (`send` is `msg::SEND`, `page-title` is `msg::PAGE_TITLE`): the page
/// names its words only through these, so a message English lacks does not
/// compile (build.rs writes them).
pub mod msg {
    include!(concat!(env!("OUT_DIR"), "/msg.rs"));
}

// `LANGUAGES`, `Lang::ALL` and a constant per language: see build.rs.
include!(concat!(env!("OUT_DIR"), "/languages.rs"));

/// English, compiled in (`www/i18n/en.ftl` without its comments: build.rs).
const ENGLISH: &str = include_str!(concat!(env!("OUT_DIR"), "/en.ftl"));

impl Lang {
    /// The BCP 47 tag (`en`, `zh-Hans`), as in `<html lang>`, the `.ftl`
    /// file name and the keys of an agency's per-language labels.
    pub fn tag(self) -> &'static str {
        self.info().tag
    }

    /// The language's own name, as the picker shows it.
    pub fn native_name(self) -> &'static str {
        self.info().name
    }

    /// Whether the script runs right to left (`dir="rtl"`).
    pub fn is_rtl(self) -> bool {
        self.info().rtl
    }

    /// The language for a tag, by its primary subtag: `es-MX` and `es` give
    /// Spanish, `pt-BR` Portuguese, `fil-PH` Tagalog (Filipino is its
    /// standard form); unknown tags give `None`.
    ///
    /// Every Chinese tag gives Simplified Chinese: `zh`, `zh-CN`, `zh-SG` and
    /// `zh-Hans` are written in it, and for `zh-TW`, `zh-HK` or `zh-Hant`
    /// readers Simplified is much closer than English, the other fallback.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|lang| sealtip_api::ftl::same_language(lang.tag(), tag))
    }

    /// The first of the browser's preferred languages the page speaks, else English.
    pub fn negotiate<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        preferred
            .into_iter()
            .find_map(Lang::from_tag)
            .unwrap_or(Lang::En)
    }

    /// Where the page fetches the language's file (Trunk copies `www/i18n`
    /// into `dist/i18n`).
    pub fn path(self) -> String {
        format!("/i18n/{}.ftl", self.tag())
    }

    fn info(self) -> &'static LangInfo {
        // A `Lang` is only made by the generated table, so its index is in it.
        &LANGUAGES[self.0]
    }
}

impl std::fmt::Debug for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

/// Reads the messages of a language file (the reader is shared with the
/// officers' desk).
pub fn parse(source: &str) -> BTreeMap<String, String> {
    sealtip_api::ftl::parse(source, |_| true)
}

/// The page's words in one language, falling back to English.
#[derive(Debug, Clone, PartialEq)]
pub struct Texts {
    lang: Lang,
    words: Catalog,
}

/// `texts.get(id)`, `texts.with(id, args)`: the words, by message id.
impl std::ops::Deref for Texts {
    type Target = Catalog;

    fn deref(&self) -> &Catalog {
        &self.words
    }
}

impl Texts {
    /// English, compiled in.
    pub fn english() -> Self {
        Texts {
            lang: Lang::En,
            words: Catalog::new(BTreeMap::new(), parse(ENGLISH)),
        }
    }

    /// The words of `lang` from its file as fetched, or `None` when the
    /// bytes are not the file the page was built with (stale or altered).
    pub fn from_file(lang: Lang, file: &[u8]) -> Option<Self> {
        if Sha256::digest(file)[..] != lang.info().sha256 {
            return None;
        }
        let source = std::str::from_utf8(file).ok()?;
        Some(Texts {
            lang,
            words: Catalog::new(parse(source), parse(ENGLISH)),
        })
    }

    /// The words of `lang` read from `www/i18n/` (native tests).
    #[cfg(test)]
    pub(crate) fn from_disk(lang: Lang) -> Self {
        let path = format!("{}/www/i18n/{}.ftl", env!("CARGO_MANIFEST_DIR"), lang.tag());
        let file = std::fs::read(&path).unwrap_or_default();
        Texts::from_file(lang, &file).unwrap_or_else(|| panic!("{path} is not as built"))
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The agency's text for this language (under the page's tag, else under
    /// another tag of the same language, such as `pt-BR` or `zh-CN`), else its
    /// default language's, else any.
    pub fn pick<'a>(
        &self,
        localized: &'a sealtip_api::Localized,
        default: Option<&str>,
    ) -> &'a str {
        sealtip_api::ftl::pick(localized, self.lang.tag(), default)
    }
}

/// The page's words in `lang`, for a component; `<html lang dir>` and the
/// title (the message `title`) follow the words shown.
///
/// English is at hand at once. Another language is fetched the first time it
/// is asked for and kept for the visit, in memory only; until the first
/// words are ready this gives `None`, and the page shows its loading state
/// rather than English. While a newly chosen language loads, the words shown
/// stay. When a file cannot be had, or is not the one the page was built
/// with, the words are English and `on_unavailable` hears which language
/// failed.
#[hook]
pub fn use_texts(
    lang: Lang,
    title: &'static str,
    on_unavailable: Callback<Lang>,
) -> Option<Rc<Texts>> {
    let loaded: Rc<RefCell<Vec<Rc<Texts>>>> = use_mut_ref(Vec::new);
    let wanted = use_mut_ref(|| lang);
    let shown = use_state(|| (lang == Lang::En).then(|| Rc::new(Texts::english())));
    {
        let shown = shown.clone();
        use_effect_with(lang, move |&lang| {
            *wanted.borrow_mut() = lang;
            let ready = loaded.borrow().iter().find(|t| t.lang == lang).cloned();
            match ready {
                Some(texts) => shown.set(Some(texts)),
                None if lang == Lang::En => shown.set(Some(Rc::new(Texts::english()))),
                None => wasm_bindgen_futures::spawn_local(async move {
                    let fetched = fetch(lang).await.map(Rc::new);
                    if let Some(texts) = &fetched {
                        loaded.borrow_mut().push(texts.clone());
                    }
                    // A language chosen since then has the last word.
                    if *wanted.borrow() != lang {
                        return;
                    }
                    match fetched {
                        Some(texts) => shown.set(Some(texts)),
                        None => {
                            shown.set(Some(Rc::new(Texts::english())));
                            on_unavailable.emit(lang);
                        }
                    }
                }),
            }
        });
    }
    use_effect_with(shown.as_ref().map(|texts| texts.lang()), {
        let shown = (*shown).clone();
        move |_| {
            if let Some(texts) = shown {
                browser::set_document_language(texts.lang.tag(), texts.lang.is_rtl());
                browser::set_title(&texts.get(title));
            }
        }
    });
    (*shown).clone()
}

/// The language's file from the page's own origin, checked; `None` on any
/// failure.
async fn fetch(lang: Lang) -> Option<Texts> {
    let bytes = crate::api::page_file(&lang.path()).await.ok()?;
    Texts::from_file(lang, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A language's file, as the page fetches it.
    fn source(lang: Lang) -> String {
        let path = format!("{}/www/i18n/{}.ftl", env!("CARGO_MANIFEST_DIR"), lang.tag());
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn every_language_has_every_english_key() {
        let english = parse(ENGLISH);
        for lang in Lang::ALL {
            let messages = parse(&source(lang));
            let missing: Vec<_> = english
                .keys()
                .filter(|k| !messages.contains_key(*k))
                .collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        }
    }

    #[test]
    fn variables_and_fallback() {
        let texts = Texts::from_disk(Lang::Es);
        assert!(
            texts
                .with(msg::INTRO_ONLY, &[("agency", "ACME")])
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
        let english = parse(ENGLISH);
        for lang in Lang::ALL {
            let messages = parse(&source(lang));
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

    /// The table build.rs wrote is the folder: every `.ftl` file is a
    /// language, under its file name, with the name and direction it gives
    /// itself, and the page accepts it as it is.
    #[test]
    fn every_file_of_the_folder_is_a_language() {
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
            let messages = parse(&source(lang));
            assert_eq!(messages["-language-name"], lang.native_name());
            let rtl = messages.get("-direction").is_some_and(|d| d == "rtl");
            assert_eq!(rtl, lang.is_rtl(), "{lang:?}");
            let texts = Texts::from_disk(lang);
            assert!(
                lang == Lang::En
                    || texts.get(msg::PAGE_TITLE) != Texts::english().get(msg::PAGE_TITLE),
                "{lang:?} has the English title"
            );
        }
        let names: Vec<&str> = Lang::ALL.iter().map(|l| l.native_name()).collect();
        assert!(
            names.is_sorted(),
            "the picker lists them by name: {names:?}"
        );
    }

    #[test]
    fn a_file_that_is_not_the_one_built_is_refused() {
        let mut file = source(Lang::Es).into_bytes();
        assert!(Texts::from_file(Lang::Es, &file).is_some());
        assert!(Texts::from_file(Lang::Fr, &file).is_none());
        file.push(b'\n');
        assert!(Texts::from_file(Lang::Es, &file).is_none());
        assert!(Texts::from_file(Lang::Es, b"").is_none());
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
        let chinese = Texts::from_disk(Lang::ZhHans);
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
        assert_eq!(
            Texts::from_disk(Lang::Tl).pick(&filipino, Some("en")),
            "Kailan?"
        );
        assert_eq!(
            Texts::from_disk(Lang::Ru).pick(&filipino, Some("en")),
            "When?"
        );
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

    #[test]
    fn every_new_message_of_the_page_is_in_every_language() {
        for lang in Lang::ALL {
            let texts = Texts::from_disk(lang);
            for key in [
                msg::KEEP_FILE_NAME,
                msg::REMOVED_FILE_NAME,
                msg::REPLIES_UNREADABLE_ONE,
                msg::REPLIES_UNREADABLE_MANY,
                msg::REPLIES_OPEN_FAILED,
                msg::DELETE_REPLY,
                msg::DELETE_REPLY_QUESTION,
                msg::DELETE_REPLY_CONFIRM,
                msg::DELETE_REPLY_CANCEL,
                msg::REPLY_DELETED,
                msg::DELETE_FAILED,
                msg::DELETE_FAILED_NETWORK,
            ] {
                let english = Texts::english().get(key);
                assert_ne!(english, key, "English lacks {key}");
                if lang != Lang::En {
                    assert_ne!(texts.get(key), english, "{lang:?} does not translate {key}");
                }
            }
        }
    }
}
