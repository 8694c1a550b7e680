//! A finance-and-operations data package: a zip holding `Manifest.xml` (the entities, in the
//! `DataManagementPackageManifest` shape the data management framework writes), `PackageHeader.xml`,
//! and one file per entity. Both XML files are UTF-16 with a byte-order mark or UTF-8; entity files
//! are CSV (UTF-8, or UTF-16 for `CSV-Unicode`) or Excel workbooks (`.xlsx`).
//!
//! Entries are read as they inflate, counted against [`Limits::max_entry_bytes`] and
//! [`Limits::max_ratio`], so a zip bomb stops early; the XML is read without a `DOCTYPE` (so no entity
//! is ever expanded) and its depth is bounded.

use std::io::{self, Read, Seek};

use dualwrite_core::schema::{Schema, Table};
use quick_xml::events::Event;
use quick_xml::Reader;

use super::{ExportError, Format, Limits, Rows};

/// The manifest's namespace.
pub const NAMESPACE: &str = "http://schemas.microsoft.com/dynamics/2015/01/DataManagement";

/// An opened data package.
pub struct Package<R: Read + Seek> {
    place: String,
    archive: zip::ZipArchive<R>,
    /// `DefinitionGroupName` of the manifest: the data project the package was exported from.
    pub definition_group: String,
    /// The entities the manifest lists, in its order.
    pub entities: Vec<PackageEntity>,
    limits: Limits,
}

/// One `<DataManagementPackageEntityData>` of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageEntity {
    /// `EntityName`: the entity's label (`Customers V3`), which names its table.
    pub name: String,
    /// The zip entry holding its rows (from `InputFilePath`/`SourceFilePath`, else `<EntityName>.csv`).
    pub file: String,
    /// `SourceFormat` (`CSV-Unicode`, `CSV`, `XML-Element`, `Package`...).
    pub source_format: String,
    /// `DefaultRefreshType` (`FullPush`, `IncrementalPush`).
    pub refresh_type: String,
    /// `<Disable>true</Disable>`: the entity is in the project but left out.
    pub disabled: bool,
    index: Option<usize>,
}

impl PackageEntity {
    /// Where its rows are: `package.zip › Customers V3.csv`.
    pub fn place(&self, package: &str) -> String {
        format!("{package} › {}", self.file)
    }
}

fn at(place: &str, message: impl Into<String>) -> ExportError {
    ExportError::file(place, message)
}

