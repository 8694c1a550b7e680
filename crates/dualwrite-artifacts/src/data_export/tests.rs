use std::io::{Cursor, Read, Write};
use std::path::PathBuf;

use dualwrite_core::schema::{Schema, Side};
use serde_json::json;

use super::package::Package;
use super::*;

fn fixture(path: &str) -> Vec<u8> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn schema() -> Schema {
    Schema::from_json(&String::from_utf8(fixture("contoso/schema.json")).expect("utf-8")).expect("schema")
}

fn read_all(rows: Rows<'_>) -> (Vec<ExportRow>, Vec<ExportError>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for row in rows {
        match row {
            Ok(r) => good.push(r),
            Err(e) => bad.push(e),
        }
    }
    (good, bad)
}

fn open<'a>(name: &str, bytes: &'a [u8], side: Side, table: &str) -> Result<Rows<'a>, ExportError> {
    let schema = schema();
    let table = schema.resolve(side, table).expect("table");
    Rows::open(name, bytes, Format::of(name, bytes), &schema, table, &Limits::default())
}

#[test]
fn a_finops_export_reads_by_upper_case_names_and_names_the_columns_it_skips() {
    let bytes = fixture("exports/Customers V3.csv");
    let schema = schema();
    let table = table_of_file(&schema, Side::Finops, "exports/Customers V3.csv").expect("resolved by label");
    assert_eq!(table.name, "CustCustomerV3Entity");
    let rows = Rows::open("Customers V3.csv", &bytes[..], Format::Csv, &schema, table, &Limits::default())
        .expect("header");
    let warnings = rows.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("ADDRESSCITY, ORGANIZATIONNAME"), "{}", warnings[0]);
    let (good, bad) = read_all(rows);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good.len(), 4);
    let first = &good[0];
    assert_eq!(first.line, 2);
    assert_eq!(first.row["CUSTOMERACCOUNT"], json!("US-101"));
    assert_eq!(first.row["dataAreaId"], json!("usmf"), "DATAAREAID is the company column");
    assert_eq!(first.row["SALESMEMO"], json!("Wholesale, west coast"));
    // A quoted memo with a line break: the next record starts a line later.
    assert_eq!(good[2].row["SALESMEMO"], json!("Walk-in,\nasks for invoices by mail"));
    assert_eq!(good[2].row.get("ORGANIZATIONNAME"), None, "a column the schema lacks is skipped");
    assert!(!good[2].row.contains_key("PAYMENTTERMSBASEDAYS"), "an empty cell is absent");
    assert_eq!(good[3].line, 6);
    // Values come out as written; core's check_row types them.
    let checked = table.check_row(&schema, &good[0].row, false).expect("fits");
    assert_eq!(checked["CREDITLIMIT"], json!(5000));
    assert_eq!(checked["CREDITLIMITISMANDATORY"], json!("no"));
}

#[test]
fn a_dataverse_export_keeps_dotted_lookup_keys() {
    let bytes = fixture("exports/accounts.csv");
    let rows = open("accounts.csv", &bytes, Side::Dataverse, "accounts").expect("header");
    let warnings = rows.warnings();
    assert!(warnings[0].contains("name, statecode"), "{warnings:?}");
    let (good, bad) = read_all(rows);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good.len(), 3);
    assert_eq!(good[0].row["transactioncurrencyid.isocurrencycode"], json!("USD"));
    assert_eq!(good[0].row["msdyn_company.cdm_companycode"], json!("USMF"));
    let schema = schema();
    let table = schema.resolve(Side::Dataverse, "account").expect("account");
    let checked = table.check_row(&schema, &good[1].row, false).expect("fits");
    assert_eq!(checked["msdyn_creditlimitismandatory"], json!(true));
    assert_eq!(checked["msdyn_onholdstatus"], json!(806380000));
}

#[test]
fn json_lines_read_one_row_a_line_and_skip_blank_lines_and_nulls() {
    let bytes = fixture("exports/Currencies.jsonl");
    let rows = open("Currencies.jsonl", &bytes, Side::Finops, "Currencies").expect("open");
    let (good, bad) = read_all(rows);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 4]);
    assert_eq!(good[1].row["SYMBOL"], json!("€"));
    let text = "{\"CURRENCYCODE\":\"USD\",\"NAME\":\"US Dollar\",\"ROUNDINGPRECISION\":0.01}\n[1]\n{oops\n";
    let rows = open("c.jsonl", text.as_bytes(), Side::Finops, "Currencies").expect("open");
    assert!(rows.warnings().is_empty(), "no key seen yet");
    let mut rows = rows;
    let first = rows.next().expect("row").expect("good");
    assert_eq!(first.row.len(), 2);
    assert!(rows.warnings()[0].contains("ROUNDINGPRECISION"));
    let errors: Vec<String> = rows.filter_map(Result::err).map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 2);
    assert!(errors[0].starts_with("c.jsonl line 2: is not a JSON object"), "{}", errors[0]);
    assert!(errors[1].starts_with("c.jsonl line 3: is not JSON"), "{}", errors[1]);
}

