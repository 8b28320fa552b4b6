//! The page's pieces: small functions that render their props and call their
//! callbacks, nothing more. Those without state of their own are plain view
//! functions rather than yew components: each component type costs the page
//! about 4 KB of wasm for its lifecycle, which a stateless piece does not use.

mod attachments;
mod codename;
mod intro;
mod language_picker;
mod progress;
mod question;
mod quick_exit;
mod replies;

pub use attachments::{AttachmentsProps, FileRow, attachments};
pub use codename::{CodenameCardProps, codename_card};
pub use intro::{IntroProps, intro};
pub use language_picker::{LanguagePickerProps, language_picker};
pub use progress::{SendProgressProps, send_progress};
pub use question::{QuestionFieldProps, QuestionInput, question_field};
pub use quick_exit::{QuickExitProps, quick_exit};
pub use replies::{RepliesPanelProps, ReplyRow, cancel_id, delete_id, replies_panel};
