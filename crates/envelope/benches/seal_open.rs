//! Speed of sealing and opening, against the `age` crate.
//!
//! - `seal_64MiB`, `open_64MiB`: an age file of 64 MiB to one X25519
//!   recipient, sealed to `io::sink()` and opened from memory, by sealtip's
//!   streaming `seal`/`open` and by the `age` crate (`Encryptor`/`Decryptor`).
//!   Both open the same file (age files are age files), so only the code
//!   differs. Target: sealtip at least as fast as the `age` crate.
//! - `tip_64MiB`: `seal_tip` of a whole tip with one 64 MiB attachment (tar,
//!   SHA-256, Padmé padding, sealing) and `open_tip` of it (decryption, tar
//!   checks, SHA-256 check).
//! - `codename`: `Codename::derive` (Argon2id, 64 MiB, 3 passes).
//! - `keys_and_small_tips`: keygen, and `seal_tip`/`open_tip` of a one-line
//!   tip to 1 and 5 recipients, hybrid post-quantum next to X25519 (what a
//!   tip without attachments costs: the key encapsulations dominate).
//!
//! Run: `cargo bench -p sealtip-envelope --bench seal_open`. At the end the
//! bench prints MiB/s for each side and the ratio sealtip / age crate.

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failure report

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group};
use sealtip_envelope::{Codename, Identity, KeyKind, Recipient, open, open_tip, seal, seal_tip};
use sealtip_envelope::{Kind, Limits, MetadataStatus, NewAttachment, Tip};

const SIZE: usize = 64 << 20;
const MIB: f64 = (1 << 20) as f64;

/// 64 MiB that no compressor or branch predictor finds easy.
fn plaintext() -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut data = Vec::with_capacity(SIZE);
    while data.len() < SIZE {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(SIZE);
    data
}

/// Reads `reader` to its end through a 64 KiB buffer, as a caller
/// streaming a tip to disk would, and returns how many bytes it gave.
fn drain(mut reader: impl Read) -> usize {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        match reader.read(&mut buf).unwrap() {
            0 => return total,
            n => total += n,
        }
    }
}

fn configure(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
}

fn seal_and_open(c: &mut Criterion) {
    let data = plaintext();
    // X25519: the age crate knows no hybrid keys. The payload, which is
    // what 64 MiB measures, is the same for both kinds.
    let ours = Identity::generate_kind(KeyKind::X25519).unwrap();
    let ours_recipient = ours.recipient();
    // The same key, as the age crate reads it.
    let theirs: age::x25519::Identity = ours.to_secret_string().parse().unwrap();
    let theirs_recipient = theirs.to_public();
    assert_eq!(theirs_recipient.to_string(), ours_recipient.to_string());

    let mut group = c.benchmark_group("seal_64MiB");
    configure(&mut group);
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.bench_function("sealtip", |b| {
        b.iter(|| {
            let mut writer = seal(std::slice::from_ref(&ours_recipient), io::sink()).unwrap();
            writer.write_all(&data).unwrap();
            writer.finish().unwrap();
        })
    });
    group.bench_function("age", |b| {
        b.iter(|| {
            let encryptor = age::Encryptor::with_recipients(std::iter::once(
                &theirs_recipient as &dyn age::Recipient,
            ))
            .unwrap();
            let mut writer = encryptor.wrap_output(io::sink()).unwrap();
            writer.write_all(&data).unwrap();
            writer.finish().unwrap();
        })
    });
    group.finish();

    let mut sealed = Vec::with_capacity(SIZE + SIZE / 1000 + 1024);
    let mut writer = seal(std::slice::from_ref(&ours_recipient), &mut sealed).unwrap();
    writer.write_all(&data).unwrap();
    writer.finish().unwrap();
    drop(data);

    let mut group = c.benchmark_group("open_64MiB");
    configure(&mut group);
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.bench_function("sealtip", |b| {
        b.iter(|| {
            let reader = open(sealed.as_slice(), std::slice::from_ref(&ours)).unwrap();
            assert_eq!(drain(reader), SIZE);
        })
    });
    group.bench_function("age", |b| {
        b.iter(|| {
            let decryptor = age::Decryptor::new_buffered(sealed.as_slice()).unwrap();
            let reader = decryptor
                .decrypt(std::iter::once(&theirs as &dyn age::Identity))
                .unwrap();
            assert_eq!(drain(reader), SIZE);
        })
    });
    group.finish();
}

fn whole_tip(c: &mut Criterion) {
    let data = plaintext();
    let identity = Identity::generate().unwrap();
    let recipient = identity.recipient();
    let attachment = || NewAttachment {
        name: "video.mp4",
        media_type: "video/mp4",
        size: SIZE as u64,
        metadata: MetadataStatus::NotChecked,
        removed: Vec::new(),
        keep_name: false,
    };
    let tip = || {
        let mut tip = Tip::new(Kind::Tip, "demo-agency", "2026-11-29");
        tip.text = "A van unloads barrels into the river every night at 2.".into();
        tip
    };
    let seal_one = |output: &mut Vec<u8>| {
        let mut sealing = seal_tip(std::slice::from_ref(&recipient), output).unwrap();
        sealing
            .add_attachment(attachment(), &mut data.as_slice())
            .unwrap();
        sealing.finish(tip()).unwrap();
    };

    let mut group = c.benchmark_group("tip_64MiB");
    configure(&mut group);
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.bench_function("seal_tip", |b| {
        b.iter(|| {
            let mut sealing = seal_tip(std::slice::from_ref(&recipient), io::sink()).unwrap();
            sealing
                .add_attachment(attachment(), &mut data.as_slice())
                .unwrap();
            sealing.finish(tip()).unwrap();
        })
    });
    let mut sealed = Vec::with_capacity(SIZE + SIZE / 8);
    seal_one(&mut sealed);
    group.bench_function("open_tip", |b| {
        b.iter(|| {
            let opened = open_tip(
                sealed.as_slice(),
                std::slice::from_ref(&identity),
                &Limits::default(),
                &mut (),
            )
            .unwrap();
            assert_eq!(opened.tip.attachments[0].size, SIZE as u64);
        })
    });
    group.finish();
}

