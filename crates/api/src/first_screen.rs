//! The page's first screen as HTML: what the relay serves for `/a/{agency}`
//! so that a tipster can read and fill in the form before the page's wasm
//! arrives (the wasm then takes over what was typed: `src/first_screen.rs`).
//!
//! One pure function, [`render_page`], makes it from three things the
//! release pins and the agency's profile: the built `index.html` (the
//! template), the language files (`i18n/*.ftl`) and the profile the relay
//! serves at `GET /api/v1/agencies/{id}`. The relay serves its result, and
//! `sealtip verify-client` makes it again from the release's template and
//! language files and the profile the relay serves, and compares byte for
//! byte: a relay cannot serve another first screen unnoticed.
//!
//! The markup is the one the page's components draw for the form (the same
//! elements, ids and classes), in the agency's default language, so nothing
//! moves when the wasm takes over. Everything from the profile or the
//! language files is escaped; the screen adds no script and no style, so the
//! page's Content-Security-Policy stays as it is. Sending needs the wasm: the
//! send button and "Check for replies" are disabled until it takes over.

use std::fmt::Write;

use sealtip_envelope::Recipient;

use crate::ftl::{Catalog, parse, pick, same_language};
use crate::html::escape;
use crate::{AgencyProfile, QuestionKind, WHAT_HAPPENED};

/// The files the attachment picker offers.
pub const ATTACHMENT_TYPES: &str =
    "image/*,video/*,audio/*,application/pdf,text/plain,.doc,.docx,.odt,.xls,.xlsx,.ods,.zip";
/// The files the camera picker offers.
pub const CAMERA_TYPES: &str = "image/*,video/*";
/// The id of the element holding the first screen, which the wasm removes
/// when it takes over.
pub const ROOT_ID: &str = "first-screen";

/// The id of the first screen's message that the page's code could not
/// start (hidden until `www/boot.js` shows it).
pub const NOT_STARTED_ID: &str = "not-started";

/// The page's languages, as the language picker lists them: by their own
/// names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Languages {
    list: Vec<Language>,
}

/// One language file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    /// The file's tag (`es`, `zh-Hans`).
    pub tag: String,
    /// Its `-language-name`.
    pub name: String,
    /// Whether it says `-direction = rtl`.
    pub rtl: bool,
    /// Its words, over English's.
    words: Catalog,
}

/// Why a first screen cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FirstScreenError {
    /// No `en.ftl` among the language files.
    #[error("no en.ftl among the language files")]
    NoEnglish,
    /// A language file without `-language-name`.
    #[error("{0}.ftl has no -language-name")]
    Unnamed(String),
    /// The template lacks a part the first screen goes into.
    #[error("the page's HTML has no {0}")]
    Template(&'static str),
    /// The folder of language files could not be read.
    #[error("cannot read the language files: {0}")]
    Folder(String),
}

impl Languages {
    /// The languages of the `*.ftl` files in `folder` (the built page's
    /// `i18n/`), each named by its tag (`en.ftl`, `zh-Hans.ftl`).
    pub fn from_folder(folder: &std::path::Path) -> Result<Self, FirstScreenError> {
        let unread = |error: std::io::Error| FirstScreenError::Folder(error.to_string());
        let mut files = Vec::new();
        for entry in std::fs::read_dir(folder).map_err(unread)? {
            let path = entry.map_err(unread)?.path();
            let Some(tag) = path
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| name.strip_suffix(".ftl"))
            else {
                continue;
            };
            files.push((
                tag.to_owned(),
                std::fs::read_to_string(&path).map_err(unread)?,
            ));
        }
        Self::from_files(
            files
                .iter()
                .map(|(tag, source)| (tag.as_str(), source.as_str())),
        )
    }

    /// The languages of the files given as (tag, contents).
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, FirstScreenError> {
        let files: Vec<(&str, &str)> = files.into_iter().collect();
        let english = files
            .iter()
            .find(|(tag, _)| *tag == "en")
            .map(|(_, source)| parse(source, |_| true))
            .ok_or(FirstScreenError::NoEnglish)?;
        let mut list = Vec::new();
        for (tag, source) in files {
            let words = Catalog::new(parse(source, |_| true), english.clone());
            let name = words.get("-language-name");
            if name == "-language-name" {
                return Err(FirstScreenError::Unnamed(tag.to_string()));
            }
            list.push(Language {
                tag: tag.to_string(),
                rtl: words.get("-direction") == "rtl",
                name,
                words,
            });
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Languages { list })
    }

    /// The language the first screen of `profile` is written in: the
    /// agency's default language (its first), else English.
    pub fn for_profile(&self, profile: &AgencyProfile) -> &Language {
        let wanted = profile.languages.first().map(String::as_str);
        let found = wanted.and_then(|wanted| {
            self.list
                .iter()
                .find(|language| same_language(&language.tag, wanted))
        });
        // Invariant: `from_files` refuses a list without English.
        found
            .or_else(|| self.list.iter().find(|language| language.tag == "en"))
            .unwrap_or(&self.list[0])
    }
}

