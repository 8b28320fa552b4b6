//! Small function components: they render their props and call their
//! callbacks, nothing more.

mod attachments;
mod codename;
mod intro;
mod language_picker;
mod progress;
mod question;
mod quick_exit;
mod replies;

pub use attachments::{Attachments, FileRow};
pub use codename::CodenameCard;
pub use intro::Intro;
pub use language_picker::LanguagePicker;
pub use progress::SendProgress;
pub use question::{QuestionField, QuestionInput};
pub use quick_exit::QuickExit;
pub use replies::{RepliesPanel, ReplyRow};
