//! The `msdyn_mapping` import, with and without the Contoso schema to tell legs apart: every input
//! imports or reports its problems, and imported maps export to legs that import to the same maps.
//! Fields are compared regardless of order: the legs group them by direction.
#![no_main]

use dualwrite_core::package::Package;
use dualwrite_core::table_map::TableMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dualwrite_fuzz::overflow::report_stack_overflows(), |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for schema in [Some(&*dualwrite_fuzz::CONTOSO), None] {
        let Ok(package) = Package::from_ms_mapping(text, schema) else { continue };
        let exported = package.to_ms_mapping().to_string();
        let reimported = Package::from_ms_mapping(&exported, schema)
            .unwrap_or_else(|e| panic!("imported maps export to {exported}, which does not import: {e}"));
        assert_eq!(
            fields_in_order(reimported.maps),
            fields_in_order(package.maps),
            "imported maps export to {exported}, which imports differently"
        );
    }
});

/// The maps with each map's fields in one order.
fn fields_in_order(mut maps: Vec<TableMap>) -> Vec<TableMap> {
    for map in &mut maps {
        map.fields.sort_by_cached_key(|f| format!("{f:?}"));
    }
    maps
}
