//! The page's state: a plain struct, the actions that change it, and the
//! reducer. Pure (no browser, no network), so it is tested natively.
//!
//! One topic a file: the picked files (`files`), sending (`sending`), the
//! replies screen (`replies`), the agency an address names (`address`) and
//! the quick exit's Shift presses (`quick_exit`); this file holds the page's
//! state, its screens and its reducer.

use std::collections::BTreeMap;
use std::rc::Rc;

use sealtip_api::AgencyProfile;

use crate::i18n::Lang;

mod address;
mod files;
mod quick_exit;
mod replies;
mod sending;
#[cfg(test)]
mod tests;

pub use address::agency_in_address;
pub use files::{Cleaning, Contents, Picked};
pub use quick_exit::ShiftTaps;
pub use replies::{CodenameKeys, Mailbox, Notice, Replies, RepliesAction};
pub use sending::{Failure, Progress, Stage};

pub use sealtip_api::WHAT_HAPPENED;

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The language of the page.
    pub lang: Lang,
    /// The agency, once its profile is loaded.
    pub agency: Load,
    /// Which screen is shown.
    pub screen: Screen,
    /// Answers by question id (`what` holds the free text).
    pub answers: BTreeMap<String, String>,
    /// Required questions left empty, shown after a send attempt.
    pub missing: Vec<String>,
    /// Files picked, in order.
    pub files: Vec<Picked>,
    /// Files still being read.
    pub reading: usize,
    /// Sending: its stage and how far it is (0.0–1.0) within all stages.
    pub progress: Option<Progress>,
    /// Why the last send failed (a message key and its detail).
    pub failure: Option<Failure>,
    /// The page is being left: everything blanked.
    pub exiting: bool,
}

/// The agency profile, as far as it is loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    /// Asking the relay.
    Loading,
    /// The profile.
    Ready(Rc<AgencyProfile>),
    /// No agency by that id.
    Unknown,
    /// The relay could not be reached or answered nonsense.
    Failed,
}

/// The screens of the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// The form.
    Form,
    /// After sending: the codename, shown once.
    Sent {
        /// The codename's words.
        codename: Rc<str>,
        /// The tipster confirmed writing it down.
        confirmed: bool,
    },
    /// Checking for replies with a codename: what was typed and opened,
    /// forgotten on leaving the screen.
    Replies(Replies),
}
/// What can happen to the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The tipster picked a language.
    SetLang(Lang),
    /// The agency profile arrived (or did not).
    Loaded(Load),
    /// An answer changed.
    Answer {
        /// The question id.
        id: String,
        /// The new answer.
        value: String,
    },
    /// Files are being read.
    Reading(usize),
    /// A file was read and cleaned.
    Picked(Picked),
    /// The tipster removed a file.
    RemoveFile(usize),
    /// The tipster toggled "keep the original" on a file.
    KeepOriginal(usize, bool),
    /// The tipster toggled "keep the file name" on a file.
    KeepName(usize, bool),
    /// The tipster pressed send: check the answers.
    Validate,
    /// Sending moved on.
    Progress(Progress),
    /// Sending failed or was cancelled; nothing was stored.
    Failed(Failure),
    /// The relay stored the tip.
    Sent {
        /// The codename, shown once.
        codename: Rc<str>,
    },
    /// The tipster confirmed writing the codename down.
    Confirmed,
    /// Show a screen (the codename is dropped when leaving it).
    Show(Screen),
    /// Something happened on the replies screen; ignored on any other.
    Replies(RepliesAction),
    /// Quick exit: blank everything.
    Exit,
}

impl State {
    /// A page in `lang`, waiting for the agency.
    pub fn new(lang: Lang) -> Self {
        State {
            lang,
            agency: Load::Loading,
            screen: Screen::Form,
            answers: BTreeMap::new(),
            missing: Vec::new(),
            files: Vec::new(),
            reading: 0,
            progress: None,
            failure: None,
            exiting: false,
        }
    }

    /// The state after `action`.
    pub fn reduce(mut self, action: Action) -> State {
        if self.exiting {
            return self;
        }
        match action {
            Action::SetLang(lang) => self.lang = lang,
            Action::Loaded(load) => self.agency = load,
            Action::Answer { id, value } => {
                if !value.trim().is_empty() {
                    self.missing.retain(|missing| *missing != id);
                }
                self.answers.insert(id, value);
            }
            Action::Reading(count) => self.reading += count,
            Action::Picked(file) => {
                self.reading = self.reading.saturating_sub(1);
                self.files.push(file);
            }
            Action::RemoveFile(index) if index < self.files.len() && !self.is_sending() => {
                self.files.remove(index);
            }
            Action::KeepOriginal(index, keep) if !self.is_sending() => {
                if let Some(file) = self.files.get_mut(index) {
                    file.keep_original = keep;
                }
            }
            Action::KeepName(index, keep) if !self.is_sending() => {
                if let Some(file) = self.files.get_mut(index) {
                    file.keep_name = keep;
                }
            }
            Action::RemoveFile(_) | Action::KeepOriginal(..) | Action::KeepName(..) => {}
            Action::Validate => {
                self.missing = self.missing_answers();
                self.failure = None;
            }
            Action::Progress(progress) => {
                self.progress = Some(progress);
                self.failure = None;
            }
            Action::Failed(failure) => {
                self.progress = None;
                self.failure = Some(failure);
            }
            Action::Sent { codename } => {
                self.progress = None;
                self.failure = None;
                self.answers.clear();
                self.files.clear();
                self.screen = Screen::Sent {
                    codename,
                    confirmed: false,
                };
            }
            Action::Confirmed => {
                if let Screen::Sent { confirmed, .. } = &mut self.screen {
                    *confirmed = true;
                }
            }
            Action::Show(screen) => self.screen = screen,
            Action::Replies(action) => {
                if let Screen::Replies(replies) = &mut self.screen {
                    replies.reduce(action);
                }
            }
            Action::Exit => {
                let lang = self.lang;
                self = State::new(lang);
                self.exiting = true;
            }
        }
        self
    }

    /// Whether a send is under way.
    pub fn is_sending(&self) -> bool {
        self.progress.is_some_and(|p| p.stage != Stage::Done)
    }

    /// The profile, if loaded.
    pub fn profile(&self) -> Option<&Rc<AgencyProfile>> {
        match &self.agency {
            Load::Ready(profile) => Some(profile),
            _ => None,
        }
    }

    /// Ids of required questions without an answer, in form order. The free
    /// "What happened?" box is required unless the agency's form says otherwise.
    pub fn missing_answers(&self) -> Vec<String> {
        let Some(profile) = self.profile() else {
            return Vec::new();
        };
        let empty = |id: &str| self.answers.get(id).is_none_or(|v| v.trim().is_empty());
        let mut missing = Vec::new();
        if !has_what_question(profile) && empty(WHAT_HAPPENED) {
            missing.push(WHAT_HAPPENED.to_string());
        }
        for question in &profile.form.questions {
            if question.required && empty(&question.id) {
                missing.push(question.id.clone());
            }
        }
        missing
    }
}

/// Whether the agency's form has its own "What happened?" box.
pub fn has_what_question(profile: &AgencyProfile) -> bool {
    profile.has_what_question()
}
