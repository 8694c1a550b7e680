use std::io::{Cursor, Write};
use std::path::PathBuf;

use dualwrite_core::package::Package;
use dualwrite_core::table_map::TableMap;

use super::*;

fn fixture(path: &str) -> Vec<u8> {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(path);
    std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn contoso() -> Package {
    let text = String::from_utf8(fixture("contoso/package.json")).expect("utf-8");
    Package::from_json(&text).expect("the Contoso package")
}

/// The Contoso schema, whose aliases resolve the names dual-write gives tables in its legs
/// (`Customers V3`, `accounts`).
fn contoso_schema() -> dualwrite_core::schema::Schema {
    let text = String::from_utf8(fixture("contoso/schema.json")).expect("utf-8");
    dualwrite_core::schema::Schema::from_json(&text).expect("the Contoso schema")
}

/// The Contoso maps as the solution fixtures carry them: Customers V3 at its published version
/// 1.0.0.5, and each map's description.
fn contoso_as_in_the_solution(publisher: &str) -> Vec<TableMap> {
    contoso()
        .maps
        .into_iter()
        .map(|mut map| {
            if map.name == "Customers V3 (accounts)" {
                map.version = "1.0.0.5".into();
            }
            map.description = match map.name.as_str() {
                "Legal entities (cdm_companies)" => {
                    "Legal entities of finance and operations as Dataverse companies."
                }
                "Currencies (transactioncurrencies)" => "Currencies, both ways; exchange rates start at 1.",
                "Customer groups (msdyn_customergroups)" => "Customer groups per company.",
                _ => "Organization customers as accounts, with their group, currency & payment terms.",
            }
            .into();
            map.publisher = publisher.into();
            map
        })
        .collect()
}

fn read_default(name: &str, bytes: &[u8]) -> Result<Vec<SolutionMap>, SolutionError> {
    read(name, bytes, &Limits::default())
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

#[test]
fn a_customizations_xml_gives_every_map_with_its_name_version_description_and_legs() {
    let maps = read_default("customizations.xml", &fixture("solutions/customizations.xml")).expect("reads");
    let names: Vec<(&str, &str, &str)> =
        maps.iter().map(|m| (m.name.as_str(), m.display_name.as_str(), m.version.as_str())).collect();
    assert_eq!(
        names,
        [
            ("msdyn_[cdm_companies - Legal entities]", "Legal entities (cdm_companies)", "1.0.0.1"),
            ("msdyn_[transactioncurrencies - Currencies]", "Currencies (transactioncurrencies)", "1.0.0.1"),
            (
                "msdyn_[msdyn_customergroups - Customer groups]",
                "Customer groups (msdyn_customergroups)",
                "1.0.0.1"
            ),
            ("msdyn_[accounts - Customers V3]", "Customers V3 (accounts)", "1.0.0.5"),
        ]
    );
    let customers = &maps[3];
    assert_eq!(
        customers.description,
        "Organization customers as accounts, with their group, currency & payment terms."
    );
    assert_eq!(customers.properties.get("SkipInitialSync"), Some(&Value::Bool(false)));
    assert!(
        customers.mapping.starts_with("{\"name\":\"Customers V3 (accounts)\",\"legs\":["),
        "{}",
        customers.mapping
    );
    assert!(customers.place.starts_with("customizations.xml line "), "{}", customers.place);
    let package = to_package(&maps, Some(&contoso_schema())).expect("the legs import");
    assert_eq!(package.maps, contoso_as_in_the_solution(""), "tables named as dual-write names them resolve");
}

#[test]
fn a_solution_zip_gives_the_maps_published_by_its_publisher() {
    let maps =
        read_default("Contoso.zip", &fixture("solutions/ContosoDualWriteMaps_1_0_0_1.zip")).expect("reads");
    assert!(maps[0].place.starts_with("Contoso.zip › customizations.xml line "), "{}", maps[0].place);
    let package = to_package(&maps, Some(&contoso_schema())).expect("the legs import");
    assert_eq!(package.maps, contoso_as_in_the_solution("contoso"));
}

#[test]
fn a_zip_of_solution_zips_gives_the_maps_of_every_solution_in_it() {
    let maps = read_default("deploy.bin", &fixture("solutions/ContosoPackage.zip")).expect("reads");
    let places: Vec<&str> = maps.iter().map(|m| m.place.split(" line ").next().unwrap_or_default()).collect();
    assert_eq!(
        places,
        [
            "deploy.bin › PkgFolder/ContosoCoreMaps_1_0_0_1.zip › customizations.xml",
            "deploy.bin › PkgFolder/ContosoCoreMaps_1_0_0_1.zip › customizations.xml",
            "deploy.bin › PkgFolder/ContosoCustomerMaps_1_0_0_1.zip › customizations.xml",
            "deploy.bin › PkgFolder/ContosoCustomerMaps_1_0_0_1.zip › customizations.xml",
        ]
    );
    assert_eq!(
        to_package(&maps, Some(&contoso_schema())).expect("imports").maps,
        contoso_as_in_the_solution("contoso")
    );
}

#[test]
fn solutions_are_told_apart_by_content_not_by_name() {
    let inner = fixture("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    let data = zip_of(&[("data.xml", b"<entities/>"), ("data_schema.xml", b"<entities/>")]);
    let outer = zip_of(&[("notes.txt", b"not a solution"), ("data.zip", &data), ("maps.dat", &inner)]);
    let maps = read_default("upload", &outer).expect("the solution inside is found by its content");
    assert_eq!(maps.len(), 4);
    assert_eq!(content(b"\xEF\xBB\xBF  <?xml version=\"1.0\"?><a/>"), Content::Xml);
    assert_eq!(content(b"[{\"name\": \"x\"}]"), Content::Other);
}

#[test]
fn a_written_solution_reads_back_unchanged() {
    let mut package = contoso();
    package.maps[0].description = "Companies <first> & \"foremost\"".into();
    package.integration_keys.clear();
    let zip = write_package(&SolutionInfo::default(), &package).expect("writes");
    let maps = read_default("export.zip", &zip).expect("reads back");
    assert!(to_package(&maps, None).expect("imports") == package, "the maps change on the way");
    let names: Vec<&str> = maps.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names[3], "msdyn_[accounts - Customers V3]");
    // The solution maps themselves survive a second trip, properties and all.
    let again =
        read_default("again.zip", &write(&SolutionInfo::default(), &maps).expect("writes")).expect("reads");
    let without_place = |maps: Vec<SolutionMap>| -> Vec<SolutionMap> {
        maps.into_iter().map(|m| SolutionMap { place: String::new(), ..m }).collect()
    };
    assert!(without_place(again) == without_place(maps), "the solution maps change on a second trip");
}

#[test]
fn a_billion_laughs_document_is_refused_at_its_doctype() {
    let xml = b"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n<ImportExportXml><msdyn_dualwriteentitymaps><msdyn_dualwriteentitymap><msdyn_mapping>&lol2;</msdyn_mapping></msdyn_dualwriteentitymap></msdyn_dualwriteentitymaps></ImportExportXml>";
    let error = read_default("customizations.xml", xml).expect_err("refused");
    assert_eq!(error.place, "customizations.xml line 2, column 1");
    assert!(error.message.contains("DOCTYPE"), "{error}");
    let undeclared = b"<ImportExportXml><msdyn_dualwriteentitymaps><msdyn_dualwriteentitymap><msdyn_mapping>&lol9;</msdyn_mapping></msdyn_dualwriteentitymap></msdyn_dualwriteentitymaps></ImportExportXml>";
    let error = read_default("customizations.xml", undeclared).expect_err("refused");
    assert!(error.message.contains("&lol9;"), "{error}");
}

#[test]
fn a_zip_bomb_is_refused_by_the_bytes_it_inflates_to_whatever_it_declares() {
    let limits = Limits { max_entry_bytes: 1 << 20, ..Limits::default() };
    let zeros = vec![0u8; 4 << 20];
    let mut bomb = zip_of(&[("customizations.xml", &zeros)]);
    // Declare 100 bytes uncompressed, in the local header and in the table of contents.
    let small = 100u32.to_le_bytes();
    let local = 0;
    bomb[local + 22..local + 26].copy_from_slice(&small);
    let central = bomb.windows(4).rposition(|w| w == b"PK\x01\x02").expect("central directory");
    bomb[central + 24..central + 28].copy_from_slice(&small);
    let error = read("bomb.zip", &bomb, &limits).expect_err("refused");
    assert_eq!(error.place, "bomb.zip › customizations.xml");
    // Across entries, the whole file's budget counts too.
    let limits = Limits { max_entry_bytes: 3 << 20, max_total_bytes: 4 << 20, ..Limits::default() };
    let part = vec![b' '; 3 << 20];
    let solution = |name: &str| zip_of(&[(name, &part)]);
    let (a, b) = (solution("customizations.xml"), solution("customizations.xml"));
    let outer = zip_of(&[("a.zip", &a), ("b.zip", &b)]);
    let error = read("outer.zip", &outer, &limits).expect_err("refused");
    assert!(error.message.contains("for the whole file"), "{error}");
    let many: Vec<(String, Vec<u8>)> = (0..50).map(|i| (format!("f{i}.txt"), Vec::new())).collect();
    let entries: Vec<(&str, &[u8])> = many.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let error = read("many.zip", &zip_of(&entries), &Limits { max_entries: 10, ..Limits::default() })
        .expect_err("too many entries");
    assert!(error.message.contains("50 entries"), "{error}");
}

#[test]
fn solutions_nest_one_level_deep_at_most() {
    let solution = fixture("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    let middle = zip_of(&[("inner.zip", &solution)]);
    let outer = zip_of(&[("middle.zip", &middle)]);
    let error = read_default("outer.zip", &outer).expect_err("too deep");
    assert_eq!(error.place, "outer.zip › middle.zip › inner.zip");
}

#[test]
fn a_truncated_or_damaged_zip_names_the_entry() {
    let solution = fixture("solutions/ContosoDualWriteMaps_1_0_0_1.zip");
    let error = read_default("cut.zip", &solution[..solution.len() / 2]).expect_err("truncated");
    assert_eq!(error.place, "cut.zip");
    assert!(error.message.contains("truncated"), "{error}");
    // A solution cut short inside a package of solutions.
    let outer = zip_of(&[("PkgFolder/Cut.zip", &solution[..solution.len() - 30])]);
    let error = read_default("package.zip", &outer).expect_err("truncated inside");
    assert_eq!(error.place, "package.zip › PkgFolder/Cut.zip");
    // Damaged bytes inside one entry.
    let mut damaged = solution.clone();
    let name = damaged.windows(18).position(|w| w == b"customizations.xml").expect("local header");
    for b in &mut damaged[name + 40..name + 90] {
        *b ^= 0x5a;
    }
    let error = read_default("damaged.zip", &damaged).expect_err("damaged");
    assert_eq!(error.place, "damaged.zip › customizations.xml", "{error}");
}

#[test]
fn bad_xml_is_reported_at_its_line_and_column() {
    let text = String::from_utf8(fixture("solutions/customizations.xml")).expect("utf-8");
    let cut = &text[..text.find("<msdyn_version>1.0.0.5").expect("customers")];
    let error = read_default("customizations.xml", cut.as_bytes()).expect_err("truncated");
    assert!(error.message.contains("truncated"), "{error}");
    assert!(error.place.starts_with("customizations.xml line "), "{error}");
    let error =
        read_default("c.xml", b"<ImportExportXml>\n  <a></b>\n</ImportExportXml>").expect_err("mismatched");
    assert!(error.place.starts_with("c.xml line 2"), "{error}");
    let error = read_default("c.xml", b"<Types/>").expect_err("not customizations");
    assert!(error.message.contains("ImportExportXml"), "{error}");
    let deep = format!("<ImportExportXml>{}", "<a>".repeat(1000));
    let error = read_default("c.xml", deep.as_bytes()).expect_err("too deep");
    assert!(error.message.contains("256 deep"), "{error}");
    let no_mapping = b"<ImportExportXml>\n<msdyn_dualwriteentitymaps>\n<msdyn_dualwriteentitymap><msdyn_name>m</msdyn_name></msdyn_dualwriteentitymap></msdyn_dualwriteentitymaps></ImportExportXml>";
    let error = read_default("c.xml", no_mapping).expect_err("no legs");
    assert_eq!(
        (error.place.as_str(), error.message.as_str()),
        ("c.xml line 3, column 1", "map `m` has no msdyn_mapping (its legs JSON)")
    );
    let error =
        read_default("c.xml", b"<ImportExportXml><Entities/></ImportExportXml>").expect_err("no maps");
    assert!(error.message.contains("no dual-write table maps"), "{error}");
}

#[test]
fn a_map_whose_legs_do_not_import_is_named_with_its_place() {
    let xml = b"<ImportExportXml><msdyn_dualwriteentitymaps><msdyn_dualwriteentitymap><msdyn_name>msdyn_[x - X]</msdyn_name><msdyn_mapping>{\"name\": \"X\"}</msdyn_mapping></msdyn_dualwriteentitymap></msdyn_dualwriteentitymaps></ImportExportXml>";
    let maps = read_default("c.xml", xml).expect("reads");
    let error = to_package(&maps, None).expect_err("no legs");
    assert_eq!(
        error.problems[0].path,
        "c.xml line 1, column 45 <msdyn_dualwriteentitymap> `msdyn_[x - X]` msdyn_mapping legs"
    );
}
