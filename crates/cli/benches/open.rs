//! `sealtip open` against Go's `age -d | tar -x` on the same sealed tip:
//! figures.
//!
//! ```text
//! cargo bench -p sealtip-cli --bench open
//! ```
//!
//! Makes a tip with one 256 MiB attachment (`SEALTIP_OPEN_MIB` to change
//! it) sealed by `sealtip seal` to an X25519 key from `sealtip keygen
//! --x25519` (Debian's `age` 1.1 knows no hybrid keys), then unpacks it
//! `SEALTIP_OPEN_RUNS` times (default 7) each way, taking turns, after one
//! run each to warm the page cache:
//!
//! - `sealtip open -i KEY --out DIR TIP` (decryption, tar checks, the
//!   attachment's SHA-256 against tip.json, every file synced to the disk);
//! - `age -d -i KEY TIP | tar -x -C DIR` (`/usr/bin/age`, Go; nothing checked
//!   synced; tar stops at the end-of-archive blocks, so age dies of SIGPIPE
//!   without decrypting the padding after them, nor authenticating the
//!   file's end, which `sealtip open` does).
//!
//! It prints the load average before and after (the machine may be shared),
//! each run, and for each way the fastest, median and slowest time, MiB/s of
//! the attachment at the median, the median and least CPU time (user and
//! system, all its processes and threads), and sealtip's speed over age's
//! (1.0 or more: sealtip at least as fast), from the medians and as the
//! median of each turn's pair. On a loaded machine the
//! CPU time is the steadier figure: with every core busy it is what the
//! wall-clock time tends to.
//!
//! `SEALTIP_OPEN_BIN=path/to/sealtip` measures another build instead (an
//! earlier commit's, to compare).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The `sealtip` built with this bench; `SEALTIP_OPEN_BIN` names another
/// (an earlier build, to compare).
fn sealtip() -> Command {
    let built = env!("CARGO_BIN_EXE_sealtip");
    Command::new(std::env::var("SEALTIP_OPEN_BIN").unwrap_or_else(|_| built.into()))
}
const AGE: &str = "age";
const SIGPIPE: i32 = 13;

