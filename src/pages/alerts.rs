use leptos::prelude::*;
use leptos::task::spawn_local;

use dualwrite_core::api::{AlertAction, AlertRule, AlertRules, ALERT_ERROR_TYPES, MAX_ALERT_WINDOW_SECONDS};

use dualwrite_core::access::Permission;

use crate::api;
use crate::components::live;
use crate::components::notice::{ErrorNotice, Outcome, OutcomeNotice};
use crate::fetched::Fetched;
use crate::session;

fn action_name(action: AlertAction) -> &'static str {
    match action {
        AlertAction::None => "none",
        AlertAction::Pause => "pause",
        AlertAction::Stop => "stop",
    }
}

/// A change to the rules being edited.
type RulesEdit = Box<dyn FnOnce(&mut Vec<AlertRule>)>;

/// Alert rules: count live-sync errors of some types in a window and act on the map.
#[component]
pub fn AlertsPage() -> impl IntoView {
    let loaded = Fetched::new(api::alerts);
    let rules: RwSignal<Option<Vec<AlertRule>>> = RwSignal::new(None);
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);
    let current = move || rules.get().or_else(|| loaded.get().and_then(Result::ok).map(|a| a.rules));
    let edit = move |f: RulesEdit| {
        let mut list = current().unwrap_or_default();
        f(&mut list);
        rules.set(Some(list));
    };
    let save = move |_| {
        let list = current().unwrap_or_default();
        spawn_local(async move {
            let result = api::put_alerts(&AlertRules { rules: list }).await;
            if result.is_ok() {
                rules.set(None);
                loaded.refetch();
            }
            outcome
                .set(Some(Outcome::of(result, |_| "Saved. The rules apply from the next error on.".into())));
        });
    };
    let count = Memo::new(move |_| current().map_or(0, |r| r.len()));
    // The same check the server makes, run as the rules are edited.
    let problems = Memo::new(move |_| AlertRules { rules: current().unwrap_or_default() }.problems());
    // Rules are part of the design: other roles see them, read-only.
    let designer = session::may(Permission::Design);
    let rule = move |i: usize| {
        let get = move || current().and_then(|r| r.get(i).cloned());
        view! {
            <fieldset class="rule" data-testid="alert-rule" disabled=!designer>
                <legend>{format!("Rule {}", i + 1)}</legend>
                <div class="row wrap">
                    {ALERT_ERROR_TYPES.into_iter().map(|(t, meaning)| view! {
                        <label class="check" title=meaning>
                            <input type="checkbox" prop:checked=move || get().is_some_and(|r| r.error_types.iter().any(|e| e == t))
                                on:change=move |ev| { let on = event_target_checked(&ev); edit(Box::new(move |l| if let Some(r) = l.get_mut(i) {
                                    r.error_types.retain(|e| e != t); if on { r.error_types.push(t.to_owned()); } })) } />
                            {t}
                        </label>
                    }).collect_view()}
                </div>
                <div class="row wrap">
                    <label>"when " <input type="number" min="1" class="short" prop:value=move || get().map(|r| r.count.to_string()).unwrap_or_default()
                        on:change=move |ev| { let v = event_target_value(&ev).parse().unwrap_or(1); edit(Box::new(move |l| if let Some(r) = l.get_mut(i) { r.count = v; })) } />" errors"</label>
                    <label>"within " <input type="number" min="1" max=(MAX_ALERT_WINDOW_SECONDS / 60).to_string() class="short" prop:value=move || get().map(|r| (r.window_seconds / 60).to_string()).unwrap_or_default()
                        on:change=move |ev| { let v: u64 = event_target_value(&ev).parse().unwrap_or(15); edit(Box::new(move |l| if let Some(r) = l.get_mut(i) { r.window_seconds = v * 60; })) } />" minutes"</label>
                    <label>"then "
                        <select prop:value=move || get().map(|r| action_name(r.action)).unwrap_or_default()
                            on:change=move |ev| { let v = event_target_value(&ev); let action = match v.as_str() { "none" => AlertAction::None, "stop" => AlertAction::Stop, _ => AlertAction::Pause };
                                edit(Box::new(move |l| if let Some(r) = l.get_mut(i) { r.action = action; })) }>
                            <option value="none">"notify only"</option>
                            <option value="pause">"pause the map"</option>
                            <option value="stop">"stop the map"</option>
                        </select>
                    </label>
                    <button type="button" class="danger" on:click=move |_| edit(Box::new(move |l| { if i < l.len() { l.remove(i); } }))>"Remove"</button>
                </div>
            </fieldset>
        }
    };
    view! {
        <section class="page">
            <h1>"Alerts"</h1>
            <p class="muted">"Count live-sync errors by type; when a rule's count is reached within its window, act on the map."</p>
            <OutcomeNotice outcome=outcome />
            {live(move || loaded.get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> }))}
            {live(move || (0..count.get()).map(rule).collect_view())}
            <ul class="problems" data-testid="alert-problems">
                {live(move || problems.get().into_iter().map(|p| view! { <li class="error">{p.to_string()}</li> }).collect_view())}
            </ul>
            <div class="row" class:hidden=!designer>
                <button type="button" on:click=move |_| edit(Box::new(|l| l.push(AlertRule {
                    error_types: vec!["application".into()], count: 10, window_seconds: 900, action: AlertAction::Pause })))>"+ Add rule"</button>
                <button type="button" class="primary" on:click=save disabled=move || !problems.get().is_empty()>"Save rules"</button>
            </div>
        </section>
    }
}
