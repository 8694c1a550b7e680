//! The `dualwrite.package/v1` document: every input reads or reports its problems; a package that
//! reads writes back to a document that reads to the same package, and validates (with and without
//! the Contoso schema) without panicking.
#![no_main]

use dualwrite_core::package::Package;
use dualwrite_core::validation::{validate_package, validate_package_structure};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dualwrite_fuzz::overflow::report_stack_overflows(), |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(package) = Package::from_json(text) else { return };
    let written = package.to_value();
    let reread = Package::from_value(&written)
        .unwrap_or_else(|e| panic!("a package that read writes back to {written} which does not read: {e}"));
    assert_eq!(reread, package, "a package writes back to {written}, which reads differently");
    let _ = validate_package(&dualwrite_fuzz::CONTOSO, &package);
    let _ = validate_package_structure(&package);
});
