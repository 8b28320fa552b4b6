//! Sending a 200 MiB video through the page on a phone-sized headless
//! Chromium against the real relay, as a tipster would: how long each stage
//! takes, MiB/s from the click on Send to the codename shown, the page's
//! main-thread long tasks meanwhile (a `longtask` PerformanceObserver
//! registered before Send; the target is none over 50 ms, the sealing
//! worker doing the work) and the most memory the page needs. Then the same
//! send with the relay's answers to the parts made up in the sealing worker
//! (nothing leaves it): MiB/s sealing from the `Blob` into upload parts.
//! Then the file read alone, streamed as the sealing worker reads it: MiB/s
//! and the browser's CPU time.
//! Prints figures; run with `cargo bench -p sealtip-e2e --bench large_send`
//! (`SEALTIP_BENCH_MIB` for another size) after `cargo xtask test` (or
//! `cargo xtask web` and `cargo build -p sealtip-relay -p sealtip-cli`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failure report

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use sealtip_harness::{Browser, Relay};

const MIB: usize = 1 << 20;
/// The file's size: 200 MiB, or `SEALTIP_BENCH_MIB`.
fn size_mib() -> usize {
    std::env::var("SEALTIP_BENCH_MIB")
        .ok()
        .and_then(|mib| mib.parse().ok())
        .unwrap_or(200)
}

/// Records the page's main-thread long tasks from now on in
/// `window.longTasks` (`[duration ms, …]`).
const WATCH_LONG_TASKS: &str = "
    window.longTasks = [];
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
    }).observe({ type: 'longtask' });
    return true;";

