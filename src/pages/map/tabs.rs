//! The editor's tab bar; the validation tab counts the errors.

use leptos::prelude::*;

use crate::components::live;
use crate::route::MapTab;

#[component]
pub fn MapTabs(
    is_new: bool,
    #[prop(into)] current: Signal<MapTab>,
    #[prop(into)] error_count: Signal<usize>,
    /// The address of a tab, keeping the selection and the draft.
    #[prop(into)]
    href: Callback<MapTab, String>,
) -> impl IntoView {
    view! {
        <nav class="tabs" role="tablist" aria-label="map views">
            {MapTab::ALL
                .into_iter()
                // A map not saved yet has only its definition to show.
                .filter(|t| !is_new || t.edits_definition())
                .map(|t| view! {
                    <a role="tab" href=move || href.run(t) data-testid=format!("tab-{}", t.slug())
                        aria-selected=move || (current.get() == t).to_string() class:active=move || current.get() == t>
                        {t.label()}
                        {(t == MapTab::Validation).then(|| view! {
                            <span class="count" class:bad=move || { error_count.get() > 0 }>{live(move || error_count.get())}</span>
                        })}
                    </a>
                })
                .collect_view()}
        </nav>
    }
}
