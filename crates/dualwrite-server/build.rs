//! Tells the tests whether a PostgreSQL server is there to test the store on: with
//! `DUALWRITE_TEST_POSTGRES_URL` set at build time, `cfg(postgres_tests)` holds and the tests that
//! need PostgreSQL run; without it they show as ignored, never as passed.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo:rerun-if-env-changed=DUALWRITE_TEST_POSTGRES_URL");
    if std::env::var_os("DUALWRITE_TEST_POSTGRES_URL").is_some_and(|url| !url.is_empty()) {
        println!("cargo:rustc-cfg=postgres_tests");
    }
}
