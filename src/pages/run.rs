//! The Run flow shared by the maps list and the map editor: find the related maps, let the user
//! order and choose, then run them.

use dualwrite_core::api::{RunItem, RunRequest};
use dualwrite_core::lifecycle::Action;
use dualwrite_core::schema::Side;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::components::live;
use crate::components::run_dialog::{RunDialog, RunRow};
use crate::components::status::allows;

/// The state of an open Run dialog.
#[derive(Debug, Clone, Copy)]
pub struct RunFlow {
    pub open: RwSignal<bool>,
    rows: RwSignal<Vec<RunRow>>,
    loading: RwSignal<bool>,
    busy: RwSignal<bool>,
    notes: RwSignal<Vec<String>>,
    error: RwSignal<Option<ApiError>>,
}

impl RunFlow {
    pub fn new() -> RunFlow {
        RunFlow {
            open: RwSignal::new(false),
            rows: RwSignal::new(Vec::new()),
            loading: RwSignal::new(false),
            busy: RwSignal::new(false),
            notes: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
        }
    }

    /// Opens the dialog for these maps: each with the maps it depends on, upstream first.
    pub fn start(self, ids: Vec<String>) {
        self.open.set(true);
        self.loading.set(true);
        self.rows.set(Vec::new());
        self.notes.set(Vec::new());
        self.error.set(None);
        spawn_local(async move {
            let mut rows: Vec<RunRow> = Vec::new();
            let mut notes = Vec::new();
            for id in &ids {
                match api::related(id).await {
                    Ok(related) => {
                        for m in related.items {
                            if rows.iter().any(|r| r.id == m.id) {
                                continue;
                            }
                            // A run includes the maps core's lifecycle lets run from their status.
                            let idle = allows(m.status, Action::Run { initial_sync: true });
                            if !idle {
                                notes.push(format!(
                                    "{} is {} already; it is left as it is.",
                                    m.map.name, m.status
                                ));
                            }
                            rows.push(RunRow {
                                id: m.id,
                                name: m.map.name,
                                status: m.status,
                                include: idle,
                                initial_sync: true,
                                master: Side::Dataverse,
                            });
                        }
                        for cycle in related.cycles {
                            notes.push(format!(
                                "maps {} depend on each other: their rows are written first and their references second",
                                cycle.join(" → ")
                            ));
                        }
                    }
                    Err(e) => notes.push(format!("related maps of map {id}: {e}")),
                }
            }
            self.rows.set(rows);
            self.notes.set(notes);
            self.loading.set(false);
        });
    }

    /// Runs the ticked maps in the dialog's order; `done` hears how it went.
    pub fn confirm(self, done: Callback<Result<String, ApiError>>) {
        let maps: Vec<RunItem> = self
            .rows
            .get_untracked()
            .into_iter()
            .filter(|r| r.include)
            .map(|r| RunItem { id: r.id, initial_sync: r.initial_sync, master: r.master })
            .collect();
        let count = maps.len();
        self.busy.set(true);
        spawn_local(async move {
            let result = api::run(&RunRequest { maps }).await;
            self.busy.set(false);
            match &result {
                Ok(_) => self.open.set(false),
                Err(e) => self.error.set(Some(e.clone())),
            }
            done.run(result.map(|_| format!("started {count} map{}", if count == 1 { "" } else { "s" })));
        });
    }

    /// The dialog, while open.
    pub fn view(self, done: Callback<Result<String, ApiError>>) -> impl IntoView {
        live(move || {
            self.open.get().then(|| {
                view! {
                    <RunDialog rows=self.rows loading=self.loading busy=self.busy notes=self.notes error=self.error
                        on_run=move |()| self.confirm(done) on_cancel=move |()| self.open.set(false) />
                }
            })
        })
    }
}

impl Default for RunFlow {
    fn default() -> Self {
        RunFlow::new()
    }
}
