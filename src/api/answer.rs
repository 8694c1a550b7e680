//! Reading an answer's JSON into the wire type the studio expects.
//!
//! serde_json's own reading of a `Value` lets a struct come as an object or as an array of its
//! fields, so every struct's deserialiser carries both readings. The server only ever writes
//! structs as objects; reading through [`Json`], which offers a struct nothing but an object, leaves
//! the array reading out of the wasm. Everything else reads as serde_json reads it.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, Error as _, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::{Error, Value};

/// `value` as a `T`.
pub fn read<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    T::deserialize(Json(value))
}

/// A JSON value to read from.
struct Json(Value);

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(_) => Unexpected::Other("number"),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'de> de::Deserializer<'de> for Json {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => n.deserialize_any(visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            Value::Object(members) => {
                visitor.visit_map(Members { members: members.into_iter(), value: None })
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(members) => {
                visitor.visit_map(Members { members: members.into_iter(), value: None })
            }
            other => Err(Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(Variant { name: variant, value: None }),
            Value::Object(members) if members.len() == 1 => {
                let Some((name, value)) = members.into_iter().next() else {
                    return Err(Error::custom("expected an enum variant"));
                };
                visitor.visit_enum(Variant { name, value: Some(value) })
            }
            other => Err(Error::invalid_type(unexpected(&other), &"a string or an object of one member")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map identifier
    }
}

struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|item| seed.deserialize(Json(item))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Members {
    members: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Members {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.members.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(Json(value)),
            None => Err(Error::custom("a value is missing its member")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}

/// An enum's variant: its name and, unless it is a unit variant written as a string, its value.
struct Variant {
    name: String,
    value: Option<Value>,
}

impl<'de> EnumAccess<'de> for Variant {
    type Error = Error;
    type Variant = Json;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Json), Error> {
        let variant = seed.deserialize(self.name.into_deserializer())?;
        Ok((variant, Json(self.value.unwrap_or(Value::Null))))
    }
}

impl<'de> VariantAccess<'de> for Json {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            Value::Null => Ok(()),
            other => Err(Error::invalid_type(unexpected(&other), &"a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use dualwrite_core::api::{MapListItem, Paged, TokenInfo};
    use dualwrite_core::lifecycle::{Action, MapStatus};
    use dualwrite_core::validation::Diagnostic;
    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};

    use super::read;

    /// Reads `value` both ways: what serde_json reads, this reads too, and the same.
    fn same<T: DeserializeOwned + PartialEq + std::fmt::Debug>(value: Value) -> T {
        let ours: T = read(value.clone()).expect("read");
        assert_eq!(ours, serde_json::from_value::<T>(value).expect("serde_json reads it"));
        ours
    }

    #[test]
    fn answers_read_as_serde_json_reads_them() {
        let map = json!({"id": "7", "status": "paused", "name": "Customers", "version": "1.0.0",
            "publisher": "", "finops": "CustCustomerV3Entity", "dataverse": "account",
            "fields": [{"finops": "CustomerAccount", "dataverse": "accountnumber", "direction": "both",
                "transforms": [{"transformType": "Default", "defaultValue": 3}]}],
            "queued": 2, "catch_up_errors": 0, "unknown member": [1, {"a": null}]});
        let items: Paged<MapListItem> = same(json!({"total": 1, "items": [map]}));
        assert_eq!(items.items[0].resource.status, MapStatus::Paused);
        same::<Paged<TokenInfo>>(json!({"total": 1, "items": [{"id": "a", "name": "ci", "role": "maker",
            "created_at": "2026-01-01T00:00:00Z", "revoked_at": null, "bootstrap": false}], "next": 4}));
        same::<Vec<Diagnostic>>(json!([{"code": "DW201", "severity": "error", "message": "m", "path": ""}]));
        same::<Action>(json!({"action": "resume", "mode": "catch_up"}));
        same::<Option<u64>>(json!(null));
        same::<Value>(json!({"a": [1, -2, 3.5, "x", true, null]}));
    }

    #[test]
    fn a_struct_comes_as_an_object_only() {
        assert!(read::<Diagnostic>(json!(["DW201", "error", "m", ""])).is_err());
        assert!(read::<MapStatus>(json!(["paused"])).is_err());
        assert!(read::<Paged<TokenInfo>>(json!({"total": 0})).is_err());
    }
}