/// Records, on the page's own clock, when Send is clicked
/// (`window.clickedAt`) and each stage the progress bar shows from then on
/// (`window.stageTimes`: `[[ms after the click, text], …]`), and when the
/// codename is shown (`window.codenameAfter`, ms after the click): the
/// bench's polling would round them to its interval.
const WATCH_STAGES: &str = "
    window.stageTimes = [];
    document.addEventListener('click', (event) => {
        if (event.target.closest('button.send')) window.clickedAt = performance.now();
    }, true);
    let last = '';
    new MutationObserver(() => {
        const stage = document.querySelector('.progress .stage');
        const text = stage ? stage.textContent : '';
        if (text && text !== last && window.clickedAt !== undefined) {
            last = text;
            window.stageTimes.push([performance.now() - window.clickedAt, text]);
        }
        if (window.codenameAfter === undefined && window.clickedAt !== undefined
            && document.querySelector('.codename .words')) {
            window.codenameAfter = performance.now() - window.clickedAt;
        }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
    return true;";

/// Makes up the relay's answers to the parts in the sealing worker, so
/// that nothing leaves it and sealing alone sets the pace: each `PATCH` is
/// answered at once as stored. The worker tells the page, on a
/// `BroadcastChannel`, when the first and the latest part left sealing and
/// how many bytes they held ([`HEAR_SEALED`]).
const MADE_UP_UPLOADS: &str = "
    const told = new BroadcastChannel('sealed');
    const open = XMLHttpRequest.prototype.open;
    const header = XMLHttpRequest.prototype.setRequestHeader;
    const send = XMLHttpRequest.prototype.send;
    let first = null, firstBytes = 0, bytes = 0;
    XMLHttpRequest.prototype.open = function (method, ...rest) {
        this.method = method;
        return open.call(this, method, ...rest);
    };
    XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
        if (name.toLowerCase() === 'upload-offset') this.offset = Number(value);
        return header.call(this, name, value);
    };
    XMLHttpRequest.prototype.send = function (body) {
        if (this.method !== 'PATCH') return send.call(this, body);
        const now = performance.now();
        if (first === null) { first = now; firstBytes = body.byteLength; }
        bytes += body.byteLength;
        told.postMessage({ first, firstBytes, last: now, bytes });
        const received = JSON.stringify({ received: this.offset + body.byteLength });
        Object.defineProperty(this, 'status', { value: 200 });
        Object.defineProperty(this, 'responseText', { value: received });
        Promise.resolve().then(() => this.onload(new ProgressEvent('load')));
    };";

/// Keeps what the worker says of the parts it sealed in `window.sealed`.
const HEAR_SEALED: &str = "
    window.sealed = null;
    new BroadcastChannel('sealed').onmessage = (event) => { window.sealed = event.data; };
    return true;";

/// The `/proc` folder of every process started with `needle` on its
/// command line (the browser's processes carry their profile folder, the
/// relay its address).
fn processes(needle: &str) -> impl Iterator<Item = std::path::PathBuf> {
    let needle = needle.to_string();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(move |process| {
            let cmdline = std::fs::read(process.join("cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains(&needle)
        })
}

/// Resident memory of every process started with `needle` on its command
/// line, in MiB.
fn resident_mib(needle: &str) -> f64 {
    let mut total_kib = 0u64;
    for process in processes(needle) {
        let status = std::fs::read_to_string(process.join("status")).unwrap_or_default();
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

/// The cores this machine has.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// CPU time (user and system) spent so far by every process started with
/// `needle` on its command line, in seconds.
fn cpu_seconds(needle: &str) -> f64 {
    /// Linux counts it in clock ticks of 1/100 s.
    const TICKS: f64 = 100.0;
    let mut ticks = 0u64;
    for process in processes(needle) {
        let stat = std::fs::read_to_string(process.join("stat")).unwrap_or_default();
        // After the command's name in parentheses: utime and stime are
        // the 12th and 13th fields.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        ticks += [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i).and_then(|t| t.parse::<u64>().ok()))
            .sum::<u64>();
    }
    ticks as f64 / TICKS
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
    fill(&browser, &relay.url, &video).await?;
    let (heap_before, rss_before) = (heap(&browser).await?, resident_mib(&profile));
    browser.eval(WATCH_LONG_TASKS).await?;
    browser.eval(WATCH_STAGES).await?;
    let relay_needle = relay.url.trim_start_matches("http://").to_string();
    let cpu_before = (cpu_seconds(&profile), cpu_seconds(&relay_needle));

    let started = Instant::now();
    browser.find("button.send").await?.click().await?;
    let (mut peak_heap, mut peak_rss) = (heap_before, rss_before);
    loop {
        let state = browser
            .eval(
                "return [performance.memory.usedJSHeapSize,
                         !!document.querySelector('.codename .words'),
                         (document.querySelector('.alerts .error') || {}).textContent || ''];",
            )
            .await?;
        let heap_now = state[0].as_f64().unwrap_or(0.0) / MIB as f64;
        peak_heap = peak_heap.max(heap_now);
        peak_rss = peak_rss.max(resident_mib(&profile));
        if state[1].as_bool() == Some(true) {
            break;
        }
        let error = state[2].as_str().unwrap_or("");
        anyhow::ensure!(
            error.is_empty(),
            "sending failed, peak heap {peak_heap:.1} MiB, \
             peak resident {peak_rss:.0} MiB: {error}"
        );
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "sending took over 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (browser_cpu, relay_cpu) = (
        cpu_seconds(&profile) - cpu_before.0,
        cpu_seconds(&relay_needle) - cpu_before.1,
    );
    let total = match browser.eval("return window.codenameAfter;").await?.as_f64() {
        Some(ms) => Duration::from_secs_f64(ms / 1000.0),
        None => started.elapsed(),
    };
    println!(
        "sending a {} MiB file through the page (390×844, headless Chromium, real relay):",
        size_mib()
    );
    let stages = browser.eval("return window.stageTimes;").await?;
    for stage in stages.as_array().context("a list")? {
        let at = stage[0].as_f64().unwrap_or(0.0) / 1000.0;
        println!("  {at:>7.2} s  {}", stage[1].as_str().unwrap_or(""));
    }
    println!("  {:>7.2} s  codename shown", total.as_secs_f64());
    println!(
        "  {:.1} MiB/s the whole send (click on Send to codename shown); the page's JS heap \
         {heap_before:.1} MiB before, peak {peak_heap:.1} MiB (the worker's not counted); \
         browser processes' resident memory {rss_before:.0} MiB before, peak {peak_rss:.0} MiB",
        size_mib() as f64 / total.as_secs_f64()
    );
    println!(
        "  CPU time meanwhile: the browser {browser_cpu:.2} s (its workers, the page, the network), \
         the relay {relay_cpu:.2} s: {:.2} s in all, {:.0} % of {} cores for the send",
        browser_cpu + relay_cpu,
        100.0 * (browser_cpu + relay_cpu) / started.elapsed().as_secs_f64() / cores() as f64,
        cores()
    );
    let tasks: Vec<f64> = browser
        .eval("return window.longTasks;")
        .await?
        .as_array()
        .context("a list")?
        .iter()
        .filter_map(|task| task.as_f64())
        .collect();
    println!(
        "  main-thread long tasks during the send: {}, {:.0} ms in all, the longest {:.0} ms \
         (target: none over 50 ms)",
        tasks.len(),
        tasks.iter().sum::<f64>(),
        tasks.iter().copied().fold(0.0, f64::max)
    );

    // Sealing alone: the same send, the relay's answers to parts made up.
    fill(&browser, &relay.url, &video).await?;
    browser.eval(HEAR_SEALED).await?;
    browser.before_each_worker(MADE_UP_UPLOADS).await?;
    browser.find("button.send").await?.click().await?;
    let started = Instant::now();
    loop {
        let state = browser
            .eval(
                "return [!!document.querySelector('.alerts .error, .codename .words'),
                         window.sealed];",
            )
            .await?;
        if state[0].as_bool() == Some(true) {
            let sealed = &state[1];
            let number = |name: &str| sealed[name].as_f64().unwrap_or(0.0);
            let (bytes, first_bytes) = (number("bytes"), number("firstBytes"));
            let seconds = (number("last") - number("first")) / 1000.0;
            println!(
                "  sealing from the Blob into upload parts (the relay's answers made up): \
                 {:.0} MiB in {seconds:.2} s after the first part, {:.1} MiB/s",
                (bytes - first_bytes) / MIB as f64,
                (bytes - first_bytes) / MIB as f64 / seconds
            );
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "sealing took over 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Reading alone: the file streamed from the disk as the sealing worker
    // reads it, nothing else done with it.
    browser
        .eval(
            "const input = document.createElement('input');
             input.type = 'file';
             input.id = 'bench-file';
             document.body.append(input);
             return true;",
        )
        .await?;
    browser
        .type_into("#bench-file", &video.display().to_string())
        .await?;
    let cpu_before = cpu_seconds(&profile);
    let read = browser.eval_async(READ_STREAMED).await?;
    let cpu = cpu_seconds(&profile) - cpu_before;
    let (bytes, ms) = (
        read[0].as_f64().unwrap_or(0.0),
        read[1].as_f64().unwrap_or(0.0),
    );
    anyhow::ensure!(bytes > 0.0, "the file could not be read: {read}");
    println!(
        "  reading the file from the disk alone, streamed: {:.0} MiB/s, the browser's CPU time {cpu:.2} s",
        bytes / MIB as f64 / (ms / 1000.0)
    );
    browser.close().await
}

/// Reads the file picked in `#bench-file` as one stream, as the sealing
/// worker does, and answers `[bytes, milliseconds]`.
const READ_STREAMED: &str = "
    const done = arguments[arguments.length - 1];
    const file = document.getElementById('bench-file').files[0];
    (async () => {
        const started = performance.now();
        const reader = file.stream().getReader();
        let bytes = 0;
        for (;;) {
            const read = await reader.read();
            if (read.done) break;
            bytes += read.value.byteLength;
        }
        return [bytes, performance.now() - started];
    })().then(done, (error) => done([0, String(error)]));";

/// Opens the form afresh, answers it and picks `video`.
async fn fill(browser: &Browser, relay: &str, video: &std::path::Path) -> Result<()> {
    browser.client.goto(&format!("{relay}/")).await?;
    browser.type_into("#q-what", "A video of the yard.").await?;
    browser.type_into("#q-where", "The yard").await?;
    browser.attach_file(video).await
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
