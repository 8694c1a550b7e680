//! The data browser: one table of one environment, its rows, and writes to it (a transaction), with
//! the twin writes live sync made on the other side, or the error that refused them.

mod availability;
mod row_form;
mod rows;
mod toolbar;
mod twin_writes;

use dualwrite_core::access::Permission;
use dualwrite_core::api::{Op, TransactionRequest, TransactionResponse};
use dualwrite_core::schema::{Row, Schema, Side};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate, use_params_map};
use leptos_router::NavigateOptions;
use serde_json::Value;

use crate::api::{self, ApiError};
use crate::components::live;
use crate::components::notice::ErrorNotice;
use crate::fetched::Fetched;
use crate::route::Route;
use crate::session;
use row_form::RowForm;
use twin_writes::TwinWrites;

const PAGE: u32 = 25;

/// `/envs/{side}/tables` and `/envs/{side}/tables/{table}`.
#[component]
pub fn TablePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_location().query;
    let navigate = use_navigate();
    let side = Memo::new(move |_| params.with(|p| p.get("side").and_then(|s| s.parse::<Side>().ok())));
    let table = Memo::new(move |_| params.with(|p| p.get("table").unwrap_or_default()));
    let filter = Memo::new(move |_| query.with(|q| q.get("filter").unwrap_or_default()));
    let after =
        Memo::new(move |_| query.with(|q| q.get("after").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0)));
    let schema = Fetched::new(api::schema);
    let schema_doc =
        Memo::new(move |_| schema.get().and_then(Result::ok).and_then(|v| Schema::from_value(&v).ok()));
    let reload = RwSignal::new(0u32);
    let rows = Fetched::new(move || {
        let (side, table, filter, after) = (side.get(), table.get(), filter.get(), after.get());
        reload.track();
        async move {
            match side {
                Some(side) if !table.is_empty() => {
                    api::rows(side, &table, &filter, PAGE, after).await.map(Some)
                }
                _ => Ok(None),
            }
        }
    });
    // Writing rows is what applications (and admins) do; everyone reads them.
    let writer = session::may(Permission::WriteData);
    let definition = Memo::new(move |_| {
        let (side, table) = (side.get()?, table.get());
        schema_doc.with(|s| s.as_ref()?.table(side, &table).cloned())
    });
    // The row being edited (`None` for a new row) while the form is open.
    let form: RwSignal<Option<Option<Row>>> = RwSignal::new(None);
    let result: RwSignal<Option<Result<TransactionResponse, ApiError>>> = RwSignal::new(None);

    let go = move |table: String, filter: String, after: i64| {
        let Some(side) = side.get_untracked() else { return };
        let path = if table.is_empty() {
            Route::Tables { side }.path()
        } else {
            Route::Table { side, table }.with_query(&[
                ("filter", filter),
                ("after", if after > 0 { after.to_string() } else { String::new() }),
            ])
        };
        navigate(&path, NavigateOptions { scroll: false, ..Default::default() });
    };
    let go_filter = go.clone();
    let go_pick = go.clone();
    let on_page = Callback::new(move |after: i64| go(table.get_untracked(), filter.get_untracked(), after));
    let tables = Signal::derive(move || {
        let s = side.get();
        schema_doc.with(|doc| {
            doc.as_ref()
                .zip(s)
                .map(|(d, s)| d.tables(s).iter().map(|t| t.name.clone()).collect())
                .unwrap_or_default()
        })
    });
    let open_form = move |editing: Option<Row>| {
        result.set(None);
        form.set(Some(editing));
    };

    let submit = Callback::new(move |op: Op| {
        let Some(side) = side.get_untracked() else { return };
        spawn_local(async move {
            let r = api::transaction(side, &TransactionRequest { ops: vec![op] }).await;
            if r.is_ok() {
                form.set(None);
                reload.update(|n| *n += 1);
            }
            result.set(Some(r));
        });
    });

    view! {
        <section class="page">
            <div class="page-head">
                <h1>"Data"</h1>
                <nav class="tabs">
                    {Side::BOTH.into_iter().map(|s| view! {
                        <a href=Route::Tables { side: s }.path() class:active=move || side.get() == Some(s)>{side_label(s)}</a>
                    }).collect_view()}
                </nav>
            </div>
            {live(move || side.get().is_none().then(|| view! { <p class="notice error">"Unknown environment: use finops or dataverse."</p> }))}
            {live(move || schema.get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> }))}
            <toolbar::TableToolbar side=side tables=tables table=table filter=filter writer=writer
                known=Signal::derive(move || definition.get().is_some())
                on_table=move |t| go_pick(t, String::new(), 0)
                on_filter=move |f| go_filter(table.get_untracked(), f, 0)
                on_add=move |()| open_form(None) />
            {live(move || result.get().map(|r| match r {
                Ok(answer) => view! { <TwinWrites answer=answer /> }.into_any(),
                Err(e) => view! { <div data-testid="write-error"><ErrorNotice error=e /></div> }.into_any(),
            }))}
            {live(move || form.get().and_then(|editing| definition.get().map(|t| view! {
                <RowForm table=t editing=editing on_submit=submit on_cancel=Callback::new(move |()| form.set(None)) />
            })))}
            {live(move || rows.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(None) => view! { <p class="muted">"Choose a table to see its rows."</p> }.into_any(),
                Ok(Some(page)) => {
                    let columns: Vec<String> = definition.get().map(|t| t.columns.iter().map(|c| c.name.clone()).collect())
                        .unwrap_or_else(|| page.items.first().map(|r| r.keys().cloned().collect()).unwrap_or_default());
                    view! {
                        <rows::RowsGrid page=page columns=columns writer=writer first_page=Signal::derive(move || after.get() == 0)
                            on_edit=move |row| open_form(Some(row)) on_page=on_page />
                    }.into_any()
                }
            }))}
        </section>
    }
}

pub(crate) fn side_label(side: Side) -> &'static str {
    match side {
        Side::Finops => "Finance and operations",
        Side::Dataverse => "Dataverse",
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