fn codename(c: &mut Criterion) {
    let codename =
        Codename::parse("abacus abdomen abide ablaze abrasion zoology zoom able").unwrap();
    let mut group = c.benchmark_group("codename");
    configure(&mut group);
    group.bench_with_input(
        BenchmarkId::new("derive", "argon2id_64MiB_t3_p1"),
        &codename,
        |b, codename| b.iter(|| codename.derive().unwrap()),
    );
    group.finish();
}

fn one_line_tip(recipients: &[Recipient]) -> Vec<u8> {
    let mut tip = Tip::new(Kind::Tip, "demo", "2026-12-06");
    tip.text = "A white van at pier 4 every night at 2 a.m.".into();
    seal_tip(recipients, Vec::new())
        .unwrap()
        .finish(tip)
        .unwrap()
        .0
}

const KINDS: [(KeyKind, &str); 2] = [(KeyKind::Hybrid, "hybrid"), (KeyKind::X25519, "x25519")];

fn keys_and_small_tips(c: &mut Criterion) {
    let mut group = c.benchmark_group("keys_and_small_tips");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for (kind, name) in KINDS {
        group.bench_function(BenchmarkId::new("keygen", name), |b| {
            b.iter(|| Identity::generate_kind(kind).unwrap().recipient())
        });
        for count in [1, 5] {
            let keys: Vec<Identity> = (0..count)
                .map(|_| Identity::generate_kind(kind).unwrap())
                .collect();
            let recipients: Vec<Recipient> = keys.iter().map(Identity::recipient).collect();
            group.bench_function(BenchmarkId::new(format!("seal_{name}"), count), |b| {
                b.iter(|| one_line_tip(&recipients))
            });
            let sealed = one_line_tip(&recipients);
            // The last officer's key: an opener tries the stanzas in order.
            let last = std::slice::from_ref(keys.last().unwrap());
            group.bench_function(BenchmarkId::new(format!("open_{name}"), count), |b| {
                b.iter(|| open_tip(&sealed[..], last, &Limits::default(), &mut ()).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(
    benches,
    seal_and_open,
    whole_tip,
    codename,
    keys_and_small_tips
);

fn main() {
    let started = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_comparison(started);
}

/// Prints MiB/s and the ratio sealtip / age crate from this run's estimates.
fn print_comparison(started: SystemTime) {
    let Some(dir) = criterion_dir() else {
        return;
    };
    let mib_per_s = |group: &str, bench: &str| -> Option<f64> {
        let path = dir.join(group).join(bench).join("new/estimates.json");
        // Skip estimates left over from an earlier run (e.g. a filtered one).
        if std::fs::metadata(&path).ok()?.modified().ok()? < started {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        let nanos = json["median"]["point_estimate"].as_f64()?;
        Some(SIZE as f64 / MIB / (nanos / 1e9))
    };
    println!("\nsealtip vs the age crate, 64 MiB, one X25519 recipient (median):");
    for group in ["seal_64MiB", "open_64MiB"] {
        if let (Some(ours), Some(theirs)) = (mib_per_s(group, "sealtip"), mib_per_s(group, "age")) {
            println!(
                "  {group:<11} sealtip {ours:>7.0} MiB/s   age {theirs:>7.0} MiB/s   ratio sealtip/age {:.2}",
                ours / theirs
            );
        }
    }
    for bench in ["seal_tip", "open_tip"] {
        if let Some(speed) = mib_per_s("tip_64MiB", bench) {
            println!("  {bench:<11} {speed:>7.0} MiB/s (64 MiB attachment)");
        }
    }
    print_small_tips(&dir, started);
}

/// Prints the small-tip figures (median, microseconds) as one table.
fn print_small_tips(dir: &std::path::Path, started: SystemTime) {
    let micros = |bench: &str, param: &str| -> Option<f64> {
        let path = dir
            .join("keys_and_small_tips")
            .join(bench)
            .join(param)
            .join("new/estimates.json");
        if std::fs::metadata(&path).ok()?.modified().ok()? < started {
            return None;
        }
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
        Some(json["median"]["point_estimate"].as_f64()? / 1e3)
    };
    println!(
        "
keys and a one-line tip (median, µs):        hybrid    x25519"
    );
    let rows = [
        ("keygen", "keygen", ""),
        ("seal, 1 recipient", "seal", "1"),
        ("seal, 5 recipients", "seal", "5"),
        ("open, 1 recipient", "open", "1"),
        ("open, 5 recipients (last key)", "open", "5"),
    ];
    for (label, bench, count) in rows {
        let figure = |name: &str| {
            let (bench, param) = if bench == "keygen" {
                ("keygen".to_string(), name.to_string())
            } else {
                (format!("{bench}_{name}"), count.to_string())
            };
            micros(&bench, &param).map_or("-".into(), |v| format!("{v:.0}"))
        };
        println!(
            "  {label:<40} {:>8}  {:>8}",
            figure("hybrid"),
            figure("x25519")
        );
    }
}

/// Where criterion writes its results, found as criterion finds it.
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let output = std::process::Command::new(std::env::var_os("CARGO")?)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .ok()?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
    Some(PathBuf::from(metadata["target_directory"].as_str()?).join("criterion"))
}
