//! Columns, their types, and the check of one value against a column type (with normalisation).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::document::type_name;

/// A column's type. `enum` is a finops enumeration (symbols), `option` a Dataverse choice (integers),
/// `lookup` a Dataverse reference to another table's row (the row stores the target's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ColumnType {
    String {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    Integer,
    Decimal,
    Boolean,
    Date,
    Datetime,
    Guid,
    Enum {
        values: Vec<String>,
    },
    Option {
        values: Vec<i64>,
    },
    Lookup {
        target: String,
    },
}

impl ColumnType {
    /// The type's name as the schema document writes it.
    pub fn name(&self) -> &'static str {
        match self {
            ColumnType::String { .. } => "string",
            ColumnType::Integer => "integer",
            ColumnType::Decimal => "decimal",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
            ColumnType::Datetime => "datetime",
            ColumnType::Guid => "guid",
            ColumnType::Enum { .. } => "enum",
            ColumnType::Option { .. } => "option",
            ColumnType::Lookup { .. } => "lookup",
        }
    }

    /// Checks a non-null value against this type and returns its canonical form: decimals and integers
    /// given as strings become numbers, enum symbols take the schema's spelling, booleans given as
    /// `"True"` become `true`, GUIDs are lowercased. Null is not checked here (see [`Column::check_value`]).
    pub fn check_value(&self, value: &Value) -> Result<Value, ValueError> {
        self.check(value).map(Cow::into_owned)
    }

    /// [`ColumnType::check_value`] without copying a value that is already canonical (the common case
    /// when many rows are mapped).
    pub fn check<'v>(&self, value: &'v Value) -> Result<Cow<'v, Value>, ValueError> {
        let wrong = || ValueError::WrongType { expected: self.describe(), found: found(value) };
        let same = Cow::Borrowed(value);
        match self {
            ColumnType::String { max_length } => {
                let s = match value {
                    Value::String(s) => s,
                    _ => return Err(wrong()),
                };
                match max_length {
                    // Only text longer than `max` bytes can hold more than `max` characters.
                    Some(max) if s.len() > *max as usize && s.chars().count() > *max as usize => {
                        Err(ValueError::TooLong { max: *max, length: s.chars().count(), value: s.clone() })
                    }
                    _ => Ok(same),
                }
            }
            ColumnType::Integer => match value {
                Value::Number(n) if n.is_i64() => Ok(same),
                _ => integer(value).map(|n| Cow::Owned(Value::from(n))).ok_or_else(wrong),
            },
            ColumnType::Decimal => match value {
                Value::Number(_) => Ok(same),
                _ => decimal(value).map(Cow::Owned).ok_or_else(wrong),
            },
            ColumnType::Boolean => match value {
                Value::Bool(_) => Ok(same),
                _ => boolean(value).map(|b| Cow::Owned(Value::Bool(b))).ok_or_else(wrong),
            },
            ColumnType::Date => match value {
                Value::String(s) if is_date(s) => Ok(same),
                _ => Err(wrong()),
            },
            ColumnType::Datetime => match value {
                Value::String(s) if is_datetime(s) => Ok(same),
                _ => Err(wrong()),
            },
            ColumnType::Guid | ColumnType::Lookup { .. } => match value {
                Value::String(s) => match guid(s) {
                    Some(g) if g == *s => Ok(same),
                    Some(g) => Ok(Cow::Owned(Value::String(g))),
                    None => Err(wrong()),
                },
                _ => Err(wrong()),
            },
            ColumnType::Enum { values } => {
                let symbol = match value {
                    Value::String(s) => s.trim(),
                    _ => return Err(wrong()),
                };
                match values.iter().find(|v| v.eq_ignore_ascii_case(symbol)) {
                    Some(v) if v == symbol && symbol.len() == value.as_str().map_or(0, str::len) => Ok(same),
                    Some(v) => Ok(Cow::Owned(Value::String(v.clone()))),
                    None => Err(ValueError::NotInEnum { value: symbol.to_owned(), allowed: values.clone() }),
                }
            }
            ColumnType::Option { values } => {
                let n = integer(value).ok_or_else(wrong)?;
                if !values.contains(&n) {
                    Err(ValueError::NotAnOption { value: n, allowed: values.clone() })
                } else if value.is_i64() {
                    Ok(same)
                } else {
                    Ok(Cow::Owned(Value::from(n)))
                }
            }
        }
    }

    /// What a value of this type looks like, for messages.
    pub fn describe(&self) -> String {
        match self {
            ColumnType::String { max_length: Some(max) } => format!("a string of at most {max} characters"),
            ColumnType::String { max_length: None } => "a string".to_owned(),
            ColumnType::Integer => "an integer".to_owned(),
            ColumnType::Decimal => "a decimal number".to_owned(),
            ColumnType::Boolean => "true or false".to_owned(),
            ColumnType::Date => "a date (yyyy-mm-dd)".to_owned(),
            ColumnType::Datetime => "a date and time (yyyy-mm-ddThh:mm:ss, optional zone)".to_owned(),
            ColumnType::Guid => "a GUID".to_owned(),
            ColumnType::Lookup { target } => format!("the GUID of a {target} row"),
            ColumnType::Enum { values } => format!("one of {}", values.join(", ")),
            ColumnType::Option { values } => format!(
                "one of the options {}",
                values.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// Whether this type holds text (string, and enum symbols): what a `like` can be applied to.
    pub fn is_text(&self) -> bool {
        matches!(self, ColumnType::String { .. } | ColumnType::Enum { .. })
    }

    /// The maximum length of a string column.
    pub fn max_length(&self) -> Option<u32> {
        match self {
            ColumnType::String { max_length } => *max_length,
            _ => None,
        }
    }
}

/// A column of a finops entity or a Dataverse table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(flatten)]
    pub ty: ColumnType,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// finops: the entity key column this column refers to (checked on write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<Reference>,
    /// Added by the schema itself (`dataAreaId`, `<table>id`, `msdyn_company`), not written in the
    /// document; not serialised.
    #[serde(skip)]
    pub implicit: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A finops column's reference to another entity's key column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub table: String,
    pub column: String,
}

impl Column {
    pub(crate) fn new(name: &str, ty: ColumnType) -> Column {
        Column {
            name: name.to_owned(),
            ty,
            required: false,
            read_only: false,
            references: None,
            implicit: false,
        }
    }

    /// Checks a value written to this column: null is allowed unless the column is required; anything
    /// else must fit the type and comes back normalised (see [`ColumnType::check_value`]).
    pub fn check_value(&self, value: &Value) -> Result<Value, ValueError> {
        self.check(value).map(Cow::into_owned)
    }

    /// [`Column::check_value`] without copying a value that is already canonical.
    pub fn check<'v>(&self, value: &'v Value) -> Result<Cow<'v, Value>, ValueError> {
        if value.is_null() {
            return if self.required { Err(ValueError::Required) } else { Ok(Cow::Borrowed(value)) };
        }
        self.ty.check(value)
    }
}

