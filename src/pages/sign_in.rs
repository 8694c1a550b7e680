//! Signing in: the page `/sign-in` (the link `dualwrite serve` prints carries the token in its
//! fragment, which never reaches a server log), and the panel the shell shows in place of any view
//! while nobody is signed in, so a shared link opens its view once its reader signs in.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_location;

use crate::api::ApiError;
use crate::components::live;
use crate::route::Route;
use crate::session;

/// What the sign-in link's fragment starts with.
const TOKEN_PREFIX: &str = "#token=";

/// Takes the token out of the address (`#token=…`) at once, whether it turns out valid or not, so
/// it stays out of the history, bookmarks and anything copied from the address bar.
fn take_token_from_fragment() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let hash = location.hash().ok()?;
    let raw = hash.strip_prefix(TOKEN_PREFIX)?;
    let without =
        format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&without));
    }
    let token =
        js_sys::decode_uri_component(raw).ok().and_then(|t| t.as_string()).unwrap_or_else(|| raw.to_owned());
    Some(token).filter(|t| !t.trim().is_empty())
}

/// Opens `path` afresh, as if its link had been followed: the view starts from its URL, fragment
/// (a map's draft) included.
fn open(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace(path);
    }
}

/// `/sign-in#token=…&next=…`: checks the token, keeps it for this tab, opens `next` (or the maps).
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_location().query;
    let next = query
        .with_untracked(|q| q.get("next"))
        .as_deref()
        .and_then(session::safe_next)
        .map(str::to_owned)
        .unwrap_or_else(|| Route::Maps.path());
    let next = StoredValue::new(next);
    let error: RwSignal<Option<ApiError>> = RwSignal::new(None);
    let checking = RwSignal::new(false);
    if let Some(token) = take_token_from_fragment() {
        checking.set(true);
        spawn_local(async move {
            match session::sign_in(&token).await {
                Ok(_) => open(&next.get_value()),
                Err(e) => {
                    checking.set(false);
                    error.set(Some(e));
                }
            }
        });
    }
    let signed_in = Callback::new(move |()| open(&next.get_value()));
    view! {
        <section class="page sign-in" data-testid="sign-in-page">
            <h1>"Sign in"</h1>
            <Show when=move || checking.get() fallback=move || view! {
                {live(move || session::current().map(|s| view! {
                    <p class="notice">"You are signed in as " <strong>{s.name}</strong> " (" {s.role.as_str()} "). "
                        "Another token signs you in as someone else in this tab."</p>
                }))}
                <p>"Paste the token you were given, or open the sign-in link "
                    <code>"dualwrite serve"</code> " printed."</p>
                <TokenForm error=error on_signed_in=signed_in />
            }>
                <p class="muted" role="status" data-testid="sign-in-checking">"Checking the token from the link…"</p>
            </Show>
        </section>
    }
}

/// In place of any view while nobody is signed in: the reason, the token field, and a link to the
/// sign-in page that comes back to this very view (path, query and fragment).
#[component]
pub fn SignInPanel() -> impl IntoView {
    let location = use_location();
    let here = Memo::new(move |_| {
        let search = location.search.get();
        let search = if search.is_empty() || search.starts_with('?') { search } else { format!("?{search}") };
        format!("{}{search}{}", location.pathname.get(), location.hash.get())
    });
    let sign_in_href = move || Route::SignIn.with_query(&[("next", here.get())]);
    let error: RwSignal<Option<ApiError>> = RwSignal::new(None);
    view! {
        <section class="page sign-in" data-testid="sign-in-panel">
            <h1>"Sign in to see this view"</h1>
            {live(move || session::signed_out_reason().map(|reason| view! {
                <p class="notice warn" role="alert" data-testid="signed-out-reason">"You are signed out: " {reason} "."</p>
            }))}
            <p>"The studio shows its data to people with a token. Paste yours, or open the sign-in link "
                <code>"dualwrite serve"</code> " printed; this view opens once you are signed in."</p>
            <TokenForm error=error on_signed_in=Callback::new(|()| {}) />
            <p class="muted">"Or use the " <a href=sign_in_href data-testid="sign-in-link">"sign-in page for this view"</a>
                "; a sign-in link's " <code>"#token=…"</code> " works on it too."</p>
        </section>
    }
}

/// The token field: checks the token with the server and signs in with it.
#[component]
fn TokenForm(error: RwSignal<Option<ApiError>>, on_signed_in: Callback<()>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let token = text.get_untracked();
        if token.trim().is_empty() {
            error.set(Some(ApiError {
                status: 0,
                code: String::new(),
                message: "paste a token first".into(),
                diagnostics: Vec::new(),
            }));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let result = session::sign_in(&token).await;
            busy.set(false);
            match result {
                Ok(_) => {
                    error.set(None);
                    on_signed_in.run(());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="token-form" on:submit=submit>
            <label for="token-input">"Token"</label>
            <div class="row">
                <input id="token-input" type="password" autocomplete="off" spellcheck="false" data-testid="token-input"
                    aria-describedby="token-error" prop:value=text on:input=move |ev| text.set(event_target_value(&ev)) />
                <button type="submit" class="primary" data-testid="sign-in-submit" disabled=move || busy.get()>
                    {live(move || if busy.get() { "Checking…" } else { "Sign in" })}
                </button>
            </div>
            <div id="token-error">
                {live(move || error.get().map(|e| view! {
                    <p class="notice error" role="alert" data-testid="sign-in-error">{e.message}</p>
                }))}
            </div>
        </form>
    }
}
