use dualwrite_core::api::FieldDoc;
use dualwrite_core::table_map::{Direction, FieldMapping, Transform};
use dualwrite_core::validation::{Diagnostic, Severity};
use leptos::prelude::*;

use super::diagnostics::field_index;
use crate::components::live;

/// What a user did to the field list.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldEdit {
    Finops(usize, String),
    Dataverse(usize, String),
    Direction(usize, String),
    Remove(usize),
    /// Moves a mapping up (-1) or down (+1).
    Move(usize, isize),
    Add,
}

impl FieldEdit {
    /// Applies the edit to a field list; returns the index to select afterwards, if any.
    pub fn apply(self, fields: &mut Vec<FieldDoc>) -> Option<usize> {
        let side = |v: String| (!v.trim().is_empty()).then(|| v.trim().to_owned());
        match self {
            FieldEdit::Finops(i, v) => fields.get_mut(i).map(|f| f.finops = side(v)).map(|_| i),
            FieldEdit::Dataverse(i, v) => fields.get_mut(i).map(|f| f.dataverse = side(v)).map(|_| i),
            FieldEdit::Direction(i, v) => fields.get_mut(i).map(|f| f.direction = v).map(|_| i),
            FieldEdit::Remove(i) if i < fields.len() => {
                fields.remove(i);
                None
            }
            FieldEdit::Remove(_) => None,
            FieldEdit::Move(i, by) => {
                let j = i.checked_add_signed(by).filter(|j| *j < fields.len() && i < fields.len())?;
                fields.swap(i, j);
                Some(j)
            }
            FieldEdit::Add => {
                fields.push(FieldDoc {
                    finops: None,
                    dataverse: None,
                    direction: Direction::Both.as_str().into(),
                    transforms: Vec::new(),
                });
                Some(fields.len() - 1)
            }
        }
    }
}

/// The icon of a field mapping, as core draws it (`=`, `><`, `>`, `<`, `→`, `←`); `?` for a direction
/// that does not read.
pub fn icon(field: &FieldDoc) -> &'static str {
    let Ok(direction) = field.direction.parse::<Direction>() else { return "?" };
    let transforms = if field.transforms.is_empty() {
        Vec::new()
    } else {
        vec![Transform::Default { default_value: serde_json::Value::Null }]
    };
    FieldMapping { finops: None, dataverse: None, direction, transforms }.icon()
}

/// The icon in words, for screen readers and tooltips.
pub fn icon_meaning(icon: &str) -> &'static str {
    match icon {
        "=" => "both ways",
        "><" => "both ways, transformed",
        ">" => "finance and operations to Dataverse",
        "<" => "Dataverse to finance and operations",
        "→" => "finance and operations to Dataverse, transformed",
        "←" => "Dataverse to finance and operations, transformed",
        _ => "unknown direction",
    }
}

