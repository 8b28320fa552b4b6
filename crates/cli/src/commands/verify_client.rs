//! `sealtip verify-client URL --manifest FILE [--key PUBKEY]`: does a relay
//! serve exactly the released page? Fetches what a browser fetches for an
//! agency's page and for the widget, in every encoding the relay offers,
//! compares the bytes with the release's manifest (the agency's page with
//! the first screen made again from the release's files and the profile the
//! relay serves: `verify::first_screen`), and the security headers with
//! those the relay is built to send. One line per difference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::display;
use crate::proxy::ProxyArgs;
use crate::verify::manifest::Manifest;
use crate::verify::{first_screen, headers, html, signature};

/// Where the relay publishes the manifest of the page it serves.
const MANIFEST_PATH: &str = "/.well-known/sealtip/manifest.json";
/// Each `Accept-Encoding` asked for, as a browser that takes only it.
const ENCODINGS: [&str; 3] = ["identity", "gzip", "br"];
/// The largest answer read (the page's wasm is well under this).
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// Arguments of `sealtip verify-client`.
#[derive(clap::Args)]
pub struct Args {
    /// The relay, e.g. https://tips.example.org, or an agency's page on it,
    /// e.g. https://tips.example.org/a/city-police.
    #[arg(value_name = "URL")]
    url: String,
    /// The agency whose page is checked (else the /a/ID of URL).
    #[arg(long, value_name = "ID")]
    agency: Option<String>,
    /// The release's manifest.json (from the release, or from your own build
    /// of the release's commit: `cargo xtask web` writes dist/manifest.json).
    #[arg(long, value_name = "FILE")]
    manifest: PathBuf,
    /// Check the manifest's signature, FILE.sig beside it, with this ed25519
    /// public key (64 hex digits, or a file holding them) before anything
    /// else; no signature or a wrong one is an error.
    #[arg(long, value_name = "PUBKEY")]
    key: Option<String>,
    #[command(flatten)]
    proxy: ProxyArgs,
}

/// One thing to fetch: its path on the relay and what it must be.
struct Fetch {
    path: String,
    expected: Expected,
    /// An HTML page: its references are read, and it must not be stored.
    page: bool,
}

/// What a fetched answer is compared with.
enum Expected {
    /// The manifest's file of this name.
    File(String),
    /// The agency's page: `index.html` with the first screen of the profile
    /// the relay serves, made again from the checked files.
    FirstScreen,
}

