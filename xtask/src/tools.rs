//! Installing what the build and the tests need, each only when it is missing
//! or at the wrong version. The versions are pinned here, except wasm-bindgen's,
//! which must equal the `wasm-bindgen` crate in Cargo.lock.

use crate::cmd::{self, NODE_TOOLS};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// The target the web client and the browser tests are built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Trunk 0.22 needs a newer rustc than this project's.
const TRUNK_VERSION: &str = "0.21.14";

/// binaryen from npm: Debian's wasm-opt is too old for rustc's output.
const BINARYEN_PACKAGE: &str = "binaryen@132";
/// What `wasm-opt --version` prints for that package (Trunk.toml asks for it).
const WASM_OPT_VERSION: &str = "version 132";

/// The TypeScript age ("typage"): the independent implementation the
/// envelope's hybrid post-quantum interoperability tests run with Node.
const AGE_ENCRYPTION_PACKAGE: &str = "age-encryption@0.3.1";
const AGE_ENCRYPTION_VERSION: &str = "\"version\": \"0.3.1\"";

/// Lighthouse, the page's quality figures (`cargo xtask lighthouse`).
const LIGHTHOUSE_PACKAGE: &str = "lighthouse@12";
const LIGHTHOUSE_VERSION: &str = "\"version\": \"12.";

/// The wasm32 target, Trunk, wasm-bindgen and wasm-opt: all that
/// `trunk build` needs.
pub fn ensure_web_build_tools() -> Result<()> {
    ensure_wasm_target()?;
    ensure_trunk()?;
    ensure_wasm_bindgen()?;
    ensure_wasm_opt()
}

/// The Rust standard library for [`WASM_TARGET`].
pub fn ensure_wasm_target() -> Result<()> {
    let sysroot = cmd::probe(cmd::command("rustc").args(["--print", "sysroot"]))
        .context("cannot run `rustc --print sysroot`")?;
    if Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .is_dir()
    {
        return Ok(());
    }
    cmd::run(cmd::command("rustup").args(["target", "add", WASM_TARGET]))
}

/// `trunk` at [`TRUNK_VERSION`].
fn ensure_trunk() -> Result<()> {
    let wanted = format!("trunk {TRUNK_VERSION}");
    if version_of("trunk").is_some_and(|version| version == wanted) {
        return Ok(());
    }
    println!("installing Trunk {TRUNK_VERSION} (several minutes, once)");
    cmd::run(cmd::cargo().args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
}

/// `wasm-bindgen` and `wasm-bindgen-test-runner` at the version in Cargo.lock,
/// which Trunk.toml must name too.
pub fn ensure_wasm_bindgen() -> Result<()> {
    let version = wasm_bindgen_version()?;
    check_trunk_pin(&version)?;
    let installed = ["wasm-bindgen", "wasm-bindgen-test-runner"]
        .iter()
        .all(|tool| version_of(tool).is_some_and(|found| found == format!("{tool} {version}")));
    if installed {
        return Ok(());
    }
    println!("installing wasm-bindgen-cli {version} (a few minutes, once)");
    // Not --locked: its lock file names a crate version the registry no longer has.
    cmd::run(cmd::cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))
}

/// `wasm-opt` from npm's binaryen in the project's `.tools/node`, which
/// [`cmd::command`] puts first on `PATH`.
fn ensure_wasm_opt() -> Result<()> {
    let wasm_opt = Path::new(NODE_TOOLS).join("node_modules/.bin/wasm-opt");
    let found = cmd::probe(cmd::command(&wasm_opt).arg("--version"));
    if found.is_some_and(|version| version.contains(WASM_OPT_VERSION)) {
        return Ok(());
    }
    npm_install(BINARYEN_PACKAGE)
}

/// npm's `lighthouse` (12) in the project's `.tools/node`, and Chromium,
/// which it drives.
pub fn ensure_lighthouse() -> Result<()> {
    ensure_browser()?;
    let manifest = Path::new(NODE_TOOLS).join("node_modules/lighthouse/package.json");
    let found = std::fs::read_to_string(manifest).unwrap_or_default();
    if found.contains(LIGHTHOUSE_VERSION) {
        return Ok(());
    }
    npm_install(LIGHTHOUSE_PACKAGE)
}

/// `npm install PACKAGE` into the project's `.tools/node`.
fn npm_install(package: &str) -> Result<()> {
    std::fs::create_dir_all(NODE_TOOLS).with_context(|| format!("cannot create {NODE_TOOLS}"))?;
    cmd::run(cmd::command("npm").args([
        "install",
        "--prefix",
        NODE_TOOLS,
        "--no-audit",
        "--no-fund",
        package,
    ]))
}

/// Chromium and its WebDriver, for wasm-bindgen-test-runner.
pub fn ensure_browser() -> Result<()> {
    let missing = ["/usr/bin/chromium", "/usr/bin/chromedriver"]
        .iter()
        .any(|path| !Path::new(path).exists());
    if missing {
        apt_install(&["chromium", "chromium-driver"])?;
    }
    Ok(())
}

/// geckodriver, Firefox's WebDriver (from crates.io), for the end-to-end
/// tests in Firefox ESR.
const GECKODRIVER_VERSION: &str = "0.37.1";

