//! Power Platform solutions carrying dual-write table maps: a solution's `customizations.xml`, a
//! solution `.zip` (`solution.xml`, `[Content_Types].xml`, `customizations.xml`), or a zip of solution
//! zips (what deployment tools package), told apart by their content, never by a file name.
//!
//! In `customizations.xml` (root `<ImportExportXml>`), `<msdyn_dualwriteentitymaps>` holds one
//! `<msdyn_dualwriteentitymap>` per map, each column a child element: `msdyn_name`
//! (`msdyn_[accounts - Customers V3]`), `msdyn_displayname`, `msdyn_version` (`1.0.0.5`),
//! `msdyn_mapping` (the legs JSON, as text) and `msdyn_properties` (JSON: `Description`,
//! `SkipInitialSync`, `IsDualWriteProject`, `Tags`, …).
//!
//! Hostile input is bounded: entries are counted and each entry's uncompressed bytes are counted as
//! they are read (a zip's declared sizes are not trusted), solutions nest one level deep at most, and
//! XML with a `DOCTYPE` is refused, so no entity is ever declared, let alone expanded.

use std::io::{Cursor, Read, Write};

use dualwrite_core::document::{DocumentError, Problem};
use dualwrite_core::package::Package;
use dualwrite_core::schema::Schema;
use dualwrite_core::table_map::TableMap;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::{json, Map, Value};

/// How much a reader takes before it gives up.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries in one zip.
    pub max_entries: usize,
    /// Uncompressed bytes of one entry.
    pub max_entry_bytes: u64,
    /// Uncompressed bytes of every entry read, nested zips included.
    pub max_total_bytes: u64,
    /// How deep elements nest in `customizations.xml`.
    pub max_xml_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_entries: 4096,
            max_entry_bytes: 64 << 20,
            max_total_bytes: 256 << 20,
            max_xml_depth: 256,
        }
    }
}

/// One `<msdyn_dualwriteentitymap>` of a solution.
#[derive(Debug, Clone, PartialEq)]
pub struct SolutionMap {
    /// `msdyn_name`: `msdyn_[accounts - Customers V3]`.
    pub name: String,
    /// `msdyn_displayname`: `Customers V3 (accounts)`.
    pub display_name: String,
    /// `msdyn_version`: `1.0.0.5`.
    pub version: String,
    /// `Description` of `msdyn_properties`.
    pub description: String,
    /// `msdyn_mapping`: the legs JSON, as written.
    pub mapping: String,
    /// `msdyn_properties`, parsed.
    pub properties: Map<String, Value>,
    /// The solution publisher's `UniqueName` (from `solution.xml`; empty for a lone
    /// `customizations.xml`).
    pub publisher: String,
    /// Where it was read: `Contoso_1_0_0_1.zip › customizations.xml line 12`.
    pub place: String,
}

/// What a file holds, judged by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// A zip: a solution or a package of solutions.
    Zip,
    /// XML: a `customizations.xml`.
    Xml,
    /// Anything else (the legs JSON, say).
    Other,
}

/// A solution that cannot be read: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct SolutionError {
    /// The file or zip entry (`outer.zip › Contoso.zip › customizations.xml`), with the line and
    /// column for XML.
    pub place: String,
    pub message: String,
}

fn error(place: impl Into<String>, message: impl Into<String>) -> SolutionError {
    SolutionError { place: place.into(), message: message.into() }
}

/// Tells a zip from XML from anything else by the first bytes (a UTF-8 byte-order mark and white
/// space before XML are allowed).
pub fn content(bytes: &[u8]) -> Content {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Content::Zip;
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => Content::Xml,
        _ => Content::Other,
    }
}

