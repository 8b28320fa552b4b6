//! What the CLI's tests share: `sealtip` run in a folder by the harness
//! (`sealtip-harness`), where a panic is the failure report.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

/// `sealtip ARGS` in `dir`, nothing on standard input: how it ended.
pub fn sealtip(dir: &Path, args: &[&str]) -> Output {
    sealtip_harness::sealtip(dir, args).unwrap()
}

/// `sealtip ARGS` in `dir` with more environment variables and, optionally,
/// standard input.
pub fn sealtip_with(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    sealtip_harness::sealtip_with(dir, args, env, stdin).unwrap()
}

/// `sealtip ARGS` in `dir`, which must succeed: what it printed.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    sealtip_harness::sealtip_ok(dir, args).unwrap()
}

/// A tip saying `text`, sealed in `dir` (initialised by `sealtip-relay
/// init`) to the demo agency's key with `codename` (so it offers replies and
/// opens a thread) and submitted to the relay at `url`: its id.
pub fn submit_tip(dir: &Path, url: &str, text: &str, codename: &str) -> String {
    let recipient = std::fs::read_to_string(dir.join("data/agency.pub")).unwrap();
    let seal = [
        "seal",
        "--to",
        recipient.trim(),
        "--agency",
        "demo",
        "--message",
        text,
        "--codename",
        codename,
        "-o",
        "tip.age",
    ];
    ok(dir, &seal);
    let id = ok(
        dir,
        &["submit", "--relay", url, "--agency", "demo", "tip.age"],
    );
    std::fs::remove_file(dir.join("tip.age")).unwrap();
    id.trim().to_string()
}

/// The arguments of a tipster's `command` (`replies`, `follow-up`) with
/// the demo agency at `url`, the codename in `codename_file`.
pub fn tipster_args<'a>(command: &'a str, url: &'a str, codename_file: &'a str) -> [&'a str; 7] {
    [
        command,
        "--relay",
        url,
        "--agency",
        "demo",
        "--codename-file",
        codename_file,
    ]
}

/// Asserts `out` is a failure whose standard error says `says`.
pub fn fails_saying(out: &Output, says: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(stderr.contains(says), "{says:?} not in {stderr}");
}

/// Runs `command` (a shell command line) in `dir` under a pseudo-terminal
/// (util-linux `script`), typing each of `keys` at its prompts, a little
/// apart, as a person would. What the terminal showed is its standard output.
pub fn in_terminal(dir: &Path, command: &str, keys: &[&str]) -> Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .current_dir(dir)
        .env_remove("SEALTIP_CODENAME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` is needed");
    let mut stdin = child.stdin.take().unwrap();
    for typed in keys {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        stdin.write_all(typed.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    out
}
