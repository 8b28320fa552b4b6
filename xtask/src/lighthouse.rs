//! `cargo xtask lighthouse [--listen ADDR]`: the page's quality figures.
//! Builds the web client, starts the relay with the demo agency on ADDR,
//! runs Lighthouse (npm `lighthouse@12`, project-local, driving Debian's
//! Chromium) on `/a/demo` as a phone on a slow 4G connection (Lighthouse's
//! mobile default: simulated throttling, 150 ms round trips, 1.6 Mbit/s,
//! a CPU four times slower) and prints performance, accessibility, best
//! practices, LCP and TBT, and every audit that did not pass. The targets
//! (performance at least 98, accessibility and best practices 100, LCP at
//! most 1.5 s) are printed beside the figures; this is a measurement, not
//! a test, and fails only when Lighthouse cannot run.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::{cmd, run, tools};

/// The Chromium flags that work on these machines (TOOLING.md).
const CHROME_FLAGS: &str = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
     --disable-background-networking --disable-component-update --disable-sync";

/// Runs the measurement against a relay of its own on `listen`.
pub fn lighthouse(listen: SocketAddr) -> Result<()> {
    tools::ensure_web_build_tools()?;
    tools::ensure_lighthouse()?;
    run::build_web_client()?;
    run::ensure_demo_agency()?;
    let relay = Relay(
        run::relay()
            .args(["--listen", &listen.to_string()])
            .spawn()
            .context("cannot start the relay")?,
    );
    wait_for(listen)?;
    let url = format!("http://{listen}/a/demo");
    let report_path = cmd::target_dir().join("lighthouse.json");
    cmd::run(
        cmd::command("lighthouse")
            .arg(&url)
            .args([
                "--output=json",
                "--quiet",
                "--only-categories=performance,accessibility,best-practices",
            ])
            .arg(format!("--output-path={}", report_path.display()))
            .arg(format!("--chrome-flags={CHROME_FLAGS}"))
            .env("CHROME_PATH", "/usr/bin/chromium"),
    )?;
    drop(relay);
    print_figures(&report_path)
}

/// The relay, stopped when dropped.
struct Relay(std::process::Child);

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something listens on `address` (the relay may be built first).
fn wait_for(address: SocketAddr) -> Result<()> {
    let start = Instant::now();
    while TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err() {
        if start.elapsed() > Duration::from_secs(900) {
            bail!("the relay did not start listening on {address}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok(())
}

/// Prints the figures of the report at `path`.
fn print_figures(path: &Path) -> Result<()> {
    let report: Value = serde_json::from_slice(
        &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
    )
    .with_context(|| format!("{} is not Lighthouse's JSON", path.display()))?;
    let score = |category: &str| {
        report["categories"][category]["score"]
            .as_f64()
            .map_or("-".to_owned(), |s| format!("{:.0}", s * 100.0))
    };
    let audit = |id: &str| {
        report["audits"][id]["numericValue"]
            .as_f64()
            .unwrap_or(f64::NAN)
    };
    println!(
        "\nLighthouse {} on {} (mobile, simulated slow 4G), report in {}:",
        report["lighthouseVersion"].as_str().unwrap_or("?"),
        report["finalDisplayedUrl"].as_str().unwrap_or("?"),
        path.display()
    );
    println!(
        "  performance     {:>5}   (target: at least 98)",
        score("performance")
    );
    println!(
        "  accessibility   {:>5}   (target: 100)",
        score("accessibility")
    );
    println!(
        "  best practices  {:>5}   (target: 100)",
        score("best-practices")
    );
    println!(
        "  LCP {:.2} s (target: at most 1.5 s), TBT {:.0} ms, FCP {:.2} s, CLS {:.3}, speed index {:.2} s",
        audit("largest-contentful-paint") / 1000.0,
        audit("total-blocking-time"),
        audit("first-contentful-paint") / 1000.0,
        audit("cumulative-layout-shift"),
        audit("speed-index") / 1000.0,
    );
    // Every scored audit that did not pass, by category.
    for category in ["performance", "accessibility", "best-practices"] {
        let refs = report["categories"][category]["auditRefs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for reference in refs {
            let id = reference["id"].as_str().unwrap_or("");
            let found = &report["audits"][id];
            let failed = found["score"].as_f64().is_some_and(|s| s < 0.9)
                && found["scoreDisplayMode"] != "notApplicable"
                && found["scoreDisplayMode"] != "informative";
            if failed {
                println!(
                    "  {category}: {id}: {} ({})",
                    found["title"].as_str().unwrap_or(""),
                    found["displayValue"].as_str().unwrap_or("failed")
                );
            }
        }
    }
    Ok(())
}
