//! The form inside a partner's page: `/embed?agency=ID`, framed by
//! `www/embed.js` on the partner's site.
//!
//! - [`EmbedFrame`] shows the form only once the frame knows who frames it
//!   ([`framing_allowed`]): every ancestor origin the browser lists
//!   (`location.ancestorOrigins`) must be one of the agency's
//!   `embed_origins`. Firefox lists the parent as `"null"`, hidden by the
//!   frame's `no-referrer`: only the parent may be hidden so. A browser
//!   without the list (Firefox before it, so older Tor Browsers) shows the
//!   form only when its parent is the top window, since the ancestors above
//!   it cannot be known. Then the parent must answer a hello sent to those
//!   origins only, which the browser delivers only to a parent of that origin. Anyone else
//!   sees a refusal, even if a proxy stripped the relay's `frame-ancestors`
//!   header. (`document.referrer` adds nothing: `embed.js` frames the form
//!   with `no-referrer`, and a hostile page would choose the same.)
//! - Once verified and drawn, the frame tells the parent, once, the height it
//!   wants (one of [`HEIGHT_STEPS`], picked by [`height_step`] from the empty
//!   form's height), the language the form starts in and the quick exit's
//!   address: `{sealtip: 1, type: "shown", height, lang, exit}`. Nothing the
//!   tipster does changes that message or sends another, except the quick
//!   exit: `{sealtip: 1, type: "exit", url}` (the agency's neutral page).
//!   Content taller than the step scrolls inside the frame. Messages go to the
//!   verified origin only and never carry anything the tipster typed.
//! - [`Look`]: `lang=`, `accent=` and `theme=` from the address, set by
//!   `embed.js` from the snippet's `data-lang`, `data-accent` and the host
//!   page's colour scheme.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, Window};
use yew::prelude::*;

/// How long the frame waits for its parent's answer before refusing.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(5);

/// The path of the embedded form.
pub const EMBED_PATH: &str = "/embed";

/// The only heights, in CSS pixels, the frame ever asks its partner page
/// for. Chosen from the form's layout: the demo agency's empty form (five
/// questions, one a choice of five, the files, the key's fingerprint) is
/// 1442 px high in a 704 px wide frame (a desktop article column) and
/// 1663 px in a 358 px one (a phone);
/// a form of one question fits the first step, a long one scrolls inside
/// the last. A partner's scripts learn which step the empty form needed
/// (which they could work out from the agency's public form and their own
/// layout), never how the tipster's typing, files or screens change it.
pub const HEIGHT_STEPS: [u32; 4] = [1200, 1600, 2000, 2400];

/// The step for a form `content` pixels high: the smallest that holds it,
/// else the tallest (the rest scrolls inside the frame).
pub fn height_step(content: f64) -> u32 {
    let tallest = HEIGHT_STEPS[HEIGHT_STEPS.len() - 1];
    HEIGHT_STEPS
        .into_iter()
        .find(|&step| f64::from(step) >= content)
        .unwrap_or(tallest)
}

/// What the snippet asked for, read from the page's query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Look {
    /// `lang=`: the language to start in.
    pub lang: Option<String>,
    /// `accent=`: the accent colour, `#rgb` or `#rrggbb`.
    pub accent: Option<String>,
    /// `theme=`: the host page's scheme, when it has only one.
    pub theme: Option<Theme>,
}

/// A colour scheme the host page forces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Light only.
    Light,
    /// Dark only.
    Dark,
}

impl Look {
    /// Reads `lang`, `accent` and `theme` from a query (without `?`); values
    /// that are not what they should be are ignored.
    pub fn from_query(query: &str) -> Look {
        let mut look = Look::default();
        for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
            match key {
                "lang"
                    if (2..=35).contains(&value.len())
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
                {
                    look.lang = Some(value.to_string());
                }
                "accent"
                    if matches!(value.len(), 3 | 6)
                        && value.bytes().all(|b| b.is_ascii_hexdigit()) =>
                {
                    look.accent = Some(format!("#{}", value.to_ascii_lowercase()));
                }
                "theme" if value == "light" => look.theme = Some(Theme::Light),
                "theme" if value == "dark" => look.theme = Some(Theme::Dark),
                _ => {}
            }
        }
        look
    }

    /// Applies the accent and theme to `<html>` (CSS custom properties set
    /// through the CSSOM, which the page's CSP allows; a class for the theme).
    pub fn apply(&self) {
        let Some(html) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        else {
            return;
        };
        if let Some(accent) = &self.accent {
            let style = html.style();
            let _ = style.set_property("--accent", accent);
            let _ = style.set_property("--accent-text", text_on(accent));
        }
        let class = match self.theme {
            Some(Theme::Light) => "theme-light",
            Some(Theme::Dark) => "theme-dark",
            None => return,
        };
        let _ = html.class_list().add_1(class);
    }
}

