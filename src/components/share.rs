use crate::components::live;
use leptos::prelude::*;

/// The "share link" button: copies the URL of the view (draft included) and shows it in a field, so it
/// can be copied by hand where the browser does not allow the clipboard.
#[component]
pub fn ShareLink(#[prop(into)] url: Signal<String>) -> impl IntoView {
    let open = RwSignal::new(false);
    let copied: RwSignal<Option<bool>> = RwSignal::new(None);
    let copy = move |_| {
        open.set(true);
        let text = url.get_untracked();
        let clipboard = web_sys::window().map(|w| w.navigator().clipboard());
        match clipboard {
            Some(clipboard) => {
                let promise = clipboard.write_text(&text);
                leptos::task::spawn_local(async move {
                    copied.set(Some(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()));
                });
            }
            None => copied.set(Some(false)),
        }
    };
    view! {
        <div class="share">
            <button type="button" data-testid="share-button" on:click=copy>"Share link"</button>
            <Show when=move || open.get()>
                <input type="text" readonly class="share-url" data-testid="share-url" aria-label="link to this view"
                    prop:value=url on:focus=|ev| {
                        use wasm_bindgen::JsCast;
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    } />
                <span class="muted" role="status">{live(move || match copied.get() {
                    Some(true) => "copied",
                    Some(false) => "copy it from the field",
                    None => "",
                })}</span>
            </Show>
        </div>
    }
}
