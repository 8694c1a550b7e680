//! The store contract: what every backend must do alike.

use crate::support::backends;

#[test]
fn a_new_store_is_fully_migrated_and_reopening_changes_nothing() {
    for (name, store, _dir) in backends() {
        let level = store.migration_level().expect("level");
        assert!(level >= 1, "{name}: migrations applied");
        assert_eq!(store.backend(), name);
    }
}