#[test]
fn bad_csv_rows_are_named_with_their_line_and_reading_goes_on() {
    let text = "CURRENCYCODE,NAME\nUSD,US Dollar\nEUR\nGBP,\"Pound\n";
    let rows = open("c.csv", text.as_bytes(), Side::Finops, "Currencies").expect("header");
    let (good, bad) = read_all(rows);
    assert_eq!(good.len(), 2, "{good:?}");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].to_string(), "c.csv line 3: has 1 field(s); the header has 2");
    assert!(!bad[0].fatal);
}

#[test]
fn a_header_naming_nothing_of_the_table_and_an_empty_file_are_refused() {
    let error = open("c.csv", b"FOO,BAR\n1,2\n", Side::Finops, "Currencies").err().expect("refused");
    assert!(
        error.to_string().starts_with("c.csv line 1: the header names no column of finops table Currencies"),
        "{error}"
    );
    let error = open("c.csv", b"", Side::Finops, "Currencies").err().expect("refused");
    assert_eq!(error.to_string(), "c.csv: is empty: a CSV starts with a header line");
}

#[test]
fn a_line_that_never_ends_stops_the_file_in_bounded_memory() {
    let limits = Limits { max_record_bytes: 1 << 20, ..Limits::default() };
    let schema = schema();
    let table = schema.resolve(Side::Finops, "Currencies").expect("table");
    // 64 MiB streamed from a generator: nothing holds it whole.
    let head = Cursor::new(b"CURRENCYCODE,NAME\nUSD,US Dollar\nEUR,\"".to_vec());
    let endless = head.chain(std::io::repeat(b'x').take(64 << 20));
    let rows = Rows::open("big.csv", endless, Format::Csv, &schema, table, &limits).expect("header");
    let (good, bad) = read_all(rows);
    assert_eq!(good.len(), 1);
    assert_eq!(bad.len(), 1);
    assert!(bad[0].fatal);
    assert!(
        bad[0].to_string().starts_with("big.csv line 3: a record runs past 1 MiB without ending"),
        "{}",
        bad[0]
    );
}

#[test]
fn a_field_over_the_bound_is_a_bad_row() {
    let limits = Limits { max_field_bytes: 1000, ..Limits::default() };
    let schema = schema();
    let table = schema.resolve(Side::Finops, "Currencies").expect("table");
    let text = format!("CURRENCYCODE,NAME\nUSD,{}\nEUR,Euro\n", "n".repeat(5000));
    let rows = Rows::open("c.csv", text.as_bytes(), Format::Csv, &schema, table, &limits).expect("header");
    let (good, bad) = read_all(rows);
    assert_eq!(good.len(), 1);
    assert_eq!(
        bad[0].to_string(),
        "c.csv line 2: field NAME is 5000 bytes long; a field holds at most 0 MiB"
    );
}

#[test]
fn utf16_csv_reads_like_utf8() {
    let text = "CURRENCYCODE,NAME\r\nEUR,Euro €\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let rows = open("c.csv", &bytes, Side::Finops, "Currencies").expect("header");
    let (good, bad) = read_all(rows);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good[0].row["NAME"], json!("Euro €"));
}

#[test]
fn a_data_package_names_its_entities_and_reads_their_utf16_files() {
    let bytes = fixture("exports/Contoso customers.zip");
    let schema = schema();
    let mut package =
        Package::open("Contoso customers.zip", Cursor::new(bytes), &Limits::default()).expect("package");
    assert_eq!(package.definition_group, "Contoso customers");
    let entities = package.entities.clone();
    assert_eq!(
        entities.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["Currencies", "Customer groups", "Customers V3"]
    );
    // The Excel entity: its first sheet, numbers as a CSV would write them, empty cells absent.
    assert_eq!(entities[0].source_format, "EXCEL");
    let currencies = schema.resolve(Side::Finops, &entities[0].name).expect("currencies");
    let rows = package.rows(&entities[0], &schema, currencies).expect("workbook");
    assert!(rows.warnings()[0].ends_with("ROUNDINGPRECISION, CREATEDDATETIME"), "{:?}", rows.warnings());
    let (good, bad) = read_all(rows);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(good[1].row["SYMBOL"], json!("€"));
    assert!(!good[2].row.contains_key("SYMBOL"));
    let entities = entities[1..].to_vec();
    assert_eq!(entities[0].refresh_type, "FullPush");
    assert_eq!(entities[0].source_format, "CSV-Unicode");
    let groups = schema.resolve(Side::Finops, &entities[0].name).expect("label resolves");
    assert_eq!(groups.name, "CustCustomerGroupEntity");
    let rows = package.rows(&entities[0], &schema, groups).expect("rows");
    assert!(rows.warnings()[0].starts_with("Contoso customers.zip › Customer groups.csv: 1 column(s)"));
    let (good, bad) = read_all(rows);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good.len(), 4);
    assert_eq!(good[2].row["DESCRIPTION"], json!("Retail customers"));
    assert_eq!(good[3].row["DESCRIPTION"], json!("Großhandelskunden"));
    let customers = schema.resolve(Side::Finops, &entities[1].name).expect("label resolves");
    let (good, bad) = read_all(package.rows(&entities[1], &schema, customers).expect("rows"));
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(good.len(), 4);
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        out.start_file(*name, options).expect("entry");
        out.write_all(bytes).expect("write");
    }
    out.finish().expect("zip").into_inner()
}

const MANIFEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<DataManagementPackageManifest xmlns="http://schemas.microsoft.com/dynamics/2015/01/DataManagement">
  <PackageEntityList>
    <DataManagementPackageEntityData>
      <EntityName>Currencies</EntityName>
      <InputFilePath>Currencies.csv</InputFilePath>
    </DataManagementPackageEntityData>
  </PackageEntityList>
</DataManagementPackageManifest>"#;

#[test]
fn a_zip_bomb_in_a_package_is_refused_as_it_inflates() {
    // Short lines, so only the inflation bound can stop it: 72 MiB that deflates a thousandfold.
    let mut body = b"CURRENCYCODE,NAME\n".to_vec();
    body.extend(std::iter::repeat_n(b"AAA,B\n".iter().copied(), 12 << 20).flatten());
    let bytes = zip(&[("Manifest.xml", MANIFEST.as_bytes()), ("Currencies.csv", &body)]);
    drop(body);
    let schema = schema();
    let table = schema.resolve(Side::Finops, "Currencies").expect("table");
    let mut package = Package::open("bomb.zip", Cursor::new(bytes), &Limits::default()).expect("manifest");
    let entity = package.entities[0].clone();
    let rows = package.rows(&entity, &schema, table).expect("header");
    let last = rows.last().expect("something").expect_err("refused");
    assert!(last.fatal);
    assert!(
        last.to_string()
            .contains("inflates to more than 200 times its compressed size; refused (a zip bomb?)"),
        "{last}"
    );
}

#[test]
fn broken_packages_say_what_is_wrong() {
    let schema = schema();
    let error = |bytes: Vec<u8>| {
        Package::open("p.zip", Cursor::new(bytes), &Limits::default()).err().expect("refused").to_string()
    };
    assert!(error(b"PK\x03\x04 truncated".to_vec()).starts_with("p.zip: is not a readable zip"));
    assert_eq!(
        error(zip(&[("Currencies.csv", b"CURRENCYCODE\n")])),
        "p.zip: has no Manifest.xml: a finance-and-operations data package lists its entities there"
    );
    let bomb = r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><DataManagementPackageManifest>&lol2;</DataManagementPackageManifest>"#;
    assert!(error(zip(&[("Manifest.xml", bomb.as_bytes())])).contains("has a DOCTYPE"));
    let truncated = &MANIFEST[..MANIFEST.len() - 40];
    let message = error(zip(&[("Manifest.xml", truncated.as_bytes())]));
    assert!(message.starts_with("p.zip › Manifest.xml line 8: is not well-formed XML"), "{message}");
    let mut package = Package::open(
        "p.zip",
        Cursor::new(zip(&[("Manifest.xml", MANIFEST.as_bytes())])),
        &Limits::default(),
    )
    .expect("manifest");
    let entity = package.entities[0].clone();
    let table = schema.resolve(Side::Finops, "Currencies").expect("table");
    let missing = package.rows(&entity, &schema, table).err().expect("refused");
    assert_eq!(
        missing.to_string(),
        "p.zip › Currencies.csv: is named by the manifest for entity `Currencies` but is not in the package"
    );
}

#[test]
fn formats_are_told_by_name_then_content() {
    assert_eq!(Format::of("a.CSV", b"{"), Format::Csv);
    assert_eq!(Format::of("a.ndjson", b""), Format::JsonLines);
    assert_eq!(Format::of("upload", b"PK\x03\x04"), Format::Package);
    assert_eq!(Format::of("upload", b"\xEF\xBB\xBF{\"a\":1}"), Format::JsonLines);
    assert_eq!(Format::of("upload", b"A,B"), Format::Csv);
}

#[test]
fn an_excel_workbook_that_is_a_zip_bomb_is_refused_before_calamine_reads_it() {
    let mut sheet = b"<worksheet>".to_vec();
    sheet.resize(sheet.len() + (40 << 20), b' ');
    let workbook = zip(&[("[Content_Types].xml", b"<Types/>"), ("xl/worksheets/sheet1.xml", &sheet)]);
    drop(sheet);
    let error = open("c.xlsx", &workbook, Side::Finops, "Currencies").err().expect("refused");
    assert!(
        error
            .to_string()
            .starts_with("c.xlsx: part xl/worksheets/sheet1.xml inflates to more than 200 times"),
        "{error}"
    );
    let error = open("c.xlsx", b"PK\x03\x04 not really", Side::Finops, "Currencies").err().expect("refused");
    assert!(error.to_string().starts_with("c.xlsx: is not a readable Excel workbook"), "{error}");
}
