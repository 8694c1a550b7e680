//! The finops query-range grammar: parse, print → parse stability, check and evaluation.
#![no_main]

use dualwrite_core::schema::Side;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dualwrite_fuzz::overflow::report_stack_overflows(), |data: &[u8]| {
    dualwrite_fuzz::filter(Side::Finops, data);
});
