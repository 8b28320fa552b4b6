//! Entry point of the web client: mounts the page into `<body>`.

fn main() {
    yew::Renderer::<sealtip_web::App>::new().render();
}
