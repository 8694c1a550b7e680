//! The filters tab: which rows of each side the map syncs.

use dualwrite_core::schema::Side;
use dualwrite_core::validation::Diagnostic;
use leptos::prelude::*;

use crate::components::filters::FilterEditor;

#[component]
pub fn FiltersTab(
    #[prop(into)] finops_filter: Signal<String>,
    #[prop(into)] dataverse_filter: Signal<String>,
    #[prop(into)] diagnostics: Signal<Vec<Diagnostic>>,
    #[prop(into)] editable: Signal<bool>,
    /// A side's new filter; empty when it has none.
    #[prop(into)]
    on_change: Callback<(Side, String)>,
) -> impl IntoView {
    view! {
        <div class="filters">
            <FilterEditor label="Finance and operations filter (query range)" path="finops_filter"
                hint="== != < <= > >=, && || !, like \"A*\", Enum::Value, dates dd\\mm\\yyyy, parentheses. Example: ((PartyType == \"Organization\"))"
                value=finops_filter diagnostics=diagnostics editable=editable
                on_change=move |v: String| on_change.run((Side::Finops, v)) />
            <FilterEditor label="Dataverse filter (OData $filter)" path="dataverse_filter"
                hint="eq ne gt ge lt le, and or not, parentheses, 'text', numbers, true/false, null; no nested lookups, no contains. Example: customertypecode eq 3"
                value=dataverse_filter diagnostics=diagnostics editable=editable
                on_change=move |v: String| on_change.run((Side::Dataverse, v)) />
        </div>
    }
}
