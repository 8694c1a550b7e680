//! The command line: `dualwrite check` and `dualwrite import-ms`, run as a user runs them, on packages,
//! `msdyn_mapping` JSON and solutions.

use std::path::PathBuf;
use std::process::{Command, Output};

use dualwrite_core::package::Package;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/contoso").join(name)
}

fn dualwrite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dualwrite")).args(args).output().expect("dualwrite runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn the_contoso_package_checks_clean_against_its_schema() {
    let (package, schema) = (fixture("package.json"), fixture("schema.json"));
    let output = dualwrite(&["check", path(&package), "--schema", path(&schema)]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains(": 0 errors, "), "{text}");
    assert!(text.contains("warning DW2005 at maps[3].fields[16].dataverse"), "{text}");
}

#[test]
fn a_package_with_an_error_fails_the_check_naming_the_map_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(fixture("package.json")).expect("fixture");
    let broken = text.replacen("\"CURRENCYCODE\",", "\"CURRENCYKODE\",", 1);
    let file = dir.path().join("broken.json");
    std::fs::write(&file, broken).expect("write");
    let schema = fixture("schema.json");
    let output = dualwrite(&["check", path(&file), "--schema", path(&schema), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json report");
    let diagnostics = report["files"][0]["diagnostics"].as_array().expect("diagnostics");
    let error = diagnostics.iter().find(|d| d["severity"] == "error").expect("an error");
    assert_eq!(error["code"], "DIPV1022");
    assert_eq!(error["path"], "maps[1].fields[0].finops");
    assert!(report["errors"].as_u64() >= Some(1));
}

#[test]
fn an_unreadable_input_exits_2_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_json = dir.path().join("notes.json");
    std::fs::write(&not_json, "{ maps: ").expect("write");
    let missing = dir.path().join("missing.json");
    let output = dualwrite(&["check", path(&not_json), path(&missing)]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(text.contains("not valid JSON"), "{text}");
    assert!(text.contains("missing.json: unreadable: cannot read the file"), "{text}");
}

#[test]
fn without_a_schema_only_schema_free_checks_run_and_a_note_says_so() {
    let output = dualwrite(&["check", path(&fixture("package.json"))]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("note: no --schema given"), "{text}");
    assert!(text.contains("package.json: 0 errors, 0 warnings"), "{text}");
}

#[test]
fn import_ms_turns_msdyn_mapping_legs_into_a_native_package() {
    let package = Package::from_json(&std::fs::read_to_string(fixture("package.json")).expect("fixture"))
        .expect("fixture package");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("msdyn_mapping.json");
    std::fs::write(&file, package.to_ms_mapping().to_string()).expect("write");
    let schema = fixture("schema.json");
    let output = dualwrite(&["import-ms", path(&file), "--schema", path(&schema)]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let imported = Package::from_json(&stdout(&output)).expect("a native package on stdout");
    assert_eq!(imported.maps, package.maps);
    assert_eq!(imported.integration_keys, package.integration_keys, "keys generated from the schema");
}

/// A real export names the finops entity by its label and the Dataverse table by its entity set.
#[test]
fn import_ms_stores_tables_under_the_schemas_names_when_the_export_uses_dual_writes() {
    let package = Package::from_json(&std::fs::read_to_string(fixture("package.json")).expect("fixture"))
        .expect("fixture package");
    let exported = package.to_ms_mapping().to_string();
    let as_dual_write_names_them = exported
        .replace("\"CustCustomerV3Entity\"", "\"Customers V3\"")
        .replace("\"account\"", "\"accounts\"")
        .replace("\"transactioncurrency\"", "\"transactioncurrencies\"");
    assert_ne!(as_dual_write_names_them, exported);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("msdyn_mapping.json");
    std::fs::write(&file, as_dual_write_names_them).expect("write");
    let schema = fixture("schema.json");
    let output = dualwrite(&["import-ms", path(&file), "--schema", path(&schema)]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let imported = Package::from_json(&stdout(&output)).expect("a native package on stdout");
    assert_eq!(imported.maps, package.maps, "the same maps, under the schema's table names");
    assert_eq!(imported.integration_keys, package.integration_keys);
}

#[test]
fn import_ms_refuses_a_file_that_is_not_a_mapping() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("other.json");
    std::fs::write(&file, r#"{"name": "no legs here"}"#).expect("write");
    let output = dualwrite(&["import-ms", path(&file)]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("is not a msdyn_mapping document"), "{error}");
}

fn solution_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/solutions").join(name)
}

#[test]
fn import_ms_reads_a_solution_zip_a_zip_of_solutions_and_a_customizations_xml() {
    let schema = fixture("schema.json");
    for file in ["ContosoDualWriteMaps_1_0_0_1.zip", "ContosoPackage.zip", "customizations.xml"] {
        let output = dualwrite(&["import-ms", path(&solution_fixture(file)), "--schema", path(&schema)]);
        assert!(output.status.success(), "{file}: {}", String::from_utf8_lossy(&output.stderr));
        let package = Package::from_json(&stdout(&output)).expect("a native package on stdout");
        let found: Vec<(&str, &str)> =
            package.maps.iter().map(|m| (m.name.as_str(), m.version.as_str())).collect();
        assert_eq!(
            found,
            [
                ("Legal entities (cdm_companies)", "1.0.0.1"),
                ("Currencies (transactioncurrencies)", "1.0.0.1"),
                ("Customer groups (msdyn_customergroups)", "1.0.0.1"),
                ("Customers V3 (accounts)", "1.0.0.5"),
            ],
            "{file}"
        );
        assert_eq!(package.maps[2].description, "Customer groups per company.", "{file}");
        assert_eq!(package.integration_keys.len(), 4, "{file}: keys generated from the schema");
    }
}

#[test]
fn import_ms_and_check_name_the_place_in_a_broken_solution() {
    let dir = tempfile::tempdir().expect("temp dir");
    let zip = std::fs::read(solution_fixture("ContosoDualWriteMaps_1_0_0_1.zip")).expect("fixture");
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &zip[..zip.len() - 40]).expect("write");
    let output = dualwrite(&["import-ms", path(&cut)]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("cut.zip: is not a readable zip") && error.contains("truncated"), "{error}");
    let bomb = solution_fixture("hostile/bomb.zip");
    let output = dualwrite(&["import-ms", path(&bomb)]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("bomb.zip › customizations.xml: inflates to more than 64 MiB"), "{error}");
    let laughs = dir.path().join("customizations.xml");
    std::fs::write(&laughs, "<?xml version=\"1.0\"?>\n<!DOCTYPE l [<!ENTITY l \"l\">]>\n<ImportExportXml/>")
        .expect("write");
    let output = dualwrite(&["check", path(&laughs)]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(text.contains("customizations.xml line 2, column 1: has a DOCTYPE"), "{text}");
}

#[test]
fn check_validates_the_maps_of_a_solution() {
    let (solution, schema) = (solution_fixture("ContosoPackage.zip"), fixture("schema.json"));
    let output = dualwrite(&["check", path(&solution), "--schema", path(&schema), "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let report: Value = serde_json::from_slice(&output.stdout).expect("json report");
    assert_eq!(report["errors"], 0);
    assert!(report["files"][0]["diagnostics"].as_array().is_some_and(|d| !d.is_empty()), "{report}");
}

/// A password in the database URL: the log of a server that started, the error of one that could not
/// reach its database, and the help text (which shows the environment's values) never show it.
#[test]
fn a_database_password_never_reaches_the_log_an_error_or_the_help() {
    const SECRET: &str = "s3cret-Passw0rd";
    let serve = |db: &str| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_dualwrite"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--studio-dir", "/nonexistent", "--db", db])
            .env("RUST_LOG", "info")
            .env("DUALWRITE_ADMIN_TOKEN", crate::support::ADMIN_TOKEN);
        command
    };

    let unreachable = format!("postgres://dw:{SECRET}@127.0.0.1:1/dw");
    let output = serve(&unreachable).output().expect("dualwrite runs");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a server without its database must not start");
    assert!(error.contains("postgres://dw:***@127.0.0.1:1/dw"), "the error names the database: {error}");
    assert!(!error.contains(SECRET), "{error}");

    let help = Command::new(env!("CARGO_BIN_EXE_dualwrite"))
        .args(["serve", "--help"])
        .env("DUALWRITE_DB", &unreachable)
        .output()
        .expect("dualwrite runs");
    assert!(help.status.success());
    assert!(!String::from_utf8_lossy(&help.stdout).contains(SECRET), "{}", stdout(&help));

    // A server that did start logs where its store is, still without the password (trust
    // authentication takes any password, so the URL with one is a working URL).
    let Some(db) = crate::support::TestDb::postgres() else { return };
    let with_password = db.url.replacen("postgres://postgres@", &format!("postgres://postgres:{SECRET}@"), 1);
    assert_ne!(with_password, db.url, "the test database URL has the expected shape: {}", db.url);
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut child = serve(&with_password)
        .stdout(std::process::Stdio::piped())
        .stderr(log.reopen().expect("log file"))
        .spawn()
        .expect("start dualwrite");
    let listening = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().expect("stdout")))
        .map_while(Result::ok)
        .any(|line| line.contains("http://"));
    let _ = child.kill();
    let _ = child.wait();
    let logged = std::fs::read_to_string(log.path()).expect("read the log");
    assert!(listening, "the server started: {logged}");
    assert!(logged.contains("store ready"), "{logged}");
    assert!(!logged.contains(SECRET), "{logged}");
}

