//! The `dualwrite.schema/v1` document: every input reads or reports its problems, and a schema that
//! reads writes back to a document that reads to the same schema.
#![no_main]

use dualwrite_core::schema::Schema;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dualwrite_fuzz::overflow::report_stack_overflows(), |data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(schema) = Schema::from_json(text) else { return };
    let written = schema.to_value();
    let reread = Schema::from_value(&written)
        .unwrap_or_else(|e| panic!("a schema that read writes back to {written} which does not read: {e}"));
    assert_eq!(reread, schema, "a schema writes back to {written}, which reads differently");
});
