//! `sealtip sign-manifest`: signs a release's `manifest.json` with ed25519,
//! writing `manifest.json.sig` beside it, which `sealtip verify-client --key`
//! checks; `--new-key FILE` makes the signing key. Formats in
//! `verify::signature`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::files;
use crate::verify::manifest::Manifest;
use crate::verify::signature;

/// Arguments of `sealtip sign-manifest`.
#[derive(clap::Args)]
pub struct Args {
    /// The manifest to sign (dist/manifest.json from `cargo xtask web`).
    #[arg(value_name = "MANIFEST", required_unless_present = "new_key")]
    manifest: Option<PathBuf>,
    /// The signing key file (one line, 64 hex digits).
    #[arg(long, value_name = "FILE", required_unless_present = "new_key")]
    key: Option<PathBuf>,
    /// Make a new signing key into FILE (refuses to overwrite) and print its
    /// public key, the one to publish for `verify-client --key`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["manifest", "key"])]
    new_key: Option<PathBuf>,
}

/// Signs, or makes a key.
pub fn run(args: Args) -> Result<()> {
    if let Some(path) = args.new_key {
        let key = signature::new_signing_key()?;
        let mut file = files::create_new_private(&path)?;
        file.write_all(signature::signing_key_text(&key).as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", signature::public_key_text(&key.verifying_key()));
        return Ok(());
    }
    let (Some(manifest_path), Some(key_path)) = (args.manifest, args.key) else {
        bail!("give the manifest and --key FILE, or --new-key FILE");
    };
    let key = signature::read_signing_key(&key_path)?;
    let manifest = std::fs::read(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    Manifest::parse(&manifest)
        .with_context(|| format!("{} is not a web manifest", manifest_path.display()))?;
    let sig_path = signature::signature_path(&manifest_path);
    std::fs::write(&sig_path, signature::sign(&key, &manifest))
        .with_context(|| format!("cannot write {}", sig_path.display()))?;
    println!(
        "{}: signed by {}",
        sig_path.display(),
        signature::public_key_text(&key.verifying_key())
    );
    Ok(())
}
