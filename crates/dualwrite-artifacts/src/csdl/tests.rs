use std::path::PathBuf;

use dualwrite_core::schema::{ColumnType, Schema, Side, Table};

use super::*;

fn fixture(path: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn contoso() -> Schema {
    let text = String::from_utf8(fixture("contoso/schema.json")).expect("utf-8");
    Schema::from_json(&text).expect("contoso schema")
}

fn import(path: &str, side: Side, wanted: &[&str]) -> Imported {
    let wanted: Vec<String> = wanted.iter().map(|w| (*w).to_owned()).collect();
    read(fixture(path).as_slice(), Some(side), &wanted).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Types agree as far as CSDL can say: it has no option values (an option set is an Int32).
fn same_type(written: &ColumnType, read: &ColumnType) -> bool {
    match (written, read) {
        (ColumnType::Option { .. }, ColumnType::Integer) => true,
        (ColumnType::Enum { values: a }, ColumnType::Enum { values: b }) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
        }
        _ => written == read,
    }
}

fn assert_same_table(written: &Table, read: &Table, schema: &Schema, imported: &Schema) {
    let side = written.side;
    assert_eq!(written.company_specific, read.company_specific, "{}", written.name);
    let key = |t: &Table| t.key.iter().map(|k| k.to_ascii_lowercase()).collect::<Vec<_>>();
    assert_eq!(key(written), key(read), "{} key", written.name);
    assert_eq!(written.alternate_keys, read.alternate_keys, "{} alternate keys", written.name);
    for column in &written.columns {
        let found =
            read.column(&column.name).unwrap_or_else(|| panic!("{}.{} not read", written.name, column.name));
        assert!(
            same_type(&column.ty, &found.ty),
            "{}.{}: {:?} read as {:?}",
            written.name,
            column.name,
            column.ty,
            found.ty
        );
        if side == Side::Finops {
            assert_eq!(column.required, found.required, "{}.{} required", written.name, column.name);
            let target = |r: &Option<dualwrite_core::schema::Reference>, s: &Schema| {
                r.as_ref().map(|r| {
                    (s.resolve(side, &r.table).map(|t| t.name.clone()).ok(), r.column.to_ascii_lowercase())
                })
            };
            let read_target = found.references.as_ref().map(|r| {
                let t = imported.table(side, &r.table).expect("reference target imported");
                (schema.resolve(side, &t.name).map(|t| t.name.clone()).ok(), r.column.to_ascii_lowercase())
            });
            assert_eq!(
                target(&column.references, schema),
                read_target,
                "{}.{} references",
                written.name,
                column.name
            );
        }
    }
    let extra: Vec<&str> =
        read.columns.iter().filter(|c| written.column(&c.name).is_none()).map(|c| c.name.as_str()).collect();
    let expected_extra: &[&str] = match side {
        Side::Dataverse => &["createdon", "versionnumber"],
        Side::Finops => &[],
    };
    assert_eq!(extra, expected_extra, "{} has columns the Contoso schema has not", written.name);
}

#[test]
fn the_contoso_dataverse_metadata_reads_to_the_contoso_tables() {
    let imported = import("contoso/dataverse-metadata.xml", Side::Dataverse, &[]);
    let schema = contoso();
    let read = super::schema(std::slice::from_ref(&imported)).expect("a valid schema");
    for written in &schema.dataverse {
        let table = read.table(Side::Dataverse, &written.name).expect("table read");
        assert_eq!(table.aliases, written.aliases, "the entity set is an alias");
        assert_same_table(written, table, &schema, &read);
    }
    let names: Vec<&str> = read.dataverse.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"asyncoperation") && !names.contains(&"crmbaseentity"), "{names:?}");
    assert!(
        imported
            .notes
            .iter()
            .any(|n| n.contains("no alternate keys declared on 1 of 13 tables (asyncoperation)")),
        "{:?}",
        imported.notes
    );
    assert!(
        !imported.notes.iter().any(|n| n.contains("dual-write solution")),
        "the solution tables are there"
    );
}

#[test]
fn the_contoso_finops_metadata_reads_to_the_contoso_entities() {
    let imported = import("contoso/finops-metadata.xml", Side::Finops, &[]);
    let schema = contoso();
    let read = super::schema(std::slice::from_ref(&imported)).expect("a valid schema");
    assert_eq!(read.finops.len(), schema.finops.len());
    for table in &read.finops {
        let written = schema.resolve(Side::Finops, &table.name).expect("the entity type name is an alias");
        assert!(
            table.aliases.iter().all(|a| written.aliases.contains(a) || written.name == *a),
            "{:?}",
            table.aliases
        );
        assert_same_table(written, table, &schema, &read);
    }
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
}

