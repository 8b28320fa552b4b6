//! Alerts that say only "something arrived": for each agency with
//! `[agencies.alerts]`, at most one alert per interval, sent at the
//! interval's end on the clock's grid (multiples of the interval in Unix
//! time), never because something arrived, so an alert's time tells nothing
//! of when a tip came. It goes when tips or follow-ups arrived during the
//! interval, or always with `cover = true`, in the same number of bytes
//! either way ([`message`]); through a webhook and/or email ([`send`]).
//!
//! What arrived is read from the store (the hour each inbox item was
//! received), so a restart loses nothing and an item any relay sharing the
//! database received counts. A failed channel is logged once, and its next
//! alert also covers what it missed. Runs beside the requests, never in
//! their way.

pub mod message;
pub mod send;

use std::sync::Arc;

use sealtip_api::ItemKind;
use tokio::sync::watch;

use crate::config::{Alerts, Relay};
use crate::store::{ItemMeta, Place, Store};
use crate::time::{HOUR, WallClock, floor_hour};

/// The hours of the grid whose alerts have been handled, which tests wait on.
#[derive(Debug)]
pub struct Rounds {
    done: watch::Sender<u64>,
}

impl Default for Rounds {
    fn default() -> Self {
        Rounds {
            done: watch::Sender::new(0),
        }
    }
}

impl Rounds {
    /// Waits until the alerts have started: from then on, moving the
    /// clock moves them.
    pub async fn started(&self) {
        self.wait_for(1).await;
    }

    /// Waits until every agency's alert due at `hour` or before has been
    /// handled (sent, failed, or not needed).
    pub async fn wait_for(&self, hour: u64) {
        let mut done = self.done.subscribe();
        let _ = done.wait_for(|done| *done >= hour).await;
    }
}

/// One channel of an agency: where, and the end of the last interval it
/// reported (what arrived since is still to tell).
struct Channel {
    kind: ChannelKind,
    since: u64,
}

enum ChannelKind {
    Webhook(String),
    Email,
}

/// One agency's alerts and where they stand.
struct AgencyAlerts<'a> {
    id: &'a str,
    alerts: &'a Alerts,
    /// The end of the last interval handled.
    last_end: u64,
    channels: Vec<Channel>,
}

/// Sends every agency's alerts on its grid, until dropped.
pub async fn send_every<S: Store>(
    store: S,
    relay: Arc<Relay>,
    clock: Arc<WallClock>,
    rounds: Arc<Rounds>,
) {
    let start = clock.now();
    let mut agencies: Vec<AgencyAlerts<'_>> = relay
        .agencies
        .iter()
        .filter_map(|(id, agency)| {
            let alerts = agency.alerts.as_ref()?;
            // The interval under way counts from its start.
            let since = start - start % alerts.interval;
            let mut channels = Vec::new();
            if let Some(url) = &alerts.webhook_url {
                channels.push(Channel {
                    kind: ChannelKind::Webhook(url.clone()),
                    since,
                });
            }
            if alerts.email.is_some() {
                channels.push(Channel {
                    kind: ChannelKind::Email,
                    since,
                });
            }
            Some(AgencyAlerts {
                id,
                alerts,
                last_end: since,
                channels,
            })
        })
        .collect();
    if agencies.is_empty() {
        return;
    }
    agencies.sort_by_key(|agency| agency.id);
    let http = match send::http_client() {
        Ok(http) => http,
        Err(e) => {
            eprintln!("sealtip-relay: alerts are off: {e:#}");
            return;
        }
    };
    let mut handled = floor_hour(start);
    rounds.done.send_replace(handled);
    loop {
        // Every interval is whole hours: waking each hour finds every end.
        clock.sleep_until(handled + HOUR).await;
        let now = clock.now();
        for agency in &mut agencies {
            agency.round(now, &store, &http).await;
        }
        handled = floor_hour(now);
        rounds.done.send_replace(handled);
    }
}

impl AgencyAlerts<'_> {
    /// At `now`, sends the alert of the interval that last ended, unless
    /// already handled.
    async fn round<S: Store>(&mut self, now: u64, store: &S, http: &reqwest::Client) {
        let end = now - now % self.alerts.interval;
        if end <= self.last_end {
            return;
        }
        self.last_end = end;
        let items = match store.inbox(self.id).await {
            Ok(items) => items,
            Err(e) => {
                eprintln!(
                    "sealtip-relay: alerts of agency {}: reading the inbox failed: {e}",
                    self.id
                );
                return;
            }
        };
        for channel in &mut self.channels {
            let arrived = items
                .iter()
                .any(|item| from_tipster(item) && (channel.since..end).contains(&item.received));
            if !arrived && !self.alerts.cover {
                channel.since = end;
                continue;
            }
            let sent = match &channel.kind {
                ChannelKind::Webhook(url) => {
                    let body = message::webhook_body(self.id, end, arrived);
                    send::webhook(http, url, body).await
                }
                ChannelKind::Email => match &self.alerts.email {
                    Some(email) => match message::email(email, self.id, end, arrived) {
                        Ok(mail) => send::email(email, mail).await,
                        Err(e) => Err(e),
                    },
                    None => Ok(()),
                },
            };
            match sent {
                Ok(()) => channel.since = end,
                Err(e) => eprintln!(
                    "sealtip-relay: alerts of agency {}: the {} failed, tried again next interval: {e:#}",
                    self.id,
                    channel.kind.name()
                ),
            }
        }
    }
}

impl ChannelKind {
    fn name(&self) -> &'static str {
        match self {
            ChannelKind::Webhook(_) => "webhook",
            ChannelKind::Email => "email",
        }
    }
}

/// Whether an inbox item came from a tipster (a tip or a follow-up), not
/// from the agency's own officers.
fn from_tipster(item: &ItemMeta) -> bool {
    matches!(
        item.place,
        Place::Inbox(ItemKind::Tip) | Place::Inbox(ItemKind::Message)
    )
}
