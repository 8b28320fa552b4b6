//! The API description cannot drift from the code: the router's table of
//! routes, `openapi.json` and the route table of `docs/api.md` name the same
//! paths, each with the methods the running relay answers.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use sealtip_relay::http::routes;
use sealtip_relay::store::sqlite::SqliteStore;

/// The methods probed on every path; PUT is routed nowhere, so a route that
/// starts answering it shows here.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Paths, each with its methods.
type Routes = BTreeMap<String, BTreeSet<String>>;

/// What `openapi.json` describes.
fn described() -> Routes {
    let description: serde_json::Value =
        serde_json::from_str(include_str!("../src/openapi.json")).unwrap();
    description["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, operations)| {
            let methods = operations
                .as_object()
                .unwrap()
                .keys()
                .map(|m| m.to_ascii_uppercase())
                .filter(|m| METHODS.contains(&m.as_str()))
                .collect();
            (path.clone(), methods)
        })
        .collect()
}

/// What the route table of `docs/api.md` lists: its rows `| \`METHOD path\` |`.
fn documented() -> Routes {
    let text = include_str!("../../../docs/api.md");
    let table = text
        .split("\n## Routes\n")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let mut routes = Routes::new();
    for line in table.lines() {
        let Some(cell) = line.strip_prefix("| `") else {
            continue;
        };
        let Some((method, rest)) = cell.split_once(' ') else {
            continue;
        };
        let Some((path, _)) = rest.split_once('`') else {
            continue;
        };
        if METHODS.contains(&method) {
            routes
                .entry(path.to_owned())
                .or_default()
                .insert(method.to_owned());
        }
    }
    routes
}

/// `path` with its parameters filled with well-formed values.
fn concrete(path: &str) -> String {
    path.replace("{agency}", "demo")
        .replace("{upload}", "0123456789abcdef0123456789abcdef")
        .replace("{item}", "0123456789abcdef0123456789abcdef")
        .replace("{mailbox}", "0123456789abcdef0123456789abcdef")
        .replace("{reply}", "0123456789abcdef0123456789abcdef")
}

#[tokio::test]
async fn openapi_json_and_the_docs_describe_exactly_the_routes_the_relay_answers() {
    let relay = common::start(|_| String::new(), |_| {}).await;
    let table: BTreeSet<String> = routes::<SqliteStore>()
        .into_iter()
        .map(|(path, _)| path.to_owned())
        .collect();

    // What the running relay answers on each path of its table: 405 means
    // the method is not routed there.
    let mut answered = Routes::new();
    for path in &table {
        let url = relay.url(&concrete(path));
        let mut methods = BTreeSet::new();
        for method in METHODS {
            let method_of = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let response = relay.client.request(method_of, &url).send().await.unwrap();
            if response.status() != 405 {
                methods.insert(method.to_owned());
            }
        }
        assert!(!methods.is_empty(), "{path} answers no method");
        answered.insert(path.clone(), methods);
    }

    // A path outside the table is not routed at all: 404, whatever the method.
    for method in METHODS {
        let method_of = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = relay
            .client
            .request(method_of, relay.url("/api/v1/nothing-here"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method}");
    }

    assert_eq!(described(), answered, "openapi.json against the router");
    assert_eq!(documented(), answered, "docs/api.md against the router");
}
