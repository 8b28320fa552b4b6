//! The upload session's rules, step by step: what the client asks next for
//! every answer the relay can give, or not give.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a panic is a failure report

use std::time::Duration;

use sealtip_api::UploadSession;
use sealtip_api::upload::{Action, Answer, Failure, Session};

const SESSION: &str = "0123456789abcdef0123456789abcdef";
const ITEM: &str = "fedcba9876543210fedcba9876543210";

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn opened(part_max_bytes: u64, expires_in: u64) -> Answer {
    Answer::Opened(UploadSession {
        upload: SESSION.into(),
        max_bytes: 1 << 30,
        part_max_bytes,
        expires_in,
    })
}

fn refused(status: u16) -> Answer {
    Answer::Refused {
        status,
        reason: format!("reason {status}"),
    }
}

/// What the session asks, without the bytes: easier to compare.
#[derive(Debug, PartialEq, Eq)]
enum Asked {
    Open,
    Send(u64, Vec<u8>),
    Ask,
    Commit,
    Wait(Duration),
    NeedBytes,
    Done(Option<String>),
    Failed(Failure),
}

fn asked(session: &mut Session) -> Asked {
    match session.next_action() {
        Action::Open { proof } => {
            assert_eq!(proof, "proof");
            Asked::Open
        }
        Action::Send {
            session,
            offset,
            bytes,
        } => {
            assert_eq!(session, SESSION);
            Asked::Send(offset, bytes.to_vec())
        }
        Action::AskReceived { session } => {
            assert_eq!(session, SESSION);
            Asked::Ask
        }
        Action::Commit { session } => {
            assert_eq!(session, SESSION);
            Asked::Commit
        }
        Action::Wait(wait) => Asked::Wait(wait),
        Action::NeedBytes => Asked::NeedBytes,
        Action::Done { id } => Asked::Done(id.map(String::from)),
        Action::Failed(failure) => Asked::Failed(failure.clone()),
    }
}

/// A session opened with parts of at most `part_max` bytes, living 60 s.
fn open_session(part_max: u64) -> Session {
    let mut session = Session::new("proof".into(), 600);
    assert_eq!(asked(&mut session), Asked::Open);
    session.answered(opened(part_max, 60));
    assert_eq!(asked(&mut session), Asked::NeedBytes);
    session
}

/// Waits out the wait the session asks for, which must be `wait`.
fn wait(session: &mut Session, wait: Duration) {
    assert_eq!(asked(session), Asked::Wait(wait));
    session.waited();
}

fn failed(session: &mut Session) -> Failure {
    match asked(session) {
        Asked::Failed(failure) => failure,
        other => panic!("not failed: {other:?}"),
    }
}

#[test]
fn a_tip_is_opened_sent_in_parts_and_committed() {
    let mut session = open_session(1 << 20);
    session.push(b"age-header".to_vec());
    assert_eq!(asked(&mut session), Asked::Send(0, b"age-header".to_vec()));
    // Asked again before its answer: the same request.
    assert_eq!(asked(&mut session), Asked::Send(0, b"age-header".to_vec()));
    session.answered(Answer::Received(10));
    assert_eq!(session.stored(), 10);
    assert_eq!(asked(&mut session), Asked::NeedBytes);
    session.push(b"payload".to_vec());
    session.finish();
    assert_eq!(asked(&mut session), Asked::Send(10, b"payload".to_vec()));
    session.answered(Answer::Received(17));
    assert_eq!(asked(&mut session), Asked::Commit);
    session.answered(Answer::Stored(ITEM.into()));
    assert_eq!(asked(&mut session), Asked::Done(Some(ITEM.into())));
}

#[test]
fn bytes_pushed_while_a_part_is_in_flight_follow_it() {
    let mut session = open_session(1 << 20);
    session.push(b"first".to_vec());
    assert_eq!(asked(&mut session), Asked::Send(0, b"first".to_vec()));
    assert_eq!(session.queued(), 0);
    // The page seals the next part while the first one is on its way.
    session.push(b"second".to_vec());
    assert_eq!(session.queued(), 6);
    session.answered(Answer::Received(5));
    assert_eq!(asked(&mut session), Asked::Send(5, b"second".to_vec()));
    assert_eq!(session.queued(), 0);
}