impl<R: Read + Seek> Package<R> {
    /// Opens the zip and reads its manifest (and checks its package header).
    pub fn open(place: &str, input: R, limits: &Limits) -> Result<Package<R>, ExportError> {
        let mut archive = zip::ZipArchive::new(input).map_err(|e| {
            at(place, format!("is not a readable zip ({e}); it may be truncated: its table of contents, at the end, is missing or damaged"))
        })?;
        if archive.len() > limits.max_entries {
            return Err(at(
                place,
                format!("has {} entries; at most {} are read", archive.len(), limits.max_entries),
            ));
        }
        let names: Vec<String> =
            (0..archive.len()).map(|i| archive.name_for_index(i).unwrap_or_default().to_owned()).collect();
        let find = |wanted: &str| {
            names.iter().position(|n| n.trim_start_matches(['/', '\\']).eq_ignore_ascii_case(wanted))
        };
        let manifest_index = find("Manifest.xml").ok_or_else(|| {
            at(place, "has no Manifest.xml: a finance-and-operations data package lists its entities there")
        })?;
        let manifest_place = format!("{place} › {}", names[manifest_index]);
        let manifest = read_xml_entry(&mut archive, manifest_index, &manifest_place, limits)?;
        if let Some(index) = find("PackageHeader.xml") {
            let header_place = format!("{place} › {}", names[index]);
            let header = read_xml_entry(&mut archive, index, &header_place, limits)?;
            let header = parse(&header_place, &header, limits, "DataManagementPackageHeader", &[])?;
            drop(header);
        }
        let parsed = parse(
            &manifest_place,
            &manifest,
            limits,
            "DataManagementPackageManifest",
            &["DataManagementPackageEntityData"],
        )?;
        let mut entities = Vec::new();
        for record in parsed.records {
            let field = |name: &str| {
                record
                    .fields
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.trim().to_owned())
                    .unwrap_or_default()
            };
            let name = field("EntityName");
            if name.is_empty() {
                return Err(at(
                    &format!("{manifest_place} line {}", record.line),
                    "<DataManagementPackageEntityData> has no <EntityName>",
                ));
            }
            let given = [field("InputFilePath"), field("SourceFilePath")].into_iter().find(|f| !f.is_empty());
            let index = match &given {
                Some(path) => {
                    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
                    names.iter().position(|n| {
                        n.rsplit(['/', '\\']).next().is_some_and(|b| b.eq_ignore_ascii_case(base))
                    })
                }
                None => [format!("{name}.csv"), format!("{name}.xlsx")].iter().find_map(|f| find(f)),
            };
            let file = match index {
                Some(i) => names[i].clone(),
                None => given.clone().unwrap_or_else(|| format!("{name}.csv")),
            };
            entities.push(PackageEntity {
                name,
                file,
                source_format: field("SourceFormat"),
                refresh_type: field("DefaultRefreshType"),
                disabled: field("Disable").eq_ignore_ascii_case("true"),
                index,
            });
        }
        if entities.is_empty() {
            return Err(at(&manifest_place, "lists no entity (no <DataManagementPackageEntityData>)"));
        }
        Ok(Package {
            place: place.to_owned(),
            archive,
            definition_group: parsed.definition_group,
            entities,
            limits: *limits,
        })
    }

    /// The rows of one entity's file, as rows of `table`.
    pub fn rows<'p>(
        &'p mut self,
        entity: &PackageEntity,
        schema: &Schema,
        table: &Table,
    ) -> Result<Rows<'p>, ExportError> {
        let place = entity.place(&self.place);
        let index = entity.index.ok_or_else(|| {
            at(
                &place,
                format!("is named by the manifest for entity `{}` but is not in the package", entity.name),
            )
        })?;
        let lower = entity.file.to_ascii_lowercase();
        if lower.ends_with(".xml") {
            return Err(at(
                &place,
                "is XML; entity files are read as CSV or Excel (export the data project as CSV, CSV-Unicode or EXCEL)",
            ));
        }
        let format = if lower.ends_with(".xlsx") { Format::Xlsx } else { Format::Csv };
        let limits = self.limits;
        let file = self.archive.by_index(index).map_err(|e| broken(&place, e))?;
        if file.encrypted() {
            return Err(at(&place, "is encrypted"));
        }
        let compressed = file.compressed_size();
        let inflating = Inflating { input: file, read: 0, compressed, limits, place: place.clone() };
        Rows::open(&place, inflating, format, schema, table, &limits)
    }
}

fn broken(place: &str, e: impl std::fmt::Display) -> ExportError {
    at(place, format!("cannot be read ({e}); the zip is truncated or damaged here"))
}

/// An entry as it inflates, refused once it passes the limits: never more, whatever the zip declares.
struct Inflating<F> {
    input: F,
    read: u64,
    compressed: u64,
    limits: Limits,
    place: String,
}

impl<F: Read> Read for Inflating<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(buf)?;
        self.read += n as u64;
        if self.read > self.limits.max_entry_bytes {
            return Err(io::Error::other(format!(
                "{} inflates to more than {} GiB; refused (a zip bomb?)",
                self.place,
                self.limits.max_entry_bytes >> 30
            )));
        }
        if self.read > 16 << 20 && self.read / self.compressed.max(1) > self.limits.max_ratio {
            return Err(io::Error::other(format!(
                "{} inflates to more than {} times its compressed size; refused (a zip bomb?)",
                self.place, self.limits.max_ratio
            )));
        }
        Ok(n)
    }
}

/// An XML entry's text: at most the manifest limit, decoded from UTF-16 when it starts with its mark.
fn read_xml_entry<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    index: usize,
    place: &str,
    limits: &Limits,
) -> Result<String, ExportError> {
    let file = archive.by_index(index).map_err(|e| broken(place, e))?;
    if file.encrypted() {
        return Err(at(place, "is encrypted"));
    }
    let mut bytes = Vec::new();
    file.take(limits.max_manifest_bytes + 1).read_to_end(&mut bytes).map_err(|e| broken(place, e))?;
    if bytes.len() as u64 > limits.max_manifest_bytes {
        return Err(at(place, format!("is larger than {} MiB; refused", limits.max_manifest_bytes >> 20)));
    }
    decode(place, &bytes)
}

