//! Passphrases for protected identity files: from `SEALTIP_PASSPHRASE` (for
//! scripts) or asked on the terminal, never echoed, zeroized after use.

use anyhow::{Result, bail};
use zeroize::Zeroizing;

/// The environment variable scripts use to supply the passphrase.
pub const ENV: &str = "SEALTIP_PASSPHRASE";

/// The passphrase to open `what`.
pub fn ask(what: &str) -> Result<Zeroizing<String>> {
    if let Some(value) = from_env() {
        return Ok(value);
    }
    let typed = rpassword::prompt_password(format!("Passphrase for {what}: ")).map_err(|_| {
        anyhow::anyhow!("{what} is protected by a passphrase: run in a terminal or set {ENV}")
    })?;
    Ok(Zeroizing::new(typed))
}

/// A new passphrase, typed twice.
pub fn ask_new() -> Result<Zeroizing<String>> {
    let passphrase = match from_env() {
        Some(value) => value,
        None => {
            let first = Zeroizing::new(
                rpassword::prompt_password("New passphrase for the identity file: ").map_err(
                    |_| {
                        anyhow::anyhow!(
                            "cannot ask for a passphrase: run in a terminal or set {ENV}"
                        )
                    },
                )?,
            );
            let second = Zeroizing::new(rpassword::prompt_password("The same passphrase again: ")?);
            if first != second {
                bail!("the two passphrases differ; nothing was written");
            }
            first
        }
    };
    if passphrase.trim().is_empty() {
        bail!("the passphrase is empty; nothing was written");
    }
    Ok(passphrase)
}

fn from_env() -> Option<Zeroizing<String>> {
    std::env::var(ENV).ok().map(Zeroizing::new)
}