/// The built `index.html` with the first screen of `profile` in its
/// `<body></body>`, in the agency's default language; `<html lang="en">`
/// and `<title>sealtip</title>`, where the template has them as built,
/// follow that language.
pub fn render_page(
    template: &str,
    profile: &AgencyProfile,
    languages: &Languages,
) -> Result<String, FirstScreenError> {
    let body = "<body></body>";
    if !template.contains(body) {
        return Err(FirstScreenError::Template(body));
    }
    let language = languages.for_profile(profile);
    let dir = if language.rtl { " dir=\"rtl\"" } else { "" };
    let page = template
        .replacen(
            "<html lang=\"en\">",
            &format!("<html lang=\"{}\"{dir}>", escape(&language.tag)),
            1,
        )
        .replacen(
            "<title>sealtip</title>",
            &format!(
                "<title>{}</title>",
                escape(&language.words.get("page-title"))
            ),
            1,
        )
        .replacen(
            body,
            &format!(
                "<body>{}</body>",
                first_screen(profile, languages, language)
            ),
            1,
        );
    Ok(page)
}

/// The first screen: the quick exit, the language picker, the intro and the
/// form, inside `<div id="first-screen">`.
fn first_screen(profile: &AgencyProfile, languages: &Languages, language: &Language) -> String {
    let words = &language.words;
    let default = profile.languages.first().map(String::as_str);
    let mut out = String::new();
    let _ = write!(
        out,
        "<div id=\"{ROOT_ID}\" class=\"page-root\">\
         <div class=\"quick-exit\"><button type=\"button\" class=\"quick-exit-button\" \
         aria-describedby=\"quick-exit-hint\" data-exit=\"{}\">{}</button>\
         <span id=\"quick-exit-hint\" class=\"visually-hidden\">{}</span></div>",
        escape(&profile.exit_url),
        escape(&words.get("quick-exit")),
        escape(&words.get("quick-exit-hint")),
    );
    out.push_str("<main id=\"main\">");
    language_picker(&mut out, languages, language);
    intro(&mut out, profile, language, default);
    // Shown by boot.js only if the page's code cannot start (a failed
    // connection, or bytes the browser refused): Send stays disabled.
    let _ = write!(
        out,
        "<form novalidate=\"\" autocomplete=\"off\"><div aria-live=\"assertive\" class=\"alerts\">\
         <p class=\"error\" id=\"{NOT_STARTED_ID}\" tabindex=\"-1\" hidden=\"\">{}</p></div>",
        escape(&words.get("page-not-started")),
    );
    if !profile.has_what_question() {
        question(
            &mut out,
            words,
            WHAT_HAPPENED,
            &words.get("what-happened"),
            &words.get("what-happened-help"),
            true,
            &Control::LongText,
        );
    }
    for q in &profile.form.questions {
        let control = match q.kind {
            QuestionKind::Text | QuestionKind::Place => Control::Line("text"),
            QuestionKind::Date => Control::Line("date"),
            QuestionKind::LongText => Control::LongText,
            QuestionKind::Choice => Control::Choice(
                q.choices
                    .iter()
                    .map(|c| (c.id.as_str(), pick(&c.label, &language.tag, default)))
                    .collect(),
            ),
        };
        question(
            &mut out,
            words,
            &q.id,
            pick(&q.label, &language.tag, default),
            pick(&q.help, &language.tag, default),
            q.required,
            &control,
        );
    }
    attachments(&mut out, words);
    let _ = write!(
        out,
        "<button type=\"submit\" class=\"send\" disabled=\"\">{}</button></form>\
         <p class=\"check-replies\"><button type=\"button\" class=\"secondary\" disabled=\"\">{}</button></p>\
         </main></div>",
        escape(&words.get("send")),
        escape(&words.get("check-replies")),
    );
    out
}