/// Reads every dual-write table map of a `customizations.xml`, a solution zip or a zip of solution
/// zips. `name` names the file in errors.
pub fn read(name: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<SolutionMap>, SolutionError> {
    let mut budget = Budget { left: limits.max_total_bytes, limits: *limits };
    let maps = match content(bytes) {
        Content::Zip => read_zip(name, bytes, 0, &mut budget)?.unwrap_or_default(),
        Content::Xml => read_customizations(name, bytes, limits)?,
        Content::Other => {
            return Err(error(
                name,
                "neither a solution zip nor a customizations.xml (it starts with neither `PK` nor `<`)",
            ))
        }
    };
    if maps.is_empty() {
        return Err(error(
            name,
            "holds no dual-write table maps (no <msdyn_dualwriteentitymap> in any customizations.xml)",
        ));
    }
    Ok(maps)
}

/// Reads a solution's maps into a package: each map's legs through the `msdyn_mapping` import, then
/// its display name (else the name in its legs, else `msdyn_name`), version and description from the
/// solution. A problem's path starts with the map's place and name.
pub fn to_package(maps: &[SolutionMap], schema: Option<&Schema>) -> Result<Package, DocumentError> {
    let mut package = Package::default();
    let mut problems = Vec::new();
    for map in maps {
        let label = format!("{} <msdyn_dualwriteentitymap> `{}`", map.place, map.name);
        let imported = match Package::from_ms_mapping(&map.mapping, schema) {
            Ok(imported) => imported,
            Err(e) => {
                problems.extend(e.problems.into_iter().map(|p| Problem {
                    path: join(&format!("{label} msdyn_mapping"), &p.path),
                    message: p.message,
                }));
                continue;
            }
        };
        let [mut table_map] = <[TableMap; 1]>::try_from(imported.maps).map_err(|found| DocumentError {
            problems: vec![Problem {
                path: format!("{label} msdyn_mapping"),
                message: format!("holds {} maps; a table map record holds one", found.len()),
            }],
        })?;
        if !map.display_name.trim().is_empty() {
            table_map.name = map.display_name.clone();
        } else if table_map.name.trim().is_empty() {
            table_map.name = map.name.clone();
        }
        if !map.version.trim().is_empty() {
            table_map.version = map.version.clone();
        }
        if !map.description.is_empty() {
            table_map.description = map.description.clone();
        }
        if table_map.publisher.is_empty() {
            table_map.publisher = map.publisher.clone();
        }
        package.maps.push(table_map);
    }
    if problems.is_empty() {
        Ok(package)
    } else {
        Err(DocumentError { problems })
    }
}

fn join(prefix: &str, path: &str) -> String {
    if path.is_empty() {
        prefix.to_owned()
    } else {
        format!("{prefix} {path}")
    }
}

/// Uncompressed bytes still allowed.
struct Budget {
    left: u64,
    limits: Limits,
}

/// The entry names a solution zip is known by, compared without case or a leading slash.
fn entry_is(name: &str, wanted: &str) -> bool {
    name.trim_start_matches(['/', '\\']).eq_ignore_ascii_case(wanted)
}

/// The maps of a solution zip (`depth` 0 or 1) or of a zip of solution zips (`depth` 0); `None` for a
/// zip inside a package that is no solution (a data zip, say), which is passed over.
fn read_zip(
    place: &str,
    bytes: &[u8],
    depth: usize,
    budget: &mut Budget,
) -> Result<Option<Vec<SolutionMap>>, SolutionError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        error(place, format!("is not a readable zip ({e}); it may be truncated: its table of contents, at the end, is missing or damaged"))
    })?;
    if archive.len() > budget.limits.max_entries {
        return Err(error(
            place,
            format!("has {} entries; at most {} are read", archive.len(), budget.limits.max_entries),
        ));
    }
    let names: Vec<String> =
        (0..archive.len()).map(|i| archive.name_for_index(i).unwrap_or_default().to_owned()).collect();
    if let Some(index) = names.iter().position(|n| entry_is(n, "customizations.xml")) {
        let entry_place = format!("{place} › {}", names[index]);
        let xml = read_entry(&mut archive, index, &entry_place, budget)?;
        let mut maps = read_customizations(&entry_place, &xml, &budget.limits)?;
        if let Some(index) = names.iter().position(|n| entry_is(n, "solution.xml")) {
            let manifest_place = format!("{place} › {}", names[index]);
            let manifest = read_entry(&mut archive, index, &manifest_place, budget)?;
            let publisher = publisher(&manifest_place, &manifest, &budget.limits)?;
            for map in &mut maps {
                map.publisher.clone_from(&publisher);
            }
        }
        return Ok(Some(maps));
    }
    // A package of solutions: every entry that is itself a zip (by content) may be a solution.
    let mut maps = Vec::new();
    let mut solutions = 0;
    for (index, name) in names.iter().enumerate() {
        if name.ends_with('/') {
            continue;
        }
        let entry_place = format!("{place} › {name}");
        if !starts_like_zip(&mut archive, index, &entry_place)? {
            continue;
        }
        if depth >= 1 {
            return Err(error(
                entry_place,
                "is a zip inside a zip inside a zip; solutions are read from a zip of solution zips at most",
            ));
        }
        let inner = read_entry(&mut archive, index, &entry_place, budget)?;
        if let Some(found) = read_zip(&entry_place, &inner, depth + 1, budget)? {
            maps.extend(found);
            solutions += 1;
        }
    }
    if depth >= 1 {
        return Ok(None);
    }
    if solutions == 0 {
        return Err(error(
            place,
            "is neither a solution (no customizations.xml in it) nor a package of solutions (no solution zip in it)",
        ));
    }
    Ok(Some(maps))
}

