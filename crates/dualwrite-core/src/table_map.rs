//! Table maps: which finops entity pairs with which Dataverse table, field by field, in which
//! direction, through which transforms, under which filters.
//!
//! Value maps are always written finops value → Dataverse value (`{"no": "False", "yes": "True"}`),
//! whatever the direction; a mapping towards finops reads them backwards.

mod changes;
mod read;
mod transform;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use changes::{changes, Change};
pub(crate) use read::{table_map as read_map, transform as read_transform};
pub use transform::{Transform, ValueMap};

use crate::document::DocumentError;
use crate::schema::{Schema, Side, UnknownTable};

/// A table map, as packages and the API carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableMap {
    pub name: String,
    /// `major.minor.build.revision`; kept as written so a draft with a bad version still loads (the
    /// validation reports it, see [`TableMap::parsed_version`]).
    pub version: String,
    pub publisher: String,
    /// What the map is for, in its author's words (a solution's `msdyn_properties` `Description`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The finops entity.
    pub finops: String,
    /// The Dataverse table.
    pub dataverse: String,
    pub fields: Vec<FieldMapping>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finops_filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataverse_filter: Option<String>,
}

impl TableMap {
    /// Reads one map (the package map shape) from JSON text, every problem reported with its path.
    pub fn from_json(text: &str) -> Result<TableMap, DocumentError> {
        TableMap::from_value(&crate::document::parse_json(text)?)
    }

    /// Reads one map from a JSON value.
    pub fn from_value(value: &Value) -> Result<TableMap, DocumentError> {
        let mut problems = crate::document::Problems::default();
        let map = read::table_map(value, "", &[], &mut problems);
        problems.finish(map.unwrap_or_else(TableMap::empty))
    }

    /// The map as JSON (the package map shape).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    fn empty() -> TableMap {
        TableMap {
            name: String::new(),
            version: String::new(),
            publisher: String::new(),
            description: String::new(),
            finops: String::new(),
            dataverse: String::new(),
            fields: Vec::new(),
            finops_filter: None,
            dataverse_filter: None,
        }
    }

    /// The version, parsed.
    pub fn parsed_version(&self) -> Result<MapVersion, VersionError> {
        self.version.parse()
    }

    /// The table of one side.
    pub fn table(&self, side: Side) -> &str {
        match side {
            Side::Finops => &self.finops,
            Side::Dataverse => &self.dataverse,
        }
    }

    /// The filter on one side's rows.
    pub fn filter(&self, side: Side) -> Option<&str> {
        match side {
            Side::Finops => self.finops_filter.as_deref(),
            Side::Dataverse => self.dataverse_filter.as_deref(),
        }
        .filter(|f| !f.trim().is_empty())
    }

    /// Names both tables by their names in `schema`, where the map names them by an alias (a Dataverse
    /// entity set, a finops label or public collection name; see [`Schema::resolve`]), which is how
    /// maps are stored. Names that resolve to nothing are left as written (validation reports them
    /// with the closest tables) and returned.
    pub fn resolve_tables(&mut self, schema: &Schema) -> Vec<UnknownTable> {
        let mut unknown = Vec::new();
        for side in Side::BOTH {
            let name = match side {
                Side::Finops => &mut self.finops,
                Side::Dataverse => &mut self.dataverse,
            };
            match schema.resolve(side, name) {
                Ok(table) => table.name.clone_into(name),
                Err(e) => unknown.push(e),
            }
        }
        unknown
    }

    /// Whether any field flows in both directions (then every key field must, DIPV1004).
    pub fn is_bidirectional(&self) -> bool {
        self.fields.iter().any(|f| f.direction == Direction::Both)
    }
}

/// Which way a field flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    ToDataverse,
    ToFinops,
    Both,
}

impl Direction {
    /// Every direction, in the order a shared map draft numbers them (links in the wild hold these
    /// numbers: never reorder).
    pub const ALL: [Direction; 3] = [Direction::Both, Direction::ToDataverse, Direction::ToFinops];

