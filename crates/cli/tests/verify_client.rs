//! `sealtip verify-client` and `sealtip sign-manifest` as an agency runs them:
//! a small built page and its manifest served by a tiny server that answers
//! as the relay does (a `.br` or `.gz` copy when accepted, the relay's
//! security headers), then tampered with: one byte of the wasm, a script
//! added to the page, a weaker Content-Security-Policy. Each is told in a
//! line naming what differs, with a non-zero exit; the untouched page passes;
//! a signature by another key, or over another manifest, fails. The
//! agency's page (`/a/demo`) is served as the relay serves it, with the
//! agency's first screen made from the page, its language files and the
//! profile; another first screen is caught too.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use sealtip_api::AgencyProfile;
use sealtip_api::first_screen::{Languages, render_page};
use sealtip_harness::http::{Request, Response};
use sealtip_harness::relay::edit_config;
use sealtip_harness::{RelayProcess, init_relay};
use sha2::{Digest, Sha256};

mod common;
use common::sealtip;

/// The relay's Content-Security-Policy for a page no partner may frame.
const RELAY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; \
    font-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";
const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), \
    display-capture=(), encrypted-media=(), geolocation=(), gyroscope=(), hid=(), \
    magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), \
    publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), \
    xr-spatial-tracking=()";

const WASM: &str = "sealtip-web-0123456789abcdef_bg.wasm";

/// A built page: its files, each with a gzip and a brotli copy where the
/// web build makes them.
const FILES: [(&str, &str); 9] = [
    (
        "index.html",
        "<!doctype html><html lang=\"en\"><title>sealtip</title><link href=/style-0123456789abcdef.css \
         integrity=sha384-x rel=stylesheet><meta data-js=/sealtip-web-0123456789abcdef.js \
         data-wasm=/sealtip-web-0123456789abcdef_bg.wasm name=sealtip-app><script \
         integrity=sha384-y src=/boot-0123456789abcdef.js type=module></script></head>\
         <body></body></html>",
    ),
    ("style-0123456789abcdef.css", "body{margin:0}"),
    (
        "boot-0123456789abcdef.js",
        "import('/sealtip-web-0123456789abcdef.js')",
    ),
    (
        "sealtip-web-0123456789abcdef.js",
        "export default function(){}",
    ),
    (WASM, "\0asm\x01\0\0\0 the page"),
    ("sealtip-replies.js", "let wasm_bindgen = (function(){})()"),
    ("embed.js", "(function(){})()"),
    ("i18n/es.ftl", "-language-name = Español\nsend = Enviar"),
    (
        "i18n/en.ftl",
        "-language-name = English\npage-title = Send a tip\nsend = Send",
    ),
];

/// The agency's profile, as `GET /api/v1/agencies/demo` serves it.
const PROFILE: &str = r#"{"id":"demo","name":"Demo agency","recipients":[],
    "languages":["en"],"form":{"id":"demo-1","questions":[]},
    "emergency":{"en":"In danger? Call 112."},"exit_url":"https://example.org/",
    "pow_difficulty":8,"max_upload_bytes":1000000}"#;

/// What the tiny server answers with.
struct Served {
    dist: PathBuf,
    policy: String,
    /// The emergency line in the first screen of `/a/demo`, if not the
    /// profile's own.
    emergency: Option<String>,
}

/// A relay stand-in on 127.0.0.1 serving `dist` as the relay does.
struct Server {
    url: String,
    served: Arc<Mutex<Served>>,
    dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let dist = built_page(dir.path());
        let served = Arc::new(Mutex::new(Served {
            dist,
            policy: RELAY_POLICY.to_owned(),
            emergency: None,
        }));
        let shared = Arc::clone(&served);
        let server = sealtip_harness::http::Server::start("127.0.0.1", move |request| {
            answer(request, &shared)
        })
        .unwrap();
        Server {
            url: server.url,
            served,
            dir,
        }
    }

    fn dist(&self) -> PathBuf {
        self.served.lock().unwrap().dist.clone()
    }

    /// The release's manifest as the agency keeps it.
    fn manifest(&self) -> String {
        self.dir.path().join("manifest.json").display().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn verify(&self, extra: &[&str]) -> Output {
        let page = format!("{}/a/demo", self.url);
        let mut args = vec!["verify-client", page.as_str(), "--manifest"];
        let manifest = self.manifest();
        args.push(&manifest);
        args.extend_from_slice(extra);
        sealtip(self.dir.path(), &args)
    }
}

