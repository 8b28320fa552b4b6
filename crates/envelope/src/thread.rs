//! Threads: a tip with the follow-ups and replies that carry the same
//! mailbox, in order. Pure ordering over opened bundles, shared by
//! `sealtip thread` and the browser inbox.

use std::collections::BTreeMap;

use crate::bundle::{Kind, Tip};

/// Groups opened items into threads by the mailbox inside them; an item
/// without a mailbox is a thread of its own.
///
/// Within a thread, items are ordered by their day-precision date, then by
/// `seen` (when this side received or opened it), then a tip before what
/// answers it. Threads are ordered by their first item the same way.
pub fn threads<T, K: Ord>(
    items: Vec<T>,
    tip: impl Fn(&T) -> &Tip,
    seen: impl Fn(&T) -> K,
) -> Vec<Vec<T>> {
    let mut by_mailbox: BTreeMap<String, Vec<T>> = BTreeMap::new();
    let mut alone = Vec::new();
    for item in items {
        match &tip(&item).reply {
            Some(reply) => by_mailbox
                .entry(reply.mailbox.clone())
                .or_default()
                .push(item),
            None => alone.push(vec![item]),
        }
    }
    let mut threads: Vec<Vec<T>> = by_mailbox.into_values().chain(alone).collect();
    let order = |item: &T| (tip(item).date.clone(), seen(item), rank(tip(item).kind));
    for thread in &mut threads {
        thread.sort_by_cached_key(order);
    }
    threads.sort_by_cached_key(|thread| thread.first().map(order));
    threads
}

/// A tip comes before the follow-ups and replies of the same day.
fn rank(kind: Kind) -> u8 {
    match kind {
        Kind::Tip => 0,
        Kind::Reply | Kind::Message => 1,
    }
}

/// The first line of `text`, at most 200 characters, with ` …` when cut.
pub fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let short: String = line.chars().take(200).collect();
    if short.len() < text.trim_end().len() {
        format!("{short} …")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::bundle::ReplyTo;

    fn item(kind: Kind, date: &str, mailbox: Option<&str>, text: &str) -> Tip {
        let mut tip = Tip::new(kind, "demo", date);
        tip.text = text.into();
        tip.reply = mailbox.map(|m| ReplyTo {
            recipient: "age1x".into(),
            mailbox: m.into(),
        });
        tip
    }

    #[test]
    fn follow_ups_and_replies_join_their_tip_in_order() {
        let items = vec![
            (item(Kind::Message, "2026-11-30", Some("m1"), "more"), 3),
            (item(Kind::Tip, "2026-11-29", None, "alone"), 1),
            (item(Kind::Reply, "2026-11-29", Some("m1"), "thanks"), 2),
            (item(Kind::Tip, "2026-11-29", Some("m1"), "first"), 2),
        ];
        let threads = threads(items, |(tip, _)| tip, |(_, seen)| *seen);
        let texts: Vec<Vec<&str>> = threads
            .iter()
            .map(|t| t.iter().map(|(tip, _)| tip.text.as_str()).collect())
            .collect();
        assert_eq!(texts, vec![vec!["alone"], vec!["first", "thanks", "more"]]);
    }

    #[test]
    fn first_lines_are_cut_with_a_mark() {
        assert_eq!(first_line("one\ntwo"), "one …");
        assert_eq!(first_line("one\n"), "one");
        assert_eq!(first_line(""), "");
    }
}