fn broken_entry(place: &str, e: impl std::fmt::Display) -> SolutionError {
    error(place, format!("cannot be read ({e}); the zip is truncated or damaged here"))
}

/// Whether an entry's first bytes are a zip's.
fn starts_like_zip(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    place: &str,
) -> Result<bool, SolutionError> {
    let file = archive.by_index(index).map_err(|e| broken_entry(place, e))?;
    let mut head = Vec::with_capacity(4);
    file.take(4).read_to_end(&mut head).map_err(|e| broken_entry(place, e))?;
    Ok(content(&head) == Content::Zip)
}

/// An entry's bytes, counted as they are inflated: never more than the limits, whatever the zip
/// declares.
fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    place: &str,
    budget: &mut Budget,
) -> Result<Vec<u8>, SolutionError> {
    let file = archive.by_index(index).map_err(|e| broken_entry(place, e))?;
    if file.encrypted() {
        return Err(error(place, "is encrypted"));
    }
    let allowed = budget.limits.max_entry_bytes.min(budget.left);
    let mut bytes = Vec::new();
    file.take(allowed + 1).read_to_end(&mut bytes).map_err(|e| broken_entry(place, e))?;
    let read = bytes.len() as u64;
    if read > allowed {
        let message = if allowed == budget.limits.max_entry_bytes {
            format!(
                "inflates to more than {} MiB; refused (a zip bomb?)",
                budget.limits.max_entry_bytes >> 20
            )
        } else {
            format!(
                "inflates past {} MiB for the whole file; refused (a zip bomb?)",
                budget.limits.max_total_bytes >> 20
            )
        };
        return Err(error(place, message));
    }
    budget.left -= read;
    Ok(bytes)
}

/// `line L, column C` of a byte offset.
fn position(bytes: &[u8], offset: u64) -> String {
    let upto = &bytes[..usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len())];
    let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&upto[start..]).chars().count() + 1;
    format!("line {line}, column {column}")
}

/// The map being read, column by column.
#[derive(Default)]
struct Record {
    columns: Map<String, Value>,
    line: String,
}