/// Every language in its own name, the first screen's selected.
fn language_picker(out: &mut String, languages: &Languages, shown: &Language) {
    let _ = write!(
        out,
        "<div class=\"language\"><label for=\"language\">{}</label><select id=\"language\">",
        escape(&shown.words.get("language"))
    );
    for language in &languages.list {
        let tag = escape(&language.tag);
        let selected = if language.tag == shown.tag {
            " selected=\"\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<option value=\"{tag}\" lang=\"{tag}\"{selected}>{}</option>",
            escape(&language.name)
        );
    }
    out.push_str("</select></div>");
}

/// Who receives the tip, the emergency line, the safer-device notice and
/// the agency's key fingerprints.
fn intro(out: &mut String, profile: &AgencyProfile, language: &Language, default: Option<&str>) {
    let words = &language.words;
    let agency = &profile.name;
    let _ = write!(
        out,
        "<header class=\"intro\"><h1 dir=\"auto\">{}</h1><p class=\"only\">{}</p>",
        escape(agency),
        escape(&words.with("intro-only", &[("agency", agency)])),
    );
    let emergency = pick(&profile.emergency, &language.tag, default);
    if !emergency.is_empty() {
        let _ = write!(
            out,
            "<p class=\"emergency\" role=\"note\" dir=\"auto\">{}</p>",
            escape(emergency)
        );
    }
    let _ = write!(
        out,
        "<p class=\"safer\">{}</p><p class=\"fingerprint\">",
        escape(&words.get("safer-device"))
    );
    // The message around the fingerprints, each of which reads left to
    // right and breaks between its groups.
    const MARK: &str = "\u{1}";
    let text = words.with("fingerprint", &[("agency", agency), ("fingerprint", MARK)]);
    let (before, after) = text.split_once(MARK).unwrap_or((&text, ""));
    out.push_str(&escape(before));
    let fingerprints = profile
        .recipients
        .iter()
        .filter_map(|r| Recipient::parse(r).ok())
        .map(|r| r.fingerprint());
    for (index, fingerprint) in fingerprints.enumerate() {
        if index > 0 {
            out.push_str(&escape(&words.get("list-separator")));
        }
        out.push_str("<span class=\"key-fingerprint\" dir=\"ltr\">");
        for group in fingerprint.split_inclusive('-') {
            let _ = write!(out, "{}<wbr>", escape(group));
        }
        out.push_str("</span>");
    }
    let _ = write!(out, "{}</p></header>", escape(after));
}

/// How a question is answered, as the first screen draws it.
enum Control<'a> {
    /// `<input type=…>`.
    Line(&'static str),
    /// `<textarea>`.
    LongText,
    /// `<select>` of (id, label).
    Choice(Vec<(&'a str, &'a str)>),
}

