//! Entry point of the tipster's page: reads what the address asks for (pinned
//! keys in the fragment, the embedded look in the query) and mounts the page
//! into `<body>`.

use sealtip_web::browser;

fn main() {
    sealtip_web::pin::Pins::from_fragment(&browser::fragment()).set_for_page();
    sealtip_web::embed::Look::from_query(&browser::query()).apply();
    yew::Renderer::<sealtip_web::App>::new().render();
}