/// A built page in `dir/dist`, its manifest in it and, as the agency keeps
/// it, in `dir/manifest.json`.
fn built_page(dir: &Path) -> PathBuf {
    let dist = dir.join("dist");
    std::fs::create_dir_all(dist.join("i18n")).unwrap();
    for (name, text) in FILES {
        std::fs::write(dist.join(name), text).unwrap();
        if name != "embed.js" {
            std::fs::write(dist.join(format!("{name}.gz")), format!("gzip of {text}")).unwrap();
            std::fs::write(dist.join(format!("{name}.br")), format!("br of {text}")).unwrap();
        }
    }
    let manifest = manifest(&dist);
    std::fs::write(dist.join("manifest.json"), &manifest).unwrap();
    std::fs::write(dir.join("manifest.json"), &manifest).unwrap();
    dist
}

/// The manifest the web build writes for `dist` (see xtask/src/manifest.rs).
fn manifest(dist: &Path) -> String {
    let entry = |path: &Path| {
        let bytes = std::fs::read(path).unwrap();
        serde_json::json!({ "size": bytes.len(), "sha256": hex::encode(Sha256::digest(&bytes)) })
    };
    let mut files = serde_json::Map::new();
    for (name, _) in FILES {
        let mut forms = serde_json::Map::new();
        forms.insert("identity".into(), entry(&dist.join(name)));
        for (encoding, suffix) in [("gzip", "gz"), ("br", "br")] {
            let copy = dist.join(format!("{name}.{suffix}"));
            if copy.exists() {
                forms.insert(encoding.into(), entry(&copy));
            }
        }
        files.insert(name.into(), forms.into());
    }
    let manifest =
        serde_json::json!({ "sealtip_manifest": 1, "commit": "unknown", "files": files });
    serde_json::to_string_pretty(&manifest).unwrap()
}

/// `/a/demo` as the relay serves it: the page with the first screen of
/// [`PROFILE`] (its emergency line replaced by `emergency`, if any), or
/// the page as built.
fn agency_page(dist: &Path, emergency: Option<&str>) -> Vec<u8> {
    let read = |name: &str| std::fs::read_to_string(dist.join(name)).unwrap();
    let files: Vec<(&str, String)> = FILES
        .iter()
        .filter_map(|(name, _)| {
            let tag = name.strip_prefix("i18n/")?.strip_suffix(".ftl")?;
            Some((tag, read(name)))
        })
        .collect();
    let languages = Languages::from_files(files.iter().map(|(t, s)| (*t, s.as_str()))).unwrap();
    let mut profile: AgencyProfile = serde_json::from_str(PROFILE).unwrap();
    if let Some(line) = emergency {
        profile.emergency.insert("en".into(), line.into());
    }
    // Like the relay, the page as built when it has no place for the screen.
    let template = read("index.html");
    render_page(&template, &profile, &languages)
        .unwrap_or(template)
        .into_bytes()
}