/// XML bytes as text: UTF-16 (little or big endian) with a byte-order mark, else UTF-8.
pub fn decode(place: &str, bytes: &[u8]) -> Result<String, ExportError> {
    let (encoding, skip) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, skip)) => (encoding, skip),
        None => (encoding_rs::UTF_8, 0),
    };
    let (text, malformed) = encoding.decode_without_bom_handling(&bytes[skip..]);
    if malformed {
        return Err(at(place, format!("is not {} text", encoding.name())));
    }
    Ok(text.into_owned())
}

struct Parsed {
    definition_group: String,
    records: Vec<Record>,
}

struct Record {
    line: usize,
    fields: Vec<(String, String)>,
}

/// Reads `text`, whose root must be `<root>`, keeping the simple children of each `record` element
/// (and `DefinitionGroupName`).
fn parse(
    place: &str,
    text: &str,
    limits: &Limits,
    root: &str,
    record_names: &[&str],
) -> Result<Parsed, ExportError> {
    let mut reader = Reader::from_str(text);
    let line_of = |offset: u64| {
        text.as_bytes()[..usize::try_from(offset).unwrap_or(usize::MAX).min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    };
    let mut stack: Vec<String> = Vec::new();
    let mut parsed = Parsed { definition_group: String::new(), records: Vec::new() };
    let mut record: Option<Record> = None;
    let mut field: Option<(String, String)> = None;
    loop {
        let offset = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            at(
                &format!("{place} line {}", line_of(reader.error_position())),
                format!("is not well-formed XML: {e}"),
            )
        })?;
        let here = || format!("{place} line {}", line_of(offset));
        match event {
            Event::DocType(_) => {
                return Err(at(&here(), "has a DOCTYPE, which a data package's XML never has; refused (its entities could expand without bound)"));
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.is_empty() && name != root {
                    return Err(at(
                        &here(),
                        format!(
                            "is not a data package's {}: its root is <{name}>, expected <{root}>",
                            place.rsplit(" › ").next().unwrap_or(place)
                        ),
                    ));
                }
                if stack.len() >= limits.max_xml_depth {
                    return Err(at(
                        &here(),
                        format!("nests elements more than {} deep", limits.max_xml_depth),
                    ));
                }
                if record_names.contains(&name.as_str()) {
                    record = Some(Record { line: line_of(offset), fields: Vec::new() });
                } else if (record.is_some()
                    && stack.last().is_some_and(|p| record_names.contains(&p.as_str())))
                    || (stack.len() == 1 && name == "DefinitionGroupName")
                {
                    field = Some((name.clone(), String::new()));
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if stack.is_empty() {
                    return Err(at(
                        &here(),
                        format!("is not a data package's XML: its root is <{name}>, expected <{root}>"),
                    ));
                }
            }
            Event::Text(t) => {
                if let Some((_, value)) = field.as_mut() {
                    let decoded = t.xml10_content().map_err(|e| at(&here(), format!("has bad text: {e}")))?;
                    value.push_str(&decoded);
                }
            }
            Event::CData(t) => {
                if let Some((_, value)) = field.as_mut() {
                    value.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let entity = r.decode().map_err(|e| at(&here(), e.to_string()))?;
                        match quick_xml::escape::resolve_predefined_entity(&entity) {
                            Some(text) => text.to_owned(),
                            None => return Err(at(&here(), format!("refers to the entity `&{entity};`, which XML does not predefine; refused"))),
                        }
                    }
                    Err(e) => return Err(at(&here(), format!("has a bad character reference: {e}"))),
                };
                if let Some((_, value)) = field.as_mut() {
                    value.push_str(&resolved);
                }
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                if field.as_ref().is_some_and(|(f, _)| *f == name) {
                    if let Some((key, value)) = field.take() {
                        match record.as_mut() {
                            Some(r) => r.fields.push((key, value)),
                            None => parsed.definition_group = value.trim().to_owned(),
                        }
                    }
                } else if record_names.contains(&name.as_str()) {
                    parsed.records.extend(record.take());
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if stack.is_empty() && parsed.records.is_empty() && reader.buffer_position() == 0 {
        return Err(at(place, "is empty"));
    }
    if let Some(open) = stack.last() {
        return Err(at(place, format!("ends before <{open}> is closed; the file is truncated")));
    }
    Ok(parsed)
}
