use dualwrite_core::api::FieldDoc;
use dualwrite_core::validation::Diagnostic;
use leptos::prelude::*;
use serde_json::{json, Value};

use super::diagnostics::InlineDiagnostics;
use super::field_grid::{icon, icon_meaning};
use crate::components::live;

/// The transform pane of the selected mapping: its transforms as JSON (the documented shape), a
/// readable summary of each, and templates to start from.
#[component]
pub fn TransformPane(
    /// The selected mapping's index and the mapping.
    #[prop(into)]
    field: Signal<Option<(usize, FieldDoc)>>,
    #[prop(into)] diagnostics: Signal<Vec<Diagnostic>>,
    #[prop(into)] editable: Signal<bool>,
    #[prop(into)] on_set: Callback<(usize, Vec<Value>)>,
) -> impl IntoView {
    let index = Memo::new(move |_| field.with(|f| f.as_ref().map(|(i, _)| *i)));
    live(move || {
        let Some(i) = index.get() else {
            return view! {
                <aside class="pane transform-pane" data-testid="transform-pane">
                    <p class="muted">"Select a mapping to see and edit its transforms."</p>
                </aside>
            }
            .into_any();
        };
        // What the user typed, while it differs from the stored transforms (kept so the cursor stays).
        let typed: RwSignal<Option<String>> = RwSignal::new(None);
        let error: RwSignal<Option<String>> = RwSignal::new(None);
        let transforms = Memo::new(move |_| {
            field.with(|f| f.as_ref().map(|(_, f)| f.transforms.clone()).unwrap_or_default())
        });
        let shown = move || {
            typed.get().unwrap_or_else(|| serde_json::to_string_pretty(&transforms.get()).unwrap_or_default())
        };
        let set = move |list: Vec<Value>| {
            typed.set(None);
            error.set(None);
            on_set.run((i, list));
        };
        let add = move |template: Value| {
            let mut list = transforms.get_untracked();
            list.push(template);
            set(list);
        };
        view! {
            <aside class="pane transform-pane" data-testid="transform-pane">
                <h3>
                    {live(move || field.with(|f| f.as_ref().map(|(_, f)| {
                        let icon = icon(f);
                        format!("{} {} {}", f.finops.as_deref().unwrap_or("none"), icon, f.dataverse.as_deref().unwrap_or("none"))
                    })))}
                </h3>
                <p class="muted">
                    {live(move || field.with(|f| f.as_ref().map(|(_, f)| icon_meaning(icon(f)))))}
                    ". Value maps read finops value → Dataverse value, whatever the direction."
                </p>
                <ul class="transform-list">
                    {live(move || transforms.get().into_iter().map(|t| view! { <li>{describe(&t)}</li> }).collect_view())}
                </ul>
                <div class="row">
                    <button type="button" disabled=move || !editable.get()
                        on:click=move |_| add(json!({"transformType": "Default", "defaultValue": ""}))>"+ Default"</button>
                    <button type="button" disabled=move || !editable.get()
                        on:click=move |_| add(json!({"transformType": "ValueMap", "valueMap": {}}))>"+ Value map"</button>
                    <button type="button" disabled=move || !editable.get() on:click=move |_| set(Vec::new())>"Clear"</button>
                </div>
                <label for="transform-json">"JSON"</label>
                <textarea id="transform-json" data-testid="transform-json" rows="10" spellcheck="false"
                    disabled=move || !editable.get() prop:value=shown
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        match serde_json::from_str::<Value>(&text) {
                            Ok(Value::Array(list)) => {
                                error.set(None);
                                on_set.run((i, list));
                            }
                            Ok(_) => error.set(Some("expected a JSON array of transforms: [ {\"transformType\": …} ]".into())),
                            Err(e) => error.set(Some(format!("not JSON yet: {e}"))),
                        }
                        typed.set(Some(text));
                    }></textarea>
                {live(move || error.get().map(|e| view! { <p class="error" data-testid="transform-json-error">{e}</p> }))}
                <InlineDiagnostics diagnostics=diagnostics path=format!("fields[{i}]") />
            </aside>
        }
        .into_any()
    })
}

fn describe(t: &Value) -> String {
    match t.get("transformType").and_then(Value::as_str) {
        Some("ValueMap") => {
            let entries = t
                .get("valueMap")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| format!("{k} → {v}")).collect::<Vec<_>>().join(", "));
            format!("Value map: {}", entries.filter(|e| !e.is_empty()).unwrap_or_else(|| "empty".into()))
        }
        Some("Default") => {
            format!("Default: {}", t.get("defaultValue").map(Value::to_string).unwrap_or_default())
        }
        Some(other) => format!("{other} (not a dual-write transform)"),
        None => "a transform without transformType".into(),
    }
}
