//! The C2SP age test vectors (tests/data/age-vectors, see its README), run
//! through sealtip's opening code: every X25519, scrypt, armor, stream,
//! stanza, hmac, header, version and empty vector gives exactly its expected
//! outcome, the post-quantum hybrid (`mlkem768x25519`) ones included.
//! Success vectors also round-trip STREAM with their file key.

#![cfg(not(target_arch = "wasm32"))] // native only: files, processes, the age crate
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;

use sealtip_envelope::Header;
use sealtip_envelope::{ArmoredReader, is_armored};
use sealtip_envelope::{FileKey, Identity, KeyError, OpenError, open, open_with_passphrase};
use sealtip_envelope::{StreamReader, StreamWriter};
use sha2::{Digest, Sha256};

struct Vector {
    name: String,
    expect: String,
    payload: Option<String>,
    file_key: Vec<u8>,
    identities: Vec<String>,
    passphrases: Vec<String>,
    body: Vec<u8>,
}

fn load(path: &PathBuf) -> Vector {
    let raw = std::fs::read(path).unwrap();
    let split = raw.windows(2).position(|w| w == b"\n\n").unwrap();
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut body = raw[split + 2..].to_vec();
    let mut vector = Vector {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        expect: String::new(),
        payload: None,
        file_key: Vec::new(),
        identities: Vec::new(),
        passphrases: Vec::new(),
        body: Vec::new(),
    };
    let mut compressed = false;
    for line in head.lines() {
        let (key, value) = line.split_once(": ").unwrap();
        match key {
            "expect" => vector.expect = value.to_string(),
            "payload" => vector.payload = Some(value.to_string()),
            "file key" => vector.file_key = hex::decode(value).unwrap(),
            "identity" => vector.identities.push(value.to_string()),
            "passphrase" => vector.passphrases.push(value.to_string()),
            "compressed" => compressed = value == "zlib",
            "armored" | "comment" => {}
            other => panic!("{}: unknown header {other}", vector.name),
        }
    }
    if compressed {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&body[..])
            .read_to_end(&mut out)
            .unwrap();
        body = out;
    }
    vector.body = body;
    vector
}

/// What opening the vector gave, in the vector's own words, and the SHA-256
/// of every plaintext byte released before success or failure.
fn outcome(vector: &Vector) -> (String, String) {
    let mut identities = Vec::new();
    let mut unsupported_key = false;
    for text in &vector.identities {
        match Identity::parse(text) {
            Ok(identity) => identities.push(identity),
            Err(KeyError::Unsupported(_)) => unsupported_key = true,
            Err(err) => panic!("{}: identity does not parse: {err}", vector.name),
        }
    }
    let mut hasher = Sha256::new();
    let kind = |err: &OpenError| {
        match err {
            OpenError::Header(_) => "header failure",
            OpenError::Armor(_) => "armor failure",
            OpenError::NoMatch { .. } if unsupported_key => "unsupported",
            OpenError::NoMatch { .. } => "no match",
            OpenError::Unsupported(_) => "unsupported",
            OpenError::WrongPassphrase | OpenError::NotPassphraseProtected => "no match",
            OpenError::PassphraseProtected => "unsupported",
            OpenError::HeaderMac => "HMAC failure",
            OpenError::Payload(_) => "payload failure",
            OpenError::Io(err) => panic!("{}: unexpected I/O error {err}", vector.name),
        }
        .to_string()
    };
    let opened = match vector.passphrases.first() {
        Some(passphrase) if identities.is_empty() => {
            open_with_passphrase(&vector.body[..], passphrase)
        }
        _ => open(&vector.body[..], &identities),
    };
    let mut reader = match opened {
        Ok(reader) => reader,
        Err(err) => return (kind(&err), hex::encode(hasher.finalize())),
    };
    let mut buf = vec![0u8; 10_000];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return ("success".into(), hex::encode(hasher.finalize())),
            Ok(n) => hasher.update(&buf[..n]),
            Err(err) => {
                return (
                    kind(&OpenError::from_io(err)),
                    hex::encode(hasher.finalize()),
                );
            }
        }
    }
}

/// Decrypts and re-encrypts the payload of a success vector with its file key.
fn stream_round_trip(vector: &Vector) {
    let mut input: Box<dyn BufRead> = if is_armored(&vector.body) {
        Box::new(BufReader::new(ArmoredReader::new(&vector.body[..])))
    } else {
        Box::new(&vector.body[..])
    };
    Header::read(&mut input).unwrap();
    let mut payload = Vec::new();
    input.read_to_end(&mut payload).unwrap();
    let (nonce, ciphertext) = payload.split_at(16);
    let nonce: [u8; 16] = nonce.try_into().unwrap();
    let key = FileKey::from_bytes(vector.file_key.clone().try_into().unwrap());
    let mut plain = Vec::new();
    StreamReader::with_nonce(ciphertext, &key, &nonce)
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(
        Some(hex::encode(Sha256::digest(&plain))),
        vector.payload,
        "{}",
        vector.name
    );
    let mut writer = StreamWriter::with_nonce(Vec::new(), &key, &nonce);
    writer.write_all(&plain).unwrap();
    assert_eq!(
        writer.finish().unwrap(),
        ciphertext,
        "{}: re-encryption differs",
        vector.name
    );
}

#[test]
fn every_age_vector_gives_its_expected_outcome() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/age-vectors/testdata");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 143, "the C2SP suite has 143 vectors");
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut hybrid = 0;
    for path in &paths {
        let vector = load(path);
        let (got, released) = outcome(&vector);
        // Every kind is implemented: X25519, hybrid post-quantum, and
        // passphrase (scrypt) files, which protect identity files.
        *counts.entry(got.clone()).or_default() += 1;
        if vector.name.contains("hybrid") {
            hybrid += 1;
        }
        if got != vector.expect {
            failures.push(format!(
                "{}: expected {}, got {got}",
                vector.name, vector.expect
            ));
        } else if (got == "success" || got == "payload failure")
            && Some(&released) != vector.payload.as_ref()
        {
            failures.push(format!("{}: released plaintext differs", vector.name));
        }
        if vector.expect == "success" {
            stream_round_trip(&vector);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
    assert_eq!(hybrid, 19, "the suite has 19 hybrid vectors");
    eprintln!("outcomes: {counts:?}");
}
