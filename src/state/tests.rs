//! The reducer's tests: the form, the picked files, sending, the replies
//! screen and the quick exit.

use std::rc::Rc;

use sealtip_api::{AgencyProfile, Form, Question, QuestionKind};

use sealtip_envelope::{Identity, ReplyKeys, ThreadKey};

use super::*;
use crate::replies::{OpenedMailbox, OpenedReply};

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
            key: crate::i18n::msg::REASON_NETWORK,
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

fn replies_shown() -> State {
    loaded(vec![]).reduce(Action::Show(Screen::Replies(Replies::default())))
}

fn replies(state: &State) -> &Replies {
    match &state.screen {
        Screen::Replies(replies) => replies,
        other => panic!("not the replies screen: {other:?}"),
    }
}

fn keys() -> CodenameKeys {
    CodenameKeys(Rc::new(ReplyKeys::new(
        Identity::hybrid_from_seed([3; 32]),
        ThreadKey::from_bytes([3; 32]),
    )))
}

fn reply(id: &str, text: &str) -> OpenedReply {
    OpenedReply {
        id: id.into(),
        date: "2026-12-07".into(),
        text: text.into(),
    }
}

fn opened(state: State) -> State {
    let mailbox = OpenedMailbox {
        replies: vec![reply("a", "One."), reply("b", "Two.")],
        unreadable: 1,
        agency_keys: vec!["age1pq1named".into()],
    };
    state
        .reduce(Action::Replies(RepliesAction::TypeCodename("w1 w2".into())))
        .reduce(Action::Replies(RepliesAction::Opening))
        .reduce(Action::Replies(RepliesAction::Opened(keys(), mailbox)))
}

#[test]
fn a_codename_opens_the_mailbox_and_is_not_kept() {
    let state = replies_shown()
        .reduce(Action::Replies(RepliesAction::TypeCodename("w1 w2".into())))
        .reduce(Action::Replies(RepliesAction::Opening));
    assert!(replies(&state).busy);
    assert_eq!(replies(&state).notice, Some(Notice::Opening));
    let state = opened(state);
    let shown = replies(&state);
    assert!(!shown.busy && shown.notice.is_none() && shown.codename.is_empty());
    let mailbox = shown.mailbox.as_ref().expect("opened");
    assert_eq!(mailbox.replies.len(), 2);
    assert_eq!(mailbox.unreadable, 1);
    assert_eq!(mailbox.agency_keys, ["age1pq1named"]);
}

#[test]
fn a_refused_codename_stays_typed_with_the_reason() {
    let refused = Notice::CodenameRefused(sealtip_envelope::CodenameError::WordCount(2));
    let state = replies_shown()
        .reduce(Action::Replies(RepliesAction::TypeCodename("w1 w2".into())))
        .reduce(Action::Replies(RepliesAction::Opening))
        .reduce(Action::Replies(RepliesAction::NotOpened(refused.clone())));
    let shown = replies(&state);
    assert_eq!(shown.codename, "w1 w2");
    assert!(!shown.busy && shown.mailbox.is_none());
    assert!(refused.is_error());
    assert_eq!(shown.notice, Some(refused));
}

#[test]
fn an_answer_is_cleared_once_sent_and_kept_when_it_fails() {
    let state = opened(replies_shown())
        .reduce(Action::Replies(RepliesAction::TypeAnswer("At two.".into())))
        .reduce(Action::Replies(RepliesAction::Answering));
    assert!(replies(&state).busy);
    let failure = Failure {
        key: crate::i18n::msg::REASON_NETWORK,
        detail: String::new(),
    };
    let failed = state
        .clone()
        .reduce(Action::Replies(RepliesAction::Answered(Err(
            failure.clone()
        ))));
    assert_eq!(replies(&failed).answer, "At two.");
    assert_eq!(replies(&failed).notice, Some(Notice::AnswerFailed(failure)));
    let sent = state.reduce(Action::Replies(RepliesAction::Answered(Ok(()))));
    assert!(replies(&sent).answer.is_empty() && !replies(&sent).busy);
    assert_eq!(replies(&sent).notice, Some(Notice::Answered));
}

#[test]
fn a_reply_is_deleted_after_a_confirmation() {
    let state =
        opened(replies_shown()).reduce(Action::Replies(RepliesAction::AskDelete(Some("a".into()))));
    assert_eq!(replies(&state).confirming.as_deref(), Some("a"));
    let kept = state
        .clone()
        .reduce(Action::Replies(RepliesAction::AskDelete(None)));
    assert_eq!(replies(&kept).confirming, None);
    let state = state
        .reduce(Action::Replies(RepliesAction::Deleting))
        .reduce(Action::Replies(RepliesAction::Deleted(Ok("a".into()))));
    let shown = replies(&state);
    let left: Vec<&str> = shown.mailbox.as_ref().map_or(Vec::new(), |m| {
        m.replies.iter().map(|r| r.id.as_str()).collect()
    });
    assert_eq!(left, ["b"]);
    assert!(shown.confirming.is_none() && !shown.busy);
    assert_eq!(shown.notice, Some(Notice::Deleted));
}

#[test]
fn leaving_the_replies_screen_forgets_it_and_late_answers_are_ignored() {
    let state = opened(replies_shown()).reduce(Action::Show(Screen::Form));
    assert_eq!(state.screen, Screen::Form);
    let state = state.reduce(Action::Replies(RepliesAction::Deleted(Ok("a".into()))));
    assert_eq!(state.screen, Screen::Form);
    let again = state.reduce(Action::Show(Screen::Replies(Replies::default())));
    assert_eq!(replies(&again), &Replies::default());
}
