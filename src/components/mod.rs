//! The page's pieces: small view functions, each given a struct named for
//! the piece it draws (`intro(&Intro { … })`) with the words to show and the
//! callbacks to call, nothing more. They are plain functions rather than yew
//! components (those structs are not `Properties`): each component type
//! costs the page about 4 KB of wasm for its lifecycle, which a stateless
//! piece does not use.

mod attachments;
mod codename;
mod intro;
mod language_picker;
mod progress;
mod question;
mod quick_exit;
mod replies;

pub use attachments::{Attachments, FileRow, attachments};
pub use codename::{CodenameCard, codename_card};
pub use intro::{Intro, intro};
pub use language_picker::{LanguagePicker, language_picker};
pub use progress::{PROGRESS_ID, STAGE_ID, SendProgress, send_progress};
pub use question::{QuestionField, QuestionInput, question_field};
pub use quick_exit::{QuickExit, quick_exit};
pub use replies::{RepliesPanel, ReplyRow, cancel_id, delete_id, replies_panel};
