use yew::prelude::*;

/// What [`intro`] shows, and its callbacks.
pub struct Intro {
    /// The agency's name.
    pub agency: AttrValue,
    /// "Only … can read what you send. This website cannot."
    pub only: AttrValue,
    /// The agency's emergency line, if any.
    pub emergency: AttrValue,
    /// The notice about safer devices.
    pub safer_device: AttrValue,
    /// "Key of …: abcd-…", the agency's key fingerprints.
    pub fingerprint: Html,
}

/// The calm first screen: who receives the tip, and what to do in danger.
pub fn intro(view: &Intro) -> Html {
    html! {
        <header class="intro">
            <h1 dir="auto">{ view.agency.clone() }</h1>
            <p class="only">{ view.only.clone() }</p>
            if !view.emergency.is_empty() {
                <p class="emergency" role="note" dir="auto">{ view.emergency.clone() }</p>
            }
            <p class="safer">{ view.safer_device.clone() }</p>
            <p class="fingerprint">{ view.fingerprint.clone() }</p>
        </header>
    }
}
