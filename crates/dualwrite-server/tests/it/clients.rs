//! Clients nobody here wrote, pointed at a real `dualwrite serve` with the demo data: the scripts in
//! `tests/clients/` tell each client's story (`dynamics-web-api` on the Web API face, `@odata/client`
//! on the finance-and-operations face and across both, `odata-csdl` on both `$metadata` documents)
//! and fail on the first step that does not hold. They
//! need Node.js and the packages `tests/clients/package.json` names; `cargo xtask test` installs
//! them and runs these with `--ignored`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::crash::Server;
use crate::support::{TestDb, ADMIN_TOKEN};

fn clients_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients")
}

/// Runs `node script` against a fresh demo server; fails with the script's output.
fn run_script(script: &str) {
    let db = TestDb::sqlite();
    let server = Server::start_with(&db.url, &["--demo"], "warn", Stdio::inherit());
    let output = Command::new("node")
        .arg(script)
        .current_dir(clients_dir())
        .env("DUALWRITE_URL", &server.base)
        .env("DUALWRITE_TOKEN", ADMIN_TOKEN)
        .output()
        .expect("node runs (install Node.js)");
    server.kill();
    let shown =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{script} failed:\n{shown}");
}

#[test]
#[ignore = "needs Node.js and the packages of tests/clients (cargo xtask test installs them)"]
fn dynamics_web_api_tells_its_story_against_the_dataverse_face() {
    run_script("dataverse.mjs");
}

#[test]
#[ignore = "needs Node.js and the packages of tests/clients (cargo xtask test installs them)"]
fn a_generic_odata_client_tells_its_story_against_the_finance_and_operations_face() {
    run_script("finops.mjs");
}

#[test]
#[ignore = "needs Node.js and the packages of tests/clients (cargo xtask test installs them)"]
fn both_metadata_documents_are_valid_csdl_to_the_oasis_converter() {
    run_script("metadata.mjs");
}
