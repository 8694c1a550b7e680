//! What a transaction wrote, and the twin rows live sync wrote on the other side.

use dualwrite_core::api::{OpKind, TransactionResponse, TwinWrite};
use dualwrite_core::schema::{Row, Side};
use leptos::prelude::*;
use serde_json::Value;

use super::show;
use crate::route::Route;

/// What the transaction did: the rows written and the twin rows written by live sync.
#[component]
pub fn TwinWrites(answer: TransactionResponse) -> impl IntoView {
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
