//! What an alert says: that something arrived in an agency's inbox during
//! an interval, or (cover) that nothing did, in the same number of bytes.
//! No id, no count, no time finer than the interval's end.

use std::time::{Duration, UNIX_EPOCH};

use lettre::Message;
use lettre::message::header::ContentType;

use crate::config::Email;
use crate::time::rfc3339_hour;

/// Bytes of every webhook body.
pub const WEBHOOK_BODY_BYTES: usize = 512;

/// Characters of every email's text (before its final line break).
const EMAIL_TEXT_CHARS: usize = 320;

/// The subject of every alert email.
pub const SUBJECT: &str = "sealtip: inbox alert";

/// The webhook's JSON body, always [`WEBHOOK_BODY_BYTES`] long:
/// `{"alert":"sealtip","agency":…,"interval_end":…,"new_items":…,"padding":"…"}`.
pub fn webhook_body(agency: &str, end: u64, arrived: bool) -> Vec<u8> {
    // Agency ids are a-z, 0-9 and -: nothing to escape.
    let head = format!(
        "{{\"alert\":\"sealtip\",\"agency\":\"{agency}\",\"interval_end\":\"{}\",\"new_items\":{},\"padding\":\"",
        rfc3339_hour(end),
        if arrived { "true " } else { "false" },
    );
    let tail = "\"}";
    let fill = WEBHOOK_BODY_BYTES.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", " ".repeat(fill)).into_bytes()
}

/// The alert email's text, always [`EMAIL_TEXT_CHARS`] long plus a line
/// break.
pub fn email_text(agency: &str, end: u64, arrived: bool) -> String {
    let what = if arrived {
        "New items arrived in"
    } else {
        "Nothing new arrived in"
    };
    let text = format!(
        "{what} the sealtip inbox of agency {agency} during the interval that ended at {}. \
         Open it with sealtip desk or sealtip pull.",
        rfc3339_hour(end)
    );
    format!("{text:<EMAIL_TEXT_CHARS$}\r\n")
}

/// The alert email, dated at the interval's end.
pub fn email(email: &Email, agency: &str, end: u64, arrived: bool) -> anyhow::Result<Message> {
    let mut builder = Message::builder()
        .from(email.from.parse()?)
        .subject(SUBJECT)
        .date(UNIX_EPOCH + Duration::from_secs(end))
        .message_id(None)
        .header(ContentType::TEXT_PLAIN);
    for to in &email.to {
        builder = builder.to(to.parse()?);
    }
    Ok(builder.body(email_text(agency, end, arrived))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_one_size_whatever_arrived() {
        let end = 1_795_953_600;
        for agency in ["a", "demo", &"x".repeat(63)] {
            let yes = webhook_body(agency, end, true);
            let no = webhook_body(agency, end, false);
            assert_eq!(yes.len(), WEBHOOK_BODY_BYTES);
            assert_eq!(no.len(), WEBHOOK_BODY_BYTES);
            let json: serde_json::Value = serde_json::from_slice(&yes).unwrap();
            assert_eq!(json["new_items"], true);
            assert_eq!(json["interval_end"], "2026-11-29T12:00:00Z");
            let json: serde_json::Value = serde_json::from_slice(&no).unwrap();
            assert_eq!(json["new_items"], false);
            assert_eq!(
                email_text(agency, end, true).len(),
                email_text(agency, end, false).len()
            );
        }
    }
}
