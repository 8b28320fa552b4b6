//! The release signature: ed25519 (`ed25519-dalek`) over the exact bytes of
//! `manifest.json`, kept beside it in `manifest.json.sig`. Every form is one
//! line of lowercase hex, so a person can read, copy and compare it:
//!
//! - signing key file: the 32-byte ed25519 secret seed, 64 hex digits
//!   (written by `sealtip sign-manifest --new-key FILE`, mode 0600);
//! - public key (`--key`): 32 bytes, 64 hex digits, given as is or as a file
//!   holding that line;
//! - `manifest.json.sig`: the 64-byte signature, 128 hex digits.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

/// Where the signature of `manifest` lies: `FILE.sig`.
pub fn signature_path(manifest: &Path) -> PathBuf {
    let mut name = manifest.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// A new signing key from the operating system's randomness.
pub fn new_signing_key() -> Result<SigningKey> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut_slice()).map_err(|_| anyhow!("no randomness from the system"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A signing key's file text: its seed in hex, one line.
pub fn signing_key_text(key: &SigningKey) -> Zeroizing<String> {
    Zeroizing::new(format!("{}\n", hex::encode(key.to_bytes())))
}

/// Reads a signing key file.
pub fn read_signing_key(path: &Path) -> Result<SigningKey> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read signing key {}", path.display()))?,
    );
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), seed.as_mut_slice()).map_err(|_| {
        anyhow!(
            "{} is not a signing key (one line of 64 hex digits)",
            path.display()
        )
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// A public key's text: 64 hex digits.
pub fn public_key_text(key: &VerifyingKey) -> String {
    hex::encode(key.to_bytes())
}

/// A public key from `--key`: 64 hex digits, or a file holding them.
pub fn read_public_key(given: &str) -> Result<VerifyingKey> {
    let text = if Path::new(given).is_file() {
        std::fs::read_to_string(given).with_context(|| format!("cannot read {given}"))?
    } else {
        given.to_owned()
    };
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
        anyhow!("--key must be a public key of 64 hex digits, or a file holding one")
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| anyhow!("--key is not an ed25519 public key"))
}

/// The signature file's text for `manifest`.
pub fn sign(key: &SigningKey, manifest: &[u8]) -> String {
    format!("{}\n", hex::encode(key.sign(manifest).to_bytes()))
}

/// Checks `signature_text` (a `.sig` file's content) over `manifest`.
pub fn verify(key: &VerifyingKey, manifest: &[u8], signature_text: &str) -> Result<()> {
    let mut bytes = [0u8; 64];
    hex::decode_to_slice(signature_text.trim(), &mut bytes)
        .map_err(|_| anyhow!("the signature file is not 128 hex digits"))?;
    let signature = Signature::from_bytes(&bytes);
    if key.verify_strict(manifest, &signature).is_err() {
        bail!("the manifest's signature is not this key's signature over it");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_manifest_and_key_only() -> Result<()> {
        let key = new_signing_key()?;
        let public = read_public_key(&public_key_text(&key.verifying_key()))?;
        let signature = sign(&key, b"manifest");
        verify(&public, b"manifest", &signature)?;
        assert!(verify(&public, b"manifesT", &signature).is_err());
        let other = new_signing_key()?.verifying_key();
        assert!(verify(&other, b"manifest", &signature).is_err());
        assert!(verify(&public, b"manifest", "not hex").is_err());
        Ok(())
    }

    #[test]
    fn a_signing_key_file_round_trips() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("release.key");
        let key = new_signing_key()?;
        std::fs::write(&path, signing_key_text(&key).as_bytes())?;
        let read = read_signing_key(&path)?;
        assert_eq!(read.verifying_key(), key.verifying_key());
        Ok(())
    }
}
