//! A token just issued: its secret and sign-in link, shown this once.

use dualwrite_core::api::IssuedToken;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::live;
use crate::route::{encode, Route};

/// The secret of a token just issued: shown this once, with a copy button and a sign-in link.
#[component]
pub fn IssuedSecret(token: IssuedToken, on_dismiss: Callback<()>) -> impl IntoView {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    let link = format!("{origin}{}#token={}", Route::SignIn.path(), encode(&token.token));
    let copied: RwSignal<Option<&'static str>> = RwSignal::new(None);
    let copy = move |text: String, what: &'static str| {
        let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) else {
            copied.set(Some("copy it from the field"));
            return;
        };
        let promise = clipboard.write_text(&text);
        spawn_local(async move {
            let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
            copied.set(Some(if ok { what } else { "copy it from the field" }));
        });
    };
    let secret = token.token.clone();
    let link_copy = link.clone();
    view! {
        <section class="panel issued" role="region" aria-label="new token" data-testid="issued-token">
            <h2>"Token for " {token.info.name.clone()} " (" {token.info.role.as_str()} ")"</h2>
            <p class="notice warn">"This is the only time the token is shown. Copy it now and hand it over in a safe way."</p>
            <label class="meta-field wide-field">
                <span>"Token"</span>
                <span class="row">
                    <input type="text" readonly class="secret" data-testid="issued-secret" prop:value=token.token.clone()
                        on:focus=select_all />
                    <button type="button" data-testid="copy-secret" on:click=move |_| copy(secret.clone(), "token copied")>"Copy"</button>
                </span>
            </label>
            <label class="meta-field wide-field">
                <span>"Sign-in link (the token is in the fragment, which no server sees)"</span>
                <span class="row">
                    <input type="text" readonly class="secret" data-testid="issued-link" prop:value=link on:focus=select_all />
                    <button type="button" data-testid="copy-link" on:click=move |_| copy(link_copy.clone(), "link copied")>"Copy"</button>
                </span>
            </label>
            <div class="row">
                <span class="muted" role="status">{live(move || copied.get())}</span>
                <span class="spacer"></span>
                <button type="button" data-testid="issued-done" on:click=move |_| on_dismiss.run(())>"Done"</button>
            </div>
        </section>
    }
}

fn select_all(ev: leptos::ev::FocusEvent) {
    use wasm_bindgen::JsCast;
    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
        input.select();
    }
}
