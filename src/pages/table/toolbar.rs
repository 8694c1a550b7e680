//! The data browser's toolbar: which table, which rows, the environment's availability, and writes.

use dualwrite_core::schema::Side;
use leptos::prelude::*;

use super::availability::AvailabilitySwitch;
use crate::components::live;
use crate::route::Route;

#[component]
pub fn TableToolbar(
    #[prop(into)] side: Signal<Option<Side>>,
    /// The tables of the side, from the schema.
    #[prop(into)]
    tables: Signal<Vec<String>>,
    #[prop(into)] table: Signal<String>,
    #[prop(into)] filter: Signal<String>,
    /// Whether the reader may write rows.
    writer: bool,
    /// Whether the table is known, so a row can be added.
    #[prop(into)]
    known: Signal<bool>,
    #[prop(into)] on_table: Callback<String>,
    #[prop(into)] on_filter: Callback<String>,
    #[prop(into)] on_add: Callback<()>,
) -> impl IntoView {
    view! {
        <div class="toolbar">
            <label>"Table "
                <select aria-label="table" data-testid="table-picker" prop:value=move || table.get()
                    on:change=move |ev| on_table.run(event_target_value(&ev))>
                    <option value="">"choose a table"</option>
                    {live(move || tables.get().into_iter().map(|t| {
                        let chosen = t == table.get();
                        view! { <option value=t.clone() selected=chosen>{t.clone()}</option> }
                    }).collect_view())}
                </select>
            </label>
            <input type="search" class="wide" data-testid="row-filter" aria-label="filter rows"
                placeholder=move || match side.get() { Some(Side::Finops) => "(CUSTOMERACCOUNT == \"US-001\")", _ => "accountnumber eq 'CRM-001'" }
                prop:value=filter on:change=move |ev| on_filter.run(event_target_value(&ev)) />
            {live(move || side.get().map(|s| view! { <AvailabilitySwitch side=s /> }))}
            <Show when=move || writer>
                <button type="button" data-testid="add-row" disabled=move || !known.get()
                    on:click=move |_| on_add.run(())>"+ Add row"</button>
                {live(move || side.get().map(|s| view! { <a href=Route::Load { side: s }.path() data-testid="load-link">"Load from a data export"</a> }))}
            </Show>
        </div>
    }
}