/// One labelled question with its hint, as the page's `question_field`
/// draws it.
fn question(
    out: &mut String,
    words: &Catalog,
    id: &str,
    label: &str,
    help: &str,
    required: bool,
    control: &Control,
) {
    let control_id = format!("q-{}", escape(id));
    let marker = words.get(if required { "required" } else { "optional" });
    let _ = write!(
        out,
        "<div class=\"question\"><label for=\"{control_id}\"><bdi>{}</bdi>\
         <span class=\"marker\"> ({})</span></label>",
        escape(label),
        escape(&marker),
    );
    let described = if help.is_empty() {
        String::new()
    } else {
        let _ = write!(
            out,
            "<p class=\"help\" id=\"{control_id}-help\" dir=\"auto\">{}</p>",
            escape(help)
        );
        format!(" aria-describedby=\"{control_id}-help\"")
    };
    let common = format!("id=\"{control_id}\"{described} aria-required=\"{required}\"");
    match control {
        Control::Line(kind) => {
            let _ = write!(out, "<input {common} type=\"{kind}\" autocomplete=\"off\">");
        }
        Control::LongText => {
            let _ = write!(
                out,
                "<textarea {common} rows=\"6\" autocomplete=\"off\"></textarea>"
            );
        }
        Control::Choice(choices) => {
            let _ = write!(
                out,
                "<select {common}><option value=\"\" selected=\"\">{}</option>",
                escape(&words.get("choose"))
            );
            for (id, label) in choices {
                let _ = write!(
                    out,
                    "<option value=\"{}\" dir=\"auto\">{}</option>",
                    escape(id),
                    escape(label)
                );
            }
            out.push_str("</select>");
        }
    }
    out.push_str("</div>");
}

