//! Loading data exports (`POST /envs/{side}/tables/{table}/load`, `POST /envs/{side}/load`,
//! `dualwrite load`): real-shaped exports of the Contoso tables load, a re-load changes nothing, bad
//! rows are named by line, a file loads entirely or not at all unless bad rows are skipped, hostile
//! files are refused with their place, and nothing loads under a map that is not `not_running`.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::support::{fixture_bytes, TestApp, TestDb};

fn export(name: &str) -> Vec<u8> {
    fixture_bytes(&format!("exports/{name}"))
}

fn export_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/exports").join(name)
}

/// The finops side's currencies and the data package (customer groups and customers).
async fn load_finops(app: &TestApp) -> (Value, Value) {
    let (status, currencies) = app
        .post_document(
            "/api/v1/envs/finops/tables/Currency/load",
            "application/x-ndjson",
            export("Currencies.jsonl"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{currencies}");
    let (status, package) = app
        .post_document("/api/v1/envs/finops/load", "application/zip", export("Contoso customers.zip"))
        .await;
    assert_eq!(status, StatusCode::OK, "{package}");
    (currencies, package)
}

#[tokio::test]
async fn real_shaped_exports_load_and_loading_them_again_changes_nothing() {
    for db in TestDb::all() {
        exports_load_and_reload(TestApp::on(db).await.with_contoso().await).await;
    }
}

async fn exports_load_and_reload(app: TestApp) {
    let (currencies, package) = load_finops(&app).await;
    assert_eq!(currencies["files"][0]["table"], "Currencies", "the alias resolves: {currencies}");
    assert_eq!(currencies["files"][0]["inserted"], 3);
    assert!(currencies["files"][0]["warnings"][0].as_str().unwrap_or_default().contains("ROUNDINGPRECISION"));
    let files = package["files"].as_array().expect("files");
    assert_eq!(files.len(), 3, "{package}");
    assert_eq!(files[0]["file"], "body › Currencies.xlsx");
    assert_eq!(files[0]["inserted"], 1, "JPY; USD and EUR were loaded already: {package}");
    assert_eq!(files[0]["updated"], 2);
    let files = &files[1..];
    assert_eq!(files[0]["file"], "body › Customer groups.csv");
    assert_eq!(files[0]["table"], "CustCustomerGroupEntity");
    assert_eq!(files[0]["inserted"], 4);
    assert_eq!(files[1]["table"], "CustCustomerV3Entity");
    assert_eq!(files[1]["inserted"], 4);
    assert_eq!(files[1]["written"], true);

    let customer = app.row("finops", "CustCustomerV3Entity", r#"(CUSTOMERACCOUNT == "US-103")"#).await;
    assert_eq!(customer["dataAreaId"], "USMF", "the company as the schema spells it");
    assert_eq!(customer["CREDITLIMITISMANDATORY"], "no", "enum symbols take the schema's spelling");
    assert_eq!(customer["SALESMEMO"], "Walk-in,\nasks for invoices by mail");
    assert_eq!(customer["CREDITLIMIT"], 0);
    let rich = app.row("finops", "CustCustomerV3Entity", r#"(CUSTOMERACCOUNT == "DE-101")"#).await;
    assert_eq!(rich["CREDITLIMIT"], 7500.5);
    assert_eq!(rich["PAYMENTTERMSBASEDAYS"], 14);

    // The same export again: every row found by its key and updated, none added.
    let (_, again) = load_finops(&app).await;
    assert_eq!(again["files"][2]["inserted"], 0, "{again}");
    assert_eq!(again["files"][2]["updated"], 4);
    assert_eq!(app.rows("finops", "CustCustomerV3Entity", "").await.len(), 4);
    let events = app.events().await;
    assert!(events.iter().any(|e| e["kind"] == "loaded" && e["table"] == "CustCustomerV3Entity"));
}

#[tokio::test]
async fn a_dataverse_export_resolves_its_lookups_by_their_dotted_keys() {
    let app = TestApp::new().await.with_contoso().await;
    app.write(
        "dataverse",
        json!([
            {"op": "insert", "table": "cdm_company", "row": {"cdm_companycode": "USMF"}},
            {"op": "insert", "table": "cdm_company", "row": {"cdm_companycode": "DEMF"}},
            {"op": "insert", "table": "transactioncurrency", "row": {"isocurrencycode": "USD", "currencyname": "US Dollar"}},
            {"op": "insert", "table": "transactioncurrency", "row": {"isocurrencycode": "EUR", "currencyname": "Euro"}},
        ]),
    )
    .await;
    let (status, report) = app
        .post_document("/api/v1/envs/dataverse/tables/accounts/load", "text/csv", export("accounts.csv"))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["files"][0]["table"], "account");
    assert_eq!(report["files"][0]["loaded"], 3);
    let usd = app.row("dataverse", "transactioncurrency", "isocurrencycode eq 'USD'").await;
    let account = app.row("dataverse", "account", "accountnumber eq 'CRM-103'").await;
    assert_eq!(account["transactioncurrencyid"], usd["transactioncurrencyid"]);
    assert_eq!(account["msdyn_onetimecustomer"], true);
    assert_eq!(account["msdyn_onholdstatus"], 806380001);
}

#[tokio::test]
async fn a_row_given_twice_in_one_file_is_written_then_updated_as_row_by_row() {
    let app = TestApp::new().await.with_contoso().await;
    let csv = "CURRENCYCODE,NAME,SYMBOL\nUSD,US Dollar,$\nEUR,Euro,€\nUSD,US Dollar (again),$\nGBP,Pound,£\n";
    let (status, body) = app
        .post_document("/api/v1/envs/finops/tables/Currencies/load", "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = &body["files"][0];
    assert_eq!((file["inserted"].as_u64(), file["updated"].as_u64()), (Some(3), Some(1)), "{file}");
    let rows = app.rows("finops", "Currencies", "").await;
    assert_eq!(rows.len(), 3, "the key given twice is one row: {rows:?}");
    let usd = app.row("finops", "Currencies", "CURRENCYCODE == \"USD\"").await;
    assert_eq!(usd["NAME"], "US Dollar (again)", "the later line wins, as it would row by row");
}

#[tokio::test]
async fn a_file_with_a_bad_row_loads_nothing_unless_bad_rows_are_skipped() {
    let app = TestApp::new().await.with_contoso().await;
    let csv =
        "CURRENCYCODE,NAME,SYMBOL\nUSD,US Dollar,$\nTOOLONG,Far too long a code,\n,No code,\nEUR,Euro,€\n";
    let (status, body) = app
        .post_document("/api/v1/envs/finops/tables/Currencies/load", "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "ROWS_REFUSED");
    let file = &body["error"]["report"]["files"][0];
    assert_eq!(file["written"], false);
    assert_eq!(file["loaded"], 0);
    assert_eq!(file["refused"], 2);
    assert_eq!(file["bad_rows"][0]["line"], 3);
    assert!(file["bad_rows"][0]["reason"].as_str().unwrap_or_default().contains("CURRENCYCODE"), "{file}");
    assert_eq!(file["bad_rows"][1]["line"], 4);
    assert!(file["bad_rows"][1]["reason"].as_str().unwrap_or_default().contains("key"), "{file}");
    assert!(app.rows("finops", "Currencies", "").await.is_empty(), "nothing of the file was written");

    let (status, body) = app
        .post_document(
            "/api/v1/envs/finops/tables/Currencies/load?skip_bad_rows=true",
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["files"][0]["loaded"], 2);
    assert_eq!(body["files"][0]["refused"], 2);
    assert_eq!(body["files"][0]["bad_rows"][0]["line"], 3);
    assert_eq!(app.rows("finops", "Currencies", "").await.len(), 2);
}

#[tokio::test]
async fn a_load_is_refused_while_a_map_on_the_table_runs() {
    let app = TestApp::new().await.with_contoso().await;
    app.run_all().await;
    let (status, body) = app
        .post_document("/api/v1/envs/finops/load", "application/zip", export("Contoso customers.zip"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "MAPS_RUNNING");
    let maps: Vec<&str> =
        body["error"]["maps"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    assert!(!maps.is_empty(), "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains(maps[0]));
    assert!(app.rows("finops", "CustCustomerGroupEntity", "").await.is_empty());
}

#[tokio::test]
async fn a_table_under_a_running_map_is_refused_before_its_file_is_sent() {
    use axum::body::{Body, Bytes};
    use axum::http::{header, Request};

    let app = TestApp::new().await.with_contoso().await;
    app.run_all().await;
    // A file that has started to arrive and not ended: the answer does not wait for the rest.
    let (mut sending, body) = http_body_util::Channel::<Bytes, std::io::Error>::new(1);
    sending.send_data(Bytes::from_static(b"CURRENCYCODE,NAME\n")).await.expect("first bytes");
    let request = Request::post("/api/v1/envs/finops/tables/Currencies/load")
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::new(body))
        .expect("request");
    let (status, _, answer) = app.exchange(request).await;
    drop(sending);
    let body: Value = serde_json::from_slice(&answer).expect("JSON");
    assert_eq!((status, &body["error"]["code"]), (StatusCode::CONFLICT, &json!("MAPS_RUNNING")), "{body}");

    let (mut sending, body) = http_body_util::Channel::<Bytes, std::io::Error>::new(1);
    sending.send_data(Bytes::from_static(b"a,b\n")).await.expect("first bytes");
    let request = Request::post("/api/v1/envs/finops/tables/NoSuchTable/load")
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::new(body))
        .expect("request");
    let (status, _, _) = app.exchange(request).await;
    drop(sending);
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_and_broken_uploads_are_refused_with_their_place() {
    let app = TestApp::new().await.with_contoso().await;
    // A line that never ends: 20 MiB without a line break, generated here.
    let mut endless = b"CURRENCYCODE,NAME\nUSD,US Dollar\nEUR,\"".to_vec();
    endless.resize(endless.len() + (20 << 20), b'x');
    let (status, body) =
        app.post_document("/api/v1/envs/finops/tables/Currencies/load", "text/csv", endless).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "UNREADABLE_EXPORT");
    assert_eq!(body["error"]["line"], 3);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("body line 3: a record runs past 16 MiB"));
    assert!(app.rows("finops", "Currencies", "").await.is_empty());

    // A zip bomb: an entity file that inflates a thousandfold (24 MiB here; it is refused as soon as
    // its first 16 MiB came out of a few KiB).
    let manifest = r#"<?xml version="1.0" encoding="utf-8"?>
<DataManagementPackageManifest xmlns="http://schemas.microsoft.com/dynamics/2015/01/DataManagement">
  <PackageEntityList><DataManagementPackageEntityData><EntityName>Currencies</EntityName>
  <InputFilePath>Currencies.csv</InputFilePath></DataManagementPackageEntityData></PackageEntityList>
</DataManagementPackageManifest>"#;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    out.start_file("Manifest.xml", options).expect("entry");
    out.write_all(manifest.as_bytes()).expect("write");
    out.start_file("Currencies.csv", options).expect("entry");
    let mut rows = b"CURRENCYCODE,NAME\n".to_vec();
    rows.resize(rows.len() + (24 << 20), b'\n');
    out.write_all(&rows).expect("write");
    let bomb = out.finish().expect("zip").into_inner();
    let (status, body) = app.post_document("/api/v1/envs/finops/load", "application/zip", bomb).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("(a zip bomb?)"), "{body}");
    assert!(app.rows("finops", "Currencies", "").await.is_empty());

    // Truncated: the zip's table of contents is cut off.
    let mut truncated = export("Contoso customers.zip");
    truncated.truncate(truncated.len() / 2);
    let (status, body) = app.post_document("/api/v1/envs/finops/load", "application/zip", truncated).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().starts_with("body: is not a readable zip"));

    let (status, body) =
        app.post_document("/api/v1/envs/finops/tables/Nowhere/load", "text/csv", b"A\n1\n".to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

fn dualwrite(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_dualwrite")).args(args).output().expect("dualwrite runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn dualwrite_load_reports_each_file_and_fails_on_a_refused_row() {
    let db = TestDb::sqlite();
    {
        let store = db.open();
        let schema = dualwrite_core::schema::Schema::from_json(
            &String::from_utf8(fixture_bytes("contoso/schema.json")).expect("utf-8"),
        )
        .expect("schema");
        store.write(|tx| dualwrite_server::catalog::put_schema(tx, &schema)).expect("schema stored");
    }
    let currencies = export_path("Currencies.jsonl");
    let package = export_path("Contoso customers.zip");
    let (code, text) = dualwrite(&[
        "load",
        "--db",
        &db.url,
        "--side",
        "finops",
        currencies.to_str().expect("path"),
        package.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "Currencies.jsonl: loaded into Currencies: 3 row(s) loaded (3 inserted, 0 updated), 0 refused"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "Contoso customers.zip › Customers V3.csv: loaded into CustCustomerV3Entity: 4 row(s) loaded"
        ),
        "{text}"
    );
    assert!(text.contains("warning: "), "{text}");

    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("Currencies.csv");
    std::fs::write(&bad, "CURRENCYCODE,NAME\nCHF,Swiss franc\nTOOLONG,x\n").expect("write");
    let (code, text) = dualwrite(&["load", "--db", &db.url, "--side", "finops", bad.to_str().expect("path")]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("NOT loaded into Currencies: 0 row(s) loaded (0 inserted, 0 updated), 1 refused"),
        "{text}"
    );
    assert!(text.contains("line 3: "), "{text}");
    let (code, text) = dualwrite(&[
        "load",
        "--db",
        &db.url,
        "--side",
        "finops",
        "--skip-bad-rows",
        bad.to_str().expect("path"),
    ]);
    assert_eq!(code, 1, "a refused row still fails the run: {text}");
    assert!(
        text.contains("loaded into Currencies: 1 row(s) loaded (1 inserted, 0 updated), 1 refused"),
        "{text}"
    );

    let unnamed = dir.path().join("export.csv");
    std::fs::write(&unnamed, "CURRENCYCODE,NAME\nJPY,Yen\n").expect("write");
    let (code, text) =
        dualwrite(&["load", "--db", &db.url, "--side", "finops", unnamed.to_str().expect("path")]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("say which with --table"), "{text}");
    let (code, text) = dualwrite(&[
        "load",
        "--db",
        &db.url,
        "--side",
        "finops",
        "--table",
        "Currency",
        unnamed.to_str().expect("path"),
    ]);
    assert_eq!(code, 0, "{text}");
}