/// Runs the check; differences make an error after they are printed.
pub fn run(args: Args) -> Result<()> {
    let manifest_bytes = std::fs::read(&args.manifest)
        .with_context(|| format!("cannot read {}", args.manifest.display()))?;
    if let Some(key) = &args.key {
        let key = signature::read_public_key(key)?;
        let sig_path = signature::signature_path(&args.manifest);
        let sig = std::fs::read_to_string(&sig_path)
            .with_context(|| format!("--key given, but cannot read {}", sig_path.display()))?;
        signature::verify(&key, &manifest_bytes, &sig)
            .with_context(|| format!("{} is not signed by --key", args.manifest.display()))?;
        println!(
            "signature: {} is signed by the given key",
            args.manifest.display()
        );
    }
    let manifest = Manifest::parse(&manifest_bytes)
        .with_context(|| format!("cannot read {}", args.manifest.display()))?;
    let (base, agency) = base_and_agency(&args.url, args.agency.as_deref())?;
    let agent = agent(args.proxy.choose()?);
    let https = base.starts_with("https://");

    let mut differences = BTreeSet::new();
    let mut note = |path: &str, line: String| {
        differences.insert(format!("{path}: {line}"));
    };
    match get(&agent, &format!("{base}{MANIFEST_PATH}"), "identity") {
        Ok((200, _, bytes)) if bytes == manifest_bytes => {}
        Ok((200, _, _)) => note(
            MANIFEST_PATH,
            format!("differs from {}", args.manifest.display()),
        ),
        Ok((status, _, _)) => note(
            MANIFEST_PATH,
            format!("HTTP {status}, no manifest published"),
        ),
        Err(error) => note(MANIFEST_PATH, error),
    }
    // The manifest's files first: the agency's page is made from them.
    let mut fetches: Vec<Fetch> = manifest
        .files
        .keys()
        .map(|name| Fetch {
            path: format!("/{name}"),
            expected: Expected::File(name.clone()),
            page: name.ends_with(".html"),
        })
        .collect();
    fetches.push(Fetch {
        path: format!("/embed?agency={agency}"),
        expected: Expected::File("index.html".into()),
        page: true,
    });
    fetches.push(Fetch {
        path: format!("/a/{agency}"),
        expected: Expected::FirstScreen,
        page: true,
    });
    // The files served as the manifest lists them (identity), by name.
    let mut files_checked: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut first_screen_page: Option<std::result::Result<Vec<u8>, String>> = None;
    let mut checked = 0usize;
    for fetch in &fetches {
        for asked in ENCODINGS {
            let url = format!("{base}{}", fetch.path);
            let (status, response_headers, bytes) = match get(&agent, &url, asked) {
                Ok(answer) => answer,
                Err(error) => {
                    note(&fetch.path, error);
                    continue;
                }
            };
            if status != 200 {
                note(
                    &fetch.path,
                    format!("HTTP {status} (Accept-Encoding: {asked})"),
                );
                continue;
            }
            let encoding =
                response_headers
                    .get("content-encoding")
                    .map_or("identity".to_owned(), |v| {
                        String::from_utf8_lossy(v.as_bytes())
                            .trim()
                            .to_ascii_lowercase()
                    });
            if encoding != "identity" && encoding != asked {
                note(
                    &fetch.path,
                    format!("served {encoding} when asked for {asked} only"),
                );
            }
            match &fetch.expected {
                Expected::File(name) => match manifest.difference(name, &encoding, &bytes) {
                    Some(line) => note(&fetch.path, line),
                    None if encoding == "identity" => {
                        files_checked.insert(name.clone(), bytes.clone());
                    }
                    None => {}
                },
                Expected::FirstScreen => {
                    let page = first_screen_page.get_or_insert_with(|| {
                        let profile = get(
                            &agent,
                            &format!("{base}/api/v1/agencies/{agency}"),
                            "identity",
                        )?;
                        first_screen::expected(&files_checked, &profile.2)
                    });
                    let served = match encoding.as_str() {
                        "identity" => Some(bytes.clone()),
                        "gzip" => gunzipped(&bytes),
                        _ => None,
                    };
                    match (page, served) {
                        (Err(why), _) => note(
                            &fetch.path,
                            format!("its first screen cannot be made again: {why}"),
                        ),
                        (Ok(_), None) => note(
                            &fetch.path,
                            format!(
                                "served {encoding}-encoded, which does not unpack; an agency's \
                                 page is served as is or gzipped"
                            ),
                        ),
                        (Ok(expected), Some(bytes)) if *expected != bytes => note(
                            &fetch.path,
                            format!(
                                "{} bytes with SHA-256 {}, not the first screen of the agency's \
                                 profile in the released page ({} bytes with SHA-256 {})",
                                bytes.len(),
                                hex::encode(Sha256::digest(&bytes)),
                                expected.len(),
                                hex::encode(Sha256::digest(expected.as_slice())),
                            ),
                        ),
                        (Ok(_), Some(_)) => {}
                    }
                }
            }
            for line in headers::differences(&response_headers, fetch.page, https) {
                note(&fetch.path, line);
            }
            if fetch.page && encoding == "identity" {
                let found = html::references(&String::from_utf8_lossy(&bytes));
                for problem in found.problems {
                    note(&fetch.path, format!("the page has {problem}"));
                }
                for path in found.paths {
                    if !manifest.files.contains_key(&path) {
                        note(
                            &fetch.path,
                            format!("the page loads /{path}, which the manifest does not list"),
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    if differences.is_empty() {
        println!(
            "{}: serves exactly the {} files of the manifest (commit {}) for agency {agency} \
             ({checked} answers checked), with the headers the relay is built to send",
            display::line(&base),
            manifest.files.len(),
            display::line(&manifest.commit)
        );
        return Ok(());
    }
    for line in &differences {
        println!("{}", display::line(line));
    }
    bail!(
        "{} difference(s) between {} and the manifest of commit {}",
        differences.len(),
        base,
        manifest.commit
    )
}

/// The relay's base URL and the agency checked.
fn base_and_agency(url: &str, agency: Option<&str>) -> Result<(String, String)> {
    let url = url.trim().trim_end_matches('/');
    let Some((scheme, rest)) = url.split_once("://") else {
        bail!("URL must be an http:// or https:// address");
    };
    if scheme != "https" && scheme != "http" {
        bail!("URL must be an http:// or https:// address");
    }
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let from_url = path.strip_prefix("a/");
    if !path.is_empty() && from_url.is_none() {
        bail!("URL must be the relay's address or an agency's page (…/a/ID)");
    }
    let Some(agency) = agency.or(from_url) else {
        bail!("name the agency: --agency ID, or its page as URL (…/a/ID)");
    };
    let plain = !agency.is_empty()
        && agency.len() <= 63
        && agency
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !agency.starts_with('-');
    if !plain {
        bail!("\"{}\" is not an agency id", display::line(agency));
    }
    Ok((format!("{scheme}://{host}"), agency.to_owned()))
}

/// An HTTP client as the CLI's others are, that follows no redirect and
/// takes any status as an answer.
fn agent(proxy: Option<ureq::Proxy>) -> ureq::Agent {
    let connect = if proxy.is_some() { 90 } else { 20 };
    ureq::Agent::config_builder()
        .proxy(proxy)
        .timeout_connect(Some(Duration::from_secs(connect)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("sealtip")
        .build()
        .into()
}

/// Status, headers and the body's bytes as sent (never decoded).
fn get(
    agent: &ureq::Agent,
    url: &str,
    encoding: &str,
) -> std::result::Result<(u16, ureq::http::HeaderMap, Vec<u8>), String> {
    let response = agent
        .get(url)
        .header("accept-encoding", encoding)
        .call()
        .map_err(|error| format!("cannot fetch it: {error}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|error| format!("cannot read its body: {error}"))?;
    Ok((status, headers, bytes))
}

/// `bytes` unpacked from gzip, at most [`MAX_BODY`] of them (a relay may
/// send a small body that unpacks to gigabytes); `None` if they do not
/// unpack, or unpack to more.
fn gunzipped(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_BODY + 1)
        .read_to_end(&mut plain)
        .ok()?;
    (plain.len() as u64 <= MAX_BODY).then_some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gzipped_page_is_unpacked_within_its_limit() {
        use std::io::Write;
        let gzip = |bytes: &[u8]| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(bytes).unwrap();
            encoder.finish().unwrap()
        };
        assert_eq!(
            gunzipped(&gzip(b"<!doctype html>")).unwrap(),
            b"<!doctype html>"
        );
        assert!(gunzipped(b"<!doctype html>").is_none());
        let bomb = gzip(&vec![0; MAX_BODY as usize + 1]);
        assert!(bomb.len() < 1 << 20);
        assert!(gunzipped(&bomb).is_none());
    }

    #[test]
    fn the_agency_comes_from_the_flag_or_the_page_address() -> Result<()> {
        let (base, agency) = base_and_agency("https://tips.example.org/a/city-police/", None)?;
        assert_eq!(
            (base.as_str(), agency.as_str()),
            ("https://tips.example.org", "city-police")
        );
        let (base, agency) = base_and_agency("http://127.0.0.1:8080", Some("demo"))?;
        assert_eq!(
            (base.as_str(), agency.as_str()),
            ("http://127.0.0.1:8080", "demo")
        );
        assert!(base_and_agency("https://tips.example.org", None).is_err());
        assert!(base_and_agency("https://tips.example.org/a/../x", None).is_err());
        assert!(base_and_agency("ftp://tips.example.org/a/demo", None).is_err());
        Ok(())
    }
}
