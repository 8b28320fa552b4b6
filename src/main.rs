//! Entry point of the tipster's page: reads what the address asks for (pinned
//! keys in the fragment, the embedded look in the query) and mounts the page
//! into a root of its own in `<body>`, beside the first screen the relay
//! served, if any, which the page then takes over.

use sealtip_web::browser;

fn main() {
    sealtip_web::pin::Pins::from_fragment(&browser::fragment()).set_for_page();
    sealtip_web::embed::Look::from_query(&browser::query()).apply();
    // Into a root of its own, hidden while the relay's first screen is
    // shown (sealtip_web::first_screen).
    match sealtip_web::first_screen::app_root() {
        Some(root) => yew::Renderer::<sealtip_web::App>::with_root(root).render(),
        None => yew::Renderer::<sealtip_web::App>::new().render(),
    };
}
