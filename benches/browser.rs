//! What sending costs in a real browser (headless Chromium), printed as figures:
//! keygen, sealing and opening a one-line tip (hybrid and X25519, 1 and 5 keys),
//! sealing throughput for a 200 MiB file read from a `Blob` as the page
//! reads it, where that time goes (reading the `Blob`, ChaCha20-Poly1305,
//! SHA-256, the rest), the codename derivation and the proof of work of a
//! large file. (Memory while sending a large file through
//! the page is measured end to end: `cargo bench -p sealtip-e2e`.) Run:
//!
//! ```text
//! CHROMEDRIVER=/usr/bin/chromedriver cargo bench -p sealtip-web \
//!     --target wasm32-unknown-unknown --profile web --bench browser
//! ```
//!
//! `--profile web` is the size-tuned profile the page ships with. The same
//! with `RUSTFLAGS="-C target-feature=+simd128"` (and a `CARGO_TARGET_DIR` of
//! its own, so that the two builds do not replace each other) measures a
//! build using WebAssembly's 128-bit SIMD.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failure report

use sealtip_envelope::{Codename, Identity, Recipient};
use sealtip_envelope::{Kind, Tip};
use sealtip_web::sealing::{Attachment, InTurn, seal};
use sealtip_web::send::Cancel;
use sealtip_web::state::{Contents, Failure, Picked};
use sealtip_web::upload::Outlet;
use wasm_bindgen_test::{Criterion, console_log, wasm_bindgen_bench, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const MIB: usize = 1 << 20;

/// A file of `mib` MiB on the "device": one 1 MiB buffer repeated.
fn file(mib: usize) -> web_sys::Blob {
    let piece: Vec<u8> = (0..MIB).map(|i| (i * 31 % 251) as u8).collect();
    let piece = js_sys::Uint8Array::from(piece.as_slice());
    let parts = js_sys::Array::new();
    for _ in 0..mib {
        parts.push(&piece);
    }
    web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap()
}

fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

/// Counts the sealed parts and drops them, as the uploader does once the
/// relay holds them.
#[derive(Default)]
struct Count(u64);

impl Outlet for Count {
    async fn part(&mut self, part: Vec<u8>) -> Result<(), Failure> {
        self.0 += part.len() as u64;
        Ok(())
    }

    async fn last(&mut self, rest: Vec<u8>) -> Result<(), Failure> {
        self.0 += rest.len() as u64;
        Ok(())
    }
}

/// Seals `contents` as the page does; returns the sealed size.
async fn seal_contents(recipient: &Recipient, contents: Contents) -> u64 {
    let picked = Picked::not_checked("video.mp4".into(), "video/mp4".into(), contents);
    let mut sealed = Count::default();
    seal(
        std::slice::from_ref(recipient),
        &[Attachment::of(&picked)],
        Tip::new(Kind::Tip, "demo", "2026-11-29"),
        None,
        &mut sealed,
        &mut InTurn::new(None),
        |_| {},
        &Cancel::default(),
    )
    .await
    .unwrap();
    sealed.0
}

#[wasm_bindgen_bench]
async fn sealing_a_200_mib_file(_: &mut Criterion) {
    let recipient = Identity::generate().unwrap().recipient();
    let blob = file(200);
    let rate = median_rate(200, async || {
        seal_contents(&recipient, Contents::File(blob.clone())).await;
    })
    .await;
    console_log!("sealing 200 MiB from a Blob into 4 MiB parts: {rate}");
}

/// Where the time of sealing a file goes, each part alone on the same
/// bytes: reading the `Blob` (in slices, and as the page does, streamed), the age payload
/// (ChaCha20-Poly1305 in 64 KiB chunks), the attachment's SHA-256, and
/// sealing the bytes from memory (all three but reading, plus the tar,
/// Padmé padding and copies into parts).
#[wasm_bindgen_bench]
async fn where_sealing_time_goes(_: &mut Criterion) {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    const SIZE: usize = 64;
    let recipient = Identity::generate().unwrap().recipient();
    let blob = file(SIZE);
    let slices = median_rate(SIZE, async || {
        for start in (0..SIZE / 4).map(|i| (i * 4 * MIB) as u64) {
            sealtip_web::browser::read_slice(&blob, start, start + 4 * MIB as u64)
                .await
                .unwrap();
        }
    })
    .await;
    console_log!("reading {SIZE} MiB from a Blob in 4 MiB slices: {slices}");
    let streamed = median_rate(SIZE, async || {
        let mut stream = sealtip_web::browser::FileStream::new(&blob).unwrap();
        let mut piece = Vec::new();
        for _ in 0..SIZE / 4 {
            let arrays = js_sys::Array::new();
            stream
                .read_into(&mut piece, 4 * MIB, &arrays)
                .await
                .unwrap();
        }
    })
    .await;
    console_log!(
        "reading {SIZE} MiB from a Blob as one stream, in 4 MiB pieces (the page's way): {streamed}"
    );
    let bytes = sealtip_web::browser::read_file(&blob).await.unwrap();
    let payload = median_rate(SIZE, async || {
        let mut payload =
            sealtip_envelope::seal(std::slice::from_ref(&recipient), std::io::sink()).unwrap();
        for slice in bytes.chunks(MIB) {
            payload.write_all(slice).unwrap();
        }
        payload.finish().unwrap();
    })
    .await;
    console_log!("age payload, ChaCha20-Poly1305 in 64 KiB chunks, of {SIZE} MiB: {payload}");
    let hashing = median_rate(SIZE, async || {
        let mut hasher = Sha256::new();
        for slice in bytes.chunks(MIB) {
            hasher.update(slice);
        }
        std::hint::black_box(hasher.finalize());
    })
    .await;
    console_log!("SHA-256 of {SIZE} MiB: {hashing}");
    let in_memory = std::rc::Rc::new(bytes);
    let sealing = median_rate(SIZE, async || {
        seal_contents(&recipient, Contents::Memory(in_memory.clone())).await;
    })
    .await;
    console_log!("sealing {SIZE} MiB from memory into 4 MiB parts: {sealing}");
}

/// `work` on `mib` MiB run 5 times: the median, least and most MiB/s.
async fn median_rate(mib: usize, mut work: impl AsyncFnMut()) -> String {
    let mut rates = Vec::new();
    for _ in 0..5 {
        let started = now();
        work().await;
        rates.push(mib as f64 / ((now() - started) / 1000.0));
    }
    rates.sort_by(f64::total_cmp);
    format!(
        "median {:.0} MiB/s (min {:.0}, max {:.0}, 5 runs)",
        rates[2], rates[0], rates[4]
    )
}

#[wasm_bindgen_bench]
fn codename_derivation(_: &mut Criterion) {
    let codename =
        Codename::parse("abacus abdomen abide ablaze abrasion zoology zoom able").unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = now();
        codename.derive().unwrap();
        times.push(now() - started);
    }
    times.sort_by(f64::total_cmp);
    console_log!(
        "codename derivation (Argon2id 64 MiB, t=3): median {:.0} ms (min {:.0}, max {:.0}, 5 runs)",
        times[2],
        times[0],
        times[4]
    );
}

