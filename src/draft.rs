//! An unsaved map travels in the URL fragment: `#draft=` and the map in base64url (no padding). The
//! fragment never reaches the server, so a shared link carries the edits without storing them anywhere.
//!
//! The map is written as a JSON array, not the package's object, because member names are most of a
//! map's text: `[1, name, version, publisher, finops, dataverse, finops_filter, dataverse_filter,
//! [[finops, dataverse, direction, transforms?], …], description?]`, `1` the layout's version, directions as `0`
//! (both), `1` (to Dataverse), `2` (to finops), transforms as `{"v": valueMap}` / `{"d": default}`.
//! That takes about half the characters. A fragment holding the package object still opens.

use dualwrite_core::api::{FieldDoc, MapDoc};
use dualwrite_core::table_map::Direction;
use serde_json::{json, Value};

/// What starts the fragment of a link that carries a draft.
pub const PREFIX: &str = "draft=";

/// The fragment (without `#`) that carries `doc`.
pub fn encode(doc: &MapDoc) -> String {
    let json = compact(doc).to_string();
    format!("{PREFIX}{}", base64url_encode(json.as_bytes()))
}

fn compact(doc: &MapDoc) -> Value {
    let fields: Vec<Value> = doc
        .fields
        .iter()
        .map(|f| {
            let direction = Direction::ALL
                .iter()
                .position(|d| d.as_str() == f.direction)
                .map_or_else(|| json!(f.direction), |i| json!(i));
            let mut field = vec![json!(f.finops), json!(f.dataverse), direction];
            if !f.transforms.is_empty() {
                field.push(Value::Array(f.transforms.iter().map(compact_transform).collect()));
            }
            Value::Array(field)
        })
        .collect();
    let mut parts = vec![
        json!(1),
        json!(doc.name),
        json!(doc.version),
        json!(doc.publisher),
        json!(doc.finops),
        json!(doc.dataverse),
        json!(doc.finops_filter),
        json!(doc.dataverse_filter),
        Value::Array(fields),
    ];
    if !doc.description.is_empty() {
        parts.push(json!(doc.description));
    }
    Value::Array(parts)
}

/// `{"v": map}` for a value map, `{"d": value}` for a default; anything else as written.
fn compact_transform(t: &Value) -> Value {
    let Some(o) = t.as_object().filter(|o| o.len() == 2) else { return t.clone() };
    match (o.get("transformType").and_then(Value::as_str), o.get("valueMap"), o.get("defaultValue")) {
        (Some("ValueMap"), Some(map), _) => json!({ "v": map }),
        (Some("Default"), _, Some(value)) => json!({ "d": value }),
        _ => t.clone(),
    }
}

fn expand_transform(t: &Value) -> Value {
    match t.as_object().filter(|o| o.len() == 1) {
        Some(o) if o.contains_key("v") => json!({"transformType": "ValueMap", "valueMap": o["v"]}),
        Some(o) if o.contains_key("d") => json!({"transformType": "Default", "defaultValue": o["d"]}),
        _ => t.clone(),
    }
}

