//! The solution reader (`customizations.xml`, a solution zip, a zip of solution zips): every input
//! reads or reports where it is wrong, within the limits; what reads imports (or reports the maps'
//! problems) with and without the Contoso schema, and writes to a solution zip that reads back to the
//! same table map records.
#![no_main]

use dualwrite_artifacts::solution::{read, to_package, write, Limits, SolutionInfo, SolutionMap};
use libfuzzer_sys::fuzz_target;

/// Small limits: a fuzzed zip bomb is refused quickly.
const LIMITS: Limits = Limits { max_entries: 64, max_entry_bytes: 1 << 20, max_total_bytes: 4 << 20, max_xml_depth: 64 };

fuzz_target!(init: dualwrite_fuzz::overflow::report_stack_overflows(), |data: &[u8]| {
    let Ok(maps) = read("input", data, &LIMITS) else { return };
    for schema in [Some(&*dualwrite_fuzz::CONTOSO), None] {
        let _ = to_package(&maps, schema);
    }
    let zip = write(&SolutionInfo::default(), &maps).unwrap_or_else(|e| panic!("writing {maps:?}: {e}"));
    let reread = read("written", &zip, &Limits::default())
        .unwrap_or_else(|e| panic!("{maps:?} written as a solution does not read: {e}"));
    assert_eq!(records(reread), records(maps), "a solution reads back differently");
});

/// What a record says, without where it was read or its solution's publisher.
fn records(maps: Vec<SolutionMap>) -> Vec<SolutionMap> {
    maps.into_iter().map(|m| SolutionMap { place: String::new(), publisher: String::new(), ..m }).collect()
}
