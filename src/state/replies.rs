//! The "Check for replies" screen: the codename typed, the mailbox it
//! opened, the answer being written, and what the screen says. All of it
//! lives in [`crate::state::Screen::Replies`], so leaving the screen forgets
//! it, and what arrives after the tipster left is ignored.

use std::rc::Rc;

use sealtip_envelope::{CodenameError, ReplyKeys};

use super::Failure;
use crate::replies::{OpenedMailbox, OpenedReply};

/// The replies screen's data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Replies {
    /// The codename as typed.
    pub codename: String,
    /// The opened mailbox; `None` until the codename opened it.
    pub mailbox: Option<Mailbox>,
    /// The answer being written.
    pub answer: String,
    /// The reply whose deletion is being confirmed.
    pub confirming: Option<String>,
    /// What the screen says: work under way, done, or what went wrong.
    pub notice: Option<Notice>,
    /// Work is under way (the buttons wait).
    pub busy: bool,
}

/// A codename's mailbox, opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Mailbox {
    /// The keys the codename derived: they answer and delete.
    pub keys: CodenameKeys,
    /// The replies proven to be the agency's, in the relay's order.
    pub replies: Vec<OpenedReply>,
    /// Replies that could not be opened or proven.
    pub unreadable: usize,
    /// The agency keys the last proven reply named: follow-ups go there.
    pub agency_keys: Vec<String>,
}

/// The keys a codename derived, shared by the screen's work; compared by
/// identity (two derivations are two values) and never printed.
#[derive(Clone)]
pub struct CodenameKeys(pub Rc<ReplyKeys>);

impl PartialEq for CodenameKeys {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for CodenameKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodenameKeys(…)")
    }
}

/// What the replies screen says.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Deriving the keys from the codename and opening the mailbox.
    Opening,
    /// Sending the answer.
    Answering,
    /// The answer was sent.
    Answered,
    /// The reply was deleted.
    Deleted,
    /// The codename was refused.
    CodenameRefused(CodenameError),
    /// The mailbox could not be opened.
    OpenFailed(Failure),
    /// The answer could not be sent.
    AnswerFailed(Failure),
    /// The reply could not be deleted.
    DeleteFailed(Failure),
}

impl Notice {
    /// Whether it says something went wrong.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Notice::CodenameRefused(_)
                | Notice::OpenFailed(_)
                | Notice::AnswerFailed(_)
                | Notice::DeleteFailed(_)
        )
    }
}

/// What can happen on the replies screen.
#[derive(Debug, Clone, PartialEq)]
pub enum RepliesAction {
    /// The codename box changed.
    TypeCodename(String),
    /// The answer box changed.
    TypeAnswer(String),
    /// Opening the mailbox with the typed codename began.
    Opening,
    /// The codename was refused, or the mailbox could not be opened.
    NotOpened(Notice),
    /// The mailbox opened.
    Opened(CodenameKeys, OpenedMailbox),
    /// Sending the answer began.
    Answering,
    /// The answer was sent, or not.
    Answered(Result<(), Failure>),
    /// Ask whether to delete this reply (`Some`), or not any more (`None`).
    AskDelete(Option<String>),
    /// Deleting the reply being confirmed began.
    Deleting,
    /// The reply was deleted, or not.
    Deleted(Result<String, Failure>),
}

impl Replies {
    /// The screen after `action`.
    pub fn reduce(&mut self, action: RepliesAction) {
        match action {
            RepliesAction::TypeCodename(codename) => self.codename = codename,
            RepliesAction::TypeAnswer(answer) => self.answer = answer,
            RepliesAction::Opening => {
                self.notice = Some(Notice::Opening);
                self.busy = true;
            }
            RepliesAction::Answering => {
                self.notice = Some(Notice::Answering);
                self.busy = true;
            }
            RepliesAction::NotOpened(notice) => {
                self.notice = Some(notice);
                self.busy = false;
            }
            RepliesAction::Opened(keys, opened) => {
                // The codename is not kept once its keys are derived.
                self.codename.clear();
                self.mailbox = Some(Mailbox {
                    keys,
                    replies: opened.replies,
                    unreadable: opened.unreadable,
                    agency_keys: opened.agency_keys,
                });
                self.notice = None;
                self.busy = false;
            }
            RepliesAction::Answered(result) => {
                self.notice = Some(match result {
                    Ok(()) => {
                        self.answer.clear();
                        Notice::Answered
                    }
                    Err(failure) => Notice::AnswerFailed(failure),
                });
                self.busy = false;
            }
            RepliesAction::AskDelete(reply) => self.confirming = reply,
            RepliesAction::Deleting => self.busy = true,
            RepliesAction::Deleted(result) => {
                self.notice = Some(match result {
                    Ok(deleted) => {
                        if let Some(mailbox) = &mut self.mailbox {
                            mailbox.replies.retain(|reply| reply.id != deleted);
                        }
                        Notice::Deleted
                    }
                    Err(failure) => Notice::DeleteFailed(failure),
                });
                self.confirming = None;
                self.busy = false;
            }
        }
    }
}