/// Answers one request as the relay's asset serving does.
fn answer(request: &Request, served: &Mutex<Served>) -> Response {
    let accepted = request.header("accept-encoding").unwrap_or_default();
    let (dist, policy, emergency) = {
        let served = served.lock().unwrap();
        (
            served.dist.clone(),
            served.policy.clone(),
            served.emergency.clone(),
        )
    };
    let headers = |response: Response, cache: &str| {
        response
            .with_header("content-security-policy", &policy)
            .with_header("x-content-type-options", "nosniff")
            .with_header("referrer-policy", "no-referrer")
            .with_header("cross-origin-opener-policy", "same-origin")
            .with_header("permissions-policy", PERMISSIONS_POLICY)
            .with_header("cache-control", cache)
    };
    match request.path.as_str() {
        "/a/demo" => {
            let page = agency_page(&dist, emergency.as_deref());
            return headers(Response::ok("text/html; charset=utf-8", page), "no-store");
        }
        "/api/v1/agencies/demo" => {
            let profile = PROFILE.as_bytes().to_vec();
            return headers(Response::ok("application/json", profile), "no-store");
        }
        _ => {}
    }
    let name = match request.path.as_str() {
        "/embed" => "index.html".to_owned(),
        "/.well-known/sealtip/manifest.json" => "manifest.json".to_owned(),
        path => path.trim_start_matches('/').to_owned(),
    };
    let mut body = std::fs::read(dist.join(&name)).ok();
    let mut encoding = None;
    for (wanted, suffix) in [("br", "br"), ("gzip", "gz")] {
        if accepted.contains(wanted)
            && let Ok(copy) = std::fs::read(dist.join(format!("{name}.{suffix}")))
        {
            body = Some(copy);
            encoding = Some(wanted);
            break;
        }
    }
    let response = match body {
        Some(body) => Response::ok("application/octet-stream", body),
        None => Response::new(
            404,
            "application/json",
            b"{\"error\":\"not found\"}".to_vec(),
        ),
    };
    let cache = if name.ends_with(".html") {
        "no-store"
    } else {
        "no-cache"
    };
    let response = headers(response, cache);
    match encoding {
        Some(encoding) => response.with_header("content-encoding", encoding),
        None => response,
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs verify-client expecting differences; returns its stdout lines.
fn differences(server: &Server, extra: &[&str]) -> Vec<String> {
    let out = server.verify(extra);
    assert!(
        !out.status.success(),
        "verify-client passed: {}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("difference(s)"), "{}", stderr(&out));
    stdout(&out).lines().map(str::to_owned).collect()
}

#[test]
fn the_released_page_as_built_passes() {
    let server = Server::start();
    let out = server.verify(&[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("serves exactly the 9 files of the manifest"),
        "{}",
        stdout(&out)
    );
}

/// The real relay serving the page: its headers are the ones verify-client
/// holds it to, and it publishes the manifest.
#[test]
fn the_real_relay_serving_the_released_page_passes() {
    let dir = tempfile::tempdir().unwrap();
    let dist = built_page(dir.path());
    let config = init_relay(dir.path()).unwrap();
    edit_config(&config, |text| {
        text.replace(
            "dist = \"dist\"",
            &format!("dist = {:?}", dist.display().to_string()),
        )
    })
    .unwrap();
    let relay = RelayProcess::start_on_free_port(dir.path()).unwrap();
    let page = format!("{}/a/demo", relay.url);
    let manifest = dir.path().join("manifest.json").display().to_string();
    let out = sealtip(
        dir.path(),
        &["verify-client", &page, "--manifest", &manifest],
    );
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("serves exactly the 9 files"),
        "{}",
        stdout(&out)
    );

    std::fs::write(dist.join(WASM), "\0asm\x01\0\0\0 other code").unwrap();
    let out = sealtip(
        dir.path(),
        &["verify-client", &page, "--manifest", &manifest],
    );
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains(&format!("/{WASM}: ")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn one_byte_changed_in_the_wasm_is_caught() {
    let server = Server::start();
    let wasm = server.dist().join(WASM);
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&wasm, bytes).unwrap();
    let lines = differences(&server, &[]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("/{WASM}: 17 bytes with SHA-256 ")),
        "{lines:?}"
    );
    assert!(
        lines[0].ends_with(&format!("({WASM}, identity)")),
        "{lines:?}"
    );
}

#[test]
fn a_script_added_to_the_page_is_caught() {
    let server = Server::start();
    let dist = server.dist();
    for name in ["index.html", "index.html.gz", "index.html.br"] {
        let page = std::fs::read_to_string(dist.join(name)).unwrap();
        let page = page.replace("<body>", "<body><script src=/extra.js></script>");
        std::fs::write(dist.join(name), page).unwrap();
    }
    std::fs::write(dist.join("extra.js"), "steal()").unwrap();
    let lines = differences(&server, &[]);
    for page in ["/a/demo", "/embed?agency=demo", "/index.html"] {
        assert!(
            lines.contains(&format!(
                "{page}: the page loads /extra.js, which the manifest does not list"
            )),
            "{lines:?}"
        );
        if page == "/a/demo" {
            // The agency's page is made from the released index.html only.
            assert!(
                lines.contains(&format!(
                    "{page}: its first screen cannot be made again: \
                     index.html was not served as the manifest lists it"
                )),
                "{lines:?}"
            );
            continue;
        }
        for encoding in ["identity", "gzip", "br"] {
            let changed = format!("(index.html, {encoding})");
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&format!("{page}: ")) && l.ends_with(&changed)),
                "{page} {encoding}: {lines:?}"
            );
        }
    }
}

