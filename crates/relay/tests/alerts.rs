//! Alerts that say only "something arrived": at the end of each interval
//! on the clock's grid, never because a tip came; none when nothing arrived
//! unless the agency asked for cover, and then the same size; no id, no
//! count; a failed alert is tried again at the next interval. Against a
//! local webhook receiver and a local SMTP sink, on a clock the test moves.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestRelay;
use sealtip_api::Created;
use sealtip_harness::SmtpSink;
use sealtip_harness::http::{Response, Server};
use sealtip_relay::config::AlertsConfig;
use sealtip_relay::time::{HOUR, floor_hour, rfc3339_hour};

/// A webhook receiver: the bodies POSTed to it; it answers 500 while
/// `failing` is set.
struct Hook {
    server: Server,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    failing: Arc<AtomicBool>,
}

impl Hook {
    fn start() -> Hook {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(AtomicBool::new(false));
        let (kept, fails) = (bodies.clone(), failing.clone());
        let server = Server::start("127.0.0.1", move |request| {
            assert_eq!(
                (request.method.as_str(), request.path.as_str()),
                ("POST", "/hook")
            );
            assert_eq!(request.header("content-type"), Some("application/json"));
            if fails.load(Ordering::SeqCst) {
                return Response::new(500, "text/plain", b"down".to_vec());
            }
            kept.lock().unwrap().push(request.body.clone());
            Response::new(204, "text/plain", Vec::new())
        })
        .unwrap();
        Hook {
            server,
            bodies,
            failing,
        }
    }

    fn bodies(&self) -> Vec<serde_json::Value> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|body| serde_json::from_slice(body).unwrap())
            .collect()
    }
}

/// A relay whose demo agency alerts every hour through `hook` and `sink`.
async fn relay_alerting(hook: &Hook, sink: &SmtpSink, cover: bool) -> TestRelay {
    relay_alerting_every("hourly", hook, sink, cover).await
}

/// A relay whose demo agency alerts every `interval` through `hook` and `sink`.
async fn relay_alerting_every(
    interval: &str,
    hook: &Hook,
    sink: &SmtpSink,
    cover: bool,
) -> TestRelay {
    let alerts = format!(
        "interval = \"{interval}\"\ncover = {cover}\nwebhook_url = \"{}/hook\"\n\
         smtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_tls = \"none\"\n\
         smtp_from = \"relay@sealtip.example\"\nsmtp_to = [\"desk@agency.example\"]\n",
        hook.server.url, sink.port
    );
    let alerts: AlertsConfig = toml::from_str(&alerts).unwrap();
    common::start(
        |_| String::new(),
        |config| config.agencies[0].alerts = Some(alerts),
    )
    .await
}

/// Moves the relay's clock to the end of the interval under way and waits
/// until its alerts are handled; returns that end.
async fn next_interval(relay: &TestRelay) -> u64 {
    relay.alerts.started().await;
    let end = floor_hour(relay.clock.now()) + HOUR;
    relay.clock.advance(HOUR);
    handled(relay, end).await;
    end
}

/// Waits until the relay has handled the alerts due at `hour`.
async fn handled(relay: &TestRelay, hour: u64) {
    tokio::time::timeout(Duration::from_secs(60), relay.alerts.wait_for(hour))
        .await
        .expect("the alerts of the interval were not handled");
}

/// A tip arrives now, on the relay's moved clock: its hour is moved as far
/// as the clock was. Returns its id.
async fn tip_arrives(relay: &TestRelay) -> String {
    let response = relay
        .post_tip("demo", common::sealed(&relay.recipient, 3000))
        .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Created>().await.unwrap().id;
    let conn = rusqlite::Connection::open(&relay.database).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let sql = "UPDATE items SET received = received + ?1 WHERE id = ?2";
    let moved = conn
        .execute(sql, rusqlite::params![relay.clock.skipped(), id])
        .unwrap();
    assert_eq!(moved, 1);
    id
}

