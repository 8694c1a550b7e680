//! `/tokens`: admins list, issue and revoke the tokens people and applications sign in with.

mod issued;
mod table;

use dualwrite_core::access::{Permission, Role};
use dualwrite_core::api::{IssuedToken, NewToken, TokenInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::live;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::fetched::Fetched;
use crate::session;
use issued::IssuedSecret;
use table::TokenTable;

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
    let tokens = Fetched::new(api::tokens);
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
                {live(move || tried.get().then(|| problems.get().into_iter().map(|p| view! { <li class="error">{p.message}</li> }).collect_view()))}
            </ul>
        </form>
        {live(move || issued.get().map(|t| view! { <IssuedSecret token=t on_dismiss=Callback::new(move |()| issued.set(None)) /> }))}
        <OutcomeNotice outcome=outcome />
        {live(move || tokens.get().map(|result| match result {
            Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            Ok(page) => view! { <TokenTable tokens=page.items on_revoke=revoke /> }.into_any(),
        }))}
    }
}
