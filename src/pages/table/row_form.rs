//! The form that inserts a row or edits one, as one transaction.

use dualwrite_core::api::{Op, OpKind};
use dualwrite_core::schema::{Column, ColumnType, Row, Side, Table};
use leptos::prelude::*;
use serde_json::Value;

use super::show;

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
pub fn RowForm(
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
