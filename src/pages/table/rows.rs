//! One page of a table's rows, with the pager.

use dualwrite_core::api::Paged;
use dualwrite_core::schema::Row;
use leptos::prelude::*;

use super::show;

#[component]
pub fn RowsGrid(
    page: Paged<Row>,
    /// The columns to show, in order.
    columns: Vec<String>,
    /// Whether rows may be edited (an edit button per row).
    writer: bool,
    #[prop(into)] first_page: Signal<bool>,
    /// A row to edit.
    #[prop(into)]
    on_edit: Callback<Row>,
    /// The page to show, as the position after which it starts (0 for the first).
    #[prop(into)]
    on_page: Callback<i64>,
) -> impl IntoView {
    let next = page.next;
    view! {
        <p class="muted" data-testid="row-total">{format!("{} rows", page.total)}</p>
        <div class="grid-scroll">
        <table class="rows" data-testid="rows-table">
            <thead><tr>{writer.then(|| view! { <th></th> })}{columns.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}</tr></thead>
            <tbody>
                {page.items.into_iter().map(|row| {
                    let cells = columns.iter().map(|c| view! { <td>{row.get(c).map(show).unwrap_or_default()}</td> }).collect_view();
                    view! {
                        <tr data-testid="data-row">
                            {writer.then(|| view! {
                                <td><button type="button" data-testid="edit-row" on:click=move |_| on_edit.run(row.clone())>"Edit"</button></td>
                            })}
                            {cells}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
        <div class="pager">
            <button type="button" disabled=move || first_page.get() on:click=move |_| on_page.run(0)>"First page"</button>
            <button type="button" disabled=next.is_none() on:click=move |_| if let Some(n) = next { on_page.run(n) }>"Next →"</button>
        </div>
    }
}
