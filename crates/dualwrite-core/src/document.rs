//! Reading the JSON documents of dualwrite (schema, package, table map) so that every problem is
//! reported at its JSON path (`finops[2].columns[3].type`), not just the first one.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One thing wrong in a document, where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// JSON path inside the document, e.g. `maps[0].fields[3].direction`; empty for the whole document.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A document that could not be read: every problem found, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DocumentError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl DocumentError {
    pub(crate) fn one(path: impl Into<String>, message: impl Into<String>) -> Self {
        DocumentError { problems: vec![Problem { path: path.into(), message: message.into() }] }
    }

    /// The same problems, with `prefix` put before each path (`maps[2]` + `fields` → `maps[2].fields`).
    pub fn within(mut self, prefix: &str) -> Self {
        for problem in &mut self.problems {
            problem.path = child(prefix, &problem.path);
        }
        self
    }
}

/// `parent.key`, or `key` at the top.
pub(crate) fn child(parent: &str, key: &str) -> String {
    match (parent.is_empty(), key.is_empty()) {
        (true, _) => key.to_owned(),
        (_, true) => parent.to_owned(),
        _ if key.starts_with('[') => format!("{parent}{key}"),
        _ => format!("{parent}.{key}"),
    }
}

/// `parent[i]`.
pub(crate) fn item(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// The JSON type of a value, as messages name it.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Collects problems while a document is read.
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn finish<T>(self, value: T) -> Result<T, DocumentError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(DocumentError { problems: self.0 })
        }
    }

    /// `value` as an object, or a problem.
    pub(crate) fn object<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(object) => Some(object),
            other => {
                self.push(path, format!("expected an object, found {}", type_name(other)));
                None
            }
        }
    }

    /// Reports keys of `object` that are not in `known`: a misspelt key would otherwise be ignored.
    pub(crate) fn unknown_keys(&mut self, object: &Map<String, Value>, path: &str, known: &[&str]) {
        for key in object.keys() {
            if !known.contains(&key.as_str()) {
                self.push(
                    child(path, key),
                    format!("unknown key `{key}`; expected one of: {}", known.join(", ")),
                );
            }
        }
    }

    /// A required string member.
    pub(crate) fn string(&mut self, object: &Map<String, Value>, path: &str, key: &str) -> Option<String> {
        match object.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) => {
                self.push(child(path, key), format!("`{key}` is missing; expected a string"));
                None
            }
            Some(other) => {
                self.push(child(path, key), format!("expected a string, found {}", type_name(other)));
                None
            }
        }
    }

    /// An optional string member (absent or null → `None`).
    pub(crate) fn opt_string(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<String> {
        match object.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) => None,
            Some(other) => {
                self.push(child(path, key), format!("expected a string or null, found {}", type_name(other)));
                None
            }
        }
    }

    /// An optional boolean member, `default` when absent.
    pub(crate) fn bool(&mut self, object: &Map<String, Value>, path: &str, key: &str, default: bool) -> bool {
        match object.get(key) {
            Some(Value::Bool(b)) => *b,
            None | Some(Value::Null) => default,
            Some(other) => {
                self.push(child(path, key), format!("expected true or false, found {}", type_name(other)));
                default
            }
        }
    }

    /// An array member; `required` decides whether absence is a problem (absent optional → empty).
    pub(crate) fn array<'v>(
        &mut self,
        object: &'v Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> &'v [Value] {
        match object.get(key) {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => {
                if required {
                    self.push(child(path, key), format!("`{key}` is missing; expected an array"));
                }
                &[]
            }
            Some(other) => {
                self.push(child(path, key), format!("expected an array, found {}", type_name(other)));
                &[]
            }
        }
    }

    /// An array of strings.
    pub(crate) fn strings(
        &mut self,
        object: &Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Vec<String> {
        let items_path = child(path, key);
        self.array(object, path, key, required)
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Value::String(s) => Some(s.clone()),
                other => {
                    self.push(item(&items_path, i), format!("expected a string, found {}", type_name(other)));
                    None
                }
            })
            .collect()
    }

    /// The `format` member must name the expected format.
    pub(crate) fn format(&mut self, object: &Map<String, Value>, expected: &str) {
        match object.get("format") {
            Some(Value::String(s)) if s == expected => {}
            Some(Value::String(s)) => {
                self.push("format", format!("unsupported format `{s}`; expected `{expected}`"))
            }
            _ => self.push("format", format!("`format` is missing; expected \"{expected}\"")),
        }
    }
}

/// Parses JSON text, turning a syntax error into a problem with its line and column.
pub(crate) fn parse_json(text: &str) -> Result<Value, DocumentError> {
    serde_json::from_str(text).map_err(|e| DocumentError::one("", format!("not valid JSON: {e}")))
}
