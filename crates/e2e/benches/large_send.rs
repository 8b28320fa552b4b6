//! Sending a 512 MiB video through the page on a phone-sized headless
//! Chromium against the real relay, as a tipster would: how long each stage
//! takes and the most memory the page needs. Prints figures; run with
//! `cargo bench -p sealtip-e2e --bench large_send` after `cargo xtask test`
//! (or `trunk build` and `cargo build -p sealtip-relay -p sealtip-cli`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failure report

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sealtip_harness::{Browser, Relay};

const MIB: usize = 1 << 20;
/// The file's size: 512 MiB, or `SEALTIP_BENCH_MIB`.
fn size_mib() -> usize {
    std::env::var("SEALTIP_BENCH_MIB")
        .ok()
        .and_then(|mib| mib.parse().ok())
        .unwrap_or(512)
}

/// Resident memory of every process started with `needle` on its command
/// line (the browser's processes carry their profile folder), in MiB.
fn resident_mib(needle: &str) -> f64 {
    let mut total_kib = 0u64;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmdline).contains(needle) {
            continue;
        }
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmRSS:")) {
            total_kib += line
                .split_whitespace()
                .nth(1)
                .and_then(|kib| kib.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total_kib as f64 / 1024.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let relay = Relay::start_with(8, |config| {
        config.replace(
            "max_upload_bytes = 268435456",
            "max_upload_bytes = 1073741824",
        )
    })?;
    let folder = tempfile::tempdir()?;
    let video = folder.path().join("video.mp4");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&video)?);
        let piece: Vec<u8> = (0..MIB).map(|i| (i * 31 % 251) as u8).collect();
        for _ in 0..size_mib() {
            file.write_all(&piece)?;
        }
        file.flush()?;
    }

    let browser = Browser::phone("bench-large", "en").await?;
    let profile = browser.profile_dir().display().to_string();
    browser.client.goto(&format!("{}/", relay.url)).await?;
    browser.type_into("#q-what", "A video of the yard.").await?;
    browser.type_into("#q-where", "The yard").await?;
    browser.attach_file(&video).await?;
    let (heap_before, rss_before) = (heap(&browser).await?, resident_mib(&profile));

    let started = Instant::now();
    browser.find("button.send").await?.click().await?;
    let (mut peak_heap, mut peak_rss) = (heap_before, rss_before);
    let mut stages: Vec<(String, Duration)> = Vec::new();
    loop {
        let state = browser
            .eval(
                "const stage = document.querySelector('.progress .stage');
                 return [performance.memory.usedJSHeapSize,
                         stage ? stage.textContent : '',
                         !!document.querySelector('.codename .words'),
                         (document.querySelector('.alerts .error') || {}).textContent || ''];",
            )
            .await?;
        let heap_now = state[0].as_f64().unwrap_or(0.0) / MIB as f64;
        peak_heap = peak_heap.max(heap_now);
        peak_rss = peak_rss.max(resident_mib(&profile));
        let stage = state[1].as_str().unwrap_or("").to_string();
        if !stage.is_empty() && stages.last().is_none_or(|(last, _)| *last != stage) {
            stages.push((stage, started.elapsed()));
        }
        if state[2].as_bool() == Some(true) {
            break;
        }
        let error = state[3].as_str().unwrap_or("");
        anyhow::ensure!(
            error.is_empty(),
            "sending failed after {stages:?}, peak heap {peak_heap:.1} MiB, \
             peak resident {peak_rss:.0} MiB: {error}"
        );
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "sending took over 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let total = started.elapsed();
    println!(
        "sending a {} MiB file through the page (390×844, headless Chromium, real relay):",
        size_mib()
    );
    for (stage, at) in &stages {
        println!("  {:>7.1} s  {stage}", at.as_secs_f64());
    }
    println!("  {:>7.1} s  codename shown", total.as_secs_f64());
    println!(
        "  {:.0} MiB/s overall; JS heap {heap_before:.1} MiB before, peak {peak_heap:.1} MiB; \
         browser processes' resident memory {rss_before:.0} MiB before, peak {peak_rss:.0} MiB",
        size_mib() as f64 / total.as_secs_f64()
    );
    browser.close().await
}

/// `performance.memory.usedJSHeapSize` in MiB.
async fn heap(browser: &Browser) -> Result<f64> {
    let used = browser
        .eval("return performance.memory.usedJSHeapSize;")
        .await?
        .as_f64()
        .context("a number")?;
    Ok(used / MIB as f64)
}
