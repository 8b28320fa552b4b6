//! The page's state: a plain struct, the actions that change it, and the
//! reducer. Pure (no browser, no network), so it is tested natively.

use std::collections::BTreeMap;
use std::rc::Rc;

use sealtip_api::{AgencyProfile, QuestionKind};

use crate::i18n::Lang;

/// The id of the free "What happened?" box. A profile question with this id
/// and kind `long_text` is that box, with the agency's label.
pub const WHAT_HAPPENED: &str = "what";

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
    /// Checking for replies with a codename.
    Replies,
}

/// A picked file and what cleaning it found.
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    /// The file's name as picked.
    pub name: String,
    /// Its media type as the browser tells it.
    pub media_type: String,
    /// The file as picked.
    pub original: Contents,
    /// What cleaning gave.
    pub cleaning: Cleaning,
    /// The tipster chose to send the original.
    pub keep_original: bool,
    /// The tipster chose to send the file's name too (by default it is
    /// left out: it can hold a date, a place or a person's name).
    pub keep_name: bool,
}

/// What cleaning a picked file gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Cleaning {
    /// A photo, cleaned: the bytes and what was removed (words).
    Cleaned {
        /// The cleaned file.
        bytes: Rc<Vec<u8>>,
        /// The media type of the cleaned format.
        media_type: &'static str,
        /// What was removed, as plain words ("location").
        removed: Vec<&'static str>,
    },
    /// A kind of file whose metadata is not checked.
    NotChecked,
    /// A photo too damaged to clean with certainty.
    Damaged,
}

/// A file's contents: in memory, or on the device and read in slices when
/// sealed, so that a large video never has to fit in memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Contents {
    /// Bytes in memory (a cleaned photo).
    Memory(Rc<Vec<u8>>),
    /// A file the tipster picked, still on the device.
    File(web_sys::Blob),
}

impl Contents {
    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Contents::Memory(bytes) => bytes.len() as u64,
            Contents::File(blob) => blob.size() as u64,
        }
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Picked {
    /// What will be sealed, and its media type.
    pub fn to_send(&self) -> (Contents, &str) {
        match &self.cleaning {
            Cleaning::Cleaned {
                bytes, media_type, ..
            } if !self.keep_original => (Contents::Memory(bytes.clone()), media_type),
            _ => (self.original.clone(), &self.media_type),
        }
    }
}

/// The stages of sending, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Choosing the codename, deriving its keys, solving the proof of work.
    Preparing,
    /// Sealing to the agency's keys.
    Sealing,
    /// Uploading the sealed tip.
    Sending,
    /// The connection was lost; trying again.
    Reconnecting,
    /// Stored by the relay.
    Done,
}

impl Stage {
    /// The message key of this stage.
    pub fn key(self) -> &'static str {
        match self {
            Stage::Preparing => "stage-preparing",
            Stage::Sealing => "stage-sealing",
            Stage::Sending => "stage-sending",
            Stage::Reconnecting => "stage-reconnecting",
            Stage::Done => "stage-done",
        }
    }
}

/// Where sending is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// Overall fraction done, 0.0–1.0.
    pub fraction: f64,
}

/// Why a send failed: a message key and a detail for `{ $detail }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The message key (`send-cancelled`, `reason-network`, …).
    pub key: &'static str,
    /// Detail from the relay, if any.
    pub detail: String,
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

impl Picked {
    /// A picked file, with photos cleaned of their metadata (JPEG, PNG,
    /// WebP, without re-encoding); other files are sent as they are.
    pub fn clean(name: String, media_type: String, bytes: Vec<u8>) -> Picked {
        let bytes = Rc::new(bytes);
        Picked::clean_with_original(name, media_type, &bytes, Contents::Memory(bytes.clone()))
    }

    /// A file sent as it is, its metadata not checked (not a photo this page
    /// cleans, or too large to read into memory).
    pub fn not_checked(name: String, media_type: String, original: Contents) -> Picked {
        Picked {
            name,
            media_type: or_octet_stream(media_type),
            original,
            cleaning: Cleaning::NotChecked,
            keep_original: false,
            keep_name: false,
        }
    }

    /// Like [`Picked::clean`], keeping `original` (the file on the device)
    /// instead of the bytes read from it, which can then be dropped.
    pub fn clean_with_original(
        name: String,
        media_type: String,
        bytes: &[u8],
        original: Contents,
    ) -> Picked {
        let hint = (!media_type.is_empty()).then_some(media_type.as_str());
        let cleaning = match sealtip_scrub::scrub(bytes, hint) {
            Ok(scrubbed) => Cleaning::Cleaned {
                media_type: scrubbed.format.media_type(),
                removed: scrubbed.removed.iter().map(|kind| kind.words()).collect(),
                bytes: Rc::new(scrubbed.bytes),
            },
            Err(sealtip_scrub::ScrubError::Malformed { .. }) => Cleaning::Damaged,
            Err(sealtip_scrub::ScrubError::Unsupported(_)) => Cleaning::NotChecked,
        };
        Picked {
            name,
            media_type: or_octet_stream(media_type),
            original,
            cleaning,
            keep_original: false,
            keep_name: false,
        }
    }
}

