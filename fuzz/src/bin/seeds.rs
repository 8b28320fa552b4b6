//! Writes seed corpora for the fuzz targets into `<dir>/<target>/`:
//! valid sealed tips (binary and armored, one or more recipients, with and
//! without attachments and reply keys) sealed to the fixed fuzzing identity,
//! their bundles in the clear, a few unsafe bundles, and headers.
//!
//! Usage: `cargo run --release --bin seeds -- corpus` (see `seeds.sh`).
//! Sealing is randomised, so every run writes new files; the corpora are
//! not committed.

use std::io::Write;
use std::path::{Path, PathBuf};

use sealtip_envelope::ArmoredWriter;
use sealtip_envelope::{
    Answer, BundleWriter, Kind, Limits, MetadataStatus, NewAttachment, ReplyTo, Tip, read_bundle,
};
use sealtip_envelope::{Header, Stanza};
use sealtip_envelope::{FileKey, Identity, Recipient, open_tip, seal_tip};
use sealtip_envelope_fuzz::{LIMITS, identity};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// One tip to write: its attachments and whether it asks for replies.
struct Shape {
    name: &'static str,
    attachments: Vec<(&'static str, &'static str, Vec<u8>)>,
    reply: bool,
    answers: bool,
}

fn shapes() -> Vec<Shape> {
    let photo: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    vec![
        Shape {
            name: "text_only",
            attachments: vec![],
            reply: false,
            answers: false,
        },
        Shape {
            name: "one_photo",
            attachments: vec![("IMG_0042.jpg", "image/jpeg", photo.clone())],
            reply: true,
            answers: true,
        },
        Shape {
            name: "three_files",
            attachments: vec![
                ("notes.txt", "text/plain", b"plate: KA-123\n".to_vec()),
                ("../../etc/passwd", "application/octet-stream", vec![0; 10]),
                ("empty", "application/octet-stream", vec![]),
            ],
            reply: false,
            answers: true,
        },
        Shape {
            // More entries than the fuzzing limits allow.
            name: "many_files",
            attachments: (0..9)
                .map(|i| ("n.txt", "text/plain", vec![b'0' + i]))
                .collect(),
            reply: false,
            answers: false,
        },
        Shape {
            // Over the fuzzing limits and over one 64 KiB chunk when sealed.
            name: "large",
            attachments: vec![("video.mp4", "video/mp4", vec![0x5a; 70_000])],
            reply: false,
            answers: false,
        },
    ]
}

fn tip(shape: &Shape) -> Tip {
    let mut tip = Tip::new(Kind::Tip, "demo-agency", "2026-11-29");
    tip.language = "en".into();
    tip.text = "A van unloads barrels into the river every night at 2.".into();
    if shape.answers {
        tip.form = "pollution".into();
        tip.answers.push(Answer {
            id: "where".into(),
            label: "Where?".into(),
            value: "Behind the mill, Uferstrasse 3".into(),
        });
    }
    if shape.reply {
        tip.reply = Some(ReplyTo {
            recipient: identity().recipient().to_string(),
            mailbox: "0123456789abcdef0123456789abcdef".into(),
            thread_key: None,
        });
    }
    tip
}

fn bundle(shape: &Shape) -> Result<Vec<u8>> {
    let mut writer = BundleWriter::new(Vec::new());
    for (name, media_type, data) in &shape.attachments {
        writer.add_attachment(attachment(name, media_type, data), &mut data.as_slice())?;
    }
    Ok(writer.finish(tip(shape))?.0)
}

fn attachment<'a>(name: &'a str, media_type: &'a str, data: &[u8]) -> NewAttachment<'a> {
    NewAttachment {
        name,
        media_type,
        size: data.len() as u64,
        metadata: MetadataStatus::Removed,
        removed: vec!["location".into()],
        keep_name: false,
    }
}

fn sealed(shape: &Shape, recipients: &[Recipient]) -> Result<Vec<u8>> {
    let mut sealing = seal_tip(recipients, Vec::new())?;
    for (name, media_type, data) in &shape.attachments {
        sealing.add_attachment(attachment(name, media_type, data), &mut data.as_slice())?;
    }
    Ok(sealing.finish(tip(shape))?.0)
}

fn armored(binary: &[u8]) -> Result<Vec<u8>> {
    let mut writer = ArmoredWriter::new(Vec::new())?;
    writer.write_all(binary)?;
    Ok(writer.finish()?)
}

/// The header of a sealed file: everything up to and including the MAC line.
fn header_of(sealed: &[u8]) -> Result<Vec<u8>> {
    let mut input = sealed;
    Header::read(&mut input)?;
    Ok(sealed[..sealed.len() - input.len()].to_vec())
}

