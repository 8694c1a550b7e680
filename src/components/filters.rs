use dualwrite_core::validation::Diagnostic;
use leptos::prelude::*;

use super::diagnostics::InlineDiagnostics;

/// One side's row filter, with its problems inline.
#[component]
pub fn FilterEditor(
    #[prop(into)] label: String,
    /// `finops_filter` or `dataverse_filter`.
    #[prop(into)]
    path: String,
    #[prop(into)] hint: String,
    #[prop(into)] value: Signal<String>,
    #[prop(into)] diagnostics: Signal<Vec<Diagnostic>>,
    #[prop(into)] editable: Signal<bool>,
    #[prop(into)] on_change: Callback<String>,
) -> impl IntoView {
    let id = format!("filter-{path}");
    let input_testid = format!("{path}-input");
    view! {
        <div class="filter-editor">
            <label for=id.clone()>{label}</label>
            <textarea id=id rows="3" spellcheck="false" data-testid=input_testid
                disabled=move || !editable.get() prop:value=value
                on:input=move |ev| on_change.run(event_target_value(&ev))></textarea>
            <p class="muted hint">{hint}</p>
            <InlineDiagnostics diagnostics=diagnostics path=path />
        </div>
    }
}
