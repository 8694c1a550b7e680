//! The `$metadata` (OData CSDL) reader: every input reads or is refused with a message, never a
//! panic; what reads makes a schema whose document reads back to the same schema, or is refused with
//! its problems; asking for tables keeps a subset of what asking for none keeps.
#![no_main]

use dualwrite_artifacts::csdl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dualwrite_fuzz::overflow::report_stack_overflows(), |data: &[u8]| {
    let Ok(all) = csdl::read(data, None, &[]) else { return };
    if let Ok(schema) = csdl::schema(std::slice::from_ref(&all)) {
        let document = schema.to_value();
        let again = dualwrite_core::schema::Schema::from_value(&document)
            .unwrap_or_else(|e| panic!("the schema read does not read back: {e}\n{document}"));
        assert_eq!(again, schema, "the schema read reads back differently");
    }
    let wanted = ["account".to_owned(), "Customers V3".to_owned()];
    let some = csdl::read(data, Some(all.side), &wanted).unwrap_or_else(|e| panic!("read once, refused once: {e}"));
    assert!(
        some.tables.iter().all(|t| all.tables.iter().any(|a| a.name == t.name)),
        "asking for tables kept a table that asking for none did not"
    );
});