/// Bundles a careful writer never makes, each refused for its own reason.
fn unsafe_bundles(valid_json: &[u8]) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let file = |path: &str, data: &[u8]| -> Result<tar::Header> {
        // The name field is written directly: `set_path` refuses `..`.
        let mut header = tar::Header::new_ustar();
        header.as_mut_bytes()[..path.len()].copy_from_slice(path.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        Ok(header)
    };
    let mut out = Vec::new();

    let mut tar = tar::Builder::new(Vec::new());
    tar.append(&file("tip.json", valid_json)?, valid_json)?;
    let mut link = tar::Header::new_ustar();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_path("attachments/01-x")?;
    link.set_link_name("/etc/passwd")?;
    link.set_size(0);
    link.set_cksum();
    tar.append(&link, &[][..])?;
    out.push(("symlink", tar.into_inner()?));

    let mut tar = tar::Builder::new(Vec::new());
    tar.append(&file("tip.json", valid_json)?, valid_json)?;
    tar.append(&file("tip.json", valid_json)?, valid_json)?;
    out.push(("duplicate", tar.into_inner()?));

    // A name longer than ustar holds: tar writes a GNU long-name entry.
    let mut tar = tar::Builder::new(Vec::new());
    let mut gnu = tar::Header::new_gnu();
    gnu.set_size(3);
    gnu.set_mode(0o644);
    gnu.set_entry_type(tar::EntryType::Regular);
    tar.append_data(
        &mut gnu,
        format!("attachments/{}", "n".repeat(150)),
        &b"abc"[..],
    )?;
    tar.append(&file("tip.json", valid_json)?, valid_json)?;
    out.push(("long_name", tar.into_inner()?));

    let mut tar = tar::Builder::new(Vec::new());
    tar.append(&file("tip.json", valid_json)?, valid_json)?;
    tar.append(&file("attachments/../../evil", b"x")?, &b"x"[..])?;
    out.push(("dotdot", tar.into_inner()?));

    let mut tar = tar::Builder::new(Vec::new());
    tar.append(&file("tip.json", valid_json)?, valid_json)?;
    tar.append(&file("/attachments/01-x", b"x")?, &b"x"[..])?;
    out.push(("absolute", tar.into_inner()?));

    let mut trailing = bundle(&shapes()[0])?;
    trailing.extend_from_slice(b"not padding");
    out.push(("trailing", trailing));
    Ok(out)
}

/// Says whether the fuzzing limits accept a bundle seed, and if not, why.
fn report(name: &str, bundle: &[u8]) {
    match read_bundle(bundle, &LIMITS, &mut ()) {
        Ok(_) => println!("{name}: accepted"),
        Err(err) => println!("{name}: refused ({err})"),
    }
}

fn write(dir: &Path, name: &str, data: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), data)?;
    Ok(())
}

fn main() -> Result<()> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    let open_dir = root.join("open_tip");
    let bundle_dir = root.join("read_bundle");
    let header_dir = root.join("header");
    let ours = identity().recipient();
    let other = Identity::generate()?.recipient();

    let mut count = 0;
    for shape in shapes() {
        let plain = bundle(&shape)?;
        write(&bundle_dir, shape.name, &plain)?;
        let one = sealed(&shape, std::slice::from_ref(&ours))?;
        let two = sealed(&shape, &[other.clone(), ours.clone()])?;
        write(&header_dir, &format!("{}_1", shape.name), &header_of(&one)?)?;
        write(&header_dir, &format!("{}_2", shape.name), &header_of(&two)?)?;
        write(&open_dir, &format!("{}_1", shape.name), &one)?;
        write(&open_dir, &format!("{}_2", shape.name), &two)?;
        write(
            &open_dir,
            &format!("{}_armored", shape.name),
            &armored(&one)?,
        )?;
        count += 6;
        // Every sealed seed opens (with the default limits), so the fuzzer
        // starts from files that reach the bundle checks.
        for (variant, file) in [("1", &one), ("2", &two)] {
            let opened = open_tip(
                file.as_slice(),
                std::slice::from_ref(identity()),
                &Limits::default(),
                &mut (),
            );
            if let Err(err) = opened {
                return Err(format!("seed {}_{variant} does not open: {err}", shape.name).into());
            }
        }
        report(&format!("read_bundle/{}", shape.name), &plain);
    }
    let valid_json = tip(&shapes()[0]);
    let valid_json = format!(
        "{{\"format\":\"{}\",\"version\":1,\"kind\":\"tip\",\"agency\":\"a\",\"form\":\"\",\
         \"language\":\"\",\"date\":\"2026-11-29\",\"answers\":[],\"text\":{:?},\
         \"attachments\":[],\"reply\":null}}",
        valid_json.format, valid_json.text
    );
    for (name, data) in unsafe_bundles(valid_json.as_bytes())? {
        write(&bundle_dir, name, &data)?;
        report(&format!("read_bundle/{name}"), &data);
        count += 1;
    }
    // Headers with stanza types sealtip does not open, long bodies, and
    // bodies that end exactly at a full 64-column line.
    let stanzas = vec![
        Stanza {
            tag: "scrypt".into(),
            args: vec!["c2FsdHNhbHRzYWx0c2FsdA".into(), "18".into()],
            body: vec![1; 32],
        },
        Stanza {
            tag: "grease-x".into(),
            args: vec!["a".into(), "!\"#$%&'()*+,-./".into()],
            body: vec![2; 48],
        },
        Stanza {
            tag: "X25519".into(),
            args: vec!["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()],
            body: vec![],
        },
    ];
    let header = Header::new(stanzas, &FileKey::from_bytes([7; 16]));
    write(&header_dir, "mixed", &header.to_bytes())?;
    count += 1;
    println!("wrote {count} seeds under {}", root.display());
    Ok(())
}