/// Reads the `<msdyn_dualwriteentitymap>` records of a `customizations.xml`.
fn read_customizations(
    place: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<SolutionMap>, SolutionError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(error(place, "is UTF-16; a customizations.xml is UTF-8"));
    }
    let mut reader = Reader::from_reader(bytes);
    let at = |offset: u64| format!("{place} {}", position(bytes, offset));
    // Element names from the root down.
    let mut stack: Vec<String> = Vec::new();
    let mut maps = Vec::new();
    let mut record: Option<Record> = None;
    // The column being read (a child of a record) and its text so far.
    let mut column: Option<(String, String)> = None;
    loop {
        let offset = reader.buffer_position();
        match next_event(&mut reader, place, bytes)? {
            Event::Start(e) => {
                let name = local_name(&e);
                if stack.is_empty() && name != "ImportExportXml" {
                    return Err(error(
                        at(offset),
                        format!(
                            "is not a customizations.xml: its root is <{name}>, expected <ImportExportXml>"
                        ),
                    ));
                }
                if stack.len() >= limits.max_xml_depth {
                    return Err(error(
                        at(offset),
                        format!("nests elements more than {} deep", limits.max_xml_depth),
                    ));
                }
                let parent = stack.last().map(String::as_str);
                if name == "msdyn_dualwriteentitymap" && parent == Some("msdyn_dualwriteentitymaps") {
                    let mut started = Record { line: at(offset), ..Record::default() };
                    // Columns may also come as attributes of the record.
                    for attribute in e.attributes() {
                        let attribute = attribute
                            .map_err(|err| error(at(offset), format!("has a malformed attribute: {err}")))?;
                        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
                        let value = attribute
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|err| error(at(offset), format!("attribute `{key}`: {err}")))?;
                        started.columns.insert(key, Value::String(value.into_owned()));
                    }
                    record = Some(started);
                } else if record.is_some() && parent == Some("msdyn_dualwriteentitymap") {
                    column = Some((name.clone(), String::new()));
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = local_name(&e);
                if stack.is_empty() {
                    return Err(error(
                        at(offset),
                        format!(
                            "is not a customizations.xml: its root is <{name}>, expected <ImportExportXml>"
                        ),
                    ));
                }
                if record.is_some() && stack.last().map(String::as_str) == Some("msdyn_dualwriteentitymap") {
                    if let Some(r) = record.as_mut() {
                        r.columns.insert(name, Value::String(String::new()));
                    }
                }
            }
            Event::Text(t) => {
                if let Some((_, text)) = column.as_mut() {
                    let decoded = t
                        .xml10_content()
                        .map_err(|e| error(at(offset), format!("is not UTF-8 text: {e}")))?;
                    text.push_str(&decoded);
                }
            }
            Event::CData(t) => {
                if let Some((_, text)) = column.as_mut() {
                    let decoded =
                        t.decode().map_err(|e| error(at(offset), format!("is not UTF-8 text: {e}")))?;
                    text.push_str(&decoded);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let entity = r.decode().map_err(|e| error(at(offset), e.to_string()))?;
                        match quick_xml::escape::resolve_predefined_entity(&entity) {
                            Some(text) => text.to_owned(),
                            None => {
                                return Err(error(
                                    at(offset),
                                    format!("refers to the entity `&{entity};`, which XML does not predefine; refused"),
                                ))
                            }
                        }
                    }
                    Err(e) => return Err(error(at(offset), format!("has a bad character reference: {e}"))),
                };
                if let Some((_, text)) = column.as_mut() {
                    text.push_str(&resolved);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                if name == "msdyn_dualwriteentitymap"
                    && stack.last().map(String::as_str) == Some("msdyn_dualwriteentitymaps")
                {
                    if let Some(done) = record.take() {
                        maps.push(solution_map(done)?);
                    }
                } else if let (Some((column_name, _)), Some(r)) = (&column, record.as_mut()) {
                    if *column_name == name
                        && stack.last().map(String::as_str) == Some("msdyn_dualwriteentitymap")
                    {
                        if let Some((key, text)) = column.take() {
                            r.columns.insert(key, Value::String(text));
                        }
                    }
                }
            }
            Event::Eof => break,
            Event::DocType(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if stack.is_empty() && maps.is_empty() && reader.buffer_position() == 0 {
        return Err(error(place, "is empty"));
    }
    if !stack.is_empty() {
        return Err(error(
            format!("{place} {}", position(bytes, bytes.len() as u64)),
            format!(
                "ends before <{}> is closed; the file is truncated",
                stack.last().map(String::as_str).unwrap_or("")
            ),
        ));
    }
    Ok(maps)
}

/// The next event; a `DOCTYPE` (the only place entities are declared) is refused before anything in
/// it is read.
fn next_event<'a>(
    reader: &mut Reader<&'a [u8]>,
    place: &str,
    bytes: &[u8],
) -> Result<Event<'a>, SolutionError> {
    let offset = reader.buffer_position();
    let event = reader.read_event().map_err(|e| {
        error(
            format!("{place} {}", position(bytes, reader.error_position())),
            format!("is not well-formed XML: {e}"),
        )
    })?;
    if let Event::DocType(_) = event {
        return Err(error(
            format!("{place} {}", position(bytes, offset)),
            "has a DOCTYPE, which a solution's XML never has; refused (its entities could expand without bound)",
        ));
    }
    Ok(event)
}

/// The publisher's `UniqueName` in a `solution.xml` (`ImportExportXml/SolutionManifest/Publisher`).
fn publisher(place: &str, bytes: &[u8], limits: &Limits) -> Result<String, SolutionError> {
    const PATH: [&str; 4] = ["ImportExportXml", "SolutionManifest", "Publisher", "UniqueName"];
    let mut reader = Reader::from_reader(bytes);
    let mut stack: Vec<String> = Vec::new();
    let mut found = String::new();
    loop {
        match next_event(&mut reader, place, bytes)? {
            Event::Start(e) => {
                if stack.len() >= limits.max_xml_depth {
                    let at = format!("{place} {}", position(bytes, reader.buffer_position()));
                    return Err(error(at, format!("nests elements more than {} deep", limits.max_xml_depth)));
                }
                stack.push(local_name(&e));
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) if stack == PATH => {
                found.push_str(
                    &t.xml10_content().map_err(|e| error(place, format!("is not UTF-8 text: {e}")))?,
                );
            }
            Event::Eof => return Ok(found.trim().to_owned()),
            _ => {}
        }
    }
}

