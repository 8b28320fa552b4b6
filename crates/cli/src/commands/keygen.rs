//! `sealtip keygen [--passphrase] [--x25519] [-o FILE]`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Result;
use sealtip_envelope::ArmoredWriter;
use sealtip_envelope::{Identity, IdentityFile, KeyKind, seal_with_passphrase};
use zeroize::Zeroizing;

use crate::files::{create_new_private, parent_dir, sync_dir};
use crate::time::now_rfc3339;

/// Writes a new identity (hybrid post-quantum, or X25519 with `x25519`) to
/// `output` (or stdout) and prints its recipient. With `protect`, the
/// identity file is itself sealed with a passphrase (armored, as
/// `age -p -a` would write it), so `age -d -i` opens with it too.
pub fn run(output: Option<&Path>, protect: bool, x25519: bool) -> Result<()> {
    let kind = if x25519 {
        KeyKind::X25519
    } else {
        KeyKind::Hybrid
    };
    let identity = Identity::generate_kind(kind)?;
    let mut text = IdentityFile::to_text(&identity, &now_rfc3339());
    if protect {
        let passphrase = crate::passphrase::ask_new()?;
        let armored = ArmoredWriter::new(Vec::new())?;
        let mut writer = seal_with_passphrase(&passphrase, armored)?;
        writer.write_all(text.as_bytes())?;
        let armored = writer.finish()?.finish()?;
        text = Zeroizing::new(String::from_utf8(armored)?);
    }
    match output {
        Some(path) => {
            let mut file = create_new_private(path)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            sync_dir(parent_dir(path));
            println!("{}", identity.recipient());
            if std::io::stderr().is_terminal() {
                eprintln!(
                    "Wrote the identity to {}. Tips sealed to the key above open with it; keep it secret and backed up.\nFingerprint: {}",
                    path.display(),
                    identity.recipient().fingerprint()
                );
            }
        }
        None => {
            print!("{}", text.as_str());
            eprintln!(
                "Public key: {}\nFingerprint: {}",
                identity.recipient(),
                identity.recipient().fingerprint()
            );
        }
    }
    Ok(())
}
