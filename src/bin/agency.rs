//! Entry point of the agency's inbox at `/agency`: a wasm of its own, so
//! that the tipster's page never loads officer code.

fn main() {
    yew::Renderer::<sealtip_web::agency::AgencyInbox>::new().render();
}