/// A short description of a field's transforms.
pub fn transforms_summary(field: &FieldDoc) -> String {
    field
        .transforms
        .iter()
        .map(|t| match t.get("transformType").and_then(|k| k.as_str()) {
            Some("ValueMap") => {
                let n = t.get("valueMap").and_then(|m| m.as_object()).map_or(0, |m| m.len());
                format!("value map ({n})")
            }
            Some("Default") => {
                format!("default {}", t.get("defaultValue").map(|v| v.to_string()).unwrap_or_default())
            }
            Some(other) => other.to_owned(),
            None => "?".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The field grid: one row per mapping, finops on the left, Dataverse on the right, the direction
/// icon between, with the row's problems marked.
#[component]
pub fn FieldGrid(
    #[prop(into)] fields: Signal<Vec<FieldDoc>>,
    #[prop(into)] diagnostics: Signal<Vec<Diagnostic>>,
    #[prop(into)] selected: Signal<Option<usize>>,
    #[prop(into)] editable: Signal<bool>,
    #[prop(into)] finops_choices: Signal<Vec<String>>,
    #[prop(into)] dataverse_choices: Signal<Vec<String>>,
    #[prop(into)] on_select: Callback<usize>,
    #[prop(into)] on_edit: Callback<FieldEdit>,
) -> impl IntoView {
    let count = Memo::new(move |_| fields.with(Vec::len));
    let row = move |i: usize| {
        let field = Memo::new(move |_| fields.with(|f| f.get(i).cloned()));
        let get = move |f: fn(&FieldDoc) -> Option<String>| {
            move || field.with(|x| x.as_ref().and_then(f)).unwrap_or_default()
        };
        let problems = Memo::new(move |_| {
            diagnostics.with(|d| {
                let mine: Vec<&Diagnostic> = d.iter().filter(|d| field_index(&d.path) == Some(i)).collect();
                let errors = mine.iter().filter(|d| d.severity == Severity::Error).count();
                (
                    errors,
                    mine.len() - errors,
                    mine.iter().map(|d| format!("{} {}", d.code, d.message)).collect::<Vec<_>>().join("\n"),
                )
            })
        });
        let icon_now = move || field.with(|f| f.as_ref().map_or("?", icon));
        // The finops and the Dataverse cell: a column picker fed by the schema.
        let side_input = move |list: &'static str,
                               label: &'static str,
                               testid: &'static str,
                               value: fn(&FieldDoc) -> Option<String>,
                               edit: fn(usize, String) -> FieldEdit| {
            view! {
                <td>
                    <input type="text" list=list aria-label=label data-testid=testid prop:value=get(value)
                        placeholder="none" disabled=move || !editable.get()
                        on:focus=move |_| on_select.run(i)
                        on:input=move |ev| on_edit.run(edit(i, event_target_value(&ev))) />
                </td>
            }
        };
        view! {
            <tr class:selected=move || selected.get() == Some(i) data-testid="field-row" data-index=i
                class:has-error=move || problems.with(|p| p.0 > 0)>
                <td class="num">
                    <button type="button" class="link" on:click=move |_| on_select.run(i)
                        aria-label=move || format!("select mapping {}", i + 1) data-testid="select-field">
                        {i + 1}
                    </button>
                </td>
                {side_input("finops-columns", "finance and operations field", "field-finops", |f| f.finops.clone(), FieldEdit::Finops)}
                <td class="direction">
                    <span class="icon" title=move || icon_meaning(icon_now()) data-testid="field-icon">{icon_now}</span>
                    <select aria-label="direction" data-testid="field-direction" disabled=move || !editable.get()
                        on:change=move |ev| on_edit.run(FieldEdit::Direction(i, event_target_value(&ev)))
                        prop:value=get(|f| Some(f.direction.clone()))>
                        <option value="both">"both"</option>
                        <option value="to_dataverse">"to Dataverse"</option>
                        <option value="to_finops">"to finops"</option>
                    </select>
                </td>
                {side_input("dataverse-columns", "Dataverse field", "field-dataverse", |f| f.dataverse.clone(), FieldEdit::Dataverse)}
                <td class="transforms">
                    <button type="button" class="link" on:click=move |_| on_select.run(i)>
                        {live(move || field.with(|f| f.as_ref().map(transforms_summary).unwrap_or_default()))}
                    </button>
                </td>
                <td class="marks" title=move || problems.with(|p| p.2.clone())>
                    {live(move || problems.with(|p| match (p.0, p.1) {
                        (0, 0) => String::new(),
                        (e, 0) => format!("✖ {e}"),
                        (0, w) => format!("⚠ {w}"),
                        (e, w) => format!("✖ {e} ⚠ {w}"),
                    }))}
                </td>
                <td class="actions">
                    <button type="button" title="move up" aria-label="move up" disabled=move || !editable.get() || i == 0
                        on:click=move |_| on_edit.run(FieldEdit::Move(i, -1))>"↑"</button>
                    <button type="button" title="move down" aria-label="move down"
                        disabled=move || { !editable.get() || i + 1 >= count.get() }
                        on:click=move |_| on_edit.run(FieldEdit::Move(i, 1))>"↓"</button>
                    <button type="button" title="remove mapping" aria-label="remove mapping" class="danger"
                        data-testid="remove-field" disabled=move || !editable.get()
                        on:click=move |_| on_edit.run(FieldEdit::Remove(i))>"✕"</button>
                </td>
            </tr>
        }
    };
    view! {
        <datalist id="finops-columns">
            {live(move || finops_choices.get().into_iter().map(|c| view! { <option value=c></option> }).collect_view())}
        </datalist>
        <datalist id="dataverse-columns">
            {live(move || dataverse_choices.get().into_iter().map(|c| view! { <option value=c></option> }).collect_view())}
        </datalist>
        <div class="grid-scroll">
            <table class="field-grid" data-testid="field-grid">
                <thead>
                    <tr>
                        <th>"#"</th>
                        <th>"Finance and operations"</th>
                        <th>"Direction"</th>
                        <th>"Dataverse"</th>
                        <th>"Transforms"</th>
                        <th><span class="sr-only">"Problems"</span></th>
                        <th><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{live(move || (0..count.get()).map(row).collect_view())}</tbody>
            </table>
        </div>
        <button type="button" data-testid="add-field" disabled=move || !editable.get()
            on:click=move |_| on_edit.run(FieldEdit::Add)>"+ Add mapping"</button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(f: &str) -> FieldDoc {
        FieldDoc {
            finops: Some(f.into()),
            dataverse: Some(f.to_lowercase()),
            direction: "both".into(),
            transforms: vec![],
        }
    }

    #[test]
    fn edits_move_remove_and_add_mappings() {
        let mut fields = vec![field("A"), field("B"), field("C")];
        assert_eq!(FieldEdit::Move(0, 1).apply(&mut fields), Some(1));
        assert_eq!(fields[0].finops.as_deref(), Some("B"));
        assert_eq!(FieldEdit::Move(0, -1).apply(&mut fields), None, "the first cannot move up");
        assert_eq!(FieldEdit::Remove(2).apply(&mut fields), None);
        assert_eq!(fields.len(), 2);
        assert_eq!(FieldEdit::Add.apply(&mut fields), Some(2));
        assert_eq!(FieldEdit::Finops(2, "  ".into()).apply(&mut fields), Some(2));
        assert_eq!(fields[2].finops, None, "a blank side is none");
    }

    #[test]
    fn icons_follow_direction_and_transforms() {
        let mut f = field("A");
        assert_eq!(icon(&f), "=");
        f.direction = "to_finops".into();
        f.transforms = vec![serde_json::json!({"transformType": "Default", "defaultValue": 1})];
        assert_eq!(icon(&f), "←");
        f.direction = "sideways".into();
        assert_eq!(icon(&f), "?");
    }
}
