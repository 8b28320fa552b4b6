//! The picked files as the form lists them: reading a picked file, and what
//! cleaning removed, in the page's language.

use sealtip_scrub::Removed;
use yew::UseReducerDispatcher;

use crate::browser;
use crate::components::FileRow;
use crate::i18n::{Texts, msg};
use crate::state::{Action, Cleaning, Contents, Picked, State};

/// The largest photo read into memory to be cleaned; a larger file is sent
/// as it is, read in slices while sealing.
const CLEAN_LIMIT: u64 = 64 << 20;

/// Files the tipster picked: each read (and cleaned) in turn, letting the
/// page answer between them, into the state.
pub(super) fn pick(dispatch: UseReducerDispatcher<State>, files: Vec<web_sys::File>) {
    dispatch.dispatch(Action::Reading(files.len()));
    wasm_bindgen_futures::spawn_local(async move {
        for file in files {
            browser::yield_now().await;
            dispatch.dispatch(Action::Picked(read_picked(file).await));
        }
    });
}

/// A picked file: a photo of a format the page cleans is read and cleaned;
/// anything else stays on the device until it is sealed.
async fn read_picked(file: web_sys::File) -> Picked {
    let (name, media_type) = (file.name(), file.type_());
    let size = file.size() as u64;
    let head = browser::read_slice(&file, 0, 16).await.unwrap_or_default();
    let original: web_sys::Blob = file.into();
    let photo = size <= CLEAN_LIMIT && sealtip_scrub::detect(&head).is_some();
    if photo && let Some(bytes) = browser::read_file(&original).await {
        return Picked::clean_with_original(name, media_type, &bytes, Contents::File(original));
    }
    Picked::not_checked(name, media_type, Contents::File(original))
}

/// What was removed from a photo, in the page's language.
fn removed_words(texts: &Texts, removed: &[&str]) -> String {
    let words: Vec<String> = removed
        .iter()
        .map(|words| texts.get(removed_message(words)))
        .collect();
    words.join(&texts.get(msg::LIST_SEPARATOR))
}

/// The message naming a kind of detail cleaning removes, by its English
/// words (`camera model`, as `Cleaning::Cleaned` lists them), or the file
/// name left out of the tip.
fn removed_message(words: &str) -> &'static str {
    if words == FILE_NAME {
        return msg::REMOVED_FILE_NAME;
    }
    let kind = Removed::ALL.into_iter().find(|kind| kind.words() == words);
    match kind {
        Some(Removed::Location) => msg::REMOVED_LOCATION,
        Some(Removed::CameraModel) => msg::REMOVED_CAMERA_MODEL,
        Some(Removed::DateTaken) => msg::REMOVED_DATE_TAKEN,
        Some(Removed::EditingSoftware) => msg::REMOVED_EDITING_SOFTWARE,
        Some(Removed::AuthorAndCopyright) => msg::REMOVED_AUTHOR_AND_COPYRIGHT,
        Some(Removed::Comments) => msg::REMOVED_COMMENTS,
        Some(Removed::EmbeddedThumbnail) => msg::REMOVED_EMBEDDED_THUMBNAIL,
        Some(Removed::OtherMetadata) | None => msg::REMOVED_OTHER_METADATA,
    }
}

/// The words `removed` lists when the file's name is left out of the tip.
const FILE_NAME: &str = sealtip_envelope::FILE_NAME_REMOVED;

/// A picked file as the list shows it.
pub(super) fn file_row(texts: &Texts, file: &Picked) -> FileRow {
    let name_removed: &[&str] = if file.keep_name { &[] } else { &[FILE_NAME] };
    let removed_note = |removed: &[&str]| {
        texts.with(
            msg::ATTACHMENT_CLEANED,
            &[("removed", &removed_words(texts, removed))],
        )
    };
    // What cleaning found, then the file name, when it is removed, in the
    // same list as the photo's details or in one of its own.
    let (note, can_keep, warn) = match &file.cleaning {
        Cleaning::Cleaned { removed, .. } if !removed.is_empty() => {
            let all: Vec<&str> = removed.iter().chain(name_removed).copied().collect();
            (removed_note(&all), true, false)
        }
        cleaning => {
            let (key, warn) = match cleaning {
                Cleaning::NotChecked => (msg::ATTACHMENT_NOT_CHECKED, true),
                Cleaning::Damaged => (msg::ATTACHMENT_DAMAGED, true),
                Cleaning::Cleaned { .. } => (msg::ATTACHMENT_CLEAN, false),
            };
            let mut note = texts.get(key);
            if !name_removed.is_empty() {
                note.push(' ');
                note.push_str(&removed_note(name_removed));
            }
            (note, false, warn)
        }
    };
    FileRow {
        name: file.name.clone(),
        note,
        can_keep,
        keep: file.keep_original,
        keep_name: file.keep_name,
        warn: warn || file.keep_original,
        remove_label: texts.with(msg::REMOVE_FILE, &[("name", &file.name)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_kind_of_removed_detail_is_named_in_every_language() {
        let kinds: Vec<&str> = sealtip_scrub::Removed::ALL
            .iter()
            .map(|kind| kind.words())
            .chain([FILE_NAME])
            .collect();
        for lang in Lang::ALL {
            let texts = Texts::from_disk(lang);
            for kind in &kinds {
                let words = removed_words(&texts, &[kind]);
                assert!(!words.starts_with("removed-"), "{lang:?} lacks {words}");
            }
        }
        let spanish = removed_words(&Texts::from_disk(Lang::Es), &["location", "camera model"]);
        assert_eq!(spanish, "ubicación, modelo de cámara");
        let chinese = removed_words(
            &Texts::from_disk(Lang::ZhHans),
            &["location", "camera model"],
        );
        assert!(
            chinese.contains('、') && !chinese.contains(", "),
            "{chinese}"
        );
    }

    #[test]
    fn the_list_says_the_file_name_is_removed_unless_it_is_kept() {
        let texts = Texts::from_disk(Lang::Es);
        let jpeg = include_bytes!("../../crates/scrub/tests/fixtures/gps.jpg").to_vec();
        let mut photo = Picked::clean("IMG_0001.jpg".into(), "image/jpeg".into(), jpeg);
        let note = file_row(&texts, &photo).note;
        assert!(
            note.starts_with("Eliminado: ubicación") && note.contains("nombre del archivo"),
            "{note}"
        );
        photo.keep_name = true;
        let row = file_row(&texts, &photo);
        assert!(
            row.keep_name && !row.note.contains("nombre del archivo"),
            "{}",
            row.note
        );

        let mut text = Picked::clean("notes.txt".into(), "text/plain".into(), b"x".to_vec());
        let note = file_row(&texts, &text).note;
        assert!(note.ends_with("Eliminado: nombre del archivo."), "{note}");
        text.keep_name = true;
        assert!(!file_row(&texts, &text).note.contains("nombre del archivo"));
    }
}
