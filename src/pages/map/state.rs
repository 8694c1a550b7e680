//! The editor's state: the saved map, its draft, what it is validated against, and the actions on
//! them. One `Copy` value of signals, so the page's small views share it without cloning.

use dualwrite_core::access::Permission;
use dualwrite_core::api::{MapDoc, MapResource};
use dualwrite_core::lifecycle::{Action, MapStatus};
use dualwrite_core::schema::Side;
use dualwrite_core::validation::Diagnostic;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::catalog::Catalog;
use crate::components::notice::Outcome;
use crate::coverage::{coverage, Coverage};
use crate::draft;
use crate::fetched::Fetched;
use crate::route::{MapTab, Route};
use crate::session;

/// What a map not saved yet is called.
const NEW_MAP: &str = "New table map";

#[derive(Clone, Copy)]
pub struct EditorState {
    pub id: StoredValue<String>,
    pub is_new: bool,
    saved: Fetched<Option<MapResource>>,
    maps: Fetched<Vec<dualwrite_core::api::MapListItem>>,
    pub catalog: Memo<Catalog>,
    pub catalog_ready: Memo<bool>,
    /// The unsaved edits; `None` while the page shows the saved map.
    draft: RwSignal<Option<MapDoc>>,
    saved_map: Memo<Option<MapResource>>,
    /// The draft, or the saved map when there is none.
    pub current: Memo<Option<MapDoc>>,
    pub status: Memo<MapStatus>,
    /// Changing a map, and its lifecycle, is for the roles that design; everyone else reads it.
    pub designer: Memo<bool>,
    pub editable: Memo<bool>,
    pub dirty: Memo<bool>,
    pub diagnostics: Memo<Vec<Diagnostic>>,
    pub error_count: Memo<usize>,
    pub server_diagnostics: RwSignal<Option<Vec<Diagnostic>>>,
    pub outcome: RwSignal<Option<Outcome>>,
    /// The URL fragment that carries the draft (empty when there is nothing unsaved).
    pub fragment: Memo<String>,
}

impl EditorState {
    /// Loads map `id` (`new` for a map not saved yet), with the draft the link's fragment carries;
    /// the second value says why that fragment could not be read.
    pub fn new(id: String, hash: &str) -> (EditorState, Option<String>) {
        let is_new = id == "new";
        let id = StoredValue::new(id);
        let saved = Fetched::new(move || async move {
            if is_new {
                Ok(None)
            } else {
                api::map(&id.get_value()).await.map(Some)
            }
        });
        let schema = Fetched::new(api::schema);
        let keys = Fetched::new(api::integration_keys);
        let maps = Fetched::new(api::maps);
        let catalog = Memo::new(move |_| {
            let schema = schema.get().and_then(Result::ok);
            let keys = keys.get().and_then(Result::ok).unwrap_or_default();
            let maps: Vec<MapResource> =
                maps.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|m| m.resource).collect();
            Catalog::new(schema.as_ref(), &keys, &maps)
        });
        let catalog_ready =
            Memo::new(move |_| schema.get().is_some() && keys.get().is_some() && maps.get().is_some());

