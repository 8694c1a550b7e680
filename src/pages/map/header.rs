//! The top of the editor: the map's name and status, and the fields that say what it maps.

use dualwrite_core::api::MapDoc;
use dualwrite_core::lifecycle::MapStatus;
use leptos::prelude::*;

use crate::components::live;
use crate::components::status::StatusBadge;

/// The map's name, its status (or that it is not saved yet) and whether it carries unsaved edits.
#[component]
pub fn MapHeader(
    #[prop(into)] name: Signal<String>,
    is_new: bool,
    #[prop(into)] status: Signal<MapStatus>,
    #[prop(into)] dirty: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="page-head">
            <h1 data-testid="map-name">{name}</h1>
            {if is_new {
                view! { <span class="badge status-not_running">"Not saved yet"</span> }.into_any()
            } else {
                view! { <StatusBadge status=status /> }.into_any()
            }}
            <Show when=move || dirty.get()>
                <span class="badge draft" data-testid="draft-badge" title="Edits not saved yet; they travel in the link">"Unsaved draft"</span>
            </Show>
        </div>
    }
}

/// One of the map's own fields, as the header edits it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Meta {
    Name,
    Version,
    Publisher,
    Finops,
    Dataverse,
}

impl Meta {
    const ALL: [Meta; 5] = [Meta::Name, Meta::Version, Meta::Publisher, Meta::Finops, Meta::Dataverse];

    fn label(self) -> &'static str {
        match self {
            Meta::Name => "Name",
            Meta::Version => "Version",
            Meta::Publisher => "Publisher",
            Meta::Finops => "Finance and operations entity",
            Meta::Dataverse => "Dataverse table",
        }
    }

    fn testid(self) -> &'static str {
        match self {
            Meta::Name => "map-name-input",
            Meta::Version => "map-version",
            Meta::Publisher => "map-publisher",
            Meta::Finops => "map-finops",
            Meta::Dataverse => "map-dataverse",
        }
    }

    /// The `<datalist>` that offers values, for the table fields.
    fn list(self) -> &'static str {
        match self {
            Meta::Finops => "finops-tables",
            Meta::Dataverse => "dataverse-tables",
            _ => "",
        }
    }

    fn get(self, doc: &MapDoc) -> &str {
        match self {
            Meta::Name => &doc.name,
            Meta::Version => &doc.version,
            Meta::Publisher => &doc.publisher,
            Meta::Finops => &doc.finops,
            Meta::Dataverse => &doc.dataverse,
        }
    }

    pub fn set(self, doc: &mut MapDoc, value: String) {
        *match self {
            Meta::Name => &mut doc.name,
            Meta::Version => &mut doc.version,
            Meta::Publisher => &mut doc.publisher,
            Meta::Finops => &mut doc.finops,
            Meta::Dataverse => &mut doc.dataverse,
        } = value;
    }
}

/// Name, version, publisher and the two tables, with the tables the schema knows offered.
#[component]
pub fn MetaFields(
    #[prop(into)] doc: Signal<Option<MapDoc>>,
    #[prop(into)] editable: Signal<bool>,
    #[prop(into)] finops_tables: Signal<Vec<String>>,
    #[prop(into)] dataverse_tables: Signal<Vec<String>>,
    #[prop(into)] on_input: Callback<(Meta, String)>,
) -> impl IntoView {
    let options = move |tables: Signal<Vec<String>>| {
        live(move || tables.get().into_iter().map(|t| view! { <option value=t></option> }).collect_view())
    };
    view! {
        <datalist id="finops-tables">{options(finops_tables)}</datalist>
        <datalist id="dataverse-tables">{options(dataverse_tables)}</datalist>
        <div class="meta">
            {Meta::ALL.into_iter().map(|m| view! {
                <label class="meta-field">
                    <span>{m.label()}</span>
                    <input type="text" data-testid=m.testid() list=m.list()
                        prop:value=move || doc.with(|d| d.as_ref().map(|d| m.get(d).to_owned()).unwrap_or_default())
                        disabled=move || !editable.get()
                        on:input=move |ev| on_input.run((m, event_target_value(&ev))) />
                </label>
            }).collect_view()}
        </div>
    }
}