    /// Whether values flow into `side`.
    pub fn writes(self, side: Side) -> bool {
        match self {
            Direction::Both => true,
            Direction::ToDataverse => side == Side::Dataverse,
            Direction::ToFinops => side == Side::Finops,
        }
    }

    /// Whether values flow out of `side`.
    pub fn reads(self, side: Side) -> bool {
        self.writes(side.other())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToDataverse => "to_dataverse",
            Direction::ToFinops => "to_finops",
            Direction::Both => "both",
        }
    }
}

impl FromStr for Direction {
    type Err = String;

    fn from_str(s: &str) -> Result<Direction, String> {
        match s {
            "to_dataverse" => Ok(Direction::ToDataverse),
            "to_finops" => Ok(Direction::ToFinops),
            "both" => Ok(Direction::Both),
            other => Err(format!("unknown direction `{other}`; expected to_dataverse, to_finops or both")),
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field of a map: a finops column, a Dataverse column or dotted lookup path, a direction and the
/// transforms. Either side may be `None` when a `Default` transform supplies the value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldMapping {
    pub finops: Option<String>,
    pub dataverse: Option<String>,
    pub direction: Direction,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<Transform>,
}

impl FieldMapping {
    /// A mapping without transforms.
    pub fn new(finops: &str, dataverse: &str, direction: Direction) -> FieldMapping {
        FieldMapping {
            finops: Some(finops.to_owned()),
            dataverse: Some(dataverse.to_owned()),
            direction,
            transforms: Vec::new(),
        }
    }

    /// The field on one side.
    pub fn field(&self, side: Side) -> Option<&str> {
        match side {
            Side::Finops => self.finops.as_deref(),
            Side::Dataverse => self.dataverse.as_deref(),
        }
    }

    /// The first value map, if any.
    pub fn value_map(&self) -> Option<&ValueMap> {
        self.transforms.iter().find_map(|t| match t {
            Transform::ValueMap { value_map } => Some(value_map),
            Transform::Default { .. } => None,
        })
    }

    /// The first default value, if any.
    pub fn default_value(&self) -> Option<&Value> {
        self.transforms.iter().find_map(|t| match t {
            Transform::Default { default_value } => Some(default_value),
            Transform::ValueMap { .. } => None,
        })
    }

    /// The studio's icon for this mapping (finops on the left, Dataverse on the right): `=` both,
    /// `><` both with transforms, `>` and `<` one way, `→` and `←` one way with transforms.
    pub fn icon(&self) -> &'static str {
        let transformed = !self.transforms.is_empty();
        match (self.direction, transformed) {
            (Direction::Both, false) => "=",
            (Direction::Both, true) => "><",
            (Direction::ToDataverse, false) => ">",
            (Direction::ToFinops, false) => "<",
            (Direction::ToDataverse, true) => "→",
            (Direction::ToFinops, true) => "←",
        }
    }

    /// `finops ↔ dataverse` for messages (`none` for a missing side).
    pub fn label(&self) -> String {
        format!(
            "{} {} {}",
            self.finops.as_deref().unwrap_or("none"),
            self.icon(),
            self.dataverse.as_deref().unwrap_or("none")
        )
    }
}

/// A map version `major.minor.build.revision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MapVersion {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
    pub revision: u32,
}

/// A version string that is not `major.minor.build.revision`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("version `{found}` is not major.minor.build.revision (four whole numbers, e.g. 1.0.0.1)")]
pub struct VersionError {
    pub found: String,
}

impl FromStr for MapVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<MapVersion, VersionError> {
        let error = || VersionError { found: s.to_owned() };
        let parts: Vec<u32> = s
            .split('.')
            .map(|p| {
                if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
                    Err(error())
                } else {
                    p.parse().map_err(|_| error())
                }
            })
            .collect::<Result<_, _>>()?;
        match parts[..] {
            [major, minor, build, revision] => Ok(MapVersion { major, minor, build, revision }),
            _ => Err(error()),
        }
    }
}

impl fmt::Display for MapVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}.{}", self.major, self.minor, self.build, self.revision)
    }
}

#[cfg(test)]
mod tests;