fn main() {
    let mib: usize = env_or("SEALTIP_OPEN_MIB", 256);
    let runs: usize = env_or("SEALTIP_OPEN_RUNS", 7);
    if Command::new(AGE).arg("--version").output().is_err() {
        println!("open: `age` is not installed (apt-get install age); nothing measured");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let tip = seal_tip(dir, mib);
    println!(
        "open: a tip with a {mib} MiB attachment ({} bytes sealed), {runs} runs each way",
        fs::metadata(&tip).unwrap().len()
    );
    // One run each first: the tip in the page cache, the binaries loaded.
    let (mut sealtip_times, mut sealtip_cpu) = (Vec::new(), Vec::new());
    let (mut age_times, mut age_cpu) = (Vec::new(), Vec::new());
    println!("load average before: {}", load_average());
    for run in 0..=runs {
        let ours = time_sealtip(dir, mib);
        let theirs = time_age(dir, mib);
        if run == 0 {
            continue;
        }
        println!(
            "  run {run}: sealtip open {:.3} s ({:.2} s CPU), age -d | tar -x {:.3} s ({:.2} s CPU)",
            ours.wall, ours.cpu, theirs.wall, theirs.cpu
        );
        sealtip_times.push(ours.wall);
        sealtip_cpu.push(ours.cpu);
        age_times.push(theirs.wall);
        age_cpu.push(theirs.cpu);
    }
    println!("load average after: {}", load_average());
    let ours = summary("sealtip open", &sealtip_times, &mut sealtip_cpu, mib);
    let theirs = summary("age -d | tar -x", &age_times, &mut age_cpu, mib);
    let mut pairs: Vec<f64> = age_times
        .iter()
        .zip(&sealtip_times)
        .map(|(age, sealtip)| age / sealtip)
        .collect();
    println!(
        "sealtip / age speed: {:.2} (medians), {:.2} (median of the {runs} pairs)",
        theirs / ours,
        median(&mut pairs)
    );
}

/// `sealtip keygen --x25519` and `sealtip seal` of a tip whose one
/// attachment is `mib` MiB that no compressor finds easy; the sealed path.
fn seal_tip(dir: &Path, mib: usize) -> std::path::PathBuf {
    let keygen = sealtip()
        .args(["keygen", "--x25519", "-o", "key.txt"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{keygen:?}");
    let recipient = String::from_utf8(keygen.stdout).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut video = fs::File::create(dir.join("video.mp4")).unwrap();
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for word in block.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        video.write_all(&block).unwrap();
    }
    fs::write(
        dir.join("message.txt"),
        "The video of the pier, last night.\n",
    )
    .unwrap();
    let seal = sealtip()
        .args(["seal", "--to", recipient.trim()])
        .args(["--message-file", "message.txt", "--attach", "video.mp4"])
        .args(["-o", "tip.age"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(seal.status.success(), "{seal:?}");
    fs::remove_file(dir.join("video.mp4")).unwrap();
    dir.join("tip.age")
}

/// A clean output folder and a disk with nothing of the last run's left
/// to write.
fn fresh(dir: &Path, name: &str) -> std::path::PathBuf {
    let out = dir.join(name);
    if out.exists() {
        fs::remove_dir_all(&out).unwrap();
    }
    Command::new("sync").status().unwrap();
    out
}

/// One way's run: wall-clock seconds, and CPU seconds (user and system)
/// of its processes.
struct Run {
    wall: f64,
    cpu: f64,
}

impl Run {
    /// Times `work`, which runs its processes and waits for them.
    fn of(work: impl FnOnce()) -> Run {
        let (cpu, start) = (children_cpu(), Instant::now());
        work();
        Run {
            wall: start.elapsed().as_secs_f64(),
            cpu: children_cpu() - cpu,
        }
    }
}

/// CPU seconds, user and system, of this process's children that were
/// waited for: `cutime` and `cstime` in /proc/self/stat, in USER_HZ ticks
/// (100 a second on Linux).
fn children_cpu() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command's name, which is in parentheses and may
    // hold spaces; `cutime` is the 16th field of the line, the 14th here.
    let fields: Vec<u64> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .skip(13)
        .take(2)
        .map(|field| field.parse().unwrap())
        .collect();
    (fields[0] + fields[1]) as f64 / 100.0
}

fn time_sealtip(dir: &Path, mib: usize) -> Run {
    let out = fresh(dir, "opened");
    let run = Run::of(|| {
        let status = sealtip()
            .args(["open", "-i", "key.txt", "--out"])
            .arg(&out)
            .arg("tip.age")
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    });
    check_attachment(&out, mib);
    run
}

fn time_age(dir: &Path, mib: usize) -> Run {
    let out = fresh(dir, "untarred");
    fs::create_dir(&out).unwrap();
    let run = Run::of(|| {
        let mut age = Command::new(AGE)
            .args(["-d", "-i", "key.txt", "tip.age"])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let tar = Command::new("tar")
            .arg("-x")
            .arg("-C")
            .arg(&out)
            .stdin(age.stdout.take().unwrap())
            .status()
            .unwrap();
        let age = age.wait().unwrap();
        // tar stops reading at the end-of-archive blocks, and age then dies of
        // SIGPIPE on the padding, as in a shell's pipeline: age never reaches
        // (nor authenticates) the end of the file.
        let age_ok = age.success() || age.signal() == Some(SIGPIPE);
        assert!(age_ok && tar.success(), "age: {age}, tar: {tar}");
    });
    check_attachment(&out, mib);
    run
}

/// The one attachment is there, whole.
fn check_attachment(out: &Path, mib: usize) {
    let attachments: Vec<_> = fs::read_dir(out.join("attachments"))
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .collect();
    assert_eq!(attachments, [(mib as u64) << 20]);
}

/// Prints the fastest, median and slowest run, the speed at the median and
/// the CPU time at the median and the least; returns the median time.
fn summary(name: &str, times: &[f64], cpu: &mut [f64], mib: usize) -> f64 {
    let mut sorted = times.to_vec();
    let middle = median(&mut sorted);
    let cpu_median = median(cpu);
    println!(
        "{name}: {:.3} / {middle:.3} / {:.3} s (fastest / median / slowest), {:.0} MiB/s at the median; CPU {cpu_median:.2} s (median), {:.2} s (least)",
        sorted[0],
        sorted[sorted.len() - 1],
        mib as f64 / middle,
        cpu[0]
    );
    middle
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|line| {
            line.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}
