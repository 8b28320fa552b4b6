//! The bytes a tipster needs before typing: the agency's page as the relay
//! serves it, with its first screen in the HTML (gzipped at the relay's
//! level, as it serves it to a browser), and what that screen needs, as the
//! relay serves them (their `.gz` copies): the
//! stylesheets and `boot.js` (the quick exit until the wasm takes over).
//! The wasm and the language files come later. At most
//! [`BEFORE_TYPING_MAX`]; printed by `cargo xtask web`.
//!
//! The page is made by the relay's own function
//! (`sealtip_api::first_screen::render_page`) for a sample agency shaped
//! like the demo one: its name, emergency line, key and a form of four
//! questions.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use sealtip_api::first_screen::{Languages, render_page};
use sealtip_api::{AgencyProfile, Choice, Form, Question, QuestionKind};

/// The bytes before typing, at most (bytes, compressed as served).
pub const BEFORE_TYPING_MAX: u64 = 150_000;

/// Measures the bytes before typing in `dist` (after its `.gz` copies are
/// written), prints them and fails over [`BEFORE_TYPING_MAX`].
pub fn check(dist: &Path) -> Result<()> {
    let template = std::fs::read_to_string(dist.join("index.html"))?;
    let languages = Languages::from_folder(&dist.join("i18n"))?;
    let page = render_page(&template, &sample_agency(), &languages)?;
    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(page.as_bytes())?;
    let mut total = gzip.finish()?.len() as u64;
    let mut parts = vec![format!(
        "page {} ({} plain)",
        crate::run::kb(total),
        crate::run::kb(page.len() as u64)
    )];
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let needed = name.ends_with(".css") || (name.starts_with("boot") && name.ends_with(".js"));
        if !needed {
            continue;
        }
        let gzip = dist.join(format!("{name}.gz"));
        let size = std::fs::metadata(&gzip)
            .with_context(|| format!("no {}", gzip.display()))?
            .len();
        total += size;
        parts.push(format!("{name} {}", crate::run::kb(size)));
    }
    println!(
        "before typing (the page with its first screen, CSS and boot.js, gzip as served): {} \
         (target: 150 KB): {}",
        crate::run::kb(total),
        parts.join(", ")
    );
    if total > BEFORE_TYPING_MAX {
        bail!(
            "a tipster needs {} before typing, over its budget of {}",
            crate::run::kb(total),
            crate::run::kb(BEFORE_TYPING_MAX)
        );
    }
    Ok(())
}

/// An agency like the demo one `sealtip-relay init` writes.
fn sample_agency() -> AgencyProfile {
    let english = |text: &str| BTreeMap::from([("en".to_owned(), text.to_owned())]);
    let question = |id: &str, kind, label: &str, required| Question {
        id: id.into(),
        kind,
        label: english(label),
        help: english("Say what you saw or know, in your own words."),
        required,
        choices: Vec::new(),
    };
    let mut kind = question("kind", QuestionKind::Choice, "What is it about?", false);
    kind.choices = ["Theft", "Violence", "Corruption", "Something else"]
        .iter()
        .map(|label| Choice {
            id: label.to_lowercase().replace(' ', "-"),
            label: english(label),
        })
        .collect();
    AgencyProfile {
        id: "demo".into(),
        name: "Demo agency".into(),
        recipients: vec!["age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj".into()],
        languages: vec!["en".into()],
        form: Form {
            id: "demo-1".into(),
            questions: vec![
                question("what", QuestionKind::LongText, "What happened?", true),
                question("when", QuestionKind::Date, "When?", false),
                question("where", QuestionKind::Place, "Where?", false),
                kind,
            ],
        },
        emergency: english("In danger right now? Call 112."),
        exit_url: "https://www.wikipedia.org/".into(),
        embed_origins: Vec::new(),
        pow_difficulty: 18,
        max_upload_bytes: 1 << 30,
    }
}
