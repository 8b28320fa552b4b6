//! The inbox page's state: a plain struct, its actions and the reducer.
//! Pure (no browser, no network), so it is tested natively.
//!
//! The officer's keys and token live in [`Session`], held only here, in
//! memory: locking (or leaving the page) drops it, and with it every opened
//! tip.

use std::collections::BTreeMap;
use std::rc::Rc;

use sealtip_api::{InboxItem, ItemKind};
use sealtip_envelope::Identity;
use sealtip_envelope::bundle::Tip;
use zeroize::Zeroizing;

/// What unlocks the inbox: the officer's identities and inbox token.
/// Zeroized when the last reference goes (identities zeroize on drop).
pub struct Session {
    /// The agency's id.
    pub agency: String,
    /// The officer's identities.
    pub identities: Vec<Identity>,
    /// The inbox token.
    pub token: Zeroizing<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({}, [redacted])", self.agency)
    }
}

/// Where an opened item came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The agency's inbox (a tip or a follow-up), with when it arrived.
    Inbox(ItemKind, String),
    /// A reply in the tipster's mailbox, with when it arrived.
    Reply(String),
}

/// A file inside an opened tip, in memory; zeroized when dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct OpenedFile {
    /// The file's name.
    pub name: String,
    /// Its media type, as the tip says.
    pub media_type: String,
    /// Its bytes.
    pub bytes: Zeroizing<Vec<u8>>,
}

impl OpenedFile {
    /// Whether the page shows it inline (a photo the browser can draw).
    pub fn is_image(&self) -> bool {
        matches!(
            self.media_type.as_str(),
            "image/jpeg" | "image/png" | "image/webp" | "image/gif"
        )
    }
}

/// A tip, follow-up or reply, opened in the browser.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    /// Its id on the relay (inbox item or reply).
    pub id: String,
    /// Where it came from.
    pub source: Source,
    /// What it says.
    pub tip: Tip,
    /// Its attachments, in order.
    pub files: Vec<OpenedFile>,
}

impl Opened {
    /// When it arrived at the relay (hour precision).
    pub fn received(&self) -> &str {
        match &self.source {
            Source::Inbox(_, received) | Source::Reply(received) => received,
        }
    }
}

/// The screens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The list of items.
    Inbox,
    /// The thread of this opened item.
    Thread(String),
}

/// A line shown to the officer: a message key, its detail, and whether it
/// is an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Note {
    /// The message key (`agency-opening`, `agency-wrong-key`, …); empty for none.
    pub key: &'static str,
    /// The `{ $detail }` of the message.
    pub detail: String,
    /// Whether it is an error.
    pub error: bool,
}

/// Everything the inbox page shows.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Keys and token, once unlocked.
    pub session: Option<Rc<Session>>,
    /// The identity file is protected: the passphrase box is shown.
    pub needs_passphrase: bool,
    /// The inbox as last listed, oldest first.
    pub items: Vec<InboxItem>,
    /// Opened items by id (inbox items and mailbox replies).
    pub opened: BTreeMap<String, Rc<Opened>>,
    /// What is shown.
    pub view: Option<View>,
    /// What is happening or went wrong.
    pub note: Note,
    /// Work under way: buttons are disabled.
    pub busy: bool,
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        let same_session = match (&self.session, &other.session) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        same_session
            && self.needs_passphrase == other.needs_passphrase
            && self.items == other.items
            && self.opened == other.opened
            && self.view == other.view
            && self.note == other.note
            && self.busy == other.busy
    }
}