fn or_octet_stream(media_type: String) -> String {
    if media_type.is_empty() {
        "application/octet-stream".to_string()
    } else {
        media_type
    }
}

/// Which agency an address names: `/a/{id}`, or `?agency=` on `/` and
/// `/embed`; `None` means the relay's default agency.
pub fn agency_in_address(path: &str, query: &str) -> Option<String> {
    if let Some(id) = path.strip_prefix("/a/") {
        let id = id.trim_end_matches('/');
        return (!id.is_empty()).then(|| id.to_string());
    }
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("agency="))
        .filter(|id| !id.is_empty())
        .map(str::to_string)
}

/// Counts Shift presses: three within five seconds mean "leave now".
#[derive(Debug, Default, Clone)]
pub struct ShiftTaps {
    times: Vec<f64>,
}

impl ShiftTaps {
    /// The window in which three presses count.
    pub const WINDOW_MS: f64 = 5_000.0;

    /// Records a key press at `now` (milliseconds); true on the third Shift
    /// within the window. Any other key resets the count, so typing capital
    /// letters (Shift held with a letter) never leaves the page.
    pub fn press(&mut self, key: &str, now: f64) -> bool {
        if key != "Shift" {
            self.times.clear();
            return false;
        }
        self.times.retain(|t| now - *t < Self::WINDOW_MS);
        self.times.push(now);
        if self.times.len() >= 3 {
            self.times.clear();
            return true;
        }
        false
    }
}

