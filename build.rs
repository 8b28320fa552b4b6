//! Finds the page's languages: each `www/i18n/<tag>.ftl` is one, and a
//! translator adds a language by adding a file. Writes
//! `$OUT_DIR/languages.rs`, which `src/i18n.rs` includes: for each file its
//! tag, its own name (the `-language-name` term), whether it is written right
//! to left (`-direction = rtl`) and the SHA-256 of its bytes, against which
//! the page checks the file it fetches. Also writes `$OUT_DIR/en.ftl`,
//! English without its comments and without the `desk-…` words of
//! `sealtip desk`, which the page compiles in, and `$OUT_DIR/msg.rs`, a
//! constant per message of English (`send` is `msg::SEND`), which the page
//! names its words by: a message the code names and `en.ftl` lacks does not
//! compile.
//!
//! The build fails, naming the file, line and message, when a file uses
//! Fluent the page's reader (`sealtip_api::ftl`) does not read.

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

/// One language file, as the build found it.
struct Language {
    tag: String,
    name: String,
    rtl: bool,
    sha256: [u8; 32],
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=www/i18n");
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR")?).join("www/i18n");
    let mut languages = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(tag) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".ftl"))
        else {
            continue;
        };
        let bytes = std::fs::read(&path)?;
        let source = std::str::from_utf8(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        sealtip_api::ftl::check::check_file(&path, source)?;
        let name = term(source, "-language-name")
            .ok_or_else(|| format!("{} has no `-language-name = …` line", path.display()))?;
        languages.push(Language {
            tag: tag.to_string(),
            name: name.to_string(),
            rtl: term(source, "-direction") == Some("rtl"),
            sha256: Sha256::digest(&bytes).into(),
        });
    }
    if !languages.iter().any(|language| language.tag == "en") {
        return Err(format!(
            "{} has no en.ftl, the fallback of every language",
            dir.display()
        )
        .into());
    }
    // The picker lists the languages by their own names.
    languages.sort_by(|a, b| a.name.cmp(&b.name));
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("languages.rs"), generate(&languages)?)?;
    // English as compiled into the page: its messages, without the comments
    // and blank lines written for translators, and without the words of
    // `sealtip desk` (`desk-…` and their continuation lines), which the page
    // never shows.
    let english = std::fs::read_to_string(dir.join("en.ftl"))?;
    let mut in_desk_message = false;
    let messages: Vec<&str> = english
        .lines()
        .filter(|line| {
            if !line.starts_with(' ') {
                in_desk_message = line.starts_with("desk-");
            }
            !in_desk_message
        })
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .collect();
    let compiled = messages.join("\n");
    std::fs::write(out.join("en.ftl"), &compiled)?;
    let english = sealtip_api::ftl::parse(&compiled, |id| !id.starts_with('-'));
    let constants = sealtip_api::ftl::check::constants(english.keys().map(String::as_str));
    std::fs::write(out.join("msg.rs"), constants)?;
    Ok(())
}

/// The value of a `-term = value` line.
fn term<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    source.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == name).then(|| value.trim())
    })
}

/// The table, and one constant per language named after its tag (`es` is
/// `Lang::Es`, `zh-Hans` is `Lang::ZhHans`).
fn generate(languages: &[Language]) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    writeln!(out, "static LANGUAGES: [LangInfo; {}] = [", languages.len())?;
    for language in languages {
        writeln!(
            out,
            "    LangInfo {{ tag: {:?}, name: {:?}, rtl: {}, sha256: {:?} }},",
            language.tag, language.name, language.rtl, language.sha256
        )?;
    }
    writeln!(out, "];\n\n#[allow(non_upper_case_globals)]\nimpl Lang {{")?;
    writeln!(
        out,
        "    /// Every language, in the order the picker lists them."
    )?;
    let all: Vec<String> = (0..languages.len()).map(|i| format!("Lang({i})")).collect();
    writeln!(
        out,
        "    pub const ALL: [Lang; {}] = [{}];",
        languages.len(),
        all.join(", ")
    )?;
    for (index, language) in languages.iter().enumerate() {
        let constant: String = language
            .tag
            .split('-')
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
                })
            })
            .collect();
        writeln!(out, "    /// {} (`{}`).", language.name, language.tag)?;
        writeln!(out, "    pub const {constant}: Lang = Lang({index});")?;
    }
    writeln!(out, "}}")?;
    Ok(out)
}
