//! The streaming pass over a CSDL document: the parts of it that become tables, kept small (entity
//! types with their keys, properties, navigation properties and alternate keys; enum types; entity
//! sets). Everything else (actions, functions, complex types, terms) is passed over.
//!
//! Bounded: the input stops at [`MAX_DOCUMENT_BYTES`], elements nest at most [`MAX_DEPTH`] deep, and
//! a `<!DOCTYPE>` is refused, so no entity is ever declared, let alone expanded.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::CsdlError;

/// The largest document read: real `$metadata` documents are 3–50 MB.
pub const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;
/// How deep elements may nest; CSDL nests about ten levels.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Default)]
pub(super) struct Document {
    /// `(namespace, alias)` of every `Schema` element.
    pub namespaces: Vec<(String, Option<String>)>,
    pub entity_types: Vec<EntityType>,
    /// Enum type name → member names, in document order.
    pub enum_types: HashMap<String, Vec<String>>,
    /// `(entity set, entity type)`, the type as written (qualified).
    pub entity_sets: Vec<(String, String)>,
    /// Alternate keys given in `<Annotations Target="…">` blocks outside the type: target → keys.
    pub annotated_keys: HashMap<String, Vec<Vec<String>>>,
}

#[derive(Debug, Default)]
pub(super) struct EntityType {
    pub name: String,
    pub base: Option<String>,
    pub is_abstract: bool,
    pub key: Vec<String>,
    pub properties: Vec<Property>,
    pub navigations: Vec<Navigation>,
    pub alternate_keys: Vec<Vec<String>>,
}

#[derive(Debug, Default)]
pub(super) struct Property {
    pub name: String,
    pub ty: String,
    pub max_length: Option<String>,
    pub nullable: Option<bool>,
}

#[derive(Debug, Default)]
pub(super) struct Navigation {
    pub ty: String,
    /// `(Property, ReferencedProperty)` of each referential constraint.
    pub constraints: Vec<(String, String)>,
}

/// Counts lines as the XML reader consumes bytes, and stops at the size limit.
struct Counting<R> {
    inner: R,
    consumed: u64,
    line: u64,
    limit: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed >= self.limit {
            return Err(io::Error::other(format!(
                "the document is larger than {} MiB, more than any $metadata document",
                self.limit / (1024 * 1024)
            )));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buffer) = self.inner.fill_buf() {
            let end = amount.min(buffer.len());
            self.line += buffer[..end].iter().filter(|b| **b == b'\n').count() as u64;
        }
        self.consumed += amount as u64;
        self.inner.consume(amount);
    }
}

/// Where the reader is inside the elements it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Within {
    Other,
    EntityType,
    Key,
    Navigation,
    EnumType,
    Container,
    /// An `OData.Community.Keys.V1.AlternateKeys` annotation (of the current type, or of `Annotations`).
    AlternateKeys,
    Annotations,
}

struct Parser {
    doc: Document,
    /// What each open element is, innermost last.
    stack: Vec<Within>,
    current: Option<EntityType>,
    current_enum: Option<(String, Vec<String>)>,
    /// The target of the open `<Annotations>` block.
    annotations_target: Option<String>,
    /// The alternate keys of the open annotation, the last one being filled.
    keys: Vec<Vec<String>>,
}

/// Reads the parts of a CSDL document that describe tables.
pub(super) fn document(input: impl BufRead, limit: u64) -> Result<Document, CsdlError> {
    let counting = Counting { inner: input, consumed: 0, line: 1, limit };
    let mut reader = Reader::from_reader(counting);
    reader.config_mut().check_end_names = true;
    let mut parser = Parser {
        doc: Document::default(),
        stack: Vec::new(),
        current: None,
        current_enum: None,
        annotations_target: None,
        keys: Vec::new(),
    };
    let mut buf = Vec::new();
    let mut saw_root = false;
    loop {
        let line = reader.get_ref().line;
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                let line = reader.get_ref().line;
                return Err(CsdlError::at(line, format!("not well-formed XML: {e}")));
            }
        };
        match event {
            Event::Start(e) => {
                saw_root = true;
                let within = parser.open(&e, line)?;
                parser.stack.push(within);
                if parser.stack.len() > MAX_DEPTH {
                    return Err(CsdlError::at(line, format!("elements nest deeper than {MAX_DEPTH} levels")));
                }
            }
            Event::Empty(e) => {
                saw_root = true;
                let within = parser.open(&e, line)?;
                parser.close(within);
            }
            Event::End(_) => {
                let within = parser.stack.pop().unwrap_or(Within::Other);
                parser.close(within);
            }
            Event::DocType(_) => return Err(CsdlError::at(
                line,
                "a DOCTYPE is not allowed: $metadata documents declare no DTD, and entities are not expanded",
            )),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !saw_root {
        return Err(CsdlError::whole(
            "no XML element in the document; expected an OData $metadata (edmx:Edmx) document",
        ));
    }
    if !parser.stack.is_empty() {
        let line = reader.get_ref().line;
        return Err(CsdlError::at(line, "the document ends inside an element: it is truncated"));
    }
    Ok(parser.doc)
}

