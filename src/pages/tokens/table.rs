//! The list of tokens, with revoking asked once more in the row.

use dualwrite_core::api::TokenInfo;
use leptos::prelude::*;

use crate::session;

/// RFC 3339 as a person reads it: date and minutes, UTC.
fn when(at: &str) -> String {
    match (at.get(..10), at.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => at.to_owned(),
    }
}

/// The tokens; revoking asks once more in the row itself.
#[component]
pub fn TokenTable(tokens: Vec<TokenInfo>, on_revoke: Callback<TokenInfo>) -> impl IntoView {
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
