//! `cargo xtask run`: install what is missing, build the web client, create
//! the demo agency under `data/` the first time, and start the relay, which
//! serves the page from `dist/`, and a demo partner page embedding the form
//! on the next port (another origin), which the demo agency's
//! `embed_origins` follows from run to run ([`embed_origins`]).

use crate::{app_wasm, before_typing, cmd, embed_origins, manifest, partner, tools, workers};
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

/// Trunk's output folder (Trunk.toml `dist`); the relay serves it.
pub const DIST: &str = "dist";
/// The relay's configuration, database and blobs, and the demo agency's
/// identity and inbox token, all written by `sealtip-relay init`.
const DATA: &str = "data";

/// Builds everything and runs the relay on `listen` until interrupted.
pub fn run(listen: SocketAddr) -> Result<()> {
    tools::ensure_web_build_tools()?;
    build_web_client()?;
    ensure_demo_agency()?;

    let url = match listen.ip().is_unspecified() {
        true => format!("http://127.0.0.1:{}", listen.port()),
        false => format!("http://{listen}"),
    };
    let partner_address = SocketAddr::new(listen.ip(), listen.port().wrapping_add(1));
    let config = Path::new(DATA).join("relay.toml");
    let partner_origin = match partner_address.ip().is_unspecified() {
        true => format!("http://127.0.0.1:{}", partner_address.port()),
        false => format!("http://{partner_address}"),
    };
    if embed_origins::follow_in_config(&config, &partner_origin)? {
        println!(
            "{}: the demo agency may now be embedded by {partner_origin}",
            config.display()
        );
    }
    let partner = partner::serve(partner_address, &url, &Path::new(DATA).join("agency.pub"))?;
    let cli = "cargo run -q -p sealtip-cli --";
    println!(
        "\n\
         The tipster's page:  {url}/a/demo  (the demo agency's form)\n\
         A partner's page:    {partner}/  (the form embedded in both modes, see README)\n\
         The demo agency:     data/agency.key (its age identity), data/agency.pub (its recipient),\n\
         \x20                    data/agency.token (its inbox token)\n\
         \n\
         Send a tip from the page, then, in another terminal, read it as an officer in the desk\n\
         (the agency's inbox, served from this machine; it prints an address to open):\n\
         \x20 {cli} desk --relay {url} --agency demo --token-file data/agency.token -i data/agency.key --inbox data/inbox\n\
         or fetch and open it on the command line:\n\
         \x20 {cli} pull --relay {url} --agency demo --token-file data/agency.token --out data/inbox\n\
         \x20 {cli} open -i data/agency.key data/inbox/<file>.age\n\
         or with an age that knows post-quantum keys (age 1.3 or later): age -d -i data/agency.key data/inbox/<file>.age | tar -xv\n\
         \n\
         After changing src/ or www/, run `cargo xtask run` again. Stop with Ctrl-C.\n"
    );
    cmd::run(relay().args(["--listen", &listen.to_string()]))
}

/// `data/relay.toml` and the demo agency, the first time.
pub fn ensure_demo_agency() -> Result<()> {
    if !Path::new(DATA).join("relay.toml").exists() {
        // Writes data/relay.toml and the demo agency: agency.key (its age
        // identity, which the relay never reads), agency.pub, agency.token.
        cmd::run(relay().args(["init", "--dir", DATA]))?;
    }
    Ok(())
}

/// `sealtip-relay`, built by cargo where CARGO_TARGET_DIR says.
pub fn relay() -> Command {
    let mut relay = cmd::cargo();
    relay.args(["run", "--quiet", "-p", "sealtip-relay", "--"]);
    relay
}