fn local_name(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

fn solution_map(record: Record) -> Result<SolutionMap, SolutionError> {
    let text = |k: &str| record.columns.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let name = text("msdyn_name");
    let label =
        if name.is_empty() { String::from("<msdyn_dualwriteentitymap>") } else { format!("map `{name}`") };
    let mapping = text("msdyn_mapping");
    if mapping.trim().is_empty() {
        return Err(error(&record.line, format!("{label} has no msdyn_mapping (its legs JSON)")));
    }
    let properties = match text("msdyn_properties") {
        t if t.trim().is_empty() => Map::new(),
        t => match serde_json::from_str::<Value>(&t) {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                return Err(error(&record.line, format!("{label}: msdyn_properties is not a JSON object")))
            }
            Err(e) => return Err(error(&record.line, format!("{label}: msdyn_properties is not JSON: {e}"))),
        },
    };
    let description = properties.get("Description").and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(SolutionMap {
        name,
        display_name: text("msdyn_displayname"),
        version: text("msdyn_version"),
        description,
        mapping,
        properties,
        publisher: String::new(),
        place: record.line,
    })
}

/// The solution a written zip declares itself as.
#[derive(Debug, Clone)]
pub struct SolutionInfo {
    /// `UniqueName`: letters, digits and underscores.
    pub unique_name: String,
    pub display_name: String,
    /// `major.minor.build.revision`.
    pub version: String,
    /// The publisher's `UniqueName`.
    pub publisher: String,
    /// The publisher's customization prefix.
    pub prefix: String,
}

impl Default for SolutionInfo {
    fn default() -> SolutionInfo {
        SolutionInfo {
            unique_name: "DualWriteMaps".to_owned(),
            display_name: "Dual-write table maps".to_owned(),
            version: "1.0.0.0".to_owned(),
            publisher: "dualwrite".to_owned(),
            prefix: "dw".to_owned(),
        }
    }
}

/// A map as a solution's table map record: the legs JSON of [`Package::to_ms_mapping`], the display
/// name, version and description. `msdyn_name` is `msdyn_[<Dataverse> - <finops>]`, from a name
/// written the way dual-write names maps (`Customers V3 (accounts)`), else from the tables.
pub fn solution_map_of(map: &TableMap) -> SolutionMap {
    let single = Package { maps: vec![map.clone()], ..Package::default() };
    let mapping = match single.to_ms_mapping() {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        other => other,
    };
    let name = match map.name.strip_suffix(')').and_then(|n| n.rsplit_once(" (")) {
        Some((label, set)) if !label.trim().is_empty() && !set.trim().is_empty() => {
            format!("msdyn_[{set} - {label}]")
        }
        _ => format!("msdyn_[{} - {}]", map.dataverse, map.finops),
    };
    let mut properties = Map::new();
    properties.insert("Description".into(), json!(map.description));
    properties.insert("IsDualWriteProject".into(), json!(true));
    SolutionMap {
        name,
        display_name: map.name.clone(),
        version: map.version.clone(),
        description: map.description.clone(),
        mapping: mapping.to_string(),
        properties,
        publisher: map.publisher.clone(),
        place: String::new(),
    }
}