/// The value of attribute `name` of `e`, unescaped.
fn attribute(e: &BytesStart<'_>, name: &str, line: u64) -> Result<Option<String>, CsdlError> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| CsdlError::at(line, format!("a malformed attribute: {err}")))?;
        if attr.key.local_name().as_ref() == name.as_bytes() {
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| CsdlError::at(line, format!("attribute {name}: {err}")))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

impl Parser {
    fn parent(&self) -> Within {
        self.stack.last().copied().unwrap_or(Within::Other)
    }

    /// Handles an opening (or empty) element; returns what it is for the stack.
    fn open(&mut self, e: &BytesStart<'_>, line: u64) -> Result<Within, CsdlError> {
        let local = e.local_name();
        let name = local.as_ref();
        let attr = |n: &str| attribute(e, n, line);
        let required = |n: &str, what: &str| -> Result<String, CsdlError> {
            attribute(e, n, line)?
                .ok_or_else(|| CsdlError::at(line, format!("{what} without a {n} attribute")))
        };
        let parent = self.parent();
        Ok(match (parent, name) {
            (_, b"Schema") => {
                let namespace = required("Namespace", "a Schema")?;
                self.doc.namespaces.push((namespace, attr("Alias")?));
                Within::Other
            }
            (Within::Other, b"EntityType") => {
                self.current = Some(EntityType {
                    name: required("Name", "an EntityType")?,
                    base: attr("BaseType")?,
                    is_abstract: attr("Abstract")?.is_some_and(|a| a == "true"),
                    ..EntityType::default()
                });
                Within::EntityType
            }
            (Within::EntityType, b"Key") => Within::Key,
            (Within::Key, b"PropertyRef") => {
                let name = required("Name", "a key PropertyRef")?;
                if let Some(t) = &mut self.current {
                    t.key.push(name);
                }
                Within::Other
            }
            (Within::EntityType, b"Property") => {
                let property = Property {
                    name: required("Name", "a Property")?,
                    ty: required("Type", "a Property")?,
                    max_length: attr("MaxLength")?,
                    nullable: attr("Nullable")?.map(|n| n != "false"),
                };
                if let Some(t) = &mut self.current {
                    t.properties.push(property);
                }
                Within::Other
            }
            (Within::EntityType, b"NavigationProperty") => {
                let ty = required("Type", "a NavigationProperty")?;
                if let Some(t) = &mut self.current {
                    t.navigations.push(Navigation { ty, constraints: Vec::new() });
                }
                Within::Navigation
            }
            (Within::Navigation, b"ReferentialConstraint") => {
                let property = required("Property", "a ReferentialConstraint")?;
                let referenced = required("ReferencedProperty", "a ReferentialConstraint")?;
                if let Some(n) = self.current.as_mut().and_then(|t| t.navigations.last_mut()) {
                    n.constraints.push((property, referenced));
                }
                Within::Other
            }
            (Within::Other, b"EnumType") => {
                self.current_enum = Some((required("Name", "an EnumType")?, Vec::new()));
                Within::EnumType
            }
            (Within::EnumType, b"Member") => {
                let member = required("Name", "an enum Member")?;
                if let Some((_, members)) = &mut self.current_enum {
                    members.push(member);
                }
                Within::Other
            }
            (Within::Other, b"EntityContainer") => Within::Container,
            (Within::Container, b"EntitySet") => {
                let set = required("Name", "an EntitySet")?;
                let ty = required("EntityType", "an EntitySet")?;
                self.doc.entity_sets.push((set, ty));
                Within::Other
            }
            (Within::Other, b"Annotations") => {
                self.annotations_target = Some(required("Target", "an Annotations block")?);
                Within::Annotations
            }
            (Within::EntityType | Within::Annotations, b"Annotation") => {
                let term = attr("Term")?.unwrap_or_default();
                if term.ends_with("Keys.V1.AlternateKeys") || term == "Keys.AlternateKeys" {
                    self.keys.clear();
                    Within::AlternateKeys
                } else {
                    Within::Other
                }
            }
            (Within::AlternateKeys, b"Record") => {
                if attr("Type")?.is_some_and(|t| t.ends_with("AlternateKey")) {
                    self.keys.push(Vec::new());
                }
                Within::AlternateKeys
            }
            (Within::AlternateKeys, b"PropertyValue") => {
                if attr("Property")?.as_deref() == Some("Name") {
                    if let (Some(path), Some(key)) = (attr("PropertyPath")?, self.keys.last_mut()) {
                        key.push(path);
                    }
                }
                Within::AlternateKeys
            }
            (Within::AlternateKeys, _) => Within::AlternateKeys,
            _ => Within::Other,
        })
    }

    /// Handles the end of an element that was [`Parser::open`]ed as `within`.
    fn close(&mut self, within: Within) {
        // Only the element that opened a context ends it: nested elements inside an annotation are
        // marked `AlternateKeys` too, so the annotation ends when its parent is no longer one.
        match within {
            Within::EntityType => {
                if let Some(t) = self.current.take() {
                    self.doc.entity_types.push(t);
                }
            }
            Within::EnumType => {
                if let Some((name, members)) = self.current_enum.take() {
                    self.doc.enum_types.insert(name, members);
                }
            }
            Within::Annotations => self.annotations_target = None,
            Within::AlternateKeys if self.parent() != Within::AlternateKeys => {
                let keys: Vec<Vec<String>> =
                    std::mem::take(&mut self.keys).into_iter().filter(|k| !k.is_empty()).collect();
                match (self.parent(), &mut self.current, &self.annotations_target) {
                    (Within::EntityType, Some(t), _) => t.alternate_keys.extend(keys),
                    (Within::Annotations, _, Some(target)) => {
                        self.doc.annotated_keys.entry(target.clone()).or_default().extend(keys)
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}
