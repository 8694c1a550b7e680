//! The data browser: one table of one environment, its rows, and writes to it (a transaction), with
//! the twin writes live sync made on the other side, or the error that refused them.

use dualwrite_core::access::Permission;
use dualwrite_core::api::{Op, OpKind, TransactionRequest, TransactionResponse, TwinWrite};
use dualwrite_core::schema::{Column, ColumnType, Row, Schema, Side, Table};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;
use serde_json::Value;

use crate::api::{self, ApiError};
use crate::components::notice::ErrorNotice;
use crate::route::Route;
use crate::session;

const PAGE: u32 = 25;

/// `/envs/{side}/tables` and `/envs/{side}/tables/{table}`.
#[component]
pub fn TablePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let navigate = use_navigate();
    let side = Memo::new(move |_| params.with(|p| p.get("side").and_then(|s| s.parse::<Side>().ok())));
    let table = Memo::new(move |_| params.with(|p| p.get("table").unwrap_or_default()));
    let filter = Memo::new(move |_| query.with(|q| q.get("filter").unwrap_or_default()));
    let after =
        Memo::new(move |_| query.with(|q| q.get("after").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0)));
    let schema = LocalResource::new(api::schema);
    let schema_doc =
        Memo::new(move |_| schema.get().and_then(Result::ok).and_then(|v| Schema::from_value(&v).ok()));
    let reload = RwSignal::new(0u32);
    let rows = LocalResource::new(move || {
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
    let go_page = go.clone();

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
            {move || side.get().is_none().then(|| view! { <p class="notice error">"Unknown environment: use finops or dataverse."</p> })}
            {move || schema.get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e /> })}
            <div class="toolbar">
                <label>"Table "
                    <select aria-label="table" data-testid="table-picker" prop:value=move || table.get()
                        on:change=move |ev| go_pick(event_target_value(&ev), String::new(), 0)>
                        <option value="">"choose a table"</option>
                        {move || {
                            let s = side.get();
                            schema_doc.with(|doc| doc.as_ref().zip(s).map(|(d, s)| d.tables(s).iter().map(|t| t.name.clone()).collect::<Vec<_>>()).unwrap_or_default())
                                .into_iter().map(|t| {
                                    let chosen = t == table.get();
                                    view! { <option value=t.clone() selected=chosen>{t.clone()}</option> }
                                }).collect_view()
                        }}
                    </select>
                </label>
                <input type="search" class="wide" data-testid="row-filter" aria-label="filter rows"
                    placeholder=move || match side.get() { Some(Side::Finops) => "(CUSTOMERACCOUNT == \"US-001\")", _ => "accountnumber eq 'CRM-001'" }
                    prop:value=filter on:change=move |ev| go_filter(table.get_untracked(), event_target_value(&ev), 0) />
                {move || side.get().map(|s| view! { <AvailabilitySwitch side=s /> })}
                <Show when=move || writer>
                    <button type="button" data-testid="add-row" disabled=move || definition.get().is_none()
                        on:click=move |_| { result.set(None); form.set(Some(None)); }>"+ Add row"</button>
                    {move || side.get().map(|s| view! { <a href=Route::Load { side: s }.path() data-testid="load-link">"Load from a data export"</a> })}
                </Show>
            </div>
            {move || result.get().map(|r| match r {
                Ok(answer) => view! { <TwinWrites answer=answer /> }.into_any(),
                Err(e) => view! { <div data-testid="write-error"><ErrorNotice error=e /></div> }.into_any(),
            })}
            {move || form.get().and_then(|editing| definition.get().map(|t| view! {
                <RowForm table=t editing=editing on_submit=submit on_cancel=Callback::new(move |()| form.set(None)) />
            }))}
            {move || rows.get().map(|r| match r {
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                Ok(None) => view! { <p class="muted">"Choose a table to see its rows."</p> }.into_any(),
                Ok(Some(page)) => {
                    let columns: Vec<String> = definition.get().map(|t| t.columns.iter().map(|c| c.name.clone()).collect())
                        .unwrap_or_else(|| page.items.first().map(|r| r.keys().cloned().collect()).unwrap_or_default());
                    let next = page.next;
                    let go_next = go_page.clone();
                    let go_first = go_page.clone();
                    view! {
                        <p class="muted" data-testid="row-total">{format!("{} rows", page.total)}</p>
                        <div class="grid-scroll">
                        <table class="rows" data-testid="rows-table">
                            <thead><tr>{writer.then(|| view! { <th></th> })}{columns.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}</tr></thead>
                            <tbody>
                                {page.items.into_iter().map(|row| {
                                    let cells = columns.iter().map(|c| view! { <td>{row.get(c).map(show).unwrap_or_default()}</td> }).collect_view();
                                    let editing = row.clone();
                                    view! {
                                        <tr data-testid="data-row">
                                            {writer.then(|| view! {
                                                <td><button type="button" data-testid="edit-row" on:click=move |_| { result.set(None); form.set(Some(Some(editing.clone()))); }>"Edit"</button></td>
                                            })}
                                            {cells}
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                        <div class="pager">
                            <button type="button" disabled=move || after.get() == 0 on:click=move |_| go_first(table.get_untracked(), filter.get_untracked(), 0)>"First page"</button>
                            <button type="button" disabled=next.is_none() on:click=move |_| if let Some(n) = next { go_next(table.get_untracked(), filter.get_untracked(), n) }>"Next →"</button>
                        </div>
                    }.into_any()
                }
            })}
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

/// The form's inputs: each writable column, and for a Dataverse lookup its target's key in dotted form.
fn inputs(table: &Table, schema_hint: bool) -> Vec<(String, &Column)> {
    let _ = schema_hint;
    table
        .columns
        .iter()
        .filter(|c| !(c.implicit && table.side == Side::Dataverse && matches!(c.ty, ColumnType::Guid)))
        .filter(|c| !c.read_only)
        .map(|c| {
            let name = match (&c.ty, c.name.as_str()) {
                (ColumnType::Lookup { .. }, "msdyn_company") => "msdyn_company.cdm_companycode".to_owned(),
                _ => c.name.clone(),
            };
            (name, c)
        })
        .collect()
}

/// Text typed into a form field, as the column's JSON value (empty is null).
fn parse(column: &Column, text: &str) -> Value {
    let t = text.trim();
    if t.is_empty() {
        return Value::Null;
    }
    match column.ty {
        ColumnType::Integer | ColumnType::Option { .. } => {
            t.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(t.into()))
        }
        ColumnType::Decimal => t.parse::<f64>().map(Value::from).unwrap_or_else(|_| Value::String(t.into())),
        ColumnType::Boolean => match t {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(t.into()),
        },
        _ => Value::String(text.to_owned()),
    }
}

/// The key that names `row` in a transaction: the entity key (finops) or the id (Dataverse).
fn key_of(table: &Table, row: &Row) -> Row {
    table.entity_key().into_iter().filter_map(|k| Some((k.to_owned(), row.get(k)?.clone()))).collect()
}

#[component]
fn RowForm(
    table: Table,
    editing: Option<Row>,
    on_submit: Callback<Op>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let fields: Vec<(String, Column)> =
        inputs(&table, true).into_iter().map(|(n, c)| (n, c.clone())).collect();
    let initial: Vec<String> = fields
        .iter()
        .map(|(n, _)| editing.as_ref().and_then(|r| r.get(n)).map(show).unwrap_or_default())
        .collect();
    let values: Vec<RwSignal<String>> = initial.iter().map(|v| RwSignal::new(v.clone())).collect();
    let is_edit = editing.is_some();
    let table_name = table.name.clone();
    let key = editing.as_ref().map(|r| key_of(&table, r));
    let submit = {
        let (fields, values, initial) = (fields.clone(), values.clone(), initial.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let mut row = Row::new();
            for (((name, column), value), before) in fields.iter().zip(&values).zip(&initial) {
                let now = value.get_untracked();
                if is_edit && now == *before {
                    continue;
                }
                if !is_edit && now.trim().is_empty() {
                    continue;
                }
                row.insert(name.clone(), parse(column, &now));
            }
            on_submit.run(Op {
                op: if is_edit { OpKind::Update } else { OpKind::Insert },
                table: table_name.clone(),
                key: key.clone(),
                row: Some(row),
            });
        }
    };
    view! {
        <form class="panel row-form" data-testid="row-form" on:submit=submit>
            <h2>{if is_edit { "Edit row" } else { "Add row" }}" — " {table.name.clone()}</h2>
            <div class="form-grid">
                {fields.into_iter().zip(values).map(|((name, column), value)| {
                    let id = format!("col-{name}");
                    let locked = is_edit && table.entity_key().iter().any(|k| *k == column.name);
                    view! {
                        <label for=id.clone()>{name.clone()}{column.required.then_some(" *")}</label>
                        <input id=id type="text" data-testid=format!("input-{name}") prop:value=value disabled=locked
                            title=column.ty.describe() placeholder=column.ty.describe()
                            on:input=move |ev| value.set(event_target_value(&ev)) />
                    }
                }).collect_view()}
            </div>
            <div class="row end">
                <button type="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="primary" data-testid="row-save">{if is_edit { "Save (one transaction)" } else { "Insert (one transaction)" }}</button>
            </div>
        </form>
    }
}

/// What the transaction did: the rows written and the twin rows written by live sync.
#[component]
fn TwinWrites(answer: TransactionResponse) -> impl IntoView {
    let twins = answer.twin_writes;
    view! {
        <div class="notice ok" data-testid="write-result">
            <p>{format!("Saved {} row{}.", answer.results.len(), if answer.results.len() == 1 { "" } else { "s" })}
                {if twins.is_empty() { " No map synced it (no running map on this table, or its filter left the row out)." } else { " Live sync wrote:" }}</p>
            <ul>
                {twins.into_iter().map(|t| {
                    let href = twin_href(&t);
                    view! {
                        <li data-testid="twin-write">
                            {format!("{} {} in {} {} by map {} — ", t.op_name(), key_text(&t.key), t.side, t.table, t.map)}
                            <a href=href data-testid="twin-link">"open the twin row"</a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

trait OpName {
    fn op_name(&self) -> &'static str;
}

impl OpName for TwinWrite {
    fn op_name(&self) -> &'static str {
        match self.op {
            OpKind::Insert => "inserted",
            OpKind::Update => "updated",
            OpKind::Upsert => "upserted",
            OpKind::Delete => "deleted",
        }
    }
}

fn key_text(key: &Row) -> String {
    key.iter().map(|(k, v)| format!("{k}={}", show(v))).collect::<Vec<_>>().join(", ")
}

/// A link to the twin row: its table, filtered on its key in that side's grammar (dotted lookup parts,
/// which filters cannot name, left out).
fn twin_href(t: &TwinWrite) -> String {
    let parts: Vec<String> = t
        .key
        .iter()
        .filter(|(k, _)| !k.contains('.'))
        .map(|(k, v)| {
            let text = show(v);
            match t.side {
                Side::Finops => format!("({k} == \"{}\")", text.replace('\\', "\\\\").replace('"', "\\\"")),
                Side::Dataverse => match v {
                    Value::Number(_) | Value::Bool(_) => format!("{k} eq {text}"),
                    _ => format!("{k} eq '{}'", text.replace('\'', "''")),
                },
            }
        })
        .collect();
    let filter = match t.side {
        Side::Finops => parts.join(" && "),
        Side::Dataverse => parts.join(" and "),
    };
    Route::Table { side: t.side, table: t.table.clone() }.with_query(&[("filter", filter)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_twin_link_filters_on_the_key_in_the_twin_sides_grammar() {
        let key = |v: Value| v.as_object().cloned().unwrap_or_default();
        let t = TwinWrite {
            map: "Customers V3 (accounts)".into(),
            side: Side::Dataverse,
            op: OpKind::Update,
            table: "account".into(),
            key: key(json!({"accountnumber": "O'Neil", "msdyn_company.cdm_companycode": "USMF"})),
            row: None,
        };
        assert_eq!(
            twin_href(&t),
            "/envs/dataverse/tables/account?filter=accountnumber%20eq%20%27O%27%27Neil%27"
        );
        let f = TwinWrite {
            side: Side::Finops,
            table: "CustCustomerV3Entity".into(),
            key: key(json!({"CUSTOMERACCOUNT": "C1", "dataAreaId": "usmf"})),
            ..t
        };
        assert!(twin_href(&f)
            .contains("filter=%28CUSTOMERACCOUNT%20%3D%3D%20%22C1%22%29%20%26%26%20%28dataAreaId"));
    }
}

/// Whether the environment takes writes; marking it unavailable simulates maintenance (writes that would
/// touch it fail, or queue for paused maps).
#[component]
fn AvailabilitySwitch(side: Side) -> impl IntoView {
    let state = LocalResource::new(move || api::availability(side));
    let error: RwSignal<Option<ApiError>> = RwSignal::new(None);
    let toggle = move |_| {
        let Some(Ok(now)) = state.get_untracked() else { return };
        spawn_local(async move {
            match api::set_availability(side, !now.available).await {
                Ok(_) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
            state.refetch();
        });
    };
    view! {
        {move || state.get().and_then(Result::ok).map(|a| if session::may(Permission::Design) {
            view! {
                <button type="button" class:warn=!a.available on:click=toggle
                    title="An unavailable environment refuses the writes that would touch it">
                    {if a.available { "Available · mark unavailable" } else { "Unavailable · mark available" }}
                </button>
            }.into_any()
        } else {
            view! { <span class="badge" class:status-paused=!a.available data-testid="availability">
                {if a.available { "available" } else { "unavailable" }}</span> }.into_any()
        })}
        {move || error.get().map(|e| view! { <ErrorNotice error=e /> })}
    }
}