/// A `customizations.xml` holding `maps`.
pub fn customizations_xml(maps: &[SolutionMap]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <ImportExportXml xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  \
         <Entities />\n  <Roles />\n  <Workflows />\n  <FieldSecurityProfiles />\n  <Templates />\n  \
         <EntityMaps />\n  <EntityRelationships />\n  <OrganizationSettings />\n  <optionsets />\n  \
         <CustomControls />\n  <EntityDataProviders />\n  <msdyn_dualwriteentitymaps>\n",
    );
    for map in maps {
        let properties = Value::Object(map.properties.clone()).to_string();
        xml.push_str(&format!(
            "    <msdyn_dualwriteentitymap msdyn_dualwriteentitymapid=\"{}\">\n      \
             <iscustomizable>1</iscustomizable>\n      \
             <msdyn_displayname>{}</msdyn_displayname>\n      \
             <msdyn_mapping>{}</msdyn_mapping>\n      \
             <msdyn_name>{}</msdyn_name>\n      \
             <msdyn_properties>{}</msdyn_properties>\n      \
             <msdyn_version>{}</msdyn_version>\n      \
             <statecode>0</statecode>\n      <statuscode>1</statuscode>\n    \
             </msdyn_dualwriteentitymap>\n",
            record_id(map),
            escape(&map.display_name),
            escape(&map.mapping),
            escape(&map.name),
            escape(&properties),
            escape(&map.version),
        ));
    }
    xml.push_str("  </msdyn_dualwriteentitymaps>\n  <Languages>\n    <Language>1033</Language>\n  </Languages>\n</ImportExportXml>\n");
    xml
}

/// Text as XML character data; a carriage return as a reference, since a reader turns a literal one
/// into a line feed.
fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).replace('\r', "&#13;")
}

/// A record id that stays the same for the same map name and version (FNV-1a, laid out as a GUID), so
/// exporting twice writes the same file.
fn record_id(map: &SolutionMap) -> String {
    let hash = |seed: u64| {
        format!("{}\u{0}{}", map.name, map.version)
            .bytes()
            .fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    format!(
        "{{{:08x}-{:04x}-{:04x}-{:04x}-{:012x}}}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// A solution's `solution.xml`: its manifest (unmanaged), publisher and no root components (table map
/// records are defined in `customizations.xml` alone).
pub fn solution_xml(info: &SolutionInfo) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<ImportExportXml version=\"9.2.0.0\" SolutionPackageVersion=\"9.2\" languagecode=\"1033\" generatedBy=\"CrmLive\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n  \
<SolutionManifest>\n    <UniqueName>{unique}</UniqueName>\n    <LocalizedNames>\n      \
<LocalizedName description=\"{display}\" languagecode=\"1033\" />\n    </LocalizedNames>\n    \
<Descriptions />\n    <Version>{version}</Version>\n    <Managed>0</Managed>\n    <Publisher>\n      \
<UniqueName>{publisher}</UniqueName>\n      <LocalizedNames>\n        \
<LocalizedName description=\"{publisher}\" languagecode=\"1033\" />\n      </LocalizedNames>\n      \
<Descriptions />\n      <EMailAddress xsi:nil=\"true\"></EMailAddress>\n      \
<SupportingWebsiteUrl xsi:nil=\"true\"></SupportingWebsiteUrl>\n      \
<CustomizationPrefix>{prefix}</CustomizationPrefix>\n      \
<CustomizationOptionValuePrefix>10000</CustomizationOptionValuePrefix>\n    </Publisher>\n    \
<RootComponents />\n    <MissingDependencies />\n  </SolutionManifest>\n</ImportExportXml>\n",
        unique = escape(&info.unique_name),
        display = escape(&info.display_name),
        version = escape(&info.version),
        publisher = escape(&info.publisher),
        prefix = escape(&info.prefix),
    )
}

/// A solution package's `[Content_Types].xml`.
pub const CONTENT_TYPES_XML: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/octet-stream\" /></Types>";

/// A solution zip (`solution.xml`, `[Content_Types].xml`, `customizations.xml`) holding `maps`, which
/// [`read`] reads back as they are; published by the maps' publisher when they share one.
pub fn write(info: &SolutionInfo, maps: &[SolutionMap]) -> std::io::Result<Vec<u8>> {
    let mut info = info.clone();
    if let Some(first) = maps.first().filter(|m| !m.publisher.is_empty()) {
        if maps.iter().all(|m| m.publisher == first.publisher) {
            info.publisher.clone_from(&first.publisher);
        }
    }
    let info = &info;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in [
        ("solution.xml", solution_xml(info)),
        ("customizations.xml", customizations_xml(maps)),
        ("[Content_Types].xml", CONTENT_TYPES_XML.to_owned()),
    ] {
        zip.start_file(name, options).map_err(std::io::Error::other)?;
        zip.write_all(text.as_bytes())?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// A solution zip of a package's maps (see [`write`]).
pub fn write_package(info: &SolutionInfo, package: &Package) -> std::io::Result<Vec<u8>> {
    let maps: Vec<SolutionMap> = package.maps.iter().map(solution_map_of).collect();
    write(info, &maps)
}

#[cfg(test)]
mod tests;