#[test]
fn parts_are_no_larger_than_the_relay_takes() {
    let mut session = open_session(4);
    session.push(b"0123456789".to_vec());
    session.push(b"ab".to_vec());
    session.finish();
    assert_eq!(asked(&mut session), Asked::Send(0, b"0123".to_vec()));
    assert_eq!(session.queued(), 8);
    session.answered(Answer::Received(4));
    assert_eq!(asked(&mut session), Asked::Send(4, b"4567".to_vec()));
    session.answered(Answer::Received(8));
    // A part never runs past a pushed piece: the piece is then dropped.
    assert_eq!(asked(&mut session), Asked::Send(8, b"89".to_vec()));
    session.answered(Answer::Received(10));
    assert_eq!(asked(&mut session), Asked::Send(10, b"ab".to_vec()));
    session.answered(Answer::Received(12));
    assert_eq!(asked(&mut session), Asked::Commit);
}

#[test]
fn waits_double_from_one_second_up_to_twenty() {
    let mut session = Session::new("proof".into(), 3600);
    for expected in [1, 2, 4, 8, 16, 20, 20] {
        assert_eq!(asked(&mut session), Asked::Open);
        session.answered(Answer::Lost);
        wait(&mut session, secs(expected));
    }
    assert_eq!(asked(&mut session), Asked::Open);
    session.answered(opened(100, 60));
    // A useful answer: waits start again from one second.
    session.push(b"x".to_vec());
    assert_eq!(asked(&mut session), Asked::Send(0, b"x".to_vec()));
    session.answered(refused(503));
    wait(&mut session, secs(1));
}

#[test]
fn opening_is_tried_again_after_passing_failures_only() {
    for status in [408, 429, 500, 502, 503] {
        let mut session = Session::new("proof".into(), 600);
        assert_eq!(asked(&mut session), Asked::Open);
        session.answered(refused(status));
        wait(&mut session, secs(1));
        assert_eq!(asked(&mut session), Asked::Open, "{status}");
    }
    // 409: the proof was already spent (perhaps by a try whose answer was
    // lost); nothing was stored.
    for status in [400, 403, 404, 409, 413, 415] {
        let mut session = Session::new("proof".into(), 600);
        assert_eq!(asked(&mut session), Asked::Open);
        session.answered(refused(status));
        assert_eq!(
            failed(&mut session),
            Failure::Refused {
                status,
                reason: format!("reason {status}")
            }
        );
    }
}

#[test]
fn a_lost_answer_to_opening_is_asked_again_with_the_same_proof() {
    let mut session = Session::new("proof".into(), 600);
    assert_eq!(asked(&mut session), Asked::Open);
    session.answered(Answer::Lost);
    wait(&mut session, secs(1));
    assert_eq!(asked(&mut session), Asked::Open);
    session.answered(opened(100, 60));
    assert_eq!(session.id(), Some(SESSION));
    assert_eq!(asked(&mut session), Asked::NeedBytes);
}

#[test]
fn a_failed_part_is_resumed_from_what_the_relay_holds() {
    for answer in [
        Answer::Lost,
        refused(408),
        refused(409),
        refused(429),
        refused(500),
    ] {
        let mut session = open_session(100);
        session.push(b"abcdef".to_vec());
        assert_eq!(asked(&mut session), Asked::Send(0, b"abcdef".to_vec()));
        session.answered(answer.clone());
        wait(&mut session, secs(1));
        assert_eq!(asked(&mut session), Asked::Ask, "{answer:?}");
        // The relay holds nothing of it: sent again whole.
        session.answered(Answer::Received(0));
        assert_eq!(asked(&mut session), Asked::Send(0, b"abcdef".to_vec()));
        session.answered(Answer::Lost);
        wait(&mut session, secs(2));
        assert_eq!(asked(&mut session), Asked::Ask);
        // This time the relay had stored it.
        session.answered(Answer::Received(6));
        assert_eq!(asked(&mut session), Asked::NeedBytes);
        assert_eq!(session.stored(), 6);
    }
}

