//! Views that take props and callbacks and never fetch: the pages own loading and actions.

pub mod diagnostics;
pub mod field_grid;
pub mod filters;
pub mod key_coverage;
pub mod notice;
pub mod progress;
pub mod resume_mode;
pub mod run_dialog;
pub mod share;
pub mod status;
pub mod transforms;

use std::sync::{Arc, Mutex};

use leptos::prelude::*;

/// A part of a view that follows the signals it reads, as a view's `{move || …}` does, but
/// type-erased: every such part shares one copy of the code that renders and re-renders it, instead
/// of one per closure and output type.
pub type Live = Arc<Mutex<dyn FnMut() -> AnyView + Send>>;

/// `view` as a [`Live`] part of a view.
pub fn live<V: IntoAny>(mut view: impl FnMut() -> V + Send + 'static) -> Live {
    Arc::new(Mutex::new(move || view().into_any()))
}
