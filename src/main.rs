//! The dualwrite studio: a client-side Leptos app, compiled to WebAssembly and served by `dualwrite serve`.

mod api;
mod app;
mod catalog;
mod components;
mod coverage;
mod draft;
mod fetched;
mod file;
mod pages;
mod poll;
mod route;
mod session;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
