//! Interoperability with independent implementations, both ways: for X25519
//! the `age` crate (in process) and Debian's `age` command (Go); for hybrid
//! post-quantum keys (and X25519 again) the TypeScript `age-encryption`
//! package from npm, run with Node (`tests/typage.mjs`; `cargo xtask test`
//! installs it into `.tools/node`). Plaintext sizes around the 64 KiB chunk
//! edges, 1 and 5 recipients, keys made by either side.

#![cfg(not(target_arch = "wasm32"))] // native only: files, processes, the age crate
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::str::FromStr;

use sealtip_envelope::{Identity, IdentityFile, KeyKind, Recipient, open_to_vec, seal_to_vec};

const SIZES: &[usize] = &[0, 1, 65535, 65536, 65537, 3 * 65536, 5 * 1024 * 1024 + 7];

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 65536) as u8).collect()
}

/// X25519 identities: the `age` crate and Debian's `age` know no hybrid keys.
fn identities(n: usize) -> Vec<Identity> {
    (0..n)
        .map(|_| Identity::generate_kind(KeyKind::X25519).unwrap())
        .collect()
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
    let identity = Identity::generate_kind(KeyKind::X25519).unwrap();
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
    let other = Identity::generate_kind(KeyKind::X25519).unwrap();
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

// --- The TypeScript age (npm `age-encryption`), hybrid and X25519 ----------

/// Runs `tests/typage.mjs COMMAND ARGS…` with Node, `input` on stdin.
fn typage(command: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let module = root.join(".tools/node/node_modules/age-encryption/dist/index.js");
    assert!(
        module.is_file(),
        "the npm package age-encryption is needed in .tools/node (cargo xtask test installs it): {} is missing",
        module.display()
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/typage.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .arg(&module)
        .arg(command)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Node.js is needed for the age-encryption interoperability tests");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "typage {command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A key pair made by typage: (identity text, recipient text).
fn typage_keygen(kind: KeyKind) -> (String, String) {
    let command = match kind {
        KeyKind::Hybrid => "keygen-hybrid",
        KeyKind::X25519 => "keygen-x25519",
    };
    let out = String::from_utf8(typage(command, &[], b"")).unwrap();
    let mut lines = out.lines();
    (
        lines.next().unwrap().to_string(),
        lines.next().unwrap().to_string(),
    )
}

const TYPAGE_SIZES: &[usize] = &[0, 1, 65536, 65537, 300_000];

#[test]
fn typage_opens_what_sealtip_seals_to_sealtip_hybrid_keys() {
    for count in [1, 5] {
        let keys: Vec<Identity> = (0..count).map(|_| Identity::generate().unwrap()).collect();
        let recipients: Vec<Recipient> = keys.iter().map(Identity::recipient).collect();
        assert!(recipients[0].to_string().starts_with("age1pq1"));
        for &len in TYPAGE_SIZES {
            let plain = plaintext(len);
            let sealed = seal_to_vec(&recipients, &plain).unwrap();
            let last = keys.last().unwrap().to_secret_string();
            assert_eq!(
                typage("decrypt", &[last.as_str()], &sealed),
                plain,
                "{count} recipient(s), {len} bytes"
            );
        }
    }
}

#[test]
fn sealtip_opens_what_typage_seals_to_sealtip_hybrid_keys() {
    let keys: Vec<Identity> = (0..5).map(|_| Identity::generate().unwrap()).collect();
    let recipients: Vec<String> = keys.iter().map(|k| k.recipient().to_string()).collect();
    let recipients: Vec<&str> = recipients.iter().map(String::as_str).collect();
    for &len in TYPAGE_SIZES {
        let plain = plaintext(len);
        let sealed = typage("encrypt", &recipients, &plain);
        assert!(
            String::from_utf8_lossy(&sealed[..200]).contains("-> mlkem768x25519 "),
            "typage wrote hybrid stanzas"
        );
        assert_eq!(
            open_to_vec(&sealed, &keys[2..3]).unwrap(),
            plain,
            "{len} bytes"
        );
    }
}

#[test]
fn keys_made_by_typage_work_in_sealtip_and_back() {
    for kind in [KeyKind::Hybrid, KeyKind::X25519] {
        let (identity_text, recipient_text) = typage_keygen(kind);
        let identity = Identity::parse(&identity_text).unwrap();
        assert_eq!(identity.kind(), kind);
        let recipient = Recipient::parse(&recipient_text).unwrap();
        assert_eq!(identity.recipient(), recipient, "same public key derived");
        assert_eq!(recipient.to_string(), recipient_text);
        assert_eq!(identity.to_secret_string().as_str(), identity_text);
        let plain = plaintext(70_000);
        // sealtip seals to typage's key, typage opens.
        let sealed = seal_to_vec(std::slice::from_ref(&recipient), &plain).unwrap();
        assert_eq!(typage("decrypt", &[&identity_text], &sealed), plain);
        // typage seals to its own key, sealtip opens with it.
        let sealed = typage("encrypt", &[&recipient_text], &plain);
        assert_eq!(open_to_vec(&sealed, &[identity]).unwrap(), plain);
    }
}

#[test]
fn x25519_files_interoperate_with_typage_too() {
    let keys = identities(2);
    let plain = plaintext(65537);
    let sealed = seal_to_vec(&[keys[0].recipient(), keys[1].recipient()], &plain).unwrap();
    let secret = keys[1].to_secret_string();
    assert_eq!(typage("decrypt", &[secret.as_str()], &sealed), plain);
    let recipient = keys[0].recipient().to_string();
    let sealed = typage("encrypt", &[&recipient], &plain);
    assert_eq!(open_to_vec(&sealed, &keys[..1]).unwrap(), plain);
}

#[test]
fn a_sealed_tip_opens_with_typage_then_tar() {
    use sealtip_envelope::{Kind, Tip};
    let agency = Identity::generate().unwrap();
    let mut tip = Tip::new(Kind::Tip, "demo", "2026-12-06");
    tip.text = "Seen at pier 4.".into();
    let sealing = sealtip_envelope::seal_tip(&[agency.recipient()], Vec::new()).unwrap();
    let (sealed, _) = sealing.finish(tip).unwrap();
    let plain = typage("decrypt", &[agency.to_secret_string().as_str()], &sealed);
    let dir = tempfile::tempdir().unwrap();
    let mut tar = Command::new("tar")
        .args(["-x", "-C"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    tar.stdin.take().unwrap().write_all(&plain).unwrap();
    assert!(tar.wait().unwrap().success());
    let json = std::fs::read_to_string(dir.path().join("tip.json")).unwrap();
    assert!(json.contains("Seen at pier 4."), "{json}");
}

#[test]
fn hybrid_and_x25519_keys_are_never_mixed_in_one_file() {
    let hybrid = Identity::generate().unwrap().recipient();
    let legacy = identities(1)[0].recipient();
    let err = seal_to_vec(&[hybrid, legacy], b"x")
        .unwrap_err()
        .to_string();
    assert!(err.contains("post-quantum"), "{err}");
}