#[test]
fn after_a_409_the_part_goes_on_from_the_offset_the_relay_gives() {
    let mut session = open_session(100);
    session.push(b"abcdef".to_vec());
    session.finish();
    assert_eq!(asked(&mut session), Asked::Send(0, b"abcdef".to_vec()));
    session.answered(refused(409));
    wait(&mut session, secs(1));
    assert_eq!(asked(&mut session), Asked::Ask);
    session.answered(Answer::Received(4));
    assert_eq!(asked(&mut session), Asked::Send(4, b"ef".to_vec()));
    session.answered(Answer::Received(6));
    assert_eq!(asked(&mut session), Asked::Commit);
}

#[test]
fn asking_is_tried_again_until_the_relay_answers() {
    let mut session = open_session(100);
    session.push(b"abc".to_vec());
    asked(&mut session);
    session.answered(Answer::Lost);
    wait(&mut session, secs(1));
    for (answer, next_wait) in [(Answer::Lost, 2), (refused(503), 4), (refused(429), 8)] {
        assert_eq!(asked(&mut session), Asked::Ask);
        session.answered(answer);
        wait(&mut session, secs(next_wait));
    }
    assert_eq!(asked(&mut session), Asked::Ask);
    session.answered(refused(404));
    assert_eq!(
        failed(&mut session),
        Failure::Refused {
            status: 404,
            reason: "reason 404".into()
        }
    );
}

#[test]
fn a_part_refused_for_good_fails_the_upload() {
    for status in [400, 403, 404, 413, 415] {
        let mut session = open_session(100);
        session.push(b"abc".to_vec());
        asked(&mut session);
        session.answered(refused(status));
        assert!(
            matches!(failed(&mut session), Failure::Refused { status: s, .. } if s == status),
            "{status}"
        );
        // Nothing more is asked.
        session.answered(Answer::Received(3));
        assert!(matches!(asked(&mut session), Asked::Failed(_)));
    }
}

#[test]
fn a_relay_that_holds_what_it_cannot_hold_fails_the_upload() {
    let mut session = open_session(100);
    session.push(b"abc".to_vec());
    asked(&mut session);
    session.answered(Answer::Received(3));
    session.push(b"def".to_vec());
    asked(&mut session);
    session.answered(Answer::Lost);
    wait(&mut session, secs(1));
    asked(&mut session);
    // Fewer bytes than it said it stores.
    session.answered(Answer::Received(2));
    assert_eq!(
        failed(&mut session),
        Failure::Diverged {
            received: 2,
            stored: 3,
            sent: 6
        }
    );

    let mut session = open_session(100);
    session.push(b"abc".to_vec());
    asked(&mut session);
    // More than was sent.
    session.answered(Answer::Received(4));
    assert!(matches!(failed(&mut session), Failure::Diverged { .. }));
}

#[test]
fn a_commit_whose_answer_was_lost_and_then_404_was_stored() {
    for lost in [Answer::Lost, refused(502), refused(408)] {
        let mut session = open_session(100);
        session.push(b"abc".to_vec());
        session.finish();
        asked(&mut session);
        session.answered(Answer::Received(3));
        assert_eq!(asked(&mut session), Asked::Commit);
        session.answered(lost.clone());
        wait(&mut session, secs(1));
        assert_eq!(asked(&mut session), Asked::Commit, "{lost:?}");
        session.answered(refused(404));
        assert_eq!(asked(&mut session), Asked::Done(None), "{lost:?}");
    }
}

