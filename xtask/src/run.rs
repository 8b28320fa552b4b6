//! `cargo xtask run`: install what is missing, build the web client, prepare
//! `data/`, and serve the page.

use crate::{cmd, serve, tools};
use anyhow::{Context, Result, bail};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;

/// Trunk's output folder (Trunk.toml `dist`).
const DIST: &str = "dist";
/// The demo agency's files: its identity, later the relay's database.
const DATA: &str = "data";

/// Builds everything and serves `dist/` on `listen` until interrupted.
pub fn run(listen: SocketAddr) -> Result<()> {
    tools::ensure_web_build_tools()?;
    build_web_client()?;
    std::fs::create_dir_all(DATA).with_context(|| format!("cannot create {DATA}/"))?;
    // TODO(xtask run): create the demo agency identity once `sealtip keygen`
    // exists: `cargo run -p sealtip-cli -- keygen -o data/agency.key`, only when
    // data/agency.key is missing; then start the relay here instead of serve.rs.

    let listener =
        TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let url = match listen.ip().is_unspecified() {
        true => format!("http://127.0.0.1:{}/", listen.port()),
        false => format!("http://{listen}/"),
    };
    println!(
        "\nThe tipster's page is at {url}\n\
         Open it in a browser; edit src/ or www/ and run `cargo xtask run` again to rebuild.\n\
         Stop with Ctrl-C.\n"
    );
    serve::serve(Path::new(DIST), listener)
}

/// `trunk build` with the size-tuned `web` profile into `dist/`, then prints
/// the size of the wasm file. Used by `run` and `test`.
pub fn build_web_client() -> Result<()> {
    // Trunk runs cargo with --offline (Trunk.toml), so fetch the crates first.
    cmd::run(cmd::cargo().args(["fetch", "--target", tools::WASM_TARGET]))?;
    cmd::run(cmd::command("trunk").args(["build", "--release", "--cargo-profile", "web"]))?;
    let index = Path::new(DIST).join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    check_no_inline_code(&html)
        .with_context(|| format!("{} breaks the page's CSP", index.display()))?;
    report_wasm_size()
}

/// The page's Content-Security-Policy (`script-src 'self' 'wasm-unsafe-eval'`,
/// `style-src 'self'`) forbids inline scripts, inline styles and event-handler
/// attributes, and the page loads nothing from another origin. A coarse look at
/// the tags of the built HTML catches a regression (Trunk's own inline loader
/// coming back, say) before a browser does.
fn check_no_inline_code(html: &str) -> Result<()> {
    let html = html.to_ascii_lowercase();
    let tags = html
        .split('<')
        .skip(1)
        .filter_map(|rest| rest.split('>').next());
    for tag in tags {
        let mut words = tag.split_whitespace();
        let name = words.next().unwrap_or("");
        if name.starts_with('!') {
            continue; // <!doctype …>, <!-- … -->
        }
        let attributes: Vec<(&str, &str)> = words
            .map(|word| word.split_once('=').unwrap_or((word, "")))
            .map(|(key, value)| (key, value.trim_matches(['"', '\''])))
            .collect();
        let has = |wanted: &str| attributes.iter().any(|(key, _)| *key == wanted);
        if name == "script" && !has("src") {
            bail!("it has an inline script: <{tag}>");
        }
        if name == "style"
            || has("style")
            || attributes.iter().any(|(key, _)| key.starts_with("on"))
        {
            bail!("it has an inline style or event handler: <{tag}>");
        }
        let elsewhere = attributes.iter().any(|(key, value)| {
            (*key == "src" || *key == "href") && (value.starts_with("//") || value.contains("://"))
        });
        if elsewhere {
            bail!("it loads from another origin: <{tag}>");
        }
    }
    Ok(())
}

/// Prints each `.wasm` file in `dist/` with its size, and gzipped size when
/// `gzip` is there: the number the page's load time depends on.
fn report_wasm_size() -> Result<()> {
    let entries = std::fs::read_dir(DIST).with_context(|| format!("cannot read {DIST}/"))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|ext| ext != "wasm") {
            continue;
        }
        let size = std::fs::metadata(&path)?.len();
        let gzipped = cmd::command("gzip")
            .args(["-9", "-c"])
            .arg(&path)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| format!(", {} gzip -9", kib(output.stdout.len() as u64)))
            .unwrap_or_default();
        println!("{}: {}{gzipped}", path.display(), kib(size));
    }
    Ok(())
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_page_that_keeps_to_its_policy() -> Result<()> {
        check_no_inline_code(
            "<!doctype html><html lang=en><meta charset=utf-8><link href=/style-1.css rel=stylesheet>\
             <meta data-js=/app-1.js name=sealtip-app><script src=/boot-1.js type=module></script>\
             <link crossorigin href=/app-1_bg.wasm rel=preload></head><body></body></html>",
        )
    }

    #[test]
    fn refuses_inline_code_and_other_origins() {
        for page in [
            "<script type=module>import init from '/app.js';</script>",
            "<style>h1 { color: red }</style>",
            "<h1 style=\"color: red\">sealtip</h1>",
            "<body onload=\"start()\">",
            "<script src=https://cdn.example/x.js></script>",
            "<link rel=stylesheet href=\"//fonts.example/f.css\">",
        ] {
            assert!(check_no_inline_code(page).is_err(), "{page}");
        }
    }
}
