//! Interoperability with the reference implementations, both ways: the `age`
//! crate (in process) and Debian's `age` command (Go). Plaintext sizes around
//! the 64 KiB chunk edges, 1 and 5 recipients, keys made by either side.

#![cfg(not(target_arch = "wasm32"))] // native only: files, processes, the age crate
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::str::FromStr;

use sealtip_envelope::{Identity, IdentityFile, Recipient, open_to_vec, seal_to_vec};

const SIZES: &[usize] = &[0, 1, 65535, 65536, 65537, 3 * 65536, 5 * 1024 * 1024 + 7];

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 65536) as u8).collect()
}

fn identities(n: usize) -> Vec<Identity> {
    (0..n).map(|_| Identity::generate().unwrap()).collect()
}

fn age_crate_encrypt(recipients: &[Recipient], plain: &[u8], armor: bool) -> Vec<u8> {
    let recipients: Vec<age::x25519::Recipient> = recipients
        .iter()
        .map(|r| age::x25519::Recipient::from_str(&r.to_string()).unwrap())
        .collect();
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .unwrap();
    let mut out = Vec::new();
    let armored = age::armor::ArmoredWriter::wrap_output(
        &mut out,
        if armor {
            age::armor::Format::AsciiArmor
        } else {
            age::armor::Format::Binary
        },
    )
    .unwrap();
    let mut writer = encryptor.wrap_output(armored).unwrap();
    writer.write_all(plain).unwrap();
    writer.finish().unwrap().finish().unwrap();
    out
}

fn age_crate_decrypt(identity: &Identity, sealed: &[u8]) -> Vec<u8> {
    let identity = age::x25519::Identity::from_str(identity.to_secret_string().as_str()).unwrap();
    let decryptor = age::Decryptor::new(sealed).unwrap();
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    out
}

#[test]
fn sealtip_seals_what_the_age_crate_opens() {
    for recipients in [1, 5] {
        let ids = identities(recipients);
        let to: Vec<Recipient> = ids.iter().map(Identity::recipient).collect();
        for &len in SIZES {
            let plain = plaintext(len);
            let sealed = seal_to_vec(&to, &plain).unwrap();
            // Every recipient can open it, not only the first.
            assert_eq!(
                age_crate_decrypt(ids.last().unwrap(), &sealed),
                plain,
                "{len} bytes, {recipients} recipients"
            );
        }
    }
}

#[test]
fn sealtip_opens_what_the_age_crate_seals() {
    for recipients in [1, 5] {
        let ids = identities(recipients);
        let to: Vec<Recipient> = ids.iter().map(Identity::recipient).collect();
        for &len in SIZES {
            for armor in [false, true] {
                let plain = plaintext(len);
                let sealed = age_crate_encrypt(&to, &plain, armor);
                let opened = open_to_vec(&sealed, &ids[recipients - 1..]).unwrap();
                assert_eq!(
                    opened, plain,
                    "{len} bytes, {recipients} recipients, armor {armor}"
                );
            }
        }
    }
}

fn age_command(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("age")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "Debian's `age` command is needed (apt-get install age; cargo xtask test installs it)",
        );
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "age {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn debian_age_opens_what_sealtip_seals_with_a_sealtip_key() {
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity::generate().unwrap();
    let key_path = dir.path().join("agency.key");
    std::fs::write(
        &key_path,
        IdentityFile::to_text(&identity, "2026-11-29T00:00:00Z").as_bytes(),
    )
    .unwrap();
    for &len in SIZES {
        let plain = plaintext(len);
        let sealed = seal_to_vec(&[identity.recipient()], &plain).unwrap();
        let opened = age_command(&["-d", "-i", key_path.to_str().unwrap()], &sealed);
        assert_eq!(opened, plain, "{len} bytes");
    }
}

#[test]
fn sealtip_opens_what_debian_age_seals_to_an_age_keygen_key() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("officer.key");
    let status = Command::new("age-keygen")
        .arg("-o")
        .arg(&key_path)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let file = IdentityFile::parse(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
    let identity = &file.identities[0];
    let other = Identity::generate().unwrap();
    for &len in SIZES {
        let plain = plaintext(len);
        let r1 = identity.recipient().to_string();
        let r2 = other.recipient().to_string();
        for armor in [false, true] {
            let mut args = vec!["-e", "-r", &r2, "-r", &r1];
            if armor {
                args.push("-a");
            }
            let sealed = age_command(&args, &plain);
            assert_eq!(armor, sealed.starts_with(b"-----BEGIN"));
            assert_eq!(
                open_to_vec(&sealed, std::slice::from_ref(identity)).unwrap(),
                plain,
                "{len} bytes, armor {armor}"
            );
        }
    }
}

#[test]
fn passphrase_files_interoperate_with_the_age_crate() {
    use sealtip_envelope::{open_with_passphrase, seal_with_passphrase};
    let plain = plaintext(70_000);
    let mut writer = seal_with_passphrase("correct horse", Vec::new()).unwrap();
    writer.write_all(&plain).unwrap();
    let sealed = writer.finish().unwrap();
    let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(
        "correct horse".to_string(),
    ));
    let mut reader = age::Decryptor::new(&sealed[..])
        .unwrap()
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .unwrap();
    let mut opened = Vec::new();
    reader.read_to_end(&mut opened).unwrap();
    assert_eq!(opened, plain);

    let encryptor = age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(
        "correct horse".to_string(),
    ));
    let mut sealed = Vec::new();
    let mut writer = encryptor.wrap_output(&mut sealed).unwrap();
    writer.write_all(&plain).unwrap();
    writer.finish().unwrap();
    let mut reader = open_with_passphrase(&sealed[..], "correct horse").unwrap();
    let mut opened = Vec::new();
    reader.read_to_end(&mut opened).unwrap();
    assert_eq!(opened, plain);
    let err = open_with_passphrase(&sealed[..], "wrong horse")
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "wrong passphrase");
    let err = sealtip_envelope::open(&sealed[..], &identities(1))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "this file is protected by a passphrase, not sealed to a key"
    );
}
