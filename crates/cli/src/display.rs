//! Showing text that someone else wrote: a tip's content, a relay's answer.
//!
//! A tipster writes a tip and the relay writes its answers; either may hold
//! bytes a terminal obeys (ESC sequences that retitle the window, clear the
//! screen or rewrite what was printed, and bidirectional controls that make
//! text read in another order). Everything the CLI prints from them goes
//! through [`line`] or [`text`], which show those characters as visible
//! `\u{1b}` escapes instead.

use std::fmt;

/// `value` on one line: every control character escaped, newlines too.
pub fn line(value: &str) -> Shown<'_> {
    Shown {
        value,
        indent: None,
    }
}

/// `value` over several lines: newlines kept, each continuation line
/// starting with `indent`; every other control character (a carriage return
/// too) escaped.
pub fn text<'a>(value: &'a str, indent: &'a str) -> Shown<'a> {
    Shown {
        value,
        indent: Some(indent),
    }
}

/// Text made safe to print; see [`line`] and [`text`].
pub struct Shown<'a> {
    value: &'a str,
    /// `None`: one line. `Some`: newlines kept, followed by this.
    indent: Option<&'a str>,
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.value;
        while let Some(at) = rest.find(is_unsafe) {
            f.write_str(&rest[..at])?;
            let Some(c) = rest[at..].chars().next() else {
                break;
            };
            match (c, self.indent) {
                ('\n', Some(indent)) => {
                    f.write_str("\n")?;
                    f.write_str(indent)?;
                }
                _ => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

/// Whether a terminal may act on `c` rather than show it: C0 controls, DEL,
/// C1 controls and the bidirectional formatting characters.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{200e}' | '\u{200f}' | '\u{61c}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// JSON text with every unsafe character that is still raw (DEL, C1 and the
/// bidirectional controls; serde_json already escapes C0) written as a
/// `\uXXXX` escape. Outside strings JSON is plain ASCII, so this only
/// touches string contents, and a JSON reader gets the same value back.
pub fn json(serialized: &str) -> String {
    let mut out = String::with_capacity(serialized.len());
    for c in serialized.chars() {
        // C0 inside strings is escaped already; outside, it is the
        // pretty-printer's line breaks and indentation.
        if is_unsafe(c) && !c.is_ascii_control() || c == '\u{7f}' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(
            line("a\u{1b}]0;pwned\u{7}b\u{1b}[2J").to_string(),
            "a\\u{1b}]0;pwned\\u{7}b\\u{1b}[2J"
        );
        assert_eq!(
            line("\u{202e}gpj.exe\u{2066}\u{200f}\u{61c}\u{7f}\u{9b}\u{85}").to_string(),
            "\\u{202e}gpj.exe\\u{2066}\\u{200f}\\u{61c}\\u{7f}\\u{9b}\\u{85}"
        );
        assert_eq!(
            line("one\ntwo\r\tx").to_string(),
            "one\\u{a}two\\u{d}\\u{9}x"
        );
        assert_eq!(
            line("Ünïcode, 日本語, العربية: kept").to_string(),
            "Ünïcode, 日本語, العربية: kept"
        );
    }

    #[test]
    fn text_keeps_its_lines_indented() {
        assert_eq!(
            text("one\r\ntwo\n\u{1b}[1Athree", "    ").to_string(),
            "one\\u{d}\n    two\n    \\u{1b}[1Athree"
        );
        assert_eq!(text("", "  ").to_string(), "");
    }

    #[test]
    fn escaping_twice_changes_nothing() {
        let once = line("x\u{1b}[31m\u{202e}y").to_string();
        assert_eq!(line(&once).to_string(), once);
    }

    #[test]
    fn json_escapes_what_serde_json_leaves_raw() {
        let value = serde_json::json!({"text": "\u{1b}[2J\u{202e}\u{9b}\u{7f}ok"});
        let shown = json(&serde_json::to_string_pretty(&value).unwrap_or_default());
        assert!(
            !shown.contains(['\u{1b}', '\u{202e}', '\u{9b}', '\u{7f}']),
            "{shown}"
        );
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap_or_default();
        assert_eq!(back, value);
    }
}
