//! Reading the `.ftl` language files (`www/i18n/<tag>.ftl`): the page and the
//! officers' desk read the same files with this one reader.
//!
//! Only what those files use: `key = value` messages and `-term = value`
//! terms; `#` comments and blank lines; indented lines continuing the
//! previous value; and string literal placeables, `{ ", " }`, which keep
//! spaces the trimming would lose. Variables (`{ $name }`) are left for the
//! caller to fill in.

use std::collections::BTreeMap;

#[cfg(feature = "check")]
pub mod check;

/// The messages of `source` whose keys `keep` accepts. A line that is not
/// indented and has no `=` ends the value before it.
pub fn parse(source: &str, keep: impl Fn(&str) -> bool) -> BTreeMap<String, String> {
    let mut messages: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in source.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with(' ') {
            if let Some(value) = last.as_ref().and_then(|key| messages.get_mut(key)) {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(line.trim());
            }
            continue;
        }
        last = None;
        if let Some((key, value)) = line.split_once('=') {
            let key = key.trim();
            if keep(key) {
                messages.insert(key.to_string(), value.trim().to_string());
                last = Some(key.to_string());
            }
        }
    }
    for value in messages.values_mut() {
        *value = string_literals(value);
    }
    messages
}

/// A language's messages over a fallback's (English): what the page and
/// the desk look their words up in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    messages: BTreeMap<String, String>,
    fallback: BTreeMap<String, String>,
}

impl Catalog {
    /// `messages`, falling back to `fallback` for what they lack.
    pub fn new(messages: BTreeMap<String, String>, fallback: BTreeMap<String, String>) -> Self {
        Catalog { messages, fallback }
    }

    /// The message `key`; the key itself if neither language has it.
    pub fn get(&self, key: &str) -> String {
        self.with(key, &[])
    }

    /// The message `key` with each `{ $name }` replaced by its value; the
    /// key itself if neither language has it.
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
}

/// Whether a language file's tag (`es`, `zh-Hans`, `tl`) is the language
/// `wanted` names, by its primary subtag: `es-MX` and `es` are Spanish,
/// `pt-BR` Portuguese, `fil-PH` Tagalog (Filipino is its standard form),
/// and every Chinese tag is Simplified Chinese (for `zh-TW` or `zh-Hant`
/// readers, much closer than English, the other fallback).
pub fn same_language(file_tag: &str, wanted: &str) -> bool {
    let primary = wanted.split(['-', '_']).next().unwrap_or_default();
    let primary = match primary.to_ascii_lowercase().as_str() {
        "fil" => "tl",
        _ => primary,
    };
    let own = file_tag.split('-').next().unwrap_or_default();
    own.eq_ignore_ascii_case(primary)
}

/// An agency's text (a question, an emergency line) for the page's
/// language `page_tag`: under that tag, else under another tag of the same
/// language (`pt-BR`, `zh-CN`), else under the agency's `default` language,
/// else any; empty when there is none.
pub fn pick<'a>(
    localized: &'a BTreeMap<String, String>,
    page_tag: &str,
    default: Option<&str>,
) -> &'a str {
    localized
        .get(page_tag)
        .or_else(|| {
            localized
                .iter()
                .find(|(tag, _)| same_language(page_tag, tag))
                .map(|(_, text)| text)
        })
        .or_else(|| default.and_then(|tag| localized.get(tag)))
        .or_else(|| localized.values().next())
        .map(String::as_str)
        .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_continue_on_indented_lines_and_keep_literal_spaces() {
        let m = parse(
            "# c\na = one\n  two\nb=three\nsep = { \", \" }\nmixed = a{\"、\"}b { $name }\n",
            |_| true,
        );
        assert_eq!(m["a"], "one two");
        assert_eq!(m["b"], "three");
        assert_eq!(m["sep"], ", ");
        assert_eq!(m["mixed"], "a、b { $name }");
    }

    #[test]
    fn a_message_is_filled_in_or_falls_back() {
        let english = parse("a = Hi { $name }\nb = B\n", |_| true);
        let french = Catalog::new(parse("a = Salut { $name }\n", |_| true), english);
        assert_eq!(french.with("a", &[("name", "Ana")]), "Salut Ana");
        assert_eq!(french.get("b"), "B");
        assert_eq!(french.get("c"), "c");
    }

    #[test]
    fn only_the_keys_asked_for_are_kept_with_their_continuations() {
        let m = parse("desk-a = one\n  two\nother = x\n  y\n-term = T\n", |key| {
            key.starts_with("desk-") || key.starts_with('-')
        });
        assert_eq!(m.len(), 2);
        assert_eq!(m["desk-a"], "one two");
        assert_eq!(m["-term"], "T");
    }
}