#[test]
fn only_the_tables_asked_for_are_kept_with_what_their_lookups_reach() {
    let imported = import("contoso/dataverse-metadata.xml", Side::Dataverse, &["accounts"]);
    let mut names: Vec<&str> = imported.tables.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    let contoso = contoso();
    let mut expected: Vec<&str> = contoso.dataverse.iter().map(|t| t.name.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(names, expected, "account reaches every other Contoso table, and not asyncoperation");
    let imported = import("contoso/dataverse-metadata.xml", Side::Dataverse, &["transactioncurrency"]);
    assert_eq!(imported.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["transactioncurrency"]);
    let imported = import("contoso/finops-metadata.xml", Side::Finops, &["Customers V3"]);
    let mut names: Vec<&str> = imported.tables.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Currency", "CustomerGroup", "CustomerV3"], "through its references");
}

#[test]
fn a_table_not_in_the_document_names_the_closest() {
    let wanted = vec!["acounts".to_owned()];
    let imported = read(fixture("contoso/dataverse-metadata.xml").as_slice(), Some(Side::Dataverse), &wanted)
        .expect("reads");
    assert!(imported.tables.is_empty());
    assert_eq!(imported.unknown.len(), 1);
    assert_eq!(
        imported.unknown[0].to_string(),
        "dataverse table `acounts` is not in the schema; did you mean account?"
    );
}

#[test]
fn a_document_of_the_other_side_is_refused() {
    let e = read(fixture("contoso/finops-metadata.xml").as_slice(), Some(Side::Dataverse), &[])
        .expect_err("finops given as Dataverse");
    assert_eq!(
        e.to_string(),
        "this is a finops $metadata (namespace Microsoft.Dynamics.DataEntities), given as dataverse"
    );
    let imported =
        read(fixture("contoso/finops-metadata.xml").as_slice(), None, &[]).expect("side from the namespace");
    assert_eq!(imported.side, Side::Finops);
}

#[test]
fn the_real_dataverse_metadata_reads_every_entity_type() {
    let bytes = fixture("real/dataverse-csdl.xml");
    let doc = parse::document(bytes.as_slice(), MAX_DOCUMENT_BYTES).expect("parses");
    assert_eq!(doc.entity_types.len(), 354);
    let annotated =
        doc.entity_types.iter().filter(|t| !t.alternate_keys.is_empty()).count() + doc.annotated_keys.len();
    assert_eq!(annotated, 30, "every alternate-key annotation");

    let imported = read(bytes.as_slice(), Some(Side::Dataverse), &[]).expect("reads");
    assert_eq!(imported.entity_types, 354);
    let schema = super::schema(std::slice::from_ref(&imported)).expect("a valid schema");
    let account = schema.table(Side::Dataverse, "account").expect("account");
    assert_eq!(account.aliases, ["accounts"]);
    assert_eq!(account.columns.len(), 157, "every property of account is a column");
    let ty = |name: &str| account.column(name).map(|c| c.ty.clone());
    assert_eq!(ty("accountid"), Some(ColumnType::Guid));
    assert_eq!(
        ty("transactioncurrencyid"),
        Some(ColumnType::Lookup { target: "transactioncurrency".into() })
    );
    assert_eq!(ty("parentaccountid"), Some(ColumnType::Lookup { target: "account".into() }));
    assert_eq!(ty("creditlimit"), Some(ColumnType::Decimal));
    assert_eq!(ty("donotphone"), Some(ColumnType::Boolean));
    assert_eq!(ty("createdon"), Some(ColumnType::Datetime));
    assert_eq!(
        ty("entityimage"),
        Some(ColumnType::String { max_length: None }),
        "binary travels as base64 text"
    );
    assert!(!account.company_specific);
    // Every alternate key of the tables (the other annotations are on metadata types, not tables).
    let keyed: Vec<&Table> = schema.dataverse.iter().filter(|t| !t.alternate_keys.is_empty()).collect();
    let annotated_tables = doc
        .entity_types
        .iter()
        .filter(|t| !t.alternate_keys.is_empty() && schema.table(Side::Dataverse, &t.name).is_some())
        .count();
    assert_eq!(keyed.len(), annotated_tables);
    assert!(!keyed.is_empty());
    let notes = imported.notes.join("\n");
    assert!(notes.contains("no dual-write solution tables (cdm_company, msdyn_*)"), "{notes}");
    assert!(notes.contains("no alternate keys declared on"), "{notes}");
    let skipped = imported.notes.iter().find(|n| n.contains("types no column holds")).expect("a note");
    assert!(!skipped.contains(" account."), "{skipped}");
}

#[test]
fn hostile_and_broken_documents_are_refused_with_their_place() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><x a="&lol2;"/></edmx:Edmx>"#;
    let e = read(laughs.as_bytes(), None, &[]).expect_err("a DTD");
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("DOCTYPE"), "{e}");

    let text = String::from_utf8(fixture("contoso/finops-metadata.xml")).expect("utf-8");
    let truncated = &text[..text.len() / 2];
    let e = read(truncated.as_bytes(), None, &[]).expect_err("truncated");
    assert!(e.line.is_some_and(|l| l > 40), "{e}");

    let deep = format!("<a>{}", "<b>".repeat(1000));
    let e = read(deep.as_bytes(), None, &[]).expect_err("deep");
    assert!(e.message.contains("nest deeper than 64"), "{e}");

    let e = read_bounded(text.as_bytes(), None, &[], 1024).expect_err("too large");
    assert!(e.message.contains("larger than"), "{e}");

    let e = read("{\"not\": \"xml\"}".as_bytes(), None, &[]).expect_err("not XML");
    assert!(e.message.contains("no XML element"), "{e}");

    let e = read("<a><b></a>".as_bytes(), None, &[]).expect_err("mismatched");
    assert_eq!(e.line, Some(1), "{e}");

    let unknown_entity = "<a x=\"&unknown;\"><Schema Namespace=\"&bad;\"/></a>";
    assert!(read(unknown_entity.as_bytes(), None, &[]).is_err(), "an undeclared entity is not expanded");
}
