//! The relay's API over real HTTP, against a relay on port 0.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{error_line, news_agency, raw, sealed, start};
use sealtip_api::{AgencyProfile, Created, ItemKind, Mailbox, is_valid_id, pow};
use sealtip_envelope::mailbox_id_of_secret;

const MAILBOX: &str = "0123456789abcdef0123456789abcdef";

fn none(_: &sealtip_envelope::Recipient) -> String {
    String::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tip_is_stored_listed_fetched_and_deleted() {
    let relay = start(none, |_| {}).await;
    let profile: AgencyProfile = relay
        .client
        .get(relay.url("/api/v1/agencies/demo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile.recipients, vec![relay.recipient.to_string()]);
    assert_eq!(profile.pow_difficulty, 0);
    assert!(!profile.form.questions.is_empty());

    let tip = sealed(&relay.recipient, 200_000);
    let response = relay.post_tip("demo", tip.clone()).await;
    assert_eq!(response.status(), 201);
    let created: Created = response.json().await.unwrap();
    assert!(is_valid_id(&created.id));

    let message = sealed(&relay.recipient, 10);
    let proof = relay.proof().await;
    let response = relay
        .post_sealed(
            "/api/v1/agencies/demo/messages",
            message.clone(),
            Some(&proof),
        )
        .await;
    assert_eq!(response.status(), 201);

    let inbox = relay.inbox().await;
    assert_eq!(inbox.items.len(), 2);
    assert_eq!(inbox.items[0].id, created.id);
    assert_eq!(inbox.items[0].kind, ItemKind::Tip);
    assert_eq!(inbox.items[0].size, tip.len() as u64);
    assert_eq!(inbox.items[1].kind, ItemKind::Message);
    let hour = sealtip_relay::time::rfc3339_hour(sealtip_relay::time::now());
    assert!(inbox.items.iter().all(|i| i.received == hour), "{inbox:?}");

    let path = format!("/api/v1/agencies/demo/inbox/{}", created.id);
    let fetched = relay.get_authed(&path).await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), tip);

    let delete = |token: String| {
        relay
            .client
            .delete(relay.url(&path))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(delete("wrong".into()).await.unwrap().status(), 401);
    assert_eq!(delete(relay.token.clone()).await.unwrap().status(), 204);
    assert_eq!(delete(relay.token.clone()).await.unwrap().status(), 404);
    assert_eq!(relay.get_authed(&path).await.status(), 404);
    assert_eq!(relay.inbox().await.items.len(), 1);
    assert!(!relay.blob_names().contains(&created.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_of_work_is_required_checked_and_single_use() {
    let relay = start(none, |c| c.pow.difficulty = 8).await;
    let tip = sealed(&relay.recipient, 100);
    let path = "/api/v1/agencies/demo/tips";
    let now = sealtip_relay::time::now();
    let fresh = pow::issue(&relay.secret, 8, now + 600, [9; 16]);
    let solved = pow::solve(&fresh).unwrap();
    let unsolved = (0..).find(|n| !pow::is_solution(&fresh, *n, 8)).unwrap();
    let expired = pow::issue(&relay.secret, 0, now - 1, [8; 16]);
    let foreign = pow::issue(b"another relay's secret", 0, now + 600, [7; 16]);
    let too_easy = pow::issue(&relay.secret, 0, now + 600, [6; 16]);
    let cases: Vec<(Option<String>, u16, &str)> = vec![
        (None, 400, "missing Sealtip-Proof"),
        (Some("garbage".into()), 400, "malformed"),
        (Some(format!("{fresh}:x")), 400, "malformed"),
        (Some(pow::proof_header(&fresh, unsolved)), 403, "wrong"),
        (Some(pow::proof_header(&expired, 0)), 403, "expired"),
        (Some(pow::proof_header(&foreign, 0)), 403, "not issued"),
    ];
    for (proof, status, reason) in cases {
        let response = relay.post_sealed(path, tip.clone(), proof.as_deref()).await;
        assert_eq!(response.status(), status, "{proof:?}");
        assert!(
            error_line(&response.text().await.unwrap()).contains(reason),
            "{reason}"
        );
    }
    // A token that asks for less work than the relay does is still the
    // relay's own; the relay trusts its signed difficulty.
    let response = relay
        .post_sealed(path, tip.clone(), Some(&pow::proof_header(&too_easy, 0)))
        .await;
    assert_eq!(response.status(), 201);

    let good = pow::proof_header(&fresh, solved);
    assert_eq!(
        relay
            .post_sealed(path, tip.clone(), Some(&good))
            .await
            .status(),
        201
    );
    let replay = relay.post_sealed(path, tip.clone(), Some(&good)).await;
    assert_eq!(replay.status(), 409);
    assert!(error_line(&replay.text().await.unwrap()).contains("already used"));
    assert_eq!(relay.inbox().await.items.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_a_4xx_and_change_nothing() {
    let relay = start(none, |c| c.limits.max_upload_bytes = 1024 * 1024).await;
    assert_eq!(
        relay
            .post_tip("demo", sealed(&relay.recipient, 1000))
            .await
            .status(),
        201
    );
    let before = relay.snapshot().await;
    let names_before = relay.blob_names();

    let good = sealed(&relay.recipient, 300_000);
    let header_end = good.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    let header_end = header_end + good[header_end..].iter().position(|b| *b == b'\n').unwrap() + 1;
    let mut cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("empty", Vec::new(), 400),
        ("garbage", b"hello, this is not sealed".to_vec(), 400),
        (
            "another version",
            b"age-encryption.org/v2\n-> X25519 a\nAAAA\n--- AAAA\n".to_vec(),
            400,
        ),
        ("cut in the header", good[..header_end / 2].to_vec(), 400),
        ("header only", good[..header_end].to_vec(), 400),
        ("cut after the nonce", good[..header_end + 20].to_vec(), 400),
        (
            "cut inside a tag",
            good[..header_end + 16 + 65536 + 16 + 8].to_vec(),
            400,
        ),
    ];
    let mut endless = b"age-encryption.org/v1\n-> X25519 a\n".to_vec();
    endless.extend(std::iter::repeat_n(b'A', 70_000));
    cases.push(("endless header", endless, 400));
    for (name, body, status) in cases {
        let response = relay.post_tip("demo", body).await;
        assert_eq!(response.status(), status, "{name}");
        error_line(&response.text().await.unwrap());
    }

    // Oversize, streamed without a declared length.
    let mut oversize = good[..header_end].to_vec();
    oversize.resize(1024 * 1024 + 1, b'a');
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        oversize.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let response = relay
        .client
        .post(relay.url("/api/v1/agencies/demo/tips"))
        .header("content-type", "application/octet-stream")
        .header("sealtip-proof", relay.proof().await)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            pieces,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    error_line(&response.text().await.unwrap());

    // Wrong or missing content type.
    let proof = relay.proof().await;
    for content_type in [Some("text/plain"), Some("application/json"), None] {
        let mut request = relay
            .client
            .post(relay.url("/api/v1/agencies/demo/tips"))
            .header("sealtip-proof", &proof)
            .body(good.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 415, "{content_type:?}");
        error_line(&response.text().await.unwrap());
    }

    // Unknown agency, and agency ids that try to be paths.
    for agency in ["nobody", "..", "Demo", "demo%2F..", "%2e%2e"] {
        let response = relay.post_tip(agency, good.clone()).await;
        assert_eq!(response.status(), 404, "{agency}");
        error_line(&response.text().await.unwrap());
    }

    // Declared oversize: refused before any byte of the body is read.
    let proof = relay.proof().await;
    let request = format!(
        "POST /api/v1/agencies/demo/tips HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\n\
         sealtip-proof: {proof}\r\ncontent-length: 99999999999\r\nconnection: close\r\n\r\n"
    );
    let (status, _, body) = raw(relay.addr, request.as_bytes()).await;
    assert_eq!(status, 413);
    error_line(&body);

    // A chunked body that stops without its last chunk.
    let proof = relay.proof().await;
    let mut request = format!(
        "POST /api/v1/agencies/demo/tips HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\n\
         sealtip-proof: {proof}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n",
        header_end + 100
    )
    .into_bytes();
    request.extend_from_slice(&good[..header_end + 100]);
    request.extend_from_slice(b"\r\n");
    let stream = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stream = stream;
        stream.write_all(&request).await.unwrap();
        stream.shutdown().await.unwrap();
        drop(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    assert_eq!(relay.snapshot().await, before);
    assert_eq!(relay.blob_names(), names_before, "no leftover files");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_routes_need_the_agency_token() {
    let relay = start(news_agency, |_| {}).await;
    relay.post_tip("demo", sealed(&relay.recipient, 10)).await;
    let id = relay.inbox().await.items[0].id.clone();
    let paths = [
        "/api/v1/agencies/demo/inbox".to_owned(),
        format!("/api/v1/agencies/demo/inbox/{id}"),
    ];
    for path in &paths {
        let cases: [Option<String>; 5] = [
            None,
            Some("Bearer".into()),
            Some("Bearer wrong".into()),
            Some(format!("Basic {}", relay.token)),
            Some(format!("Bearer {}x", relay.token)),
        ];
        for auth in cases {
            let mut request = relay.client.get(relay.url(path));
            if let Some(auth) = &auth {
                request = request.header("authorization", auth);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{path} {auth:?}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            error_line(&response.text().await.unwrap());
        }
        let ok = relay
            .client
            .get(relay.url(path))
            .header("authorization", format!("bearer {}", relay.token))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{path}");
    }
    // The demo token opens no other agency's inbox.
    let other = relay
        .client
        .get(relay.url("/api/v1/agencies/news/inbox"))
        .bearer_auth(&relay.token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
    // Unknown items and ids that try to be paths.
    for item in [
        "00000000000000000000000000000000",
        "..",
        "..%2F..%2Frelay.db",
        "%2e%2e",
        "ABCDEF",
    ] {
        let response = relay
            .get_authed(&format!("/api/v1/agencies/demo/inbox/{item}"))
            .await;
        assert!(
            [400, 404].contains(&response.status().as_u16()),
            "{item}: {}",
            response.status()
        );
        error_line(&response.text().await.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_tricks_and_huge_headers_get_a_json_4xx() {
    let relay = start(none, |_| {}).await;
    std::fs::create_dir_all(relay.dir.path().join("dist")).unwrap();
    std::fs::write(relay.dir.path().join("secret.txt"), "outside dist").unwrap();
    let requests = [
        "GET /../secret.txt HTTP/1.1",
        "GET /%2e%2e/secret.txt HTTP/1.1",
        "GET /..%2fsecret.txt HTTP/1.1",
        "GET /.%2e/.%2e/data/relay.toml HTTP/1.1",
        "GET /api/v1/agencies/demo/inbox/..%2F..%2Fdata%2Frelay.db HTTP/1.1",
        "GET /api/v1/agencies/..%2Fdemo/inbox HTTP/1.1",
        "GET /api/v1/agencies/demo/mailboxes/..%2F..%2F HTTP/1.1",
        "GET /api/v1/agencies/demo/mailboxes/%ff%fe HTTP/1.1",
        "GET /api/v1/agencies/demo/../../../secret.txt HTTP/1.1",
        "GET //etc/passwd HTTP/1.1",
        "DELETE /api/v1/agencies/demo HTTP/1.1",
        "GET /api/v2/anything HTTP/1.1",
    ];
    for line in requests {
        let request = format!("{line}\r\nhost: x\r\nconnection: close\r\n\r\n");
        let (status, head, body) = raw(relay.addr, request.as_bytes()).await;
        assert!((400..500).contains(&status), "{line}: {status}");
        assert!(
            head.to_lowercase().contains("content-security-policy"),
            "{line}"
        );
        assert!(!body.contains("outside dist"));
        error_line(&body);
    }

    let big = format!(
        "GET /api/v1/agencies/demo HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\nconnection: close\r\n\r\n",
        "a".repeat(32 * 1024)
    );
    let (status, _, body) = raw(relay.addr, big.as_bytes()).await;
    assert_eq!(status, 431);
    error_line(&body);
    let many: String = (0..200)
        .map(|i| format!("x-h{i}: {}\r\n", "b".repeat(100)))
        .collect();
    let request =
        format!("GET /api/v1/agencies/demo HTTP/1.1\r\nhost: x\r\n{many}connection: close\r\n\r\n");
    let (status, _, _) = raw(relay.addr, request.as_bytes()).await;
    assert!((400..500).contains(&status), "{status}");
    let huge = format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-filler: {}\r\nconnection: close\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    let (status, _, _) = raw(relay.addr, huge.as_bytes()).await;
    assert!((400..500).contains(&status), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let relay = start(news_agency, |_| {}).await;
    let dist = relay.dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let requests: Vec<(reqwest::Method, &str, &str)> = vec![
        (reqwest::Method::GET, "/", "'none'"),
        (reqwest::Method::GET, "/a/demo", "'none'"),
        (
            reqwest::Method::GET,
            "/a/news",
            "https://news.example https://*.city.example",
        ),
        (
            reqwest::Method::GET,
            "/embed?agency=news",
            "https://news.example https://*.city.example",
        ),
        (reqwest::Method::GET, "/embed", "'none'"),
        (reqwest::Method::GET, "/missing.js", "'none'"),
        (reqwest::Method::GET, "/api/v1/agencies/news", "'none'"),
        (
            reqwest::Method::GET,
            "/api/v1/agencies/demo/inbox",
            "'none'",
        ),
        (reqwest::Method::POST, "/api/v1/challenges", "'none'"),
        (
            reqwest::Method::POST,
            "/api/v1/agencies/demo/tips",
            "'none'",
        ),
        (reqwest::Method::PUT, "/api/v1/challenges", "'none'"),
        (reqwest::Method::GET, "/api/v1/openapi.json", "'none'"),
    ];
    for (method, path, ancestors) in requests {
        let response = relay
            .client
            .request(method.clone(), relay.url(path))
            .send()
            .await
            .unwrap();
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
            "{csp}"
        );
        assert!(
            csp.ends_with(&format!("frame-ancestors {ancestors}")),
            "{method} {path}: {csp}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let permissions = h["permissions-policy"].to_str().unwrap();
        for feature in ["camera=()", "microphone=()", "geolocation=()"] {
            assert!(permissions.contains(feature), "{permissions}");
        }
        if path.starts_with("/api/") || path == "/" {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
        assert!(h.get("strict-transport-security").is_none());
        assert!(h.get("set-cookie").is_none());
    }

    let tls = start(none, |c| c.behind_tls = true).await;
    let response = tls
        .client
        .get(tls.url("/api/v1/agencies/demo"))
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let response = tls.client.get(tls.url("/nothing")).send().await.unwrap();
    assert!(response.headers().contains_key("strict-transport-security"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_client_is_served_with_types_encodings_and_caching() {
    let relay = start(none, |_| {}).await;
    let dist = relay.dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>sealtip</title>",
    )
    .unwrap();
    let wasm = "sealtip-web-0123456789abcdef_bg.wasm";
    std::fs::write(dist.join(wasm), b"\0asm plain").unwrap();
    std::fs::write(dist.join(format!("{wasm}.br")), b"brotli bytes").unwrap();
    std::fs::write(dist.join("boot.js"), "console.log(1)").unwrap();
    std::fs::write(dist.join("boot.js.gz"), b"gzip bytes").unwrap();
    let get = |path: &str, encoding: &str| {
        relay
            .client
            .get(relay.url(path))
            .header("accept-encoding", encoding)
            .send()
    };

    for page in ["/", "/a/demo", "/embed", "/embed?agency=demo"] {
        let response = get(page, "gzip").await.unwrap();
        assert_eq!(response.status(), 200, "{page}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        assert_eq!(response.headers()["cache-control"], "no-store");
        let html = response.text().await.unwrap();
        assert!(html.contains("sealtip"));
    }
    // The relay serves no code an officer runs: officers use `sealtip desk`.
    for page in ["/agency", "/agency/"] {
        let response = get(page, "gzip").await.unwrap();
        assert_eq!(response.status(), 404, "{page}");
    }

    let response = get(&format!("/{wasm}"), "gzip, br").await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/wasm");
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"brotli bytes");
    let response = get(&format!("/{wasm}"), "identity").await.unwrap();
    assert!(response.headers().get("content-encoding").is_none());
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"\0asm plain");

    let response = get("/boot.js", "gzip").await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let response = get("/boot.js", "br;q=0").await.unwrap();
    assert_eq!(response.text().await.unwrap(), "console.log(1)");

    let response = get("/boot.js.missing", "").await.unwrap();
    assert_eq!(response.status(), 404);
    error_line(&response.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_random_and_times_coarse() {
    let relay = start(none, |_| {}).await;
    let mut ids = Vec::new();
    for _ in 0..16 {
        let created: Created = relay
            .post_tip("demo", sealed(&relay.recipient, 10))
            .await
            .json()
            .await
            .unwrap();
        ids.push(created.id);
    }
    let listed: Vec<String> = relay
        .inbox()
        .await
        .items
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, ids, "listed in arrival order");
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "unique");
    assert_ne!(sorted, ids, "not increasing (16! to 1 against by chance)");
    // No two ids share a long prefix, as counters or timestamps would.
    for pair in sorted.windows(2) {
        let common = pair[0]
            .bytes()
            .zip(pair[1].bytes())
            .take_while(|(a, b)| a == b)
            .count();
        assert!(common < 8, "{pair:?}");
    }
    // No file per item, whose times would tell when it came.
    assert!(!relay.blobs.exists());
    assert_eq!(relay.blob_names().len(), ids.len());
    // The database holds hours only.
    let conn = rusqlite::Connection::open(&relay.database).unwrap();
    let odd: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM items WHERE received % 3600 != 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(odd, 0);
    let odd: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM spent WHERE expires % 3600 != 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(odd, 0);
    let spent: i64 = conn
        .query_row("SELECT COUNT(*) FROM spent", [], |r| r.get(0))
        .unwrap();
    assert_eq!(spent, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_reach_the_mailbox_and_only_the_agency_posts_them() {
    let relay = start(none, |c| c.limits.max_replies_per_mailbox = 2).await;
    let path = format!("/api/v1/agencies/demo/mailboxes/{MAILBOX}");
    let reply = sealed(&relay.recipient, 500);
    let post = |token: Option<&str>, body: Vec<u8>| {
        let mut request = relay
            .client
            .post(relay.url(&path))
            .header("content-type", "application/octet-stream")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(post(None, reply.clone()).await.unwrap().status(), 401);
    assert_eq!(
        post(Some("nope"), reply.clone()).await.unwrap().status(),
        401
    );
    assert_eq!(
        post(Some(&relay.token), b"not sealed".to_vec())
            .await
            .unwrap()
            .status(),
        400
    );
    let created: Created = post(Some(&relay.token), reply.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mailbox: Mailbox = relay
        .client
        .get(relay.url(&path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mailbox.replies.len(), 1);
    assert_eq!(mailbox.replies[0].id, created.id);
    assert_eq!(mailbox.replies[0].size, reply.len() as u64);
    let bytes = relay
        .client
        .get(relay.url(&format!("{path}/{}", created.id)))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), reply.as_slice());

    // Another mailbox sees nothing; the reply is not in the inbox.
    let other = "fedcba9876543210fedcba9876543210";
    assert!(relay.mailbox(other).await.replies.is_empty());
    let wrong_box = relay
        .client
        .get(relay.url(&format!(
            "/api/v1/agencies/demo/mailboxes/{other}/{}",
            created.id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_box.status(), 404);
    assert!(relay.inbox().await.items.is_empty());
    let inbox_path = relay
        .get_authed(&format!("/api/v1/agencies/demo/inbox/{}", created.id))
        .await;
    assert_eq!(inbox_path.status(), 404);

    for bad in ["short", "0123456789ABCDEF0123456789ABCDEF"] {
        let response = relay
            .client
            .get(relay.url(&format!("/api/v1/agencies/demo/mailboxes/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }
    assert_eq!(
        post(Some(&relay.token), reply.clone())
            .await
            .unwrap()
            .status(),
        201
    );
    let full = post(Some(&relay.token), reply.clone()).await.unwrap();
    assert_eq!(full.status(), 429);
    error_line(&full.text().await.unwrap());
}

/// Posts `count` sealed replies to `mailbox` of the demo agency as the
/// agency; returns their ids.
async fn post_replies(relay: &common::TestRelay, mailbox: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..count {
        let created: Created = relay
            .client
            .post(relay.url(&format!("/api/v1/agencies/demo/mailboxes/{mailbox}")))
            .bearer_auth(&relay.token)
            .header("content-type", "application/octet-stream")
            .body(sealed(&relay.recipient, 100))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created.id);
    }
    ids
}

/// The ids a mailbox of the demo agency lists.
async fn listed(relay: &common::TestRelay, mailbox: &str) -> Vec<String> {
    relay
        .mailbox(mailbox)
        .await
        .replies
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tipster_deletes_a_reply_with_the_mailbox_secret_not_the_mailbox_id() {
    let relay = start(none, |_| {}).await;
    let secret = [0x5e; 32];
    let mailbox = mailbox_id_of_secret(&secret);
    let other_secret = [0xa1; 32];
    let other = mailbox_id_of_secret(&other_secret);
    let ids = post_replies(&relay, &mailbox, 2).await;
    let elsewhere = post_replies(&relay, &other, 1).await;
    let delete = |mailbox: &str, reply: &str, content_type: &str, body: String| {
        relay
            .client
            .delete(relay.url(&format!(
                "/api/v1/agencies/demo/mailboxes/{mailbox}/{reply}"
            )))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let proof = |secret: &[u8]| format!(r#"{{"proof":"{}"}}"#, hex::encode(secret));

    // Wrong proofs: the mailbox id (all that readers of the mailbox and the
    // agency know), another mailbox's secret, random bytes.
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).unwrap();
    let id_twice = format!(r#"{{"proof":"{mailbox}{mailbox}"}}"#);
    for wrong in [id_twice, proof(&other_secret), proof(&random)] {
        let refused = delete(&mailbox, &ids[0], "application/json", wrong)
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        assert!(error_line(&refused.text().await.unwrap()).contains("proof"));
    }
    // Malformed bodies: 400 (the mailbox id alone is too short to be a secret).
    let malformed = [
        format!(r#"{{"proof":"{mailbox}"}}"#),
        proof(&secret).to_uppercase().replace("PROOF", "proof"),
        proof(&secret[..31]),
        format!(r#"{{"proof":"{}0"}}"#, hex::encode(secret)),
        format!(r#"{{"proof":"{}"}}"#, "zz".repeat(32)),
        r#"{"proof":5}"#.into(),
        r#"{"secret":"00"}"#.into(),
        "not json".into(),
        String::new(),
        format!(r#"{{"proof":"{}"}}"#, "0".repeat(2000)),
    ];
    for body in malformed {
        let refused = delete(&mailbox, &ids[0], "application/json", body.clone())
            .await
            .unwrap();
        assert_eq!(refused.status(), 400, "{body}");
        error_line(&refused.text().await.unwrap());
    }
    let not_json = delete(&mailbox, &ids[0], "text/plain", proof(&secret))
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    assert_eq!(listed(&relay, &mailbox).await, ids, "nothing was deleted");

    // Unknown replies, and another mailbox's reply, are 404 with the right
    // proof; malformed ids 400; an unknown agency 404.
    for unknown in ["0".repeat(32), elsewhere[0].clone()] {
        let missing = delete(&mailbox, &unknown, "application/json", proof(&secret))
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        error_line(&missing.text().await.unwrap());
    }
    assert_eq!(listed(&relay, &other).await, elsewhere);
    let bad_id = delete(&mailbox, "short", "application/json", proof(&secret))
        .await
        .unwrap();
    assert_eq!(bad_id.status(), 400);
    let nobody = relay
        .client
        .delete(relay.url(&format!(
            "/api/v1/agencies/nobody/mailboxes/{mailbox}/{}",
            ids[0]
        )))
        .header("content-type", "application/json")
        .body(proof(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(nobody.status(), 404);

    // The right proof deletes, once.
    let deleted = delete(&mailbox, &ids[0], "application/json", proof(&secret))
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(listed(&relay, &mailbox).await, ids[1..].to_vec());
    let gone = relay
        .client
        .get(relay.url(&format!(
            "/api/v1/agencies/demo/mailboxes/{mailbox}/{}",
            ids[0]
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let again = delete(&mailbox, &ids[0], "application/json", proof(&secret))
        .await
        .unwrap();
    assert_eq!(again.status(), 404);

    // The agency deletes a reply it posted with its token; a wrong token is
    // 401 and deletes nothing. The emptied mailbox lists nothing.
    let as_agency = |token: &str| {
        relay
            .client
            .delete(relay.url(&format!(
                "/api/v1/agencies/demo/mailboxes/{mailbox}/{}",
                ids[1]
            )))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(as_agency("nope").await.unwrap().status(), 401);
    assert_eq!(listed(&relay, &mailbox).await, ids[1..].to_vec());
    assert_eq!(as_agency(&relay.token).await.unwrap().status(), 204);
    assert!(listed(&relay, &mailbox).await.is_empty());
    assert_eq!(listed(&relay, &other).await, elsewhere);
    let conn = rusqlite::Connection::open(&relay.database).unwrap();
    let rows: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM items WHERE mailbox = ?1",
            [&mailbox],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0, "nothing of the emptied mailbox is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_past_their_retention_are_gone_once_the_relay_starts() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::init_with_binary(dir.path());
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("reply_retention_days = 90"));
    std::fs::write(
        &config,
        text.replace("reply_retention_days = 90", "reply_retention_days = 30"),
    )
    .unwrap();
    let (recipient, token) = common::demo_agency(dir.path());
    let mut relay = sealtip_harness::RelayProcess::start_on_free_port(dir.path()).unwrap();
    let client = reqwest::Client::new();
    let path = format!("{}/api/v1/agencies/demo/mailboxes/{MAILBOX}", relay.url);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let created: Created = client
            .post(&path)
            .bearer_auth(&token)
            .header("content-type", "application/octet-stream")
            .body(sealed(&recipient, 100))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created.id);
    }
    relay.kill();

    // One reply arrived 31 days ago, the other 29: only the first is past
    // 30 days.
    let conn = rusqlite::Connection::open(dir.path().join("data/relay.db")).unwrap();
    for (id, days) in ids.iter().zip([31, 29]) {
        conn.execute(
            "UPDATE items SET received = received - ?1 WHERE id = ?2",
            rusqlite::params![days * 86_400, id],
        )
        .unwrap();
    }
    drop(conn);
    let relay = sealtip_harness::RelayProcess::start(dir.path(), relay.port).unwrap();
    // Whether a reply's bytes are still stored.
    let stored = |id: &str| {
        let conn = rusqlite::Connection::open(dir.path().join("data/relay.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        let sql = "SELECT COUNT(*) FROM chunks WHERE blob = ?1";
        conn.query_row(sql, [id], |r| r.get::<_, i64>(0)).unwrap() > 0
    };
    let mut waited = 0;
    let replies = loop {
        let mailbox: Mailbox = client
            .get(&path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let removed = mailbox.replies.len() < 2 && !stored(&ids[0]);
        if removed || waited == 100 {
            break mailbox.replies;
        }
        waited += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(replies.len(), 1, "the old reply is removed at start");
    assert_eq!(replies[0].id, ids[1]);
    assert_eq!(replies[0].received.len(), "2026-11-29T14:00:00Z".len());
    let old = client
        .get(format!("{path}/{}", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    assert!(!stored(&ids[0]));
    assert!(stored(&ids[1]));
    drop(relay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_on_items_concurrency_and_time_are_enforced() {
    let relay = start(none, |c| {
        c.limits.max_items_per_agency = 2;
        c.limits.max_concurrent_uploads = 1;
        c.limits.upload_idle_secs = 1;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            relay
                .post_tip("demo", sealed(&relay.recipient, 10))
                .await
                .status(),
            201
        );
    }
    let full = relay.post_tip("demo", sealed(&relay.recipient, 10)).await;
    assert_eq!(full.status(), 429);
    assert!(error_line(&full.text().await.unwrap()).contains("full"));

    // Free a place, then hold the only upload slot with a silent upload.
    let first = relay.inbox().await.items[0].id.clone();
    relay.delete_item(&first).await;
    let tip = sealed(&relay.recipient, 10);
    let (sender, stream) = common::stalling_body(tip[..40].to_vec()).await;
    let proof = relay.proof().await;
    let slow = relay
        .client
        .post(relay.url("/api/v1/agencies/demo/tips"))
        .header("content-type", "application/octet-stream")
        .header("sealtip-proof", proof)
        .body(stream)
        .send();
    let slow = tokio::spawn(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let busy = relay.post_tip("demo", tip.clone()).await;
    assert_eq!(busy.status(), 429);
    assert!(error_line(&busy.text().await.unwrap()).contains("too many uploads"));
    // The silent upload is dropped after the idle timeout.
    let timed_out = slow.await.unwrap().unwrap();
    assert_eq!(timed_out.status(), 408);
    drop(sender);
    assert_eq!(relay.inbox().await.items.len(), 1);
    assert_eq!(relay.blob_names().len(), 1, "nothing of the dropped upload");
    assert_eq!(relay.post_tip("demo", tip).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agency_list_and_openapi_are_served() {
    let relay = start(news_agency, |_| {}).await;
    let list: serde_json::Value = relay
        .client
        .get(relay.url("/api/v1/agencies"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["default"], "demo");
    assert_eq!(list["agencies"].as_array().unwrap().len(), 2);
    let openapi: serde_json::Value = relay
        .client
        .get(relay.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    let reply = &openapi["paths"]["/api/v1/agencies/{agency}/mailboxes/{mailbox}/{reply}"];
    assert!(reply["get"].is_object() && reply["delete"].is_object());
}

// --- Upload sessions ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_sent_in_parts_is_committed_whole_and_opens() {
    let relay = start(none, |_| {}).await;
    let uploads = relay.uploads();
    let plaintext: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    let file = common::sealed_plaintext(&relay.recipient, &plaintext);

    let session = uploads.open("message").await;
    assert!(is_valid_id(&session.upload));
    assert_eq!(session.max_bytes, 256 * 1024 * 1024);
    assert_eq!(session.part_max_bytes, 16 * 1024 * 1024);
    assert_eq!(session.expires_in, 86_400);
    let id = &session.upload;
    assert_eq!(uploads.received(id).await, (200, Some(0)));

    // Four parts, cut anywhere after the header (a hybrid recipient's
    // header alone is over a kilobyte).
    let first = common::header_len(&file) + 1000;
    let cuts = [0, first, 300_001, 600_000, file.len()];
    for window in cuts.windows(2) {
        let (from, to) = (window[0], window[1]);
        uploads.append(id, from as u64, &file[from..to]).await;
        assert_eq!(uploads.received(id).await, (200, Some(to as u64)));
        assert!(
            relay.inbox().await.items.is_empty(),
            "nothing listed before commit"
        );
    }

    let committed = uploads.commit(id).await;
    assert_eq!(committed.status(), 201);
    let created: Created = committed.json().await.unwrap();
    assert!(is_valid_id(&created.id));
    assert_ne!(&created.id, id, "the item's id is not the session's");
    let inbox = relay.inbox().await;
    assert_eq!(inbox.items.len(), 1);
    assert_eq!(inbox.items[0].id, created.id);
    assert_eq!(inbox.items[0].kind, ItemKind::Message);
    assert_eq!(inbox.items[0].size, file.len() as u64);
    let hour = sealtip_relay::time::rfc3339_hour(sealtip_relay::time::now());
    assert_eq!(inbox.items[0].received, hour);
    let fetched = relay
        .get_authed(&format!("/api/v1/agencies/demo/inbox/{}", created.id))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(fetched.as_ref(), file.as_slice());
    let key = relay.dir.path().join("data/agency.key");
    assert_eq!(common::age_open(&key, &fetched), plaintext);

    // The session is gone: a second commit, a part, a read, a delete.
    let again = uploads.commit(id).await;
    assert_eq!(again.status(), 404);
    error_line(&again.text().await.unwrap());
    assert_eq!(uploads.received(id).await, (404, None));
    assert_eq!(
        uploads.patch(id, file.len() as u64, b"x").await.status(),
        404
    );
    assert_eq!(uploads.delete(id).await, 404);
    assert_eq!(relay.inbox().await.items.len(), 1);
    // Only the item's file remains.
    assert_eq!(relay.blob_names(), vec![created.id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_at_the_wrong_offset_or_cut_short_does_not_count() {
    let relay = start(none, |c| c.limits.upload_idle_secs = 2).await;
    let uploads = relay.uploads();
    let file = sealed(&relay.recipient, 300_000);
    let id = uploads.open("tip").await.upload;
    let first = 100_000;
    uploads.append(&id, 0, &file[..first]).await;

    // Wrong offsets: 409, saying where to resume.
    for offset in [0, 99_999, 100_001, 5_000_000] {
        let response = uploads.patch(&id, offset, &file[first..first + 10]).await;
        assert_eq!(response.status(), 409, "{offset}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["received"], first as u64, "{body}");
        assert!(body["error"].as_str().unwrap().contains("100000"), "{body}");
    }
    // Malformed or missing offsets: 400; a wrong content type: 415.
    for offset in ["", "-1", "+5", "1e5", "0x10", "99999999999999999999999"] {
        let response = relay
            .client
            .patch(uploads.url(&id))
            .header("content-type", "application/octet-stream")
            .header("upload-offset", offset)
            .body(file[first..first + 10].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{offset:?}");
        error_line(&response.text().await.unwrap());
    }
    let response = relay
        .client
        .patch(uploads.url(&id))
        .header("upload-offset", first.to_string())
        .header("content-type", "text/plain")
        .body(file[first..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);

    // A part whose connection drops midway: announced longer than sent.
    let part = &file[first..200_000];
    let request = format!(
        "PATCH /api/v1/uploads/{id} HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\n\
         upload-offset: {first}\r\ncontent-length: {}\r\n\r\n",
        part.len()
    );
    {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        stream.write_all(&part[..60_000]).await.unwrap();
        stream.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(stream);
    }
    // The client resumes from what GET says: exactly the first part.
    let mut resumed = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(uploads.received(&id).await, (200, Some(first as u64)));
        let response = uploads.patch(&id, first as u64, part).await;
        if response.status() == 200 {
            resumed = Some(
                response
                    .json::<sealtip_api::UploadProgress>()
                    .await
                    .unwrap(),
            );
            break;
        }
        // The cut part may hold the session a moment longer.
        assert_eq!(response.status(), 409);
    }
    assert_eq!(resumed.unwrap().received, 200_000);

    // A part that stalls past the idle timeout: 408, and it does not count.
    let (sender, stream) = common::stalling_body(file[200_000..250_000].to_vec()).await;
    let slow = relay
        .client
        .patch(uploads.url(&id))
        .header("content-type", "application/octet-stream")
        .header("upload-offset", "200000")
        .body(stream)
        .send();
    let slow = tokio::spawn(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Meanwhile the session takes no other part.
    let busy = uploads.patch(&id, 200_000, &file[200_000..]).await;
    assert_eq!(busy.status(), 409);
    let body: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(body["received"], 200_000);
    assert_eq!(uploads.commit(&id).await.status(), 409);
    assert_eq!(slow.await.unwrap().unwrap().status(), 408);
    drop(sender);
    assert_eq!(uploads.received(&id).await, (200, Some(200_000)));

    uploads.append(&id, 200_000, &file[200_000..]).await;
    let created: Created = uploads.commit(&id).await.json().await.unwrap();
    let fetched = relay
        .get_authed(&format!("/api/v1/agencies/demo/inbox/{}", created.id))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(fetched.as_ref(), file.as_slice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_sessions_refuse_what_is_not_a_whole_age_file() {
    let relay = start(none, |c| c.limits.max_upload_bytes = 1024 * 1024).await;
    let uploads = relay.uploads();
    let file = sealed(&relay.recipient, 300_000);
    let header = common::header_len(&file);
    let id = uploads.open("tip").await.upload;

    // The first part must hold the whole header.
    for cut in [0, 10, header / 2, header - 1] {
        let response = uploads.patch(&id, 0, &file[..cut]).await;
        assert_eq!(response.status(), 400, "{cut}");
        let line = error_line(&response.text().await.unwrap());
        assert!(
            line.contains("the first part must hold the whole age header"),
            "{line}"
        );
    }
    for (name, part) in [
        ("garbage", b"hello, this is not sealed".to_vec()),
        (
            "another version",
            b"age-encryption.org/v2\n-> X25519 a\nAAAA\n--- AAAA\n".to_vec(),
        ),
    ] {
        let response = uploads.patch(&id, 0, &part).await;
        assert_eq!(response.status(), 400, "{name}");
        let line = error_line(&response.text().await.unwrap());
        assert!(line.starts_with("not an age file"), "{line}");
        assert!(!line.contains("whole age header"), "{line}");
    }
    assert_eq!(uploads.received(&id).await, (200, Some(0)));
    // Nothing received: nothing to commit.
    assert_eq!(uploads.commit(&id).await.status(), 400);

    // A payload whose length no age file has: refused at commit, and the
    // session stays for the rest.
    uploads.append(&id, 0, &file[..header]).await;
    uploads
        .append(&id, header as u64, &file[header..header + 20])
        .await;
    let response = uploads.commit(&id).await;
    assert_eq!(response.status(), 400);
    assert!(error_line(&response.text().await.unwrap()).contains("payload length is impossible"));
    uploads
        .append(&id, header as u64 + 20, &file[header + 20..])
        .await;

    // Beyond max_upload_bytes in all: 413, and the part does not count.
    let before = file.len() as u64;
    let big = vec![7u8; 800_000];
    let response = uploads.patch(&id, before, &big).await;
    assert_eq!(response.status(), 413);
    error_line(&response.text().await.unwrap());
    assert_eq!(uploads.received(&id).await, (200, Some(before)));
    assert!(relay.inbox().await.items.is_empty());

    // Deleting: 204, then the session is unknown and its bytes gone.
    assert_eq!(uploads.delete(&id).await, 204);
    assert_eq!(uploads.received(&id).await, (404, None));
    assert_eq!(uploads.delete(&id).await, 404);
    assert_eq!(uploads.commit(&id).await.status(), 404);
    assert!(relay.blob_names().is_empty(), "{:?}", relay.blob_names());

    // Unknown and malformed ids.
    for (upload, status) in [
        ("00000000000000000000000000000000", 404),
        ("ABCDEF", 400),
        ("..%2F..%2Frelay.db", 400),
    ] {
        assert_eq!(uploads.received(upload).await.0, status, "{upload}");
        assert_eq!(
            uploads.patch(upload, 0, &file).await.status(),
            status,
            "{upload}"
        );
        assert_eq!(uploads.commit(upload).await.status(), status, "{upload}");
        assert_eq!(uploads.delete(upload).await, status, "{upload}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_an_upload_session_is_checked_like_a_tip() {
    let relay = start(none, |c| {
        c.pow.difficulty = 4;
        c.limits.max_items_per_agency = 1;
        c.limits.max_open_uploads = 2;
    })
    .await;
    let uploads = relay.uploads();
    let kind = r#"{"kind": "tip"}"#;

    // The proof: missing, bad, reused.
    let missing = relay
        .client
        .post(relay.url("/api/v1/agencies/demo/uploads"))
        .header("content-type", "application/json")
        .body(kind)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert!(error_line(&missing.text().await.unwrap()).contains("Sealtip-Proof"));
    let now = sealtip_relay::time::now();
    let expired = pow::issue(&relay.secret, 0, now - 1, [8; 16]);
    let response = uploads
        .open_with(kind, &pow::proof_header(&expired, 0))
        .await;
    assert_eq!(response.status(), 403);
    let proof = relay.proof().await;
    assert_eq!(uploads.open_with(kind, &proof).await.status(), 201);
    let reused = uploads.open_with(kind, &proof).await;
    assert_eq!(reused.status(), 409);
    assert!(error_line(&reused.text().await.unwrap()).contains("already used"));

    // The body and the agency.
    for (body, status) in [
        ("{}", 400),
        (r#"{"kind": "reply"}"#, 400),
        ("not json", 400),
    ] {
        let response = uploads.open_with(body, &relay.proof().await).await;
        assert_eq!(response.status(), status, "{body}");
        error_line(&response.text().await.unwrap());
    }
    for (agency, content_type, status) in [
        ("demo", "text/plain", 415),
        ("nobody", "application/json", 404),
    ] {
        let response = relay
            .client
            .post(relay.url(&format!("/api/v1/agencies/{agency}/uploads")))
            .header("content-type", content_type)
            .header("sealtip-proof", relay.proof().await)
            .body(kind)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{agency} {content_type}");
        error_line(&response.text().await.unwrap());
    }

    // Open sessions are limited (one is open already).
    let second = uploads.open("tip").await.upload;
    let third = uploads.open_with(kind, &relay.proof().await).await;
    assert_eq!(third.status(), 429);
    assert!(error_line(&third.text().await.unwrap()).contains("too many upload sessions"));
    assert_eq!(uploads.delete(&second).await, 204);
    let session = uploads.open("tip").await.upload;

    // A full inbox: refused at opening and at commit, as a tip is.
    let file = sealed(&relay.recipient, 1000);
    uploads.append(&session, 0, &file).await;
    assert_eq!(relay.post_tip("demo", file.clone()).await.status(), 201);
    let full = uploads.commit(&session).await;
    assert_eq!(full.status(), 429);
    let line = error_line(&full.text().await.unwrap());
    let tip = relay.post_tip("demo", file.clone()).await;
    assert_eq!(tip.status(), 429);
    assert_eq!(error_line(&tip.text().await.unwrap()), line);
    let opening = uploads.open_with(kind, &relay.proof().await).await;
    assert_eq!(opening.status(), 429);
    assert_eq!(error_line(&opening.text().await.unwrap()), line);
    // The session waits; once there is room, it commits.
    assert_eq!(
        uploads.received(&session).await,
        (200, Some(file.len() as u64))
    );
    let first = relay.inbox().await.items[0].id.clone();
    assert_eq!(relay.delete_item(&first).await.status(), 204);
    assert_eq!(uploads.commit(&session).await.status(), 201);
    assert_eq!(relay.inbox().await.items.len(), 1);
}
