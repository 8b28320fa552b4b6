//! `cargo xtask reproducible`: the web build gives the same bytes wherever it
//! runs. Clones the current commit twice, into two folders of different
//! depth, builds the page in each (`cargo xtask web`) with a target folder of
//! its own, and compares the two `dist/` folders byte for byte, the gzip and
//! brotli copies and `manifest.json` included. Prints each file that differs
//! and how long the check took.

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cmd;
use crate::run::DIST;

/// Builds the current commit twice and compares the results.
pub fn reproducible() -> Result<()> {
    let started = Instant::now();
    let root = std::env::current_dir().context("cannot read the current directory")?;
    let commit = cmd::probe(cmd::command("git").args(["rev-parse", "HEAD"]))
        .context("`cargo xtask reproducible` needs a git checkout")?;
    let commit = commit.trim();
    // The clones are made afresh; the two target folders are kept, so a
    // second run builds only what changed.
    let work = std::env::temp_dir().join("sealtip-reproducible");
    let sides = [work.join("a/sealtip"), work.join("b/elsewhere/web")];
    for side in &sides {
        if side.exists() {
            std::fs::remove_dir_all(side)
                .with_context(|| format!("cannot remove {}", side.display()))?;
        }
    }
    let mut dists = Vec::new();
    for (index, clone) in sides.iter().enumerate() {
        println!("\nbuild {} of 2, in {}", index + 1, clone.display());
        let target = work.join(format!("target-{index}"));
        build_in_clone(&root, commit, clone, &target)?;
        dists.push(clone.join(DIST));
    }
    let differences = compare(&dists[0], &dists[1])?;
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    if differences.is_empty() {
        println!(
            "\nreproducible: two builds of {commit} gave byte-identical {DIST}/ folders \
             ({minutes:.1} minutes)"
        );
        return Ok(());
    }
    for line in &differences {
        println!("  {line}");
    }
    bail!(
        "two builds of {commit} differ in {} file(s) ({minutes:.1} minutes; both are under {})",
        differences.len(),
        work.display()
    )
}

/// What `cargo xtask test` checks after its own web build: one more build of
/// the same commit, in a clone elsewhere with a target folder of its own,
/// gives byte for byte the `dist/` this checkout just built. Skipped, with a
/// line saying so, when the checkout has changes not committed (its `dist/`
/// is then not the commit's).
pub fn against_this_build() -> Result<()> {
    let started = Instant::now();
    let root = std::env::current_dir().context("cannot read the current directory")?;
    let commit = cmd::probe(cmd::command("git").args(["rev-parse", "HEAD"]))
        .context("the reproducibility check needs a git checkout")?;
    let commit = commit.trim();
    let changes =
        cmd::probe(cmd::command("git").args(["status", "--porcelain", "--untracked-files=no"]))
            .context("cannot ask git for uncommitted changes")?;
    if !changes.trim().is_empty() {
        println!(
            "skipped: this checkout has uncommitted changes, so its {DIST}/ is not {commit}'s \
             (`cargo xtask reproducible` builds the commit twice)"
        );
        return Ok(());
    }
    let work = std::env::temp_dir().join("sealtip-reproducible");
    let clone = work.join("b/elsewhere/web");
    if clone.exists() {
        std::fs::remove_dir_all(&clone)
            .with_context(|| format!("cannot remove {}", clone.display()))?;
    }
    build_in_clone(&root, commit, &clone, &work.join("target-1"))?;
    let differences = compare(&root.join(DIST), &clone.join(DIST))?;
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    if differences.is_empty() {
        println!(
            "reproducible: a second build of {commit} in {} gave this {DIST}/ byte for byte \
             ({minutes:.1} minutes)",
            clone.display()
        );
        return Ok(());
    }
    for line in &differences {
        println!("  {line}");
    }
    bail!(
        "a second build of {commit} differs from this one in {} file(s) ({})",
        differences.len(),
        clone.display()
    )
}

/// Clones `root` at `commit` into `clone` and builds the page there.
fn build_in_clone(root: &Path, commit: &str, clone: &Path, target: &Path) -> Result<()> {
    let parent = clone.parent().context("a clone needs a parent folder")?;
    std::fs::create_dir_all(parent)?;
    cmd::run(
        cmd::command("git")
            .args(["clone", "--quiet", "--no-checkout"])
            .arg(root)
            .arg(clone),
    )?;
    cmd::run(
        cmd::command("git")
            .current_dir(clone)
            .args(["checkout", "--quiet", "--detach", commit]),
    )?;
    // The Node tools (wasm-opt) installed in this checkout, not fetched again.
    let tools = root.join(cmd::NODE_TOOLS);
    if tools.is_dir() {
        std::fs::create_dir_all(clone.join(".tools"))?;
        std::os::unix::fs::symlink(&tools, clone.join(cmd::NODE_TOOLS))
            .context("cannot link the Node tools into the clone")?;
    }
    cmd::run(
        cmd::cargo()
            .current_dir(clone)
            .args(["xtask", "web"])
            .env("CARGO_TARGET_DIR", target)
            .env_remove("CARGO_MANIFEST_DIR"),
    )
}

/// One line per file that is in one folder only or differs between them.
fn compare(a: &Path, b: &Path) -> Result<Vec<String>> {
    let (left, right) = (files(a)?, files(b)?);
    let mut differences = Vec::new();
    for (name, bytes) in &left {
        match right.get(name) {
            None => differences.push(format!("{name}: only in the first build")),
            Some(other) if other != bytes => differences.push(format!(
                "{name}: differs ({} and {} bytes{})",
                bytes.len(),
                other.len(),
                first_difference(bytes, other)
            )),
            Some(_) => {}
        }
    }
    for name in right.keys().filter(|name| !left.contains_key(*name)) {
        differences.push(format!("{name}: only in the second build"));
    }
    Ok(differences)
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .map_or_else(String::new, |at| format!(", first at byte {at}"))
}

/// Every file under `dir` by its relative name, with its bytes.
fn files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut found = BTreeMap::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir)?.to_string_lossy().into_owned();
                found.insert(name, std::fs::read(&path)?);
            }
        }
    }
    Ok(found)
}
