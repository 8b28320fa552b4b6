//! `sealtip export THREAD_DIR --out DIR --officer NAME` and
//! `sealtip export --verify DIR [-i IDENTITY_FILE]`: evidence export
//! ([`crate::export`]).

use std::path::PathBuf;

use anyhow::{Result, bail};
use sealtip_envelope::Identity;

use crate::display;
use crate::export::{Exporter, export_all, export_thread_with_case, is_item_folder, verify};
use crate::files::read_identities;

/// Arguments of `sealtip export`.
#[derive(clap::Args)]
pub struct Args {
    /// An opened item's folder (made by `sealtip open` beside the pulled file): its thread is
    /// exported. Or the folder of opened items itself: every thread, one case folder each.
    #[arg(
        value_name = "THREAD_DIR",
        required_unless_present = "verify",
        conflicts_with = "verify"
    )]
    source: Option<PathBuf>,
    /// Write the export into this new folder (refuses an existing one).
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "verify",
        conflicts_with = "verify"
    )]
    out: Option<PathBuf>,
    /// The officer who exports, written into the manifest and the report.
    #[arg(long, value_name = "NAME", env = "SEALTIP_OFFICER")]
    officer: Option<String>,
    /// Check an export instead: every file's size and SHA-256, nothing added or removed.
    /// Prints one line per difference and exits non-zero; exits 0 with a one-line summary.
    #[arg(long, value_name = "DIR")]
    verify: Option<PathBuf>,
    /// Your identity file. Exporting: every sealed file is opened again and must hold exactly
    /// the opened files exported, and the thread's case state (status, assignee, labels, notes),
    /// merged from the pulled case items (`case-<id>.age`) that open with it, goes into the
    /// manifest and the report, and those sealed case items into the export. With --verify:
    /// every sealed file is opened again and what it holds compared with the exported files.
    #[arg(short, long = "identity", value_name = "IDENTITY_FILE")]
    identity: Vec<PathBuf>,
}

/// Exports, or checks an export.
pub fn run(args: Args) -> Result<()> {
    let mut identities = Vec::new();
    for path in &args.identity {
        identities.extend(read_identities(path)?);
    }
    if let Some(dir) = &args.verify {
        return check(dir, &identities);
    }
    let (Some(source), Some(out)) = (&args.source, &args.out) else {
        bail!("name the thread to export and --out DIR");
    };
    let officer = args.officer.as_deref().map(str::trim).unwrap_or_default();
    if officer.is_empty() {
        bail!("say who exports: --officer NAME (or SEALTIP_OFFICER in the environment)");
    }
    let exporter = Exporter {
        officer: officer.to_string(),
    };
    let exported = match is_item_folder(source) {
        true => export_thread_with_case(source, out, &exporter, &identities)?,
        false => export_all(source, out, &exporter, &identities)?,
    };
    for (case, sha256) in &exported.cases {
        println!(
            "Exported {}/ (manifest.json SHA-256 {sha256})",
            display::line(&case.display().to_string())
        );
    }
    println!(
        "Check it with: sealtip export --verify {}",
        display::line(&out.display().to_string())
    );
    Ok(())
}

fn check(dir: &std::path::Path, identities: &[Identity]) -> Result<()> {
    let verified = verify(dir, identities)?;
    if verified.differences.is_empty() {
        let reopened = match identities.is_empty() {
            true => String::new(),
            false => format!(
                ", {} sealed file(s) opened again and matching",
                verified.reopened
            ),
        };
        println!(
            "OK: {}: {} case(s), {} item(s), {} file(s) as their manifest says{reopened}",
            display::line(&dir.display().to_string()),
            verified.cases,
            verified.items,
            verified.files
        );
        return Ok(());
    }
    for difference in &verified.differences {
        println!("{}", display::line(&difference.to_string()));
    }
    bail!(
        "{} difference(s) from the manifest in {}",
        verified.differences.len(),
        dir.display()
    );
}