/// What no alert may hold: the item's id, a count, a time finer than the hour.
fn says_nothing_more(text: &str, id: &str) {
    assert!(!text.contains(id), "{text}");
    assert!(!text.contains(&id[..8]), "{text}");
    for count in ["\"count\"", "1 new", "one new"] {
        assert!(!text.contains(count), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_goes_only_after_something_arrived_at_the_end_of_its_interval() {
    let (hook, sink) = (Hook::start(), SmtpSink::start().unwrap());
    let relay = relay_alerting(&hook, &sink, false).await;

    // Nothing arrived: nothing is sent.
    next_interval(&relay).await;
    assert!(hook.bodies().is_empty());
    assert!(sink.mails().is_empty());

    // A tip arrives: nothing until the interval ends, then one alert on
    // each channel, dated at the interval's end.
    let id = tip_arrives(&relay).await;
    assert!(hook.bodies().is_empty());
    let end = next_interval(&relay).await;
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["new_items"], true);
    assert_eq!(bodies[0]["agency"], "demo");
    assert_eq!(bodies[0]["interval_end"], rfc3339_hour(end).as_str());
    says_nothing_more(&bodies[0].to_string(), &id);
    let mails = sink.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, vec!["desk@agency.example".to_owned()]);
    assert_eq!(
        mails[0].header("subject").as_deref(),
        Some("sealtip: inbox alert")
    );
    let text = String::from_utf8(mails[0].body().to_vec()).unwrap();
    assert!(text.contains("New items arrived"), "{text}");
    says_nothing_more(&String::from_utf8_lossy(&mails[0].data), &id);

    // The next interval brings nothing new: no alert.
    next_interval(&relay).await;
    assert_eq!(hook.bodies().len(), 1);
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_cover_one_alert_of_one_size_goes_every_interval() {
    let (hook, sink) = (Hook::start(), SmtpSink::start().unwrap());
    let relay = relay_alerting(&hook, &sink, true).await;

    next_interval(&relay).await;
    let id = tip_arrives(&relay).await;
    next_interval(&relay).await;
    next_interval(&relay).await;

    let raw = hook.bodies.lock().unwrap().clone();
    assert_eq!(raw.len(), 3, "one alert per interval");
    assert!(
        raw.iter().all(|body| body.len() == raw[0].len()),
        "one size"
    );
    let said: Vec<_> = hook
        .bodies()
        .iter()
        .map(|b| b["new_items"].clone())
        .collect();
    assert_eq!(said, [false, true, false]);
    let mails = sink.mails();
    assert_eq!(mails.len(), 3);
    assert!(
        mails.iter().all(|m| m.data.len() == mails[0].data.len()),
        "one size"
    );
    assert!(
        mails
            .iter()
            .all(|m| m.body().len() == mails[0].body().len())
    );
    for body in &raw {
        says_nothing_more(&String::from_utf8_lossy(body), &id);
    }
    for mail in &mails {
        says_nothing_more(&String::from_utf8_lossy(&mail.data), &id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_alert_is_sent_at_the_next_interval() {
    let (hook, sink) = (Hook::start(), SmtpSink::start().unwrap());
    let relay = relay_alerting(&hook, &sink, false).await;

    hook.failing.store(true, Ordering::SeqCst);
    tip_arrives(&relay).await;
    next_interval(&relay).await;
    assert!(hook.bodies().is_empty());
    assert_eq!(sink.mails().len(), 1, "the email went");

    // Nothing new since, but the webhook still owes the news.
    hook.failing.store(false, Ordering::SeqCst);
    next_interval(&relay).await;
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["new_items"], true);
    assert_eq!(sink.mails().len(), 1, "the email owed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_alert_goes_at_midnight_and_once_a_day() {
    let (hook, sink) = (Hook::start(), SmtpSink::start().unwrap());
    let relay = relay_alerting_every("daily", &hook, &sink, true).await;
    relay.alerts.started().await;

    // The clock passes the hours of the day: the alert waits for midnight.
    let now = relay.clock.now();
    let midnight = now - now % 86_400 + 86_400;
    let before = floor_hour(midnight - 1);
    if before > floor_hour(now) {
        relay.clock.advance(before - now);
        handled(&relay, before).await;
        assert!(hook.bodies().is_empty(), "nothing before midnight");
    }
    relay.clock.advance(midnight - relay.clock.now());
    handled(&relay, midnight).await;
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["interval_end"], rfc3339_hour(midnight).as_str());
    assert!(rfc3339_hour(midnight).ends_with("T00:00:00Z"));
    assert_eq!(sink.mails().len(), 1);

    // An hour later: nothing more that day.
    relay.clock.advance(HOUR);
    handled(&relay, midnight + HOUR).await;
    assert_eq!(hook.bodies().len(), 1);
    assert_eq!(sink.mails().len(), 1);
}