#[test]
fn a_commit_is_tried_again_while_the_relay_is_busy_and_404_at_once_fails() {
    let mut session = open_session(100);
    session.push(b"abc".to_vec());
    session.finish();
    asked(&mut session);
    session.answered(Answer::Received(3));
    // A part still being written, a full inbox: the session stays.
    for (status, next_wait) in [(409, 1), (429, 2)] {
        assert_eq!(asked(&mut session), Asked::Commit);
        session.answered(refused(status));
        wait(&mut session, secs(next_wait));
    }
    assert_eq!(asked(&mut session), Asked::Commit);
    session.answered(Answer::Stored(ITEM.into()));
    assert_eq!(asked(&mut session), Asked::Done(Some(ITEM.into())));

    // 404 with no lost answer before it: the session is gone, not stored.
    for first in [None, Some(refused(429))] {
        let mut session = open_session(100);
        session.push(b"abc".to_vec());
        session.finish();
        asked(&mut session);
        session.answered(Answer::Received(3));
        if let Some(first) = first {
            asked(&mut session);
            session.answered(first);
            session.waited();
        }
        assert_eq!(asked(&mut session), Asked::Commit);
        session.answered(refused(404));
        assert!(matches!(
            failed(&mut session),
            Failure::Refused { status: 404, .. }
        ));
    }
    for status in [400, 403] {
        let mut session = open_session(100);
        session.finish();
        assert_eq!(asked(&mut session), Asked::Commit);
        session.answered(refused(status));
        assert!(matches!(failed(&mut session), Failure::Refused { .. }));
    }
}

#[test]
fn retrying_stops_once_the_waits_outlast_the_proof_then_the_session() {
    // Before the session is open: the proof's life, 10 s. Waits of 1, 2 and
    // 4 s fit; the next, 8 s, would pass it.
    let mut session = Session::new("proof".into(), 10);
    for expected in [1, 2, 4] {
        asked(&mut session);
        session.answered(Answer::Lost);
        wait(&mut session, secs(expected));
    }
    asked(&mut session);
    session.answered(Answer::Lost);
    assert_eq!(failed(&mut session), Failure::GaveUp);

    // Once open: the session's life, 60 s (1 + 2 + 4 + 8 + 16 + 20 = 51).
    let mut session = open_session(100);
    session.push(b"abc".to_vec());
    asked(&mut session);
    session.answered(Answer::Lost);
    for expected in [1, 2, 4, 8, 16, 20] {
        if expected > 1 {
            asked(&mut session);
            session.answered(refused(503));
        }
        wait(&mut session, secs(expected));
        assert_eq!(asked(&mut session), Asked::Ask);
    }
    session.answered(Answer::Lost);
    assert_eq!(failed(&mut session), Failure::GaveUp);
}

#[test]
fn stored_bytes_give_the_session_its_whole_life_again() {
    let mut session = open_session(2);
    session.push(b"abcd".to_vec());
    for expected in [1, 2, 4, 8, 16, 20] {
        asked(&mut session);
        session.answered(Answer::Lost);
        wait(&mut session, secs(expected));
        if expected == 20 {
            break;
        }
        // Asked, and the relay holds nothing yet.
        assert_eq!(asked(&mut session), Asked::Ask);
        session.answered(Answer::Received(0));
    }
    assert_eq!(asked(&mut session), Asked::Ask);
    session.answered(Answer::Received(2));
    // Progress: the next failure waits 1 s again, with 60 s ahead.
    assert_eq!(asked(&mut session), Asked::Send(2, b"cd".to_vec()));
    session.answered(Answer::Lost);
    wait(&mut session, secs(1));
}

#[test]
fn ids_the_relay_answers_are_checked() {
    let mut session = Session::new("proof".into(), 600);
    asked(&mut session);
    session.answered(Answer::Opened(UploadSession {
        upload: "../../etc/passwd".into(),
        max_bytes: 1,
        part_max_bytes: 1,
        expires_in: 1,
    }));
    assert_eq!(
        failed(&mut session),
        Failure::BadSessionId("../../etc/passwd".into())
    );

    let mut session = open_session(100);
    session.finish();
    asked(&mut session);
    session.answered(Answer::Stored("ABC".into()));
    assert_eq!(failed(&mut session), Failure::BadItemId("ABC".into()));
}

#[test]
fn an_answer_of_the_wrong_kind_counts_as_lost() {
    let mut session = Session::new("proof".into(), 600);
    asked(&mut session);
    session.answered(Answer::Received(5));
    wait(&mut session, secs(1));
    assert_eq!(asked(&mut session), Asked::Open);
    // And an answer with no request asked is ignored.
    let mut session = open_session(100);
    session.answered(Answer::Stored(ITEM.into()));
    assert_eq!(asked(&mut session), Asked::NeedBytes);
}
