//! `cargo xtask test`: everything CI checks, in order, stopping at the first
//! failure. `.ci/run` calls exactly this.

use crate::{cmd, postgres, reproducible, run, tools};
use anyhow::{Context, Result, bail};
use std::time::{Duration, Instant};

/// One check: its name as reported, and what it runs.
type Step = (&'static str, fn() -> Result<()>);

/// The checks, cheapest first.
const STEPS: &[Step] = &[
    ("format", format),
    ("clippy", clippy),
    ("native tests", native_tests),
    ("relay links no opening code", relay_without_open),
    ("envelope for wasm32", envelope_for_wasm),
    ("relay with one storage backend", relay_with_one_backend),
    ("web client build", web_client_build),
    ("web build reproducible", reproducible::against_this_build),
    ("browser tests: envelope", || {
        browser_tests("sealtip-envelope")
    }),
    ("browser tests: web client", || browser_tests("sealtip-web")),
    ("end to end in two browsers", end_to_end),
];

/// How long one browser test may take, in seconds, unless the caller set
/// `WASM_BINDGEN_TEST_TIMEOUT` (the runner's default, 20 s, is too short for a
/// cold headless Chromium on a busy machine).
const BROWSER_TEST_TIMEOUT: &str = "300";

/// The WebDriver Debian's `chromium-driver` installs.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Runs every step; prints each one's name and duration.
pub fn test() -> Result<()> {
    let started = Instant::now();
    let mut done = Vec::new();
    for &(name, check) in STEPS {
        println!("\n==> {name}");
        let step_started = Instant::now();
        let result = check();
        let took = step_started.elapsed();
        let ok = result.is_ok();
        println!(
            "<== {name}: {} in {}",
            if ok { "ok" } else { "FAILED" },
            duration(took)
        );
        done.push((name, took, ok));
        if let Err(error) = result {
            print_summary(&done);
            return Err(error.context(format!("step `{name}` failed after {}", duration(took))));
        }
    }
    print_summary(&done);
    println!("\nall checks passed in {}", duration(started.elapsed()));
    Ok(())
}

fn format() -> Result<()> {
    cmd::run(cmd::cargo().args(["fmt", "--all", "--", "--check"]))
}

fn clippy() -> Result<()> {
    cmd::run(cmd::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

/// The native tests, with a throwaway PostgreSQL server for the relay's
/// PostgreSQL tests (which fail rather than skip without it).
fn native_tests() -> Result<()> {
    tools::ensure_native_test_tools()?;
    let cluster = postgres::Cluster::start()?;
    // The end-to-end tests need the built page and binaries: their own step.
    cmd::run(
        cmd::cargo()
            .args(["test", "--workspace", "--exclude", "sealtip-e2e"])
            .env(postgres::URL_ENV, &cluster.url)
            .env(postgres::REQUIRE_ENV, "1"),
    )
}

/// The invariant "the relay links no code that can open a tip", checked on
/// the relay built on its own: envelope's `open` (and `seal`) features stay off.
fn relay_without_open() -> Result<()> {
    let mut command = cmd::cargo();
    command.args([
        "tree",
        "-p",
        "sealtip-relay",
        "-e",
        "features",
        "-i",
        "sealtip-envelope",
        "--edges",
        "normal",
    ]);
    let tree = cmd::run_and_capture(&mut command)?;
    for feature in ["open", "seal"] {
        if tree.contains(&format!("sealtip-envelope feature \"{feature}\"")) {
            bail!("sealtip-relay builds sealtip-envelope with its `{feature}` feature:\n{tree}");
        }
    }
    Ok(())
}

fn envelope_for_wasm() -> Result<()> {
    tools::ensure_wasm_target()?;
    cmd::run(cmd::cargo().args([
        "build",
        "-p",
        "sealtip-envelope",
        "--target",
        tools::WASM_TARGET,
    ]))
}

/// The relay an operator builds with only SQLite, or only PostgreSQL
/// (`--no-default-features --features sqlite`), checked and linted.
fn relay_with_one_backend() -> Result<()> {
    for backend in ["sqlite", "postgres"] {
        cmd::run(cmd::cargo().args([
            "clippy",
            "-p",
            "sealtip-relay",
            "--no-default-features",
            "--features",
            backend,
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    Ok(())
}

fn web_client_build() -> Result<()> {
    tools::ensure_web_build_tools()?;
    run::build_web_client()
}

/// `cargo test -p package` for wasm32, run by wasm-bindgen-test-runner in
/// headless Chromium. Fails when no test ran at all: a browser test that is
/// compiled out or not registered is skipped without a word otherwise.
fn browser_tests(package: &str) -> Result<()> {
    tools::ensure_browser()?;
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen()?;
    let mut command = cmd::cargo();
    command.args(["test", "-p", package, "--target", tools::WASM_TARGET]);
    if std::env::var_os("CHROMEDRIVER").is_none() {
        command.env("CHROMEDRIVER", CHROMEDRIVER);
    }
    if std::env::var_os("WASM_BINDGEN_TEST_TIMEOUT").is_none() {
        command.env("WASM_BINDGEN_TEST_TIMEOUT", BROWSER_TEST_TIMEOUT);
    }
    let output = cmd::run_and_capture(&mut command)?;
    let passed = passed_tests(&output).context("cannot read the test runner's summary")?;
    if passed == 0 {
        bail!(
            "{package}: no browser test ran (\"running 0 tests\"): are the tests marked \
             #[wasm_bindgen_test], with wasm_bindgen_test_configure!(run_in_browser)?"
        );
    }
    println!("{package}: {passed} browser tests passed");
    Ok(())
}

/// The built page in headless Chromium, and the tests a tipster meets in
/// headless Firefox ESR too, against the real relay and `sealtip` binaries
/// (`crates/e2e`). Fails when no test ran.
fn end_to_end() -> Result<()> {
    tools::ensure_browser()?;
    let geckodriver = tools::ensure_firefox()?;
    cmd::run(cmd::cargo().args(["build", "-p", "sealtip-relay", "-p", "sealtip-cli"]))?;
    let dist = std::fs::canonicalize(run::DIST).context("the web client is not built")?;
    let mut command = cmd::cargo();
    command
        // One test at a time: each drives its own browser.
        .args(["test", "-p", "sealtip-e2e", "--", "--test-threads=1"])
        .env("SEALTIP_DIST", dist);
    if std::env::var_os("CHROMEDRIVER").is_none() {
        command.env("CHROMEDRIVER", CHROMEDRIVER);
    }
    if std::env::var_os("GECKODRIVER").is_none() {
        command.env("GECKODRIVER", geckodriver);
    }
    let output = cmd::run_and_capture(&mut command)?;
    let passed = passed_tests(&output).context("cannot read the test runner's summary")?;
    if passed == 0 {
        bail!("sealtip-e2e: no end-to-end test ran");
    }
    println!("sealtip-e2e: {passed} end-to-end tests passed (screenshots in target/screenshots/)");
    Ok(())
}

/// The number of passed tests over all `test result:` lines of a test run.
fn passed_tests(output: &str) -> Result<u64> {
    let mut total = 0;
    for line in output.lines() {
        let Some(result) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        let passed = result
            .split(". ")
            .nth(1)
            .and_then(|counts| counts.split(" passed").next())
            .with_context(|| format!("unexpected summary line `{line}`"))?;
        total += passed
            .trim()
            .parse::<u64>()
            .with_context(|| format!("unexpected summary line `{line}`"))?;
    }
    Ok(total)
}

fn print_summary(done: &[(&str, Duration, bool)]) {
    println!();
    for (name, took, ok) in done {
        let mark = if *ok { "ok    " } else { "FAILED" };
        println!("    {mark} {name:<28} {:>9}", duration(*took));
    }
}

/// `3.2 s`, or `4 min 07 s` past a minute.
fn duration(took: Duration) -> String {
    let seconds = took.as_secs_f64();
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let whole = took.as_secs();
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_passed_tests_over_all_test_binaries() -> Result<()> {
        let output = "\
running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 filtered out; finished in 0.00s

running 3 tests
test a ... ok

test result: ok. 3 passed; 0 failed; 0 ignored; 0 filtered out; finished in 1.20s
";
        assert_eq!(passed_tests(output)?, 3);
        Ok(())
    }

    #[test]
    fn a_run_without_tests_counts_zero() -> Result<()> {
        let output =
            "running 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 filtered out\n";
        assert_eq!(passed_tests(output)?, 0);
        assert_eq!(passed_tests("no tests to run!\n")?, 0);
        Ok(())
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(Duration::from_millis(3_240)), "3.2 s");
        assert_eq!(duration(Duration::from_secs(247)), "4 min 07 s");
    }
}