/// Black or white, whichever reads better on `background` (`#rgb` or
/// `#rrggbb`), by WCAG relative luminance.
pub fn text_on(background: &str) -> &'static str {
    let hex = background.trim_start_matches('#');
    let channel = |i: usize| -> f64 {
        let value = if hex.len() == 3 {
            u8::from_str_radix(&hex[i..=i].repeat(2), 16)
        } else {
            u8::from_str_radix(hex.get(i * 2..i * 2 + 2).unwrap_or("00"), 16)
        };
        let c = f64::from(value.unwrap_or(0)) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
    // Contrast with white is 1.05 / (L + 0.05), with black (L + 0.05) / 0.05:
    // they are equal at L ≈ 0.179.
    if luminance > 0.179 { "#000" } else { "#fff" }
}

/// Whether the framing pages may show the form, before the parent's
/// handshake: with the browser's list of ancestor origins (`Some`, nearest
/// first), every one of them allowed, except that the parent may be hidden
/// (`"null"`: Firefox hides it behind the frame's `no-referrer`; the
/// handshake checks the parent); without the list, only a frame whose
/// parent is the top window, the one page the handshake checks.
pub fn framing_allowed(
    ancestors: Option<&[String]>,
    parent_is_top: bool,
    allowed: &[String],
) -> bool {
    match ancestors {
        Some(ancestors) => ancestors
            .iter()
            .enumerate()
            .all(|(depth, origin)| allowed.contains(origin) || (depth == 0 && origin == "null")),
        None => parent_is_top,
    }
}

thread_local! {
    /// The parent's origin, once it answered the hello.
    static PARENT: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Whether the `shown` message went: once a page load, even if the
    /// frame's component is drawn again.
    static SHOWN: Cell<bool> = const { Cell::new(false) };
}

/// Quick exit from inside a frame: asks the verified parent (`embed.js`) to
/// leave the partner's page too. The page then leaves itself as usual
/// (`browser::leave`, which navigates the top window when it may).
pub fn tell_parent_to_leave(url: &str) {
    let Some(origin) = PARENT.with(|p| p.borrow().clone()) else {
        return;
    };
    if let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) {
        let _ = parent.post_message(&message("exit", &[("url", url.into())]), &origin);
    }
}

/// Props of [`EmbedFrame`].
#[derive(Properties, PartialEq)]
pub struct EmbedFrameProps {
    /// The agency's allowed embedding origins; `None` while its profile loads.
    pub allowed: Option<Rc<Vec<String>>>,
    /// "Checking where this form is shown…"
    pub checking: AttrValue,
    /// Why the form is not shown here.
    pub refused: AttrValue,
    /// The language the form starts in (its tag), for the partner page's
    /// own quick exit button.
    pub lang: AttrValue,
    /// Where quick exit goes (the agency's neutral page).
    pub exit_url: AttrValue,
    /// The page.
    pub children: Html,
}

/// Where the check of the framing page stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Checking,
    Allowed,
    Refused,
}

/// Shows its children only when the frame's parent is an allowed origin
/// (or there is no parent), and then tells the parent once what it needs
/// (the `shown` message).
#[function_component]
pub fn EmbedFrame(props: &EmbedFrameProps) -> Html {
    let framing = use_state(|| Framing::Checking);
    {
        let framing = framing.clone();
        use_effect_with(props.allowed.clone(), move |allowed| {
            let watch = allowed
                .as_ref()
                .and_then(|allowed| watch_parent(allowed, move |f| framing.set(f)));
            move || drop(watch)
        });
    }
    {
        // Runs once the form is drawn: the first render with `Allowed`.
        let (lang, exit_url) = (props.lang.clone(), props.exit_url.clone());
        use_effect_with(*framing, move |framing| {
            if *framing == Framing::Allowed {
                tell_parent_shown(&lang, &exit_url);
            }
        });
    }
    match (*framing, &props.allowed) {
        (Framing::Allowed, _) | (Framing::Checking, None) => props.children.clone(),
        (Framing::Checking, Some(_)) => {
            html! { <main id="main"><p role="status">{ props.checking.clone() }</p></main> }
        }
        (Framing::Refused, _) => html! {
            <main id="main"><p class="error" role="alert">{ props.refused.clone() }</p></main>
        },
    }
}