/// What can happen on the inbox page.
#[derive(Debug)]
pub enum Action {
    /// Work started; `key` says what (announced).
    Working(&'static str),
    /// Something failed: a message key and its detail.
    Failed(&'static str, String),
    /// The identity file needs its passphrase.
    AskPassphrase,
    /// The keys and token opened the inbox, which holds these items.
    Unlocked(Rc<Session>, Vec<InboxItem>),
    /// The inbox was listed again.
    Listed(Vec<InboxItem>),
    /// Items were opened; show the thread of the first id.
    Opened(String, Vec<Opened>),
    /// A reply was posted and opened again (it joins the thread).
    Replied(Box<Opened>),
    /// An item was deleted on the relay.
    Deleted(String),
    /// Show the list.
    ShowInbox,
    /// Lock: forget keys, token and everything opened.
    Lock,
}

impl State {
    /// The state after `action`.
    pub fn reduce(mut self, action: Action) -> State {
        match action {
            Action::Working(key) => {
                self.busy = true;
                self.note = Note {
                    key,
                    ..Note::default()
                };
            }
            Action::Failed(key, detail) => {
                self.busy = false;
                self.note = Note {
                    key,
                    detail,
                    error: true,
                };
            }
            Action::AskPassphrase => {
                self.busy = false;
                self.needs_passphrase = true;
                self.note = Note {
                    key: "agency-needs-passphrase",
                    detail: String::new(),
                    error: true,
                };
            }
            Action::Unlocked(session, items) => {
                self = State {
                    session: Some(session),
                    items,
                    view: Some(View::Inbox),
                    ..State::default()
                };
            }
            Action::Listed(items) => {
                self.busy = false;
                self.note = Note::default();
                self.opened
                    .retain(|id, o| items.iter().any(|i| i.id == *id) || !is_inbox(o));
                self.items = items;
            }
            Action::Opened(show, opened) => {
                self.busy = false;
                self.note = Note::default();
                for item in opened {
                    self.opened.insert(item.id.clone(), Rc::new(item));
                }
                if self.opened.contains_key(&show) {
                    self.view = Some(View::Thread(show));
                }
            }
            Action::Replied(reply) => {
                self.busy = false;
                self.note = Note {
                    key: "agency-reply-sent",
                    ..Note::default()
                };
                self.opened.insert(reply.id.clone(), Rc::from(reply));
            }
            Action::Deleted(id) => {
                self.busy = false;
                self.note = Note {
                    key: "agency-deleted",
                    ..Note::default()
                };
                self.items.retain(|item| item.id != id);
                self.opened.remove(&id);
                if self.view == Some(View::Thread(id)) {
                    self.view = Some(View::Inbox);
                }
            }
            Action::ShowInbox => {
                self.note = Note::default();
                self.view = Some(View::Inbox);
            }
            Action::Lock => self = State::default(),
        }
        self
    }

    /// The thread holding `id`: the opened items sharing its mailbox, in
    /// order (as `sealtip thread` orders them).
    pub fn thread(&self, id: &str) -> Vec<Rc<Opened>> {
        // Times are to the hour: within one, the inbox's order (oldest
        // first) decides, and replies come after.
        let mut all: Vec<Rc<Opened>> = self.opened.values().cloned().collect();
        all.sort_by_key(|o| {
            self.items
                .iter()
                .position(|i| i.id == o.id)
                .unwrap_or(usize::MAX)
        });
        sealtip_envelope::thread::threads(all, |o| &o.tip, |o| o.received().to_string())
            .into_iter()
            .find(|thread| thread.iter().any(|o| o.id == id))
            .unwrap_or_default()
    }

    /// The inbox items not opened yet, of this kind.
    pub fn unopened(&self, kind: ItemKind) -> Vec<InboxItem> {
        self.items
            .iter()
            .filter(|item| item.kind == kind && !self.opened.contains_key(&item.id))
            .cloned()
            .collect()
    }
}

fn is_inbox(opened: &Opened) -> bool {
    matches!(opened.source, Source::Inbox(..))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sealtip_envelope::bundle::{Kind, ReplyTo};

    fn session() -> Rc<Session> {
        Rc::new(Session {
            agency: "demo".into(),
            identities: vec![Identity::generate().unwrap()],
            token: Zeroizing::new("token".into()),
        })
    }

    fn item(id: &str, kind: ItemKind, hour: u8) -> InboxItem {
        InboxItem {
            id: id.into(),
            kind,
            size: 4096,
            received: format!("2026-11-29T{hour:02}:00:00Z"),
        }
    }

    fn opened(id: &str, kind: Kind, source: Source, mailbox: Option<&str>) -> Opened {
        let mut tip = Tip::new(kind, "demo", "2026-11-29");
        tip.text = id.to_string();
        tip.reply = mailbox.map(|m| ReplyTo {
            recipient: "age1x".into(),
            mailbox: m.into(),
        });
        Opened {
            id: id.into(),
            source,
            tip,
            files: vec![OpenedFile {
                name: "photo.png".into(),
                media_type: "image/png".into(),
                bytes: Zeroizing::new(vec![1, 2, 3]),
            }],
        }
    }

    fn unlocked() -> State {
        State::default()
            .reduce(Action::AskPassphrase)
            .reduce(Action::Unlocked(
                session(),
                vec![
                    item("t1", ItemKind::Tip, 9),
                    item("m1", ItemKind::Message, 11),
                    item("t2", ItemKind::Tip, 10),
                ],
            ))
    }

    fn reply_at(hour: u8) -> Source {
        Source::Reply(format!("2026-11-29T{hour:02}:00:00Z"))
    }

    fn inbox(kind: ItemKind, hour: u8) -> Source {
        Source::Inbox(kind, format!("2026-11-29T{hour:02}:00:00Z"))
    }

    #[test]
    fn unlocking_shows_the_inbox_and_forgets_the_passphrase_prompt() {
        let state = State::default().reduce(Action::AskPassphrase);
        assert!(state.needs_passphrase);
        assert_eq!(state.note.key, "agency-needs-passphrase");
        let state = unlocked();
        assert!(!state.needs_passphrase && state.session.is_some());
        assert_eq!(state.view, Some(View::Inbox));
        assert_eq!(state.items.len(), 3);
        assert_eq!(state.unopened(ItemKind::Message).len(), 1);
    }

    #[test]
    fn opening_a_tip_shows_its_thread_with_follow_ups_and_replies_in_order() {
        let state = unlocked().reduce(Action::Working("agency-opening"));
        assert!(state.busy);
        let state = state.reduce(Action::Opened(
            "t1".into(),
            vec![
                opened(
                    "m1",
                    Kind::Message,
                    inbox(ItemKind::Message, 11),
                    Some("box"),
                ),
                opened("t1", Kind::Tip, inbox(ItemKind::Tip, 9), Some("box")),
                opened("r1", Kind::Reply, reply_at(10), Some("box")),
                opened("t2", Kind::Tip, inbox(ItemKind::Tip, 10), None),
            ],
        ));
        assert!(!state.busy);
        assert_eq!(state.view, Some(View::Thread("t1".into())));
        let thread: Vec<String> = state.thread("t1").iter().map(|o| o.id.clone()).collect();
        assert_eq!(thread, ["t1", "r1", "m1"]);
        assert_eq!(state.thread("t2").len(), 1);
        assert!(state.unopened(ItemKind::Message).is_empty());
    }

    #[test]
    fn within_the_same_hour_the_tip_comes_first_then_the_inbox_order() {
        let state = State::default().reduce(Action::Unlocked(
            session(),
            vec![
                item("b-tip", ItemKind::Tip, 9),
                item("c-later", ItemKind::Message, 9),
                item("a-sooner", ItemKind::Message, 9),
            ],
        ));
        let source = || inbox(ItemKind::Message, 9);
        let state = state.reduce(Action::Opened(
            "b-tip".into(),
            vec![
                opened("a-sooner", Kind::Message, source(), Some("box")),
                opened("b-tip", Kind::Tip, source(), Some("box")),
                opened("c-later", Kind::Message, source(), Some("box")),
            ],
        ));
        let thread: Vec<String> = state.thread("b-tip").iter().map(|o| o.id.clone()).collect();
        assert_eq!(thread, ["b-tip", "c-later", "a-sooner"]);
    }

    #[test]
    fn a_reply_joins_the_thread_and_says_so() {
        let state = unlocked()
            .reduce(Action::Opened(
                "t1".into(),
                vec![opened(
                    "t1",
                    Kind::Tip,
                    inbox(ItemKind::Tip, 9),
                    Some("box"),
                )],
            ))
            .reduce(Action::Working("agency-replying"))
            .reduce(Action::Replied(Box::new(opened(
                "r9",
                Kind::Reply,
                reply_at(12),
                Some("box"),
            ))));
        assert_eq!(state.note.key, "agency-reply-sent");
        assert!(!state.note.error && !state.busy);
        assert_eq!(state.thread("t1").len(), 2);
    }

    #[test]
    fn deleting_the_shown_item_goes_back_to_the_list() {
        let state = unlocked()
            .reduce(Action::Opened(
                "t2".into(),
                vec![opened("t2", Kind::Tip, inbox(ItemKind::Tip, 10), None)],
            ))
            .reduce(Action::Deleted("t2".into()));
        assert_eq!(state.view, Some(View::Inbox));
        assert!(state.items.iter().all(|i| i.id != "t2"));
        assert!(state.opened.is_empty());
        assert_eq!(state.note.key, "agency-deleted");
    }

    #[test]
    fn a_failure_is_one_error_line_and_ends_the_work() {
        let state = unlocked()
            .reduce(Action::Working("agency-opening"))
            .reduce(Action::Failed(
                "agency-wrong-key",
                "sealed to 2 other keys".into(),
            ));
        assert!(!state.busy && state.note.error);
        assert_eq!(state.note.key, "agency-wrong-key");
        assert_eq!(state.view, Some(View::Inbox));
    }

    #[test]
    fn listing_again_drops_items_deleted_elsewhere() {
        let state = unlocked()
            .reduce(Action::Opened(
                "t1".into(),
                vec![
                    opened("t1", Kind::Tip, inbox(ItemKind::Tip, 9), Some("box")),
                    opened("r1", Kind::Reply, reply_at(10), Some("box")),
                ],
            ))
            .reduce(Action::Listed(vec![item("t2", ItemKind::Tip, 10)]));
        assert_eq!(state.items.len(), 1);
        assert!(!state.opened.contains_key("t1") && state.opened.contains_key("r1"));
    }

    #[test]
    fn locking_forgets_keys_token_and_everything_opened() {
        let state = unlocked().reduce(Action::Opened(
            "t1".into(),
            vec![opened("t1", Kind::Tip, inbox(ItemKind::Tip, 9), None)],
        ));
        let session = state.session.clone().unwrap();
        let state = state.reduce(Action::Lock);
        assert_eq!(state, State::default());
        // Nothing but this test still holds the keys: they go with it.
        assert_eq!(Rc::strong_count(&session), 1);
    }
}