/// The file pickers, as the page's `attachments` draws them with no file
/// picked; files picked before the wasm arrives are taken over too.
fn attachments(out: &mut String, words: &Catalog) {
    let _ = write!(
        out,
        "<fieldset class=\"question attachments\"><legend>{}</legend>\
         <p class=\"help\" id=\"files-help\">{}</p><div class=\"pickers\">\
         <label for=\"files\" class=\"picker\">{}<input id=\"files\" type=\"file\" \
         class=\"picker-input\" multiple=\"\" accept=\"{ATTACHMENT_TYPES}\" \
         aria-describedby=\"files-help\"></label>\
         <label for=\"camera\" class=\"picker camera\">{}<input id=\"camera\" type=\"file\" \
         class=\"picker-input\" accept=\"{CAMERA_TYPES}\" capture=\"environment\" \
         aria-describedby=\"files-help\"></label></div>\
         <p role=\"status\" aria-live=\"polite\" class=\"busy\"></p><ul class=\"files\"></ul></fieldset>",
        escape(&words.get("attachments")),
        escape(&words.get("attachments-help")),
        escape(&words.get("choose-files")),
        escape(&words.get("take-photo")),
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Choice, Form, Question};

    const TEMPLATE: &str = "<!doctype html>\n<html lang=\"en\">\n<head><title>sealtip</title>\
        <link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body></body>\n</html>\n";

    /// The page's language files, as built.
    /// The page's language files, as the web build copies them.
    fn languages() -> Languages {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/i18n");
        Languages::from_folder(std::path::Path::new(dir)).unwrap()
    }

    #[test]
    fn the_languages_are_read_from_their_folder() {
        let all = languages();
        assert_eq!(all.list.len(), 10);
        assert!(all.list.iter().any(|l| l.tag == "zh-Hans" && !l.rtl));
        assert!(all.list.iter().any(|l| l.tag == "ar" && l.rtl));
        let missing = Languages::from_folder(std::path::Path::new("/nonexistent/i18n"));
        assert!(matches!(missing, Err(FirstScreenError::Folder(_))));
    }

    fn localized(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn profile(languages: &[&str]) -> AgencyProfile {
        AgencyProfile {
            id: "demo".into(),
            name: "City <Police> & \"Co\"".into(),
            recipients: vec![
                "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj".into(),
            ],
            languages: languages.iter().map(|l| l.to_string()).collect(),
            form: Form {
                id: "f1".into(),
                questions: vec![
                    Question {
                        id: "when".into(),
                        kind: QuestionKind::Date,
                        label: localized(&[("en", "When?"), ("es", "¿Cuándo?")]),
                        help: BTreeMap::new(),
                        required: false,
                        choices: vec![],
                    },
                    Question {
                        id: "kind".into(),
                        kind: QuestionKind::Choice,
                        label: localized(&[("en", "Kind")]),
                        help: localized(&[("en", "Pick <one>")]),
                        required: true,
                        choices: vec![Choice {
                            id: "theft".into(),
                            label: localized(&[("en", "Theft"), ("es", "Robo")]),
                        }],
                    },
                ],
            },
            emergency: localized(&[("en", "Call 112"), ("es", "Llame al 112")]),
            exit_url: "https://example.org/?a=1&b=\"2\"".into(),
            embed_origins: vec![],
            pow_difficulty: 10,
            max_upload_bytes: 1,
        }
    }

    fn render(languages: &[&str]) -> String {
        render_page(TEMPLATE, &profile(languages), &self::languages()).unwrap()
    }

    #[test]
    fn the_form_is_in_the_body_in_the_agencys_default_language() {
        let page = render(&["es", "en"]);
        assert!(page.contains("<html lang=\"es\">"), "{page}");
        assert!(page.contains("<bdi>¿Cuándo?</bdi>"));
        assert!(page.contains("<option value=\"theft\" dir=\"auto\">Robo</option>"));
        assert!(page.contains("Llame al 112"));
        // The page's own "What happened?" box, first, required.
        let what = page.find("id=\"q-what\"").unwrap();
        assert!(what < page.find("id=\"q-when\"").unwrap());
        assert!(
            page.contains("id=\"q-what\" aria-describedby=\"q-what-help\" aria-required=\"true\"")
        );
        assert!(page.contains("<option value=\"es\" lang=\"es\" selected=\"\">Español</option>"));
        assert!(page.starts_with("<!doctype html>\n"));
        assert!(page.ends_with("</body>\n</html>\n"));
    }

    #[test]
    fn english_when_the_default_language_has_no_file() {
        let page = render(&["de"]);
        assert!(page.contains("<html lang=\"en\">"));
        assert!(page.contains("<title>Send a tip safely</title>"));
        assert!(page.contains("<bdi>When?</bdi>"));
    }

    #[test]
    fn right_to_left_languages_say_so() {
        let page = render(&["ar"]);
        assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
    }

    #[test]
    fn everything_from_the_profile_is_escaped() {
        let page = render(&["en"]);
        assert!(!page.contains("<Police>"));
        assert!(page.contains("<h1 dir=\"auto\">City &lt;Police&gt; &amp; &quot;Co&quot;</h1>"));
        assert!(page.contains("Pick &lt;one&gt;"));
        assert!(page.contains("data-exit=\"https://example.org/?a=1&amp;b=&quot;2&quot;\""));
        assert!(!page.contains("<script"));
        assert!(!page.contains("style="));
    }

    #[test]
    fn the_keys_fingerprints_are_shown_and_sending_waits_for_the_wasm() {
        let page = render(&["en"]);
        let fingerprint = Recipient::parse(&profile(&["en"]).recipients[0])
            .unwrap()
            .fingerprint();
        let first_group = &fingerprint[..5];
        assert!(page.contains(&format!(
            "<span class=\"key-fingerprint\" dir=\"ltr\">{first_group}<wbr>"
        )));
        assert!(page.contains("<button type=\"submit\" class=\"send\" disabled=\"\">"));
        // What boot.js shows if the page's code cannot start, hidden until then.
        assert!(page.contains(
            "<p class=\"error\" id=\"not-started\" tabindex=\"-1\" hidden=\"\">This page did not \
             finish loading, so nothing can be sent."
        ));
        let spanish = render(&["es", "en"]);
        assert!(spanish.contains("hidden=\"\">Esta página no terminó de cargar"));
    }

    #[test]
    fn a_template_without_a_place_for_the_screen_is_refused() {
        let refused = render_page(
            "<html lang=\"en\"><title>sealtip</title>",
            &profile(&["en"]),
            &languages(),
        );
        assert_eq!(refused, Err(FirstScreenError::Template("<body></body>")));
        assert_eq!(
            Languages::from_files([("es", "-language-name = Español\n")]),
            Err(FirstScreenError::NoEnglish)
        );
    }
}
