//! An agency's page carries its first screen in the HTML, made from the
//! built page, the built language files and the profile the relay serves.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::start;
use sealtip_api::first_screen::{Languages, render_page};

const TEMPLATE: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n<title>sealtip</title>\n</head>\n<body></body>\n</html>\n";

/// A relay whose dist folder holds `TEMPLATE` and the page's language files.
async fn relay_with_page() -> (common::TestRelay, Languages) {
    let relay = start(|_| String::new(), |_| {}).await;
    let dist = relay.dir.path().join("dist");
    std::fs::create_dir_all(dist.join("i18n")).unwrap();
    std::fs::write(dist.join("index.html"), TEMPLATE).unwrap();
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/i18n");
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dist.join("i18n").join(path.file_name().unwrap())).unwrap();
    }
    let languages = languages_in(&dist);
    (relay, languages)
}

/// The language files of `dist`, as the test reads them.
fn languages_in(dist: &std::path::Path) -> Languages {
    let files: Vec<(String, String)> = std::fs::read_dir(dist.join("i18n"))
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let tag = path.file_stem().unwrap().to_str().unwrap().to_owned();
            (tag, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    Languages::from_files(files.iter().map(|(t, s)| (t.as_str(), s.as_str()))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agencys_page_is_its_first_screen_made_from_the_served_profile() {
    let (relay, languages) = relay_with_page().await;
    let profile = relay.profile("demo").await;
    for path in ["/a/demo", "/a/demo/"] {
        let response = relay
            .client
            .get(relay.url(path))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(headers["cache-control"], "no-store");
        // Gzipped for a browser that accepts it.
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(headers["vary"], "Accept-Encoding");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        let gzipped = response.bytes().await.unwrap();
        let mut page = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut page)
            .unwrap();
        assert!(
            gzipped.len() * 2 < page.len(),
            "{} of {}",
            gzipped.len(),
            page.len()
        );
        assert_eq!(page, render_page(TEMPLATE, &profile, &languages).unwrap());
        assert!(page.contains(&format!("<h1 dir=\"auto\">{}</h1>", profile.name)));
        assert!(page.contains("<textarea id=\"q-what\""));
        // As it is for a client that does not accept gzip (`sealtip
        // verify-client` compares these bytes).
        for accepted in [None, Some("br"), Some("gzip;q=0")] {
            let mut request = relay.client.get(relay.url(path));
            if let Some(accepted) = accepted {
                request = request.header("accept-encoding", accepted);
            }
            let response = request.send().await.unwrap();
            assert!(response.headers().get("content-encoding").is_none());
            assert_eq!(response.text().await.unwrap(), page, "{accepted:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_pages_are_served_as_built() {
    let (relay, _) = relay_with_page().await;
    for path in ["/", "/embed?agency=demo", "/a/nobody", "/index.html"] {
        let response = relay.client.get(relay.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.unwrap(), TEMPLATE, "{path}");
    }
    // A build with no place for the first screen is served as it is.
    let dist = relay.dir.path().join("dist");
    std::fs::write(dist.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let response = relay.client.get(relay.url("/a/demo")).send().await.unwrap();
    assert_eq!(
        response.text().await.unwrap(),
        "<!doctype html><title>t</title>"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_page_is_served_at_once() {
    let (relay, languages) = relay_with_page().await;
    let profile = relay.profile("demo").await;
    let page = async || {
        let response = relay.client.get(relay.url("/a/demo")).send().await.unwrap();
        response.text().await.unwrap()
    };
    assert_eq!(
        page().await,
        render_page(TEMPLATE, &profile, &languages).unwrap()
    );
    assert_eq!(page().await, page().await, "the same page again");

    // A new build of the page: another template, and the English words changed.
    let dist = relay.dir.path().join("dist");
    let rebuilt = TEMPLATE.replace("<head>", "<head><meta name=\"build\" content=\"2\">");
    std::fs::write(dist.join("index.html"), &rebuilt).unwrap();
    let english = std::fs::read_to_string(dist.join("i18n/en.ftl")).unwrap();
    let line = english
        .lines()
        .find(|line| line.starts_with("safer-device ="))
        .unwrap();
    let english = english.replace(line, "safer-device = Use a device nobody else reads.");
    std::fs::write(dist.join("i18n/en.ftl"), &english).unwrap();
    let languages = languages_in(&dist);

    let served = page().await;
    assert_eq!(served, render_page(&rebuilt, &profile, &languages).unwrap());
    assert!(served.contains("<meta name=\"build\" content=\"2\">"));
    assert!(served.contains("Use a device nobody else reads."));
}
