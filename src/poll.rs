//! Repeating a refresh while a view is open (initial-sync progress, the queue while paused).

use std::time::Duration;

use leptos::prelude::*;

/// Calls `tick` every `every` until the calling component is dropped.
pub fn every(every: Duration, tick: impl Fn() + 'static) {
    if let Ok(handle) = set_interval_with_handle(tick, every) {
        on_cleanup(move || handle.clear());
    }
}