fn expand(value: Value) -> Result<MapDoc, String> {
    let Value::Array(parts) = value else {
        // The package's object shape.
        return crate::api::answer::read(value).map_err(|e| e.to_string());
    };
    let text = |i: usize| parts.get(i).and_then(Value::as_str).map(str::to_owned);
    let filter = |i: usize| text(i).filter(|f| !f.is_empty());
    if parts.first() != Some(&json!(1)) || !(9..=10).contains(&parts.len()) {
        return Err("the draft's layout is not one this studio reads".into());
    }
    let fields = parts[8]
        .as_array()
        .ok_or("the draft's fields are not a list")?
        .iter()
        .map(|f| {
            let f = f.as_array().ok_or("a field of the draft is not a list")?;
            let side = |i: usize| f.get(i).and_then(Value::as_str).map(str::to_owned);
            let direction = match f.get(2) {
                Some(Value::Number(n)) => n
                    .as_u64()
                    .and_then(|i| Direction::ALL.get(i as usize))
                    .map(|d| d.as_str().to_owned())
                    .ok_or("a field of the draft has an unknown direction")?,
                Some(Value::String(s)) => s.clone(),
                _ => return Err("a field of the draft has no direction"),
            };
            let transforms = f
                .get(3)
                .and_then(Value::as_array)
                .map(|t| t.iter().map(expand_transform).collect())
                .unwrap_or_default();
            Ok(FieldDoc { finops: side(0), dataverse: side(1), direction, transforms })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    Ok(MapDoc {
        name: text(1).unwrap_or_default(),
        version: text(2).unwrap_or_default(),
        publisher: text(3).unwrap_or_default(),
        description: text(9).unwrap_or_default(),
        finops: text(4).unwrap_or_default(),
        dataverse: text(5).unwrap_or_default(),
        finops_filter: filter(6),
        dataverse_filter: filter(7),
        fields,
    })
}

/// The draft a fragment carries: `None` when the fragment carries none, an error when it does but
/// cannot be read (a link cut short, or edited by hand).
pub fn decode(fragment: &str) -> Option<Result<MapDoc, String>> {
    let payload = fragment.trim_start_matches('#').strip_prefix(PREFIX)?;
    let bytes = match base64url_decode(payload) {
        Ok(b) => b,
        Err(e) => return Some(Err(e)),
    };
    Some(
        std::str::from_utf8(&bytes)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
            .and_then(expand)
            .map_err(|e| format!("the link's draft is not a table map ({e}); it may have been cut short")),
    )
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn base64url_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in text.trim_end_matches('=').bytes().enumerate() {
        let v = ALPHABET.iter().position(|a| *a == c).ok_or_else(|| {
            format!("the link's draft has `{}` at character {i}, which base64url does not use", c as char)
        })?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dualwrite_core::api::FieldDoc;

    fn doc() -> MapDoc {
        MapDoc {
            name: "Customers V3 (accounts) — draft".into(),
            version: "1.0.0.2".into(),
            publisher: "contoso".into(),
            description: String::new(),
            finops: "CustCustomerV3Entity".into(),
            dataverse: "account".into(),
            fields: vec![FieldDoc {
                finops: Some("SALESMEMO".into()),
                dataverse: Some("description".into()),
                direction: "both".into(),
                transforms: vec![serde_json::json!({"transformType": "Default", "defaultValue": "ü€"})],
            }],
            finops_filter: Some("((PartyType == \"Organization\"))".into()),
            dataverse_filter: None,
        }
    }

    #[test]
    fn a_draft_survives_the_round_trip_through_a_fragment() {
        let fragment = encode(&doc());
        assert!(fragment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b)), "{fragment}");
        assert_eq!(decode(&format!("#{fragment}")), Some(Ok(doc())));
    }

    #[test]
    fn the_array_layout_is_about_half_the_package_object_and_both_open() {
        let package: Value =
            serde_json::from_str(include_str!("../fixtures/contoso/package.json")).expect("package");
        let accounts: MapDoc = serde_json::from_value(package["maps"][3].clone()).expect("accounts map");
        let object = format!(
            "{PREFIX}{}",
            base64url_encode(serde_json::to_string(&accounts).expect("json").as_bytes())
        );
        let array = encode(&accounts);
        assert!(array.len() * 10 < object.len() * 6, "{} vs {}", array.len(), object.len());
        println!(
            "Customers V3 (accounts) as a fragment: {} characters, {} in the package shape",
            array.len(),
            object.len()
        );
        assert_eq!(decode(&array), Some(Ok(accounts.clone())));
        assert_eq!(decode(&object), Some(Ok(accounts)), "a link in the package shape still opens");
    }

    #[test]
    fn directions_keep_the_numbers_links_already_shared_carry() {
        let mut d = doc();
        let numbers: Vec<Value> = ["both", "to_dataverse", "to_finops"]
            .into_iter()
            .map(|direction| {
                d.fields[0].direction = direction.into();
                compact(&d)[8][0][2].clone()
            })
            .collect();
        assert_eq!(numbers, [json!(0), json!(1), json!(2)]);
    }

    #[test]
    fn an_unknown_direction_survives_the_trip_so_validation_can_name_it() {
        let mut d = doc();
        d.fields[0].direction = "sideways".into();
        assert_eq!(decode(&encode(&d)), Some(Ok(d)));
    }

    #[test]
    fn base64url_matches_the_standard_for_every_tail_length() {
        assert_eq!(base64url_encode(b"f"), "Zg");
        assert_eq!(base64url_encode(b"fo"), "Zm8");
        assert_eq!(base64url_encode(b"foo"), "Zm9v");
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            assert_eq!(base64url_decode(&base64url_encode(text.as_bytes())).as_deref(), Ok(text.as_bytes()));
        }
    }

    #[test]
    fn a_fragment_without_a_draft_is_not_one_and_a_broken_one_says_why() {
        assert_eq!(decode(""), None);
        assert_eq!(decode("#section"), None);
        assert!(matches!(decode("#draft=%%"), Some(Err(e)) if e.contains("base64url")));
        assert!(matches!(decode("#draft=e30"), Some(Err(e)) if e.contains("not a table map")));
        assert!(
            matches!(decode(&format!("#{PREFIX}{}", base64url_encode(b"[2]"))), Some(Err(e)) if e.contains("layout"))
        );
    }
}
