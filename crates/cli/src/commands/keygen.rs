//! `sealtip keygen [-o FILE]`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Result;
use sealtip_envelope::{Identity, IdentityFile};

use crate::files::{create_new_private, parent_dir, sync_dir};
use crate::time::now_rfc3339;

/// Writes a new identity to `output` (or stdout) and prints its recipient.
pub fn run(output: Option<&Path>) -> Result<()> {
    let identity = Identity::generate()?;
    let text = IdentityFile::to_text(&identity, &now_rfc3339());
    match output {
        Some(path) => {
            let mut file = create_new_private(path)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            sync_dir(parent_dir(path));
            println!("{}", identity.recipient());
            if std::io::stderr().is_terminal() {
                eprintln!(
                    "Wrote the identity to {}. Tips sealed to the key above open with it; keep it secret and backed up.",
                    path.display()
                );
            }
        }
        None => {
            print!("{}", text.as_str());
            eprintln!("Public key: {}", identity.recipient());
        }
    }
    Ok(())
}
