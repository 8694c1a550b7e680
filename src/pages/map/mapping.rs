//! The mapping tab: the field grid, the selected field's transforms, and the problems to pick from.

use dualwrite_core::api::FieldDoc;
use dualwrite_core::validation::Diagnostic;
use leptos::prelude::*;
use serde_json::Value;

use crate::components::diagnostics::{DiagnosticList, DiagnosticSummary};
use crate::components::field_grid::{FieldEdit, FieldGrid};
use crate::components::transforms::TransformPane;

#[component]
pub fn MappingTab(
    #[prop(into)] fields: Signal<Vec<FieldDoc>>,
    #[prop(into)] diagnostics: Signal<Vec<Diagnostic>>,
    #[prop(into)] selected: Signal<Option<usize>>,
    #[prop(into)] editable: Signal<bool>,
    #[prop(into)] finops_choices: Signal<Vec<String>>,
    #[prop(into)] dataverse_choices: Signal<Vec<String>>,
    #[prop(into)] on_select: Callback<usize>,
    #[prop(into)] on_edit: Callback<FieldEdit>,
    /// A field's new transform list.
    #[prop(into)]
    on_transforms: Callback<(usize, Vec<Value>)>,
    /// A problem's path, picked to go to it.
    #[prop(into)]
    on_pick: Callback<String>,
) -> impl IntoView {
    let selected_field = Signal::derive(move || {
        selected.get().and_then(|i| fields.with(|f| f.get(i).cloned().map(|f| (i, f))))
    });
    view! {
        <div class="mapping-layout">
            <div class="mapping-main">
                <FieldGrid fields=fields diagnostics=diagnostics selected=selected editable=editable
                    finops_choices=finops_choices dataverse_choices=dataverse_choices
                    on_select=on_select on_edit=on_edit />
            </div>
            <TransformPane field=selected_field diagnostics=diagnostics editable=editable on_set=on_transforms />
        </div>
        <section class="panel" data-testid="diagnostics">
            <h2>"Problems " <DiagnosticSummary diagnostics=diagnostics /></h2>
            <DiagnosticList diagnostics=diagnostics on_pick=on_pick />
        </section>
    }
}
