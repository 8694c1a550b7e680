//! The validation tab: the problems the studio finds on every edit, and those the server found at the
//! last save.

use dualwrite_core::validation::Diagnostic;
use leptos::prelude::*;

use crate::components::diagnostics::{DiagnosticList, DiagnosticSummary};
use crate::components::live;

#[component]
pub fn ValidationTab(
    #[prop(into)] diagnostics: Signal<Vec<Diagnostic>>,
    #[prop(into)] server_diagnostics: Signal<Option<Vec<Diagnostic>>>,
    /// A problem's path, picked to go to it.
    #[prop(into)]
    on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <section class="panel" data-testid="diagnostics">
            <h2>"In the studio " <DiagnosticSummary diagnostics=diagnostics /></h2>
            <p class="muted">"Checked on every edit, by the same code the server runs."</p>
            <DiagnosticList diagnostics=diagnostics on_pick=on_pick />
        </section>
        {live(move || server_diagnostics.get().map(|d| view! {
            <section class="panel" data-testid="server-diagnostics">
                <h2>"From the server, at the last save"</h2>
                <DiagnosticList diagnostics=Signal::stored(d) on_pick=on_pick />
            </section>
        }))}
    }
}