/// Whether the agency's form has its own "What happened?" box.
pub fn has_what_question(profile: &AgencyProfile) -> bool {
    profile
        .form
        .questions
        .iter()
        .any(|q| q.id == WHAT_HAPPENED && q.kind == QuestionKind::LongText)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealtip_api::{Form, Question};

    fn question(id: &str, kind: QuestionKind, required: bool) -> Question {
        Question {
            id: id.into(),
            kind,
            label: [("en".to_string(), id.to_string())].into(),
            help: Default::default(),
            required,
            choices: Vec::new(),
        }
    }

    fn profile(questions: Vec<Question>) -> Rc<AgencyProfile> {
        Rc::new(AgencyProfile {
            id: "demo".into(),
            name: "Demo".into(),
            recipients: vec![],
            languages: vec!["en".into()],
            form: Form {
                id: "f".into(),
                questions,
            },
            emergency: Default::default(),
            exit_url: "https://example.org/".into(),
            embed_origins: Vec::new(),
            pow_difficulty: 0,
            max_upload_bytes: 1 << 20,
        })
    }

    fn loaded(questions: Vec<Question>) -> State {
        State::new(Lang::En).reduce(Action::Loaded(Load::Ready(profile(questions))))
    }

    fn answer(state: State, id: &str, value: &str) -> State {
        state.reduce(Action::Answer {
            id: id.into(),
            value: value.into(),
        })
    }

    #[test]
    fn the_free_box_is_required_when_the_form_has_none() {
        let state = loaded(vec![question("who", QuestionKind::Text, false)]);
        assert_eq!(state.missing_answers(), vec!["what"]);
        let state = answer(state, "what", "  ");
        assert_eq!(state.missing_answers(), vec!["what"]);
        assert!(
            answer(state, "what", "I saw it")
                .missing_answers()
                .is_empty()
        );
    }

    #[test]
    fn required_questions_are_listed_in_form_order_and_clear_when_answered() {
        let state = loaded(vec![
            question("what", QuestionKind::LongText, true),
            question("when", QuestionKind::Date, false),
            question("where", QuestionKind::Place, true),
        ])
        .reduce(Action::Validate);
        assert_eq!(state.missing, vec!["what", "where"]);
        let state = answer(state, "where", "Main street");
        assert_eq!(state.missing, vec!["what"]);
    }

    #[test]
    fn an_optional_what_question_makes_the_free_text_optional() {
        let state = loaded(vec![question("what", QuestionKind::LongText, false)]);
        assert!(state.missing_answers().is_empty());
    }

    fn picked(cleaning: Cleaning) -> Picked {
        Picked {
            name: "a.jpg".into(),
            media_type: "image/jpeg".into(),
            original: Contents::Memory(Rc::new(vec![1, 2, 3])),
            cleaning,
            keep_original: false,
            keep_name: false,
        }
    }

    #[test]
    fn a_cleaned_photo_is_sent_cleaned_unless_the_original_is_kept() {
        let clean = Cleaning::Cleaned {
            bytes: Rc::new(vec![1]),
            media_type: "image/jpeg",
            removed: vec!["location"],
        };
        let state = loaded(vec![]).reduce(Action::Reading(1));
        assert_eq!(state.reading, 1);
        let state = state.reduce(Action::Picked(picked(clean)));
        assert_eq!(state.reading, 0);
        let memory = |bytes: &[u8]| Contents::Memory(Rc::new(bytes.to_vec()));
        assert_eq!(state.files[0].to_send().0, memory(&[1]));
        let state = state.reduce(Action::KeepOriginal(0, true));
        assert_eq!(state.files[0].to_send().0, memory(&[1, 2, 3]));
        let state = state
            .reduce(Action::RemoveFile(0))
            .reduce(Action::RemoveFile(5));
        assert!(state.files.is_empty());
        let not_checked = picked(Cleaning::NotChecked);
        assert_eq!(not_checked.to_send().0, memory(&[1, 2, 3]));
    }

    #[test]
    fn the_file_name_is_left_out_unless_the_tipster_keeps_it() {
        let state = loaded(vec![]).reduce(Action::Picked(picked(Cleaning::NotChecked)));
        assert!(!state.files[0].keep_name);
        let state = state.reduce(Action::KeepName(0, true));
        assert!(state.files[0].keep_name);
        let state = state
            .reduce(Action::KeepName(0, false))
            .reduce(Action::KeepName(3, true));
        assert!(!state.files[0].keep_name);
    }

    #[test]
    fn files_are_fixed_while_sending() {
        let state = loaded(vec![])
            .reduce(Action::Picked(picked(Cleaning::NotChecked)))
            .reduce(Action::Progress(Progress {
                stage: Stage::Sealing,
                fraction: 0.4,
            }))
            .reduce(Action::RemoveFile(0))
            .reduce(Action::KeepName(0, true));
        assert!(state.is_sending());
        assert_eq!(state.files.len(), 1);
        assert!(!state.files[0].keep_name);
    }

    #[test]
    fn sending_then_confirming_the_codename() {
        let state = answer(loaded(vec![]), "what", "x")
            .reduce(Action::Progress(Progress {
                stage: Stage::Sending,
                fraction: 0.9,
            }))
            .reduce(Action::Sent {
                codename: "a b c".into(),
            });
        assert!(state.answers.is_empty() && state.progress.is_none());
        let state = state.reduce(Action::Confirmed);
        assert_eq!(
            state.screen,
            Screen::Sent {
                codename: "a b c".into(),
                confirmed: true
            }
        );
    }

    #[test]
    fn a_failure_ends_the_progress_and_keeps_the_answers() {
        let state = answer(loaded(vec![]), "what", "x")
            .reduce(Action::Progress(Progress {
                stage: Stage::Preparing,
                fraction: 0.1,
            }))
            .reduce(Action::Failed(Failure {
                key: "reason-network",
                detail: String::new(),
            }));
        assert!(state.progress.is_none() && !state.is_sending());
        assert_eq!(state.answers["what"], "x");
    }

    #[test]
    fn exit_forgets_everything_and_ignores_later_actions() {
        let state = answer(loaded(vec![]), "what", "secret").reduce(Action::Exit);
        assert!(state.exiting && state.answers.is_empty() && state.profile().is_none());
        let state = answer(state, "what", "more");
        assert!(state.answers.is_empty());
    }

    #[test]
    fn addresses_name_agencies() {
        assert_eq!(agency_in_address("/", ""), None);
        assert_eq!(
            agency_in_address("/a/city-hall", ""),
            Some("city-hall".into())
        );
        assert_eq!(
            agency_in_address("/a/city-hall/", ""),
            Some("city-hall".into())
        );
        assert_eq!(
            agency_in_address("/embed", "x=1&agency=ngo"),
            Some("ngo".into())
        );
        assert_eq!(agency_in_address("/embed", "agency="), None);
    }

    #[test]
    fn three_shifts_within_five_seconds_mean_exit() {
        let mut taps = ShiftTaps::default();
        assert!(!taps.press("Shift", 0.0));
        assert!(!taps.press("Shift", 1_000.0));
        assert!(taps.press("Shift", 4_999.0));
        // Typing "Last Tuesday, Same": Shift then a letter, three times.
        let mut typing = ShiftTaps::default();
        for (i, key) in ["Shift", "L", "a", "Shift", "T", "u", "Shift", "S"]
            .iter()
            .enumerate()
        {
            assert!(!typing.press(key, i as f64 * 100.0), "{key}");
        }
        let mut slow = ShiftTaps::default();
        assert!(!slow.press("Shift", 0.0));
        assert!(!slow.press("Shift", 3_000.0));
        assert!(!slow.press("Shift", 6_000.0));
        assert!(slow.press("Shift", 7_000.0));
    }

    #[test]
    fn a_gps_photo_is_cleaned_and_other_files_are_not_checked() {
        let jpeg = include_bytes!("../crates/scrub/tests/fixtures/gps.jpg").to_vec();
        let file = Picked::clean("p.jpg".into(), "image/jpeg".into(), jpeg.clone());
        let Cleaning::Cleaned { bytes, removed, .. } = &file.cleaning else {
            panic!("not cleaned: {:?}", file.cleaning)
        };
        assert!(removed.contains(&"location"), "{removed:?}");
        assert!(bytes.len() < jpeg.len());
        let text = Picked::clean("a.txt".into(), String::new(), b"hello".to_vec());
        assert_eq!(text.cleaning, Cleaning::NotChecked);
        assert_eq!(text.media_type, "application/octet-stream");
    }
}