/// Why a value does not fit a column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("expected {expected}, found {found}")]
    WrongType { expected: String, found: String },
    #[error("`{value}` is {length} characters long; the column holds at most {max}")]
    TooLong { max: u32, length: usize, value: String },
    #[error("`{value}` is not a value of the enum; expected one of {}", allowed.join(", "))]
    NotInEnum { value: String, allowed: Vec<String> },
    #[error("{value} is not an option of the column; expected one of {}", join_numbers(allowed))]
    NotAnOption { value: i64, allowed: Vec<i64> },
    #[error("a value is required; found null")]
    Required,
}

fn join_numbers(values: &[i64]) -> String {
    values.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

fn found(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => type_name(other).to_owned(),
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
        }),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                let f = s.parse::<f64>().ok()?;
                (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
            })
        }
        _ => None,
    }
}

fn decimal(value: &Value) -> Option<Value> {
    match value {
        Value::Number(_) => Some(value.clone()),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty()
                || !s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
            {
                return None;
            }
            if let Ok(i) = s.parse::<i64>() {
                return Some(Value::from(i));
            }
            let f = s.parse::<f64>().ok().filter(|f| f.is_finite())?;
            // Whole numbers print as integers, so "1.0000000000" and 1 compare equal.
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Some(Value::from(f as i64))
            } else {
                Number::from_f64(f).map(Value::Number)
            }
        }
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") || s == "1" {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") || s == "0" {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A GUID, lowercased, without braces.
fn guid(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')).unwrap_or(s);
    let groups: Vec<&str> = s.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups.iter().zip(lengths).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    ok.then(|| s.to_ascii_lowercase())
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// `yyyy-mm-dd` with a real day of that month.
pub(crate) fn is_date(s: &str) -> bool {
    let mut parts = s.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    match (digits(y, 4), digits(m, 2), digits(d, 2)) {
        (Some(y), Some(m), Some(d)) => (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m),
        _ => false,
    }
}

pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `yyyy-mm-ddThh:mm[:ss[.fff]][Z|±hh:mm]`.
fn is_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', ' ']) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    let (clock, zone) = match time.find(['Z', '+', '-']) {
        Some(i) => time.split_at(i),
        None => (time, ""),
    };
    let zone_ok = match zone {
        "" | "Z" => true,
        z => {
            let z = &z[1..];
            matches!(z.split_once(':'), Some((h, m)) if digits(h, 2).is_some_and(|h| h < 24) && digits(m, 2).is_some_and(|m| m < 60))
        }
    };
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let fraction_ok = fraction.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()));
    let mut fields = hms.split(':');
    let h = fields.next().and_then(|h| digits(h, 2)).is_some_and(|h| h < 24);
    let m = fields.next().and_then(|m| digits(m, 2)).is_some_and(|m| m < 60);
    let sec = fields.next().is_none_or(|s| digits(s, 2).is_some_and(|s| s < 60));
    zone_ok && fraction_ok && h && m && sec && fields.next().is_none()
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::String { max_length: Some(max) } => write!(f, "string({max})"),
            ColumnType::Lookup { target } => write!(f, "lookup({target})"),
            other => f.write_str(other.name()),
        }
    }
}
