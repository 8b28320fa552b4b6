//! Lists the language files of `www/i18n/` for `sealtip desk`, so that a
//! translator adds a language to the desk as to the page: by adding a file.
//! Writes `$OUT_DIR/desk_languages.rs`, a table of each file's tag and text.
//! The build fails, naming the file, line and message, when a file uses
//! Fluent the desk's reader (`sealtip_api::ftl`) does not read, or when the
//! desk's code names a `desk-…` message `en.ftl` lacks.

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;

fn main() -> Result<(), Box<dyn Error>> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")?;
    let dir = Path::new(&manifest).join("../../www/i18n").canonicalize()?;
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let tag = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".ftl"));
        if let Some(tag) = tag {
            println!("cargo:rerun-if-changed={}", path.display());
            let source = std::fs::read_to_string(&path)?;
            sealtip_api::ftl::check::check_file(&path, &source)?;
            files.push((tag.to_string(), path.clone()));
        }
    }
    files.sort();
    check_desk_ids(Path::new(&manifest).join("src/desk"), &dir.join("en.ftl"))?;
    let mut out = String::from("/// Each language file: its tag and its text.\n");
    writeln!(out, "pub static FILES: [(&str, &str); {}] = [", files.len())?;
    for (tag, path) in &files {
        let path = path.to_str().ok_or("a language file's path is not UTF-8")?;
        writeln!(out, "    ({tag:?}, include_str!({path:?})),")?;
    }
    writeln!(out, "];")?;
    let target = Path::new(&std::env::var("OUT_DIR")?).join("desk_languages.rs");
    std::fs::write(target, out)?;
    Ok(())
}

/// Every `"desk-…"` message the desk's code names is in English (`words.rs`,
/// the reader, is left out: its tests name messages that are not).
fn check_desk_ids(code_dir: std::path::PathBuf, english: &Path) -> Result<(), Box<dyn Error>> {
    let english = sealtip_api::ftl::parse(&std::fs::read_to_string(english)?, |_| true);
    // The desk's folder and its subfolders (`pages/`).
    let mut files = Vec::new();
    let mut folders = vec![code_dir];
    while let Some(folder) = folders.pop() {
        println!("cargo:rerun-if-changed={}", folder.display());
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            match path.is_dir() {
                true => folders.push(path),
                false => files.push(path),
            }
        }
    }
    for path in files {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        if name.ends_with(".rs") && name != "words.rs" {
            let code = std::fs::read_to_string(&path)?;
            sealtip_api::ftl::check::check_code(&path, &code, "desk-", &english)?;
        }
    }
    Ok(())
}