fn real_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/real").join(name)
}

#[test]
fn schema_from_csdl_writes_a_schema_that_checks_the_contoso_maps_named_as_dual_write_names_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (dataverse, finops) = (fixture("dataverse-metadata.xml"), fixture("finops-metadata.xml"));
    let output = dualwrite(&[
        "schema",
        "from-csdl",
        "--dataverse",
        path(&dataverse),
        "--finops",
        path(&finops),
        "--tables",
        "accounts,Customers V3",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let schema = dualwrite_core::schema::Schema::from_json(&stdout(&output)).expect("a schema document");
    assert!(schema.resolve(dualwrite_core::schema::Side::Finops, "CustomersV3").is_ok());
    assert!(schema
        .table(dualwrite_core::schema::Side::Dataverse, "account")
        .is_some_and(|t| t.company_specific));
    assert!(schema.table(dualwrite_core::schema::Side::Finops, "LegalEntity").is_none(), "not asked for");
    let notes = String::from_utf8_lossy(&output.stderr);
    assert!(notes.contains("note: dataverse: 14 entity types read, 12 tables kept"), "{notes}");
    assert!(notes.contains("companies are not in $metadata"), "{notes}");

    // --out writes the file; the whole document reads; a map named by label and entity set checks.
    let out = dir.path().join("schema.json");
    let output = dualwrite(&[
        "schema",
        "from-csdl",
        "--dataverse",
        path(&dataverse),
        "--finops",
        path(&finops),
        "--out",
        path(&out),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty());
    let package = std::fs::read_to_string(fixture("package.json")).expect("fixture");
    let mut package: Value = serde_json::from_str(&package).expect("json");
    let map = &mut package["maps"][2];
    map["finops"] = "Customer groups".into();
    map["dataverse"] = "msdyn_customergroups".into();
    package["maps"] = Value::Array(vec![map.clone()]);
    package["integration_keys"] = serde_json::json!({});
    let file = dir.path().join("groups.json");
    std::fs::write(&file, package.to_string()).expect("write");
    let output = dualwrite(&["check", path(&file), "--schema", path(&out), "--format", "json"]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("json report");
    let codes: Vec<&str> = report["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(!codes.contains(&"DIPV1018") && !codes.contains(&"DIPV1020"), "the tables resolve: {codes:?}");
}

#[test]
fn schema_from_csdl_says_what_is_wrong_with_its_inputs() {
    let (dataverse, finops) = (fixture("dataverse-metadata.xml"), fixture("finops-metadata.xml"));
    let output = dualwrite(&["schema", "from-csdl", "--dataverse", path(&dataverse), "--tables", "acounts"]);
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("`acounts` is not in the schema; did you mean account?"), "{error}");

    let output = dualwrite(&["schema", "from-csdl", "--dataverse", path(&finops)]);
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("this is a finops $metadata"), "{error}");

    let output = dualwrite(&["schema", "from-csdl"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("give a $metadata document"));
}

#[test]
fn schema_from_csdl_reads_a_real_dataverse_metadata_and_says_what_it_lacks() {
    let real = real_fixture("dataverse-csdl.xml");
    let output = dualwrite(&["schema", "from-csdl", "--dataverse", path(&real), "--tables", "account"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let schema = dualwrite_core::schema::Schema::from_json(&stdout(&output)).expect("a schema document");
    let account = schema.table(dualwrite_core::schema::Side::Dataverse, "account").expect("account");
    assert_eq!(account.columns.len(), 157);
    let notes = String::from_utf8_lossy(&output.stderr);
    assert!(notes.contains("354 entity types read"), "{notes}");
    assert!(notes.contains("no dual-write solution tables (cdm_company, msdyn_*)"), "{notes}");
    assert!(notes.contains("no alternate keys declared on"), "{notes}");
}