/// What keeps the handshake alive; dropping it stops listening.
struct Watch {
    window: Window,
    on_message: Closure<dyn Fn(MessageEvent)>,
    alive: Rc<Cell<bool>>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.alive.set(false);
        let _ = self.window.remove_event_listener_with_callback(
            "message",
            self.on_message.as_ref().unchecked_ref(),
        );
    }
}

/// Checks who frames the page and reports it; `None` when there is nothing
/// to watch (not framed, or refused at once).
fn watch_parent(allowed: &Rc<Vec<String>>, report: impl Fn(Framing) + 'static) -> Option<Watch> {
    let window = web_sys::window()?;
    let Some(parent) = window.parent().ok().flatten() else {
        report(Framing::Allowed);
        return None;
    };
    if Object::is(parent.as_ref(), window.as_ref()) {
        // The plain page, opened at /embed without a frame.
        report(Framing::Allowed);
        return None;
    }
    let parent_is_top = window
        .top()
        .ok()
        .flatten()
        .is_some_and(|top| Object::is(top.as_ref(), parent.as_ref()));
    let ancestors = ancestor_origins(&window);
    if !framing_allowed(ancestors.as_deref(), parent_is_top, allowed) {
        report(Framing::Refused);
        return None;
    }
    let report = Rc::new(report);
    let alive = Rc::new(Cell::new(true));
    let answered = Rc::new(Cell::new(false));
    let on_message = {
        let (allowed, parent, report, answered) = (
            allowed.clone(),
            parent.clone(),
            report.clone(),
            answered.clone(),
        );
        Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let from_parent = event
                .source()
                .is_some_and(|source| Object::is(source.as_ref(), parent.as_ref()));
            let origin = event.origin();
            if !from_parent || !allowed.contains(&origin) || !is_message(&event.data(), "ready") {
                return;
            }
            if answered.replace(true) {
                return;
            }
            PARENT.with(|p| *p.borrow_mut() = Some(origin));
            report(Framing::Allowed);
        })
    };
    let _ = window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    let hello = message("hello", &[]);
    for origin in allowed.iter() {
        // Delivered only if the parent really has this origin.
        let _ = parent.post_message(&hello, origin);
    }
    {
        let (alive, answered, report) = (alive.clone(), answered.clone(), report.clone());
        wasm_bindgen_futures::spawn_local(async move {
            yew::platform::time::sleep(HANDSHAKE_WAIT).await;
            if alive.get() && !answered.get() {
                report(Framing::Refused);
            }
        });
    }
    Some(Watch {
        window,
        on_message,
        alive,
    })
}