/// Firefox ESR (Debian's `firefox-esr`, the engine of Tor Browser) and
/// geckodriver at [`GECKODRIVER_VERSION`] in cargo's bin folder (where
/// Trunk goes too); returns geckodriver's path.
pub fn ensure_firefox() -> Result<std::path::PathBuf> {
    if !Path::new("/usr/bin/firefox-esr").exists() {
        apt_install(&["firefox-esr"])?;
    }
    let geckodriver = cmd::cargo_home().join("bin/geckodriver");
    let wanted = format!("geckodriver {GECKODRIVER_VERSION}");
    let found = cmd::probe(cmd::command(&geckodriver).arg("--version"));
    if !found.is_some_and(|version| version.starts_with(&wanted)) {
        println!("installing geckodriver {GECKODRIVER_VERSION} (a few minutes, once)");
        cmd::run(cmd::cargo().args([
            "install",
            "geckodriver",
            "--version",
            GECKODRIVER_VERSION,
            "--locked",
        ]))?;
    }
    Ok(geckodriver)
}

/// The reference `age` (interoperability tests), and `exiftool`,
/// ImageMagick and the WebP tools (metadata removal tests make real photos).
pub fn ensure_native_test_tools() -> Result<()> {
    let mut packages = Vec::new();
    if !cmd::on_path("age") {
        packages.push("age");
    }
    if !cmd::on_path("exiftool") {
        packages.push("libimage-exiftool-perl");
    }
    // Not `on_path("convert")`: some machines have a `convert` that is not
    // ImageMagick's.
    if !std::path::Path::new("/usr/bin/convert").exists() {
        packages.push("imagemagick");
    }
    if !cmd::on_path("cwebp") || !cmd::on_path("webpmux") {
        packages.push("webp");
    }
    if !packages.is_empty() {
        apt_install(&packages)?;
    }
    ensure_age_encryption()
}

/// npm's `age-encryption` in the project's `.tools/node`, where
/// `crates/envelope/tests/interop.rs` looks for it.
fn ensure_age_encryption() -> Result<()> {
    let manifest = Path::new(NODE_TOOLS).join("node_modules/age-encryption/package.json");
    let installed =
        std::fs::read_to_string(&manifest).is_ok_and(|text| text.contains(AGE_ENCRYPTION_VERSION));
    if installed {
        return Ok(());
    }
    npm_install(AGE_ENCRYPTION_PACKAGE)
}

/// PostgreSQL's server programs (Debian's `postgresql`, installed if
/// missing): the folder holding `initdb`, `pg_ctl` and `postgres`.
pub fn ensure_postgres() -> Result<std::path::PathBuf> {
    if let Some(bin) = crate::postgres::server_bin_dir() {
        return Ok(bin);
    }
    apt_install(&["postgresql"])?;
    crate::postgres::server_bin_dir()
        .context("apt-get installed postgresql, but no /usr/lib/postgresql/*/bin/initdb appeared")
}

/// Whether xtask runs as root (then apt-get needs no sudo, and PostgreSQL
/// runs as the `postgres` user).
pub fn running_as_root() -> bool {
    cmd::probe(cmd::command("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

/// The version of the `wasm-bindgen` crate in Cargo.lock.
pub fn wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").context("cannot read Cargo.lock")?;
    locked_version(&lock, "wasm-bindgen").context("Cargo.lock has no `wasm-bindgen` package")
}

/// The version Cargo.lock records for `package` (the first, if several).
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    lines.find(|line| line.trim() == name_line)?;
    let version = lines
        .next()?
        .trim()
        .strip_prefix("version = \"")?
        .strip_suffix('"')?;
    Some(version.to_owned())
}

/// Trunk.toml's `[tools] wasm_bindgen` must be the crate's version, or Trunk
/// (offline) stops with a less helpful message.
fn check_trunk_pin(version: &str) -> Result<()> {
    let trunk_toml = std::fs::read_to_string("Trunk.toml").context("cannot read Trunk.toml")?;
    let pinned = trunk_toml.lines().find_map(|line| {
        line.trim()
            .strip_prefix("wasm_bindgen = \"")?
            .strip_suffix('"')
    });
    match pinned {
        Some(pinned) if pinned == version => Ok(()),
        Some(pinned) => bail!(
            "Trunk.toml pins wasm-bindgen {pinned} but Cargo.lock has {version}: \
             set `wasm_bindgen = \"{version}\"` under [tools] in Trunk.toml"
        ),
        None => bail!("Trunk.toml has no `wasm_bindgen = \"{version}\"` under [tools]"),
    }
}

/// The first line of `tool --version`, if the tool runs.
fn version_of(tool: &str) -> Option<String> {
    let output = cmd::probe(cmd::command(tool).arg("--version"))?;
    Some(output.lines().next()?.trim().to_owned())
}

/// `apt-get install -y packages`, through sudo unless xtask runs as root.
fn apt_install(packages: &[&str]) -> Result<()> {
    println!("installing with apt-get: {}", packages.join(" "));
    let root = running_as_root();
    let apt_get = |args: &[&str]| {
        let mut command = if root {
            cmd::command("apt-get")
        } else {
            let mut sudo = cmd::command("sudo");
            sudo.arg("apt-get");
            sudo
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    cmd::run(&mut apt_get(&["update"]))?;
    cmd::run(apt_get(&["install", "-y"]).args(packages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_version_from_a_lock_file() {
        let lock = "\
[[package]]
name = \"wasm-bindgen-futures\"
version = \"0.4.80\"

[[package]]
name = \"wasm-bindgen\"
version = \"0.2.130\"
source = \"registry+https://github.com/rust-lang/crates.io-index\"
";
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            locked_version(lock, "wasm-bindgen-futures").as_deref(),
            Some("0.4.80")
        );
        assert_eq!(locked_version(lock, "yew"), None);
    }
}