        let (initial, fragment_error) = match draft::decode(hash) {
            Some(Ok(doc)) => (Some(doc), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        let draft =
            RwSignal::new(if is_new { initial.or_else(|| Some(MapDoc::blank(NEW_MAP))) } else { initial });
        let saved_map = Memo::new(move |_| saved.get().and_then(Result::ok).flatten());
        let current = Memo::new(move |_| draft.get().or_else(|| saved_map.get().map(|m| m.map)));
        let status =
            Memo::new(move |_| saved_map.with(|m| m.as_ref().map_or(MapStatus::NotRunning, |m| m.status)));
        let designer = Memo::new(move |_| session::may(Permission::Design));
        let editable = Memo::new(move |_| designer.get() && status.get().is_editable());
        let dirty = Memo::new(move |_| match draft.get() {
            None => false,
            Some(d) => saved_map.with(|m| m.as_ref().is_none_or(|m| m.map != d)),
        });
        let diagnostics = Memo::new(move |_| {
            current
                .with(|doc| doc.as_ref().map(|doc| catalog.with(|c| c.diagnose(Some(&id.get_value()), doc))))
                .unwrap_or_default()
        });
        let error_count = Memo::new(move |_| diagnostics.with(|d| d.iter().filter(|d| d.is_error()).count()));
        let fragment = Memo::new(move |_| {
            if dirty.get() {
                draft.with(|d| d.as_ref().map(|d| format!("#{}", draft::encode(d)))).unwrap_or_default()
            } else {
                String::new()
            }
        });
        let state = EditorState {
            id,
            is_new,
            saved,
            maps,
            catalog,
            catalog_ready,
            draft,
            saved_map,
            current,
            status,
            designer,
            editable,
            dirty,
            diagnostics,
            error_count,
            server_diagnostics: RwSignal::new(None),
            outcome: RwSignal::new(None),
            fragment,
        };
        (state, fragment_error)
    }

    pub fn load_error(self) -> Option<ApiError> {
        self.saved.get().and_then(Result::err)
    }

    /// While the map moves on by itself (initial sync, catch-up), keep its status current.
    pub fn refresh_while_moving(self) {
        if matches!(self.status.get_untracked(), MapStatus::Initializing | MapStatus::Resuming) {
            self.saved.refetch();
        }
    }

    pub fn reload(self) {
        self.saved.refetch();
        self.maps.refetch();
    }

    /// Changes the document; the first edit turns the saved map into a draft. Gives back what `f` gave.
    pub fn edit<T>(self, f: impl FnOnce(&mut MapDoc) -> T) -> Option<T> {
        let mut doc = self.draft.get_untracked().or_else(|| self.saved_map.get_untracked().map(|m| m.map));
        let out = doc.as_mut().map(f);
        self.draft.set(doc);
        out
    }

    /// A text of the current document, for views.
    pub fn text(self, f: fn(&MapDoc) -> String) -> Signal<String> {
        Signal::derive(move || self.current.with(|d| d.as_ref().map(f).unwrap_or_default()))
    }

    pub fn fields(self) -> Signal<Vec<dualwrite_core::api::FieldDoc>> {
        Signal::derive(move || {
            self.current.with(|d| d.as_ref().map(|d| d.fields.clone()).unwrap_or_default())
        })
    }

    /// The fields the catalog knows on `side`'s table of the current document.
    pub fn choices(self, side: Side) -> Signal<Vec<String>> {
        Signal::derive(move || {
            let table = self.current.with(|d| {
                d.as_ref()
                    .map(|d| if side == Side::Finops { d.finops.clone() } else { d.dataverse.clone() })
                    .unwrap_or_default()
            });
            self.catalog.with(|c| c.field_choices(side, &table))
        })
    }

    pub fn key_coverage(self) -> Signal<Result<Coverage, String>> {
        Signal::derive(move || {
            self.current
                .with(|d| d.as_ref().map(|d| self.catalog.with(|c| coverage(c, d))))
                .unwrap_or_else(|| Err("loading".into()))
        })
    }

    /// Saves the draft; a new map then opens at its own address through `open`.
    pub fn save(self, open: impl Fn(String) + 'static) {
        let Some(doc) = self.draft.get_untracked() else { return };
        spawn_local(async move {
            let result = if self.is_new {
                api::create_map(&doc).await
            } else {
                api::update_map(&self.id.get_value(), &doc).await
            };
            match result {
                Ok(saved_map) => {
                    let n = saved_map.diagnostics.len();
                    self.outcome.set(Some(Outcome::Done(format!(
                        "Saved version {}. The server's validation found {}.",
                        saved_map.resource.map.version,
                        if n == 0 {
                            "no problems".to_owned()
                        } else {
                            format!("{n} problem{}", if n == 1 { "" } else { "s" })
                        }
                    ))));
                    self.server_diagnostics.set(Some(saved_map.diagnostics));
                    self.draft.set(None);
                    if self.is_new {
                        open(Route::Map { id: saved_map.resource.id, tab: MapTab::Mapping }.path());
                    } else {
                        self.reload();
                    }
                }
                Err(e) => {
                    if !e.diagnostics.is_empty() {
                        self.server_diagnostics.set(Some(e.diagnostics.clone()));
                    }
                    self.outcome.set(Some(Outcome::Failed(e)));
                }
            }
        });
    }

    pub fn discard(self) {
        self.draft.set(if self.is_new { Some(MapDoc::blank(NEW_MAP)) } else { None });
        self.outcome.set(Some(Outcome::Done("Draft discarded: this is the saved map.".into())));
    }

    /// Moves the map through its lifecycle: pause, resume (catching up), skip to live or stop.
    pub fn act(self, action: Action) {
        spawn_local(async move {
            let result = api::act(&self.id.get_value(), action).await;
            self.outcome.set(Some(Outcome::of_action(result, action)));
            self.reload();
        });
    }

    /// Deletes the map once the user confirms; then `leave` runs.
    pub fn delete(self, leave: impl Fn() + 'static) {
        let confirmed = web_sys::window()
            .and_then(|w| w.confirm_with_message("Delete this table map? This cannot be undone.").ok())
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            match api::delete_map(&self.id.get_value()).await {
                Ok(()) => leave(),
                Err(e) => self.outcome.set(Some(Outcome::Failed(e))),
            }
        });
    }
}

/// Keeps the address's fragment in step with the draft, without a new history entry.
pub fn keep_in_url(fragment: Memo<String>) {
    Effect::new(move |_| {
        let fragment = fragment.get();
        let Some(window) = web_sys::window() else { return };
        let location = window.location();
        if location.hash().unwrap_or_default() == fragment {
            return;
        }
        let url = format!(
            "{}{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default(),
            fragment
        );
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });
}

/// Marks the moment the editor can be used, for measurements of start-up time.
pub fn mark_when_ready(ready: Memo<bool>) {
    Effect::new(move |_| {
        if ready.get() {
            if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                let _ = p.mark("map-editor-ready");
            }
        }
    });
}
