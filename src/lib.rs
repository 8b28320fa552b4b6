//! The tipster's page: a yew app that will seal a tip in the browser.
//!
//! For now it is a placeholder that says what the page promises. The binary
//! (`src/main.rs`) mounts [`App`]; Trunk builds it from `www/index.html`.

use yew::prelude::*;

/// The whole page.
#[function_component]
pub fn App() -> Html {
    html! {
        <main>
            <h1>{ "sealtip" }</h1>
            <p>{ "Only the agency can read what you send. This website cannot." }</p>
        </main>
    }
}
