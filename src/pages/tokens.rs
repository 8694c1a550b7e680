//! `/tokens`: admins list, issue and revoke the tokens people and applications sign in with.

use dualwrite_core::access::{Permission, Role};
use dualwrite_core::api::{IssuedToken, NewToken, TokenInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::route::{encode, Route};
use crate::session;

/// The page, for those who may manage tokens; a word of explanation for everyone else.
#[component]
pub fn TokensPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1 data-testid="tokens-title">"Tokens"</h1>
            <Show when=move || session::may(Permission::ManageTokens) fallback=|| view! {
                <p class="notice" data-testid="tokens-not-allowed">"Only admins issue and revoke tokens; ask one for a token with another role."</p>
            }>
                <TokensAdmin />
            </Show>
        </section>
    }
}

#[component]
fn TokensAdmin() -> impl IntoView {
    let tokens = LocalResource::new(api::tokens);
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);
    let issued: RwSignal<Option<IssuedToken>> = RwSignal::new(None);

    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    // Problems show once the form has been tried, not while it is still empty.
    let tried = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let request = Memo::new(move |_| NewToken { name: name.get().trim().to_owned(), role: role.get() });
    let problems = Memo::new(move |_| request.with(NewToken::problems));

    let issue = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        if !problems.with_untracked(Vec::is_empty) {
            return;
        }
        let new = request.get_untracked();
        busy.set(true);
        spawn_local(async move {
            match api::issue_token(&new).await {
                Ok(token) => {
                    outcome.set(None);
                    issued.set(Some(token));
                    name.set(String::new());
                    tried.set(false);
                }
                Err(e) => outcome.set(Some(Outcome::Failed(e))),
            }
            busy.set(false);
            tokens.refetch();
        });
    };
    let revoke = Callback::new(move |token: TokenInfo| {
        spawn_local(async move {
            let result = api::revoke_token(&token.id).await;
            outcome.set(Some(Outcome::of(result, |t| {
                format!("Revoked “{}”: whoever uses it is signed out at their next request.", t.name)
            })));
            tokens.refetch();
        });
    });

    view! {
        <p class="muted">"A token signs a person or an application in, with a role: "
            <strong>"admin"</strong> " (everything, tokens included), " <strong>"maker"</strong>
            " (maps, keys, schema, their lifecycle; no data writes), " <strong>"app"</strong>
            " (writes environment data) or " <strong>"viewer"</strong> " (reads what a shared link shows)."</p>
        <form class="panel token-issue" on:submit=issue data-testid="token-form" novalidate>
            <h2>"Issue a token"</h2>
            <div class="row wrap">
                <label class="meta-field">
                    <span>"Who or what uses it"</span>
                    <input type="text" data-testid="token-name" maxlength="200" prop:value=name
                        aria-invalid=move || (tried.get() && !problems.with(Vec::is_empty)).to_string()
                        aria-describedby="token-problems"
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label class="meta-field">
                    <span>"Role"</span>
                    <select data-testid="token-role" prop:value=move || role.get().as_str()
                        on:change=move |ev| if let Ok(r) = event_target_value(&ev).parse() { role.set(r) }>
                        {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="primary" data-testid="token-issue" disabled=move || busy.get()>"Issue token"</button>
            </div>
            <ul class="problems" id="token-problems" data-testid="token-problems">
                {move || tried.get().then(|| problems.get().into_iter().map(|p| view! { <li class="error">{p.message}</li> }).collect_view())}
            </ul>
        </form>
        {move || issued.get().map(|t| view! { <IssuedSecret token=t on_dismiss=Callback::new(move |()| issued.set(None)) /> })}
        <OutcomeNotice outcome=outcome />
        {move || tokens.get().map(|result| match result {
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            Ok(page) => view! { <TokenTable tokens=page.items on_revoke=revoke /> }.into_any(),
        })}
    }
}

/// The secret of a token just issued: shown this once, with a copy button and a sign-in link.
#[component]
fn IssuedSecret(token: IssuedToken, on_dismiss: Callback<()>) -> impl IntoView {
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
                <span class="muted" role="status">{move || copied.get()}</span>
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

/// RFC 3339 as a person reads it: date and minutes, UTC.
fn when(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => at.to_owned(),
    }
}

/// The tokens; revoking asks once more in the row itself.
#[component]
fn TokenTable(tokens: Vec<TokenInfo>, on_revoke: Callback<TokenInfo>) -> impl IntoView {
    let confirming: RwSignal<Option<String>> = RwSignal::new(None);
    // A token cannot revoke itself (the server refuses it), so an admin never locks everyone out.
    let own = session::current().map(|s| s.token_id);
    view! {
        <div class="grid-scroll">
            <table class="tokens" data-testid="tokens-table">
                <thead><tr><th>"Name"</th><th>"Role"</th><th>"Created"</th><th>"Revoked"</th><th></th></tr></thead>
                <tbody>
                    {tokens.into_iter().map(|t| {
                        let revoked = t.revoked_at.is_some();
                        let revocable = !revoked && own.as_deref() != Some(t.id.as_str());
                        let label = format!("revoke {}", t.name);
                        let token = StoredValue::new(t.clone());
                        let id = t.id.clone();
                        let asking = Memo::new(move |_| confirming.with(|c| c.as_deref() == Some(id.as_str())));
                        view! {
                            <tr data-testid="token-row" data-token-id=t.id.clone() data-name=t.name.clone() class:revoked=revoked>
                                <td>
                                    {t.name.clone()}
                                    {t.bootstrap.then(|| view! {
                                        <span class="badge bootstrap" data-testid="bootstrap" title="an admin token dualwrite serve was started with; a server restarted with it after it was revoked refuses to start">"bootstrap"</span>
                                    })}
                                </td>
                                <td><span class=format!("badge role role-{}", t.role.as_str())>{t.role.as_str()}</span></td>
                                <td class="when">{when(&t.created_at)}</td>
                                <td class="when" data-testid="token-revoked">{t.revoked_at.as_deref().map(when).unwrap_or_default()}</td>
                                <td class="actions">
                                    {revocable.then(|| view! {
                                        <Show when=move || asking.get() fallback=move || {
                                            let label = label.clone();
                                            view! {
                                                <button type="button" class="danger" data-testid="token-revoke" aria-label=label
                                                    on:click=move |_| confirming.set(Some(token.with_value(|t| t.id.clone())))>"Revoke"</button>
                                            }
                                        }>
                                            <span class="confirm" role="group" aria-label="confirm revoking">
                                                "Revoke for good? "
                                                <button type="button" class="danger" data-testid="token-revoke-confirm"
                                                    on:click=move |_| { confirming.set(None); on_revoke.run(token.get_value()); }>"Revoke"</button>
                                                <button type="button" on:click=move |_| confirming.set(None)>"Keep"</button>
                                            </span>
                                        </Show>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