#[test]
fn another_first_screen_is_caught() {
    let server = Server::start();
    server.served.lock().unwrap().emergency = Some("In danger? Call 555-0100.".to_owned());
    let lines = differences(&server, &[]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("/a/demo: ")
            && lines[0]
                .contains("not the first screen of the agency's profile in the released page"),
        "{lines:?}"
    );
}

#[test]
fn a_weaker_content_security_policy_is_caught() {
    let server = Server::start();
    server.served.lock().unwrap().policy =
        RELAY_POLICY.replace("'wasm-unsafe-eval'", "'wasm-unsafe-eval' 'unsafe-inline'");
    let lines = differences(&server, &[]);
    let weaker = "Content-Security-Policy script-src is \"'self' 'wasm-unsafe-eval' \
                  'unsafe-inline'\", the relay sends \"'self' 'wasm-unsafe-eval'\"";
    assert!(lines.contains(&format!("/a/demo: {weaker}")), "{lines:?}");
    assert!(lines.iter().all(|line| line.ends_with(weaker)), "{lines:?}");
}

#[test]
fn a_manifest_signed_by_the_release_key_passes_and_any_other_fails() {
    let server = Server::start();
    let key = server.path("release.key");
    let out = sealtip(server.dir.path(), &["sign-manifest", "--new-key", &key]);
    assert!(out.status.success(), "{}", stderr(&out));
    let public = stdout(&out).trim().to_owned();
    assert_eq!(public.len(), 64, "{public}");
    let out = sealtip(
        server.dir.path(),
        &["sign-manifest", &server.manifest(), "--key", &key],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = server.verify(&["--key", &public]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).starts_with("signature: "), "{}", stdout(&out));

    // Another key's public key.
    let other = server.path("other.key");
    let out = sealtip(server.dir.path(), &["sign-manifest", "--new-key", &other]);
    let other_public = stdout(&out).trim().to_owned();
    refused_as_unsigned(&server, &other_public);

    // The right key, but the manifest changed after signing.
    let manifest = std::fs::read_to_string(server.manifest()).unwrap();
    std::fs::write(server.manifest(), manifest.replace("unknown", "0000")).unwrap();
    refused_as_unsigned(&server, &public);
}

/// verify-client with `--key` stops before fetching anything.
fn refused_as_unsigned(server: &Server, key: &str) {
    let out = server.verify(&["--key", key]);
    assert!(!out.status.success());
    let error = stderr(&out);
    assert!(error.contains("is not signed by --key"), "{error}");
    assert!(stdout(&out).is_empty(), "nothing fetched: {}", stdout(&out));
}
