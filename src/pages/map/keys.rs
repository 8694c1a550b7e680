//! The keys tab: how well the mapped fields cover each side's integration key.

use dualwrite_core::api::FieldDoc;
use leptos::prelude::*;

use crate::components::key_coverage::KeyCoverage;
use crate::coverage::Coverage;
use crate::route::Route;

#[component]
pub fn KeysTab(
    #[prop(into)] coverage: Signal<Result<Coverage, String>>,
    #[prop(into)] fields: Signal<Vec<FieldDoc>>,
    /// A mapping picked to go to it.
    #[prop(into)]
    on_pick: Callback<usize>,
) -> impl IntoView {
    view! {
        <KeyCoverage coverage=coverage fields=fields on_pick=on_pick />
        <p class="muted">"Keys are set per Dataverse table on the "
            <a href=Route::IntegrationKeys.path()>"integration keys"</a> " page."</p>
    }
}