/// The proof of work a large file's send asks of a calm relay: 1,024
/// Argon2id attempts of 256 KiB (`pow.difficulty` 8, four times that for
/// the size class of any size). Each attempt is made: the token asks so
/// much work that 1,024 attempts almost never solve it.
#[wasm_bindgen_bench]
fn proof_of_work_of_a_large_file(_: &mut Criterion) {
    use sealtip_api::pow;
    let token = pow::issue(b"bench", pow::MAX_DIFFICULTY, u64::MAX / 2, [7; 16]);
    let median = median_ms(3, || {
        std::hint::black_box(pow::solve_range(&token, 0, 1024).unwrap());
    });
    console_log!(
        "proof of work of a large file, 1,024 Argon2id attempts of 256 KiB: median {median:.0} ms"
    );
}

/// Median milliseconds of `runs` calls of `work`.
fn median_ms(runs: usize, mut work: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = now();
            work();
            now() - started
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

#[wasm_bindgen_bench]
fn keys_and_a_one_line_tip(_: &mut Criterion) {
    use sealtip_envelope::Limits;
    use sealtip_envelope::{KeyKind, open_tip, seal_tip};
    let one_line = |recipients: &[Recipient]| {
        let mut tip = Tip::new(Kind::Tip, "demo", "2026-12-06");
        tip.text = "A white van at pier 4 every night at 2 a.m.".into();
        seal_tip(recipients, Vec::new())
            .unwrap()
            .finish(tip)
            .unwrap()
            .0
    };
    for (kind, name) in [(KeyKind::Hybrid, "hybrid"), (KeyKind::X25519, "x25519")] {
        let keygen = median_ms(21, || {
            Identity::generate_kind(kind).unwrap().recipient();
        });
        console_log!("{name}: keygen median {keygen:.2} ms");
        for count in [1, 5] {
            let keys: Vec<Identity> = (0..count)
                .map(|_| Identity::generate_kind(kind).unwrap())
                .collect();
            let recipients: Vec<Recipient> = keys.iter().map(Identity::recipient).collect();
            let seal = median_ms(21, || {
                one_line(&recipients);
            });
            let sealed = one_line(&recipients);
            let last = std::slice::from_ref(keys.last().unwrap());
            let open = median_ms(21, || {
                open_tip(&sealed[..], last, &Limits::default(), &mut ()).unwrap();
            });
            console_log!(
                "{name}, {count} recipient(s): seal a one-line tip median {seal:.2} ms, open {open:.2} ms"
            );
        }
    }
}