/// Tells the verified parent, once the form is drawn, the height step the
/// form needs now, the language it starts in and the quick exit's address.
/// The only time the frame measures itself: later changes (typing, files,
/// the sent and codename screens, another language) scroll inside the frame.
fn tell_parent_shown(lang: &str, exit_url: &str) {
    let Some(origin) = PARENT.with(|p| p.borrow().clone()) else {
        return;
    };
    if SHOWN.with(|shown| shown.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(parent) = window.parent().ok().flatten() else {
        return;
    };
    let content = window
        .document()
        .and_then(|d| d.document_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .map_or(0.0, |html| f64::from(html.offset_height()));
    let shown = message(
        "shown",
        &[
            ("height", f64::from(height_step(content)).into()),
            ("lang", lang.into()),
            ("exit", exit_url.into()),
        ],
    );
    let _ = parent.post_message(&shown, &origin);
}

/// `{sealtip: 1, type: kind}`, with the given fields.
fn message(kind: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"sealtip".into(), &JsValue::from_f64(1.0));
    let _ = Reflect::set(&object, &"type".into(), &kind.into());
    for (key, value) in fields {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}

fn is_message(data: &JsValue, kind: &str) -> bool {
    let field = |name: &str| Reflect::get(data, &name.into()).ok();
    data.is_object()
        && field("sealtip").and_then(|v| v.as_f64()) == Some(1.0)
        && field("type").and_then(|v| v.as_string()).as_deref() == Some(kind)
}

/// `location.ancestorOrigins` (Chromium and WebKit), nearest first; `None`
/// where the browser does not have it (Firefox).
fn ancestor_origins(window: &Window) -> Option<Vec<String>> {
    Reflect::get(window.location().as_ref(), &"ancestorOrigins".into())
        .ok()
        .filter(|list| !list.is_undefined() && !list.is_null())
        .map(|list| {
            Array::from(&list)
                .iter()
                .filter_map(|o| o.as_string())
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_look_comes_from_the_query_and_ignores_nonsense() {
        assert_eq!(
            Look::from_query("agency=demo&lang=fr&accent=0A7F3c&theme=dark"),
            Look {
                lang: Some("fr".into()),
                accent: Some("#0a7f3c".into()),
                theme: Some(Theme::Dark),
            }
        );
        assert_eq!(
            Look::from_query("agency=demo&accent=0a7&theme=light"),
            Look {
                lang: None,
                accent: Some("#0a7".into()),
                theme: Some(Theme::Light),
            }
        );
        for nonsense in [
            "accent=red",
            "accent=0a7f",
            "accent=;color:red",
            "theme=blue",
            "lang=<b>",
            "lang=x",
            "",
        ] {
            assert_eq!(Look::from_query(nonsense), Look::default(), "{nonsense}");
        }
    }

    #[test]
    fn button_text_is_black_or_white_whichever_reads_better() {
        for (background, text) in [
            ("#000", "#fff"),
            ("#fff", "#000"),
            ("#0b4f8a", "#fff"),
            ("#8cc4ff", "#000"),
            ("#ffbf47", "#000"),
            ("#b01c1c", "#fff"),
        ] {
            assert_eq!(text_on(background), text, "{background}");
        }
    }

    #[test]
    fn the_frame_asks_for_the_smallest_step_that_holds_the_form() {
        assert_eq!(height_step(0.0), HEIGHT_STEPS[0]);
        assert_eq!(height_step(f64::from(HEIGHT_STEPS[0])), HEIGHT_STEPS[0]);
        assert_eq!(
            height_step(f64::from(HEIGHT_STEPS[0]) + 0.5),
            HEIGHT_STEPS[1]
        );
        assert_eq!(
            height_step(f64::from(HEIGHT_STEPS[2]) + 1.0),
            HEIGHT_STEPS[3]
        );
        assert_eq!(height_step(100_000.0), HEIGHT_STEPS[3]);
        assert!(HEIGHT_STEPS.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn every_ancestor_must_be_allowed() {
        let allowed = vec!["https://news.example".to_string()];
        let list = |origins: &[&str]| origins.iter().map(|o| o.to_string()).collect::<Vec<_>>();
        let listed = |origins: &[&str], allowed: &[String]| {
            // Where the browser lists ancestors, nesting is judged by the list.
            [true, false]
                .map(|top| framing_allowed(Some(&list(origins)[..]), top, allowed))
                .into_iter()
                .all(|ok| ok)
        };
        assert!(listed(&["https://news.example"], &allowed));
        assert!(listed(&[], &allowed));
        assert!(!listed(&["https://evil.example"], &allowed));
        assert!(!listed(
            &["https://news.example", "https://evil.example"],
            &allowed
        ));
        assert!(!listed(&["https://news.example"], &[]));
        // Firefox: the parent hidden behind no-referrer, checked by the handshake.
        assert!(listed(&["null"], &allowed));
        assert!(!listed(&["null", "https://evil.example"], &allowed));
        // A page above the parent hidden too (its frame's no-referrer): unknown.
        assert!(!listed(&["null", "null"], &allowed));
        assert!(!listed(&["https://news.example", "null"], &allowed));
    }

    #[test]
    fn without_the_list_only_a_frame_of_the_top_page_is_allowed() {
        let allowed = vec!["https://news.example".to_string()];
        // Firefox: the handshake checks the parent; nothing checks above it.
        assert!(framing_allowed(None, true, &allowed));
        assert!(!framing_allowed(None, false, &allowed));
    }
}