/// `trunk build` with the size-tuned `web` profile: the tipster's page into
/// `dist/`; pins the workers' code in its HTML ([`workers`]), has the
/// page's wasm fetched once the first screen is drawn ([`app_wasm`]),
/// checks that it keeps to the CSP, compresses it and writes
/// `dist/manifest.json`. Officers read
/// tips with `sealtip desk`, so nothing of theirs is built here. Used by
/// `run` and `test`.
pub fn build_web_client() -> Result<()> {
    // Trunk runs cargo with --offline (Trunk.toml), so fetch the crates first.
    cmd::run(cmd::cargo().args(["fetch", "--target", tools::WASM_TARGET]))?;
    cmd::run(
        cmd::command("trunk")
            .args(["build", "--release", "--cargo-profile", "web"])
            .env("CARGO_ENCODED_RUSTFLAGS", remapped_paths()?),
    )?;
    workers::pin(Path::new(DIST))?;
    app_wasm::fetch_after_paint(Path::new(DIST))?;
    let index = Path::new(DIST).join("index.html");
    let html = std::fs::read_to_string(&index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    check_no_inline_code(&html)
        .with_context(|| format!("{} breaks the page's CSP", index.display()))?;
    check_integrity(&html).with_context(|| {
        format!(
            "{} loads code without Subresource Integrity",
            index.display()
        )
    })?;
    compress_dist()?;
    before_typing::check(Path::new(DIST))?;
    manifest::write(Path::new(DIST))
}

/// rustc's flags for the page's wasm: the folders a build happens to use (the
/// checkout, cargo's registry, the target folder, where build scripts write)
/// written into the wasm as fixed names, so that the same commit gives the
/// same bytes wherever it is built (`cargo xtask reproducible`). Any
/// `RUSTFLAGS` of the caller's come first.
fn remapped_paths() -> Result<std::ffi::OsString> {
    let root = std::env::current_dir().context("cannot read the current directory")?;
    let target = root.join(cmd::target_dir());
    let mut flags: Vec<std::ffi::OsString> = std::env::var("RUSTFLAGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(Into::into)
        .collect();
    // rustc takes the last flag that matches: the more specific folders
    // (a target folder inside the checkout) come after the checkout.
    for (from, to) in [
        (root, "/sealtip"),
        (cmd::cargo_home(), "/cargo"),
        (target, "/target"),
    ] {
        let mut flag = std::ffi::OsString::from("--remap-path-prefix=");
        flag.push(from.as_os_str());
        flag.push(format!("={to}"));
        flags.push(flag);
    }
    Ok(flags.join(std::ffi::OsStr::new("\x1f")))
}

/// The page's Content-Security-Policy (`script-src 'self' 'wasm-unsafe-eval'`,
/// `style-src 'self'`) forbids inline scripts, inline styles and event-handler
/// attributes, and the page loads nothing from another origin. A coarse look at
/// the tags of the built HTML catches a regression (Trunk's own inline loader
/// coming back, say) before a browser does.
fn check_no_inline_code(html: &str) -> Result<()> {
    let html = html.to_ascii_lowercase();
    for tag in tags(&html) {
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

/// The inside of each tag of `html` (`<…>`), coarsely: the built page has
/// no `>` inside attributes (a tag named in a comment's words is read as a
/// tag too, which only makes the checks stricter).
pub fn tags(html: &str) -> impl Iterator<Item = &str> {
    html.split('<')
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
}

/// A tag's attributes (the text [`tags`] gives), names lowercased, values
/// unquoted: as the web build writes them, with no spaces inside values.
pub fn attributes(tag: &str) -> Vec<(String, String)> {
    tag.split_whitespace()
        .skip(1)
        .map(|word| word.split_once('=').unwrap_or((word, "")))
        .map(|(key, value)| {
            let value = value.trim_end_matches('/').trim_matches(['"', '\'']);
            (key.to_ascii_lowercase(), value.to_owned())
        })
        .collect()
}

/// Every script, stylesheet and preloaded module the built HTML names
/// carries an `integrity` hash (Trunk writes them; `www/boot.js` starts the
/// app only with them), and so do the page's wasm ([`app_wasm::check`]) and
/// each worker's code ([`workers::check`]), so the browser runs no other
/// bytes than the build's.
fn check_integrity(html: &str) -> Result<()> {
    app_wasm::check(html)?;
    workers::check(html)?;
    let html = html.to_ascii_lowercase();
    let mut checked = 0;
    for tag in tags(&html) {
        let mut words = tag.split_whitespace();
        let name = words.next().unwrap_or("");
        let words: Vec<&str> = words.collect();
        let rel = words
            .iter()
            .find_map(|word| word.strip_prefix("rel="))
            .map(|rel| rel.trim_matches(['"', '\'']));
        let loads_code = (name == "script" && words.iter().any(|w| w.starts_with("src=")))
            || (name == "link" && matches!(rel, Some("stylesheet" | "modulepreload" | "preload")));
        if !loads_code {
            continue;
        }
        let has_hash = words.iter().any(|word| {
            word.strip_prefix("integrity=")
                .is_some_and(|value| value.trim_start_matches(['"', '\'']).starts_with("sha"))
        });
        if !has_hash {
            bail!("<{tag}> has no integrity hash");
        }
        checked += 1;
    }
    if checked < 4 {
        bail!(
            "it names {checked} files with integrity hashes; the page loads at least 4 (two stylesheets, boot.js, its module)"
        );
    }
    Ok(())
}

/// Writes a gzip (`.gz`) and a brotli (`.br`) copy beside each text and
/// wasm file of `dist/`; the relay serves whichever the browser accepts. Prints
/// the first load's size (HTML, scripts, wasm, stylesheet), the figure the
/// page is held to: at most 250 KB compressed, and beside it the largest
/// language file, which a reader of that language loads too, and each
/// worker, which the page loads only when a tipster checks for replies or
/// sends.
fn compress_dist() -> Result<()> {
    let mut entries = Vec::new();
    for dir in ["", "i18n"] {
        let dir = Path::new(DIST).join(dir);
        let listing =
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
        entries.extend(listing);
    }
    let mut first_load = [0u64; 3];
    // Each worker's size compressed: [gzip, brotli], in `workers::WORKERS`' order.
    let mut worker = [[0u64; 2]; workers::WORKERS.len()];
    // The largest language file, compressed: (gzip, brotli, name).
    let mut language = (0u64, 0u64, String::new());
    for entry in entries {
        let path = entry?.path();
        let extension = path.extension().and_then(|ext| ext.to_str()).unwrap_or("");
        if !["html", "js", "css", "wasm", "txt", "ftl"].contains(&extension) {
            continue;
        }
        let plain = std::fs::read(&path)?;
        let mut gzip = Vec::new();
        ::zopfli::compress(
            ::zopfli::Options::default(),
            ::zopfli::Format::Gzip,
            plain.as_slice(),
            &mut gzip,
        )?;
        let mut gz_path = path.clone().into_os_string();
        gz_path.push(".gz");
        std::fs::write(&gz_path, &gzip)?;
        // The widget loader is for partner pages, not the tipster's first load.
        let widget = path.file_name().is_some_and(|name| name == "embed.js");
        if widget {
            check_widget_size(&path.with_extension("js.gz"))?;
        }
        let mut brotli = Vec::new();
        let params = ::brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 24,
            ..Default::default()
        };
        ::brotli::BrotliCompress(&mut plain.as_slice(), &mut brotli, &params)?;
        let mut br_path = path.clone().into_os_string();
        br_path.push(".br");
        std::fs::write(&br_path, &brotli)?;
        // The workers (src/bin/) are loaded only on demand.
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        let of_worker = workers::WORKERS.iter().position(|(name, _)| {
            [format!("{name}."), format!("{name}_bg.")]
                .iter()
                .any(|start| file_name.starts_with(start.as_str()))
        });
        if let Some(index) = of_worker {
            worker[index][0] += gzip.len() as u64;
            worker[index][1] += brotli.len() as u64;
        }
        // The tipster's first load: the page, its scripts, wasm and stylesheet.
        if ["html", "js", "css", "wasm"].contains(&extension) && !widget && of_worker.is_none() {
            first_load[0] += plain.len() as u64;
            first_load[1] += gzip.len() as u64;
            first_load[2] += brotli.len() as u64;
        }
        if extension == "ftl" {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            language = language.max((gzip.len() as u64, brotli.len() as u64, name.into_owned()));
        }
    }
    let [plain, gzip, brotli] = first_load;
    println!(
        "first load (HTML, JS, wasm, CSS): {} plain, {} gzip, {} brotli (target: 250 KB)",
        kb(plain),
        kb(gzip),
        kb(brotli)
    );
    if gzip.max(brotli) > FIRST_LOAD_MAX {
        bail!(
            "the first load is {} compressed, over its budget of {}",
            kb(gzip.max(brotli)),
            kb(FIRST_LOAD_MAX)
        );
    }
    let (gzip, brotli, name) = language;
    println!(
        "  and for a reader of another language, its file: at most {} gzip, {} brotli ({name})",
        kb(gzip),
        kb(brotli)
    );
    for ((name, when), [gzip, brotli]) in workers::WORKERS.into_iter().zip(worker) {
        if gzip == 0 {
            bail!("{DIST}/ has no {name}* files: the page could not start that worker");
        }
        println!("  and {when}: {} gzip, {} brotli", kb(gzip), kb(brotli));
    }
    Ok(())
}

/// The widget loader partners put on their pages must stay small.
const WIDGET_MAX_GZIPPED: u64 = 3 * 1024;

/// The tipster's first load, compressed as served, at most (bytes).
const FIRST_LOAD_MAX: u64 = 250_000;

fn check_widget_size(gzipped: &Path) -> Result<()> {
    let size = std::fs::metadata(gzipped)?.len();
    println!("{}: {size} bytes gzipped", gzipped.display());
    if size > WIDGET_MAX_GZIPPED {
        bail!(
            "{} is {size} bytes gzipped, over the widget's {WIDGET_MAX_GZIPPED}",
            gzipped.display()
        );
    }
    Ok(())
}

/// Decimal kilobytes, as the size target is stated.
pub fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
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

    /// The workers' elements, as the web build writes them.
    const WORKERS: &str = "<meta name=\"sealtip-replies\" data-js=\"/sealtip-replies.js\" \
        data-js-integrity=\"sha384-E\" data-wasm=\"/sealtip-replies_bg.wasm\" \
        data-wasm-integrity=\"sha384-F\"><meta name=\"sealtip-sealing\" \
        data-js=\"/sealtip-sealing.js\" data-js-integrity=\"sha384-G\" \
        data-wasm=\"/sealtip-sealing_bg.wasm\" data-wasm-integrity=\"sha384-H\">";

    #[test]
    fn every_loaded_file_needs_its_integrity_hash() -> Result<()> {
        let page = format!(
            "<link href=/style-1.css integrity=sha384-a rel=stylesheet>\
             <link href=/base-1.css integrity=sha384-e rel=stylesheet>\
             <meta data-js=/app-1.js data-wasm=/app-1_bg.wasm data-wasm-integrity=sha384-d \
             name=sealtip-app><script integrity=sha384-b src=/boot-1.js \
             type=module></script><link crossorigin href=/app-1.js integrity=sha384-c \
             rel=modulepreload>{WORKERS}"
        );
        check_integrity(&page)?;
        // The page's wasm, its module and its loader.
        assert!(check_integrity(&page.replace(" data-wasm-integrity=sha384-d", "")).is_err());
        assert!(check_integrity(&page.replace(" integrity=sha384-c", "")).is_err());
        assert!(check_integrity(&page.replace(" integrity=sha384-b", "")).is_err());
        // The workers' code is pinned too.
        assert!(check_integrity(&page.replace(WORKERS, "")).is_err());
        assert!(check_integrity(&page.replace(" data-wasm-integrity=\"sha384-F\"", "")).is_err());
        assert!(check_integrity(&page.replace(" data-wasm-integrity=\"sha384-H\"", "")).is_err());
        // As Trunk writes it unminified: quoted.
        check_integrity(&format!(
            "<link rel=\"stylesheet\" href=\"/b-1.css\" integrity=\"sha384-a\"/>\
             <link rel=\"stylesheet\" href=\"/s-1.css\" integrity=\"sha384-e\"/>\
             <meta name=\"sealtip-app\" data-js=\"/app-1.js\" data-wasm=\"/app-1_bg.wasm\" \
             data-wasm-integrity=\"sha384-d\">\
             <script src=\"/boot-1.js\" integrity=\"sha384-b\" type=\"module\"></script>\
             <link rel=\"modulepreload\" href=\"/app-1.js\" integrity=\"sha384-c\">\
             {WORKERS}"
        ))?;
        Ok(())
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
