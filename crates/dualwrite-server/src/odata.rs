//! The OData v4 protocol as Dataverse's Web API and finance and operations' `/data` endpoint speak
//! it: resource paths with key predicates, system query options, `Prefer` preferences, entity tags
//! and entity set names. The faces in `http/` translate these into the one transaction path and the
//! stored rows; nothing here writes.

pub mod batch;
pub mod metadata;

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use dualwrite_core::error_code::ErrorCode;

use crate::error::ApiError;

/// What a request path names, below a face's root.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    /// The service document (`/`).
    Service,
    /// `$metadata`.
    Metadata,
    /// `$batch`.
    Batch,
    /// An entity set, one entity of it by key, or (`/$count`) how many it holds.
    Set { name: String, key: Option<KeyPredicate>, count: bool },
}

/// The key of one entity in a path: `accounts(<guid>)` or `accounts(accountnumber='A1')`.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyPredicate {
    Single(Value),
    Named(Vec<(String, Value)>),
}

/// A request path below a face's root, e.g. `accounts(accountnumber='A1')` or `accounts/$count`.
pub fn resource(path: &str) -> Result<Resource, ApiError> {
    let path = path.trim_matches('/');
    match path {
        "" => return Ok(Resource::Service),
        "$metadata" => return Ok(Resource::Metadata),
        "$batch" => return Ok(Resource::Batch),
        _ => {}
    }
    let (head, count) = match path.strip_suffix("/$count") {
        Some(head) => (head, true),
        None => (path, false),
    };
    let (name, key) = match head.find('(') {
        Some(open) => {
            let inner = head[open + 1..].strip_suffix(')').ok_or_else(|| {
                bad_key(head, "a key predicate ends with `)` and nothing may follow it".to_owned())
            })?;
            (&head[..open], Some(key_predicate(inner).map_err(|m| bad_key(head, m))?))
        }
        None => (head, None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidPath,
            format!("`{path}` names no entity set; expected `set`, `set(key)` or `set/$count`"),
        ));
    }
    Ok(Resource::Set { name: name.to_owned(), key, count })
}

/// `text` with its `%XX` escapes decoded, as a request path inside a `$batch` arrives.
pub fn percent_decoded(text: &str) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = text.get(at + 1..at + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidPath,
                    format!("`{text}` has a `%` that is no escape"),
                ));
            };
            out.push(byte);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).map_err(|_| {
        ApiError::bad_request(ErrorCode::InvalidPath, format!("`{text}` decodes to no UTF-8 text"))
    })
}

/// An entity reference as `@odata.bind` gives it: `/accounts(<guid>)`, `accounts(accountnumber='A1')`
/// or the whole URL of the entity. The entity set and its key.
pub fn reference(text: &str) -> Result<(String, KeyPredicate), ApiError> {
    let open = text.find('(').unwrap_or(text.len());
    let start = text[..open].rfind('/').map_or(0, |slash| slash + 1);
    match resource(&text[start..])? {
        Resource::Set { name, key: Some(key), count: false } => Ok((name, key)),
        _ => Err(ApiError::bad_request(
            ErrorCode::InvalidReference,
            format!("`{text}` is not an entity reference; expected `/<entity set>(<key>)`"),
        )),
    }
}

fn bad_key(path: &str, message: String) -> ApiError {
    ApiError::bad_request(
        ErrorCode::InvalidKey,
        format!("the key predicate of `{path}` does not parse: {message}"),
    )
}

/// `value` or `name=value,name=value`.
fn key_predicate(text: &str) -> Result<KeyPredicate, String> {
    let parts = split_outside_quotes(text, ',')?;
    if parts.len() == 1 && !parts[0].contains('=') {
        return Ok(KeyPredicate::Single(literal(parts[0].trim())?));
    }
    let mut named = Vec::new();
    for part in parts {
        let (name, value) = part.split_once('=').ok_or_else(|| format!("`{part}` is not `name=value`"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("`{part}` names no property"));
        }
        named.push((name.to_owned(), literal(value.trim())?));
    }
    Ok(KeyPredicate::Named(named))
}

/// `text` cut at every `separator` that is not inside a quoted string.
fn split_outside_quotes(text: &str, separator: char) -> Result<Vec<&str>, String> {
    let (mut parts, mut start, mut quoted) = (Vec::new(), 0, false);
    for (at, c) in text.char_indices() {
        if c == '\'' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    if quoted {
        return Err("a quoted value is not closed".to_owned());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// A literal of a key predicate: `'text'` (`''` for a quote), a GUID, a number, `true`, `false`,
/// `null`, or an enum member `Namespace.Type'Member'` (its member name).
pub fn literal(text: &str) -> Result<Value, String> {
    if let Some(quoted) = text.find('\'').filter(|&q| q > 0 && text.ends_with('\'')) {
        // An enum value: its type's qualified name, then the member in quotes.
        let (ty, member) = text.split_at(quoted);
        if ty.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
            return literal(member);
        }
    }
    if let Some(inner) =
        text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')).filter(|_| text.len() >= 2)
    {
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' && chars.next() != Some('\'') {
                return Err(format!("a quote inside {text} must be doubled"));
            }
            out.push(c);
        }
        return Ok(Value::String(out));
    }
    match text {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        "null" => return Ok(Value::Null),
        _ => {}
    }
    if is_guid(text) {
        return Ok(Value::String(text.to_ascii_lowercase()));
    }
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Value::Number(n.into()));
    }
    if let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64) {
        return Ok(Value::Number(n));
    }
    Err(format!("`{text}` is no value ('text', a GUID, a number, true, false or null)"))
}

/// Whether `text` is a GUID in its usual 8-4-4-4-12 form.
pub fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// An entity key with `dataAreaId` first, as finance and operations declares and writes its keys.
pub fn company_first(mut key: Vec<&str>) -> Vec<&str> {
    key.sort_by_key(|c| *c != dualwrite_core::schema::DATA_AREA_ID);
    key
}

/// The system query options of a read, as given.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Query {
    pub select: Option<Vec<String>>,
    pub filter: Option<String>,
    /// Columns to order by, each descending or not.
    pub orderby: Vec<(String, bool)>,
    pub top: Option<usize>,
    pub skip: Option<usize>,
    pub count: bool,
    /// Where a page handed out by `@odata.nextLink` starts: rows to pass over.
    pub skiptoken: Option<usize>,
    /// `cross-company=true` (finance and operations).
    pub cross_company: bool,
}

impl Query {
    /// Reads the query string's parameters. Options a face does not take (`$expand`, `$apply`, …)
    /// are refused by name rather than ignored, since their answer would silently differ.
    pub fn parse(params: &[(String, String)], supported: &[&str]) -> Result<Query, ApiError> {
        let mut query = Query::default();
        for (name, value) in params {
            let option = name.to_ascii_lowercase();
            if option.starts_with('$') && !supported.contains(&option.as_str()) {
                return Err(ApiError::bad_request(
                    ErrorCode::UnsupportedQueryOption,
                    format!(
                        "the query option `{name}` is not supported here; supported: {}",
                        supported.join(", ")
                    ),
                ));
            }
            let number = |what: &str| {
                value.trim().parse::<usize>().map_err(|_| {
                    ApiError::bad_request(
                        ErrorCode::InvalidQueryOption,
                        format!("`{what}` takes a whole number, not `{value}`"),
                    )
                })
            };
            match option.as_str() {
                "$select" => {
                    query.select = Some(
                        value.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
                    )
                }
                "$filter" => query.filter = Some(value.clone()),
                "$orderby" => query.orderby = orderby(value)?,
                "$top" => query.top = Some(number("$top")?),
                "$skip" => query.skip = Some(number("$skip")?),
                "$skiptoken" => query.skiptoken = Some(number("$skiptoken")?),
                "$count" => {
                    query.count = match value.as_str() {
                        "true" => true,
                        "false" => false,
                        other => {
                            return Err(ApiError::bad_request(
                                ErrorCode::InvalidQueryOption,
                                format!("`$count` is true or false, not `{other}`"),
                            ))
                        }
                    }
                }
                "cross-company" => query.cross_company = value.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        Ok(query)
    }
}

fn orderby(text: &str) -> Result<Vec<(String, bool)>, ApiError> {
    text.split(',')
        .map(|item| {
            let mut words = item.split_whitespace();
            let column = words.next().unwrap_or_default();
            let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(ApiError::bad_request(
                        ErrorCode::InvalidQueryOption,
                        format!("`$orderby` orders `asc` or `desc`, not `{other}`"),
                    ))
                }
            };
            if column.is_empty() || words.next().is_some() {
                return Err(ApiError::bad_request(
                    ErrorCode::InvalidQueryOption,
                    format!("`$orderby` is `column [asc|desc], …`, not `{text}`"),
                ));
            }
            Ok((column.to_owned(), descending))
        })
        .collect()
}

/// What a request's `Prefer` header asks for.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Prefer {
    pub max_page_size: Option<usize>,
    pub return_representation: bool,
    /// `$batch`: go on after a failed request (`odata.continue-on-error`).
    pub continue_on_error: bool,
}

impl Prefer {
    pub fn parse(headers: &axum::http::HeaderMap) -> Prefer {
        let mut prefer = Prefer::default();
        for value in headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()) {
            for preference in value.split(',').map(str::trim) {
                let (name, arg) = preference.split_once('=').unwrap_or((preference, ""));
                match name.trim().to_ascii_lowercase().as_str() {
                    "odata.maxpagesize" => prefer.max_page_size = arg.trim().trim_matches('"').parse().ok(),
                    "return" => {
                        prefer.return_representation = arg.trim().eq_ignore_ascii_case("representation")
                    }
                    _ => {}
                }
            }
        }
        prefer
    }
}

/// The entity tag of a row as stored: it changes whenever any of its values does.
pub fn etag(row: &Map<String, Value>) -> String {
    let digest = Sha256::digest(Value::Object(row.clone()).to_string().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    format!("W/\"{}\"", u64::from_be_bytes(first) >> 11)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_name_sets_entities_by_id_or_alternate_key_and_counts() {
        let set =
            |name: &str, key: Option<KeyPredicate>, count| Resource::Set { name: name.into(), key, count };
        let id = "8f0c2a9e-1b2c-4d3e-9f00-0123456789ab";
        assert_eq!(resource("").ok(), Some(Resource::Service));
        assert_eq!(resource("$metadata").ok(), Some(Resource::Metadata));
        assert_eq!(resource("accounts").ok(), Some(set("accounts", None, false)));
        assert_eq!(resource("accounts/$count").ok(), Some(set("accounts", None, true)));
        assert_eq!(
            resource(&format!("accounts({id})")).ok(),
            Some(set("accounts", Some(KeyPredicate::Single(json!(id))), false))
        );
        assert_eq!(
            resource("CustomersV3(dataAreaId='usmf',CustomerAccount='O''Neil, Ltd')").ok(),
            Some(set(
                "CustomersV3",
                Some(KeyPredicate::Named(vec![
                    ("dataAreaId".into(), json!("usmf")),
                    ("CustomerAccount".into(), json!("O'Neil, Ltd"))
                ])),
                false
            ))
        );
        for broken in
            ["accounts(", "accounts('a)", "accounts(a=)", "accounts(x)y", "acc ounts", "accounts(=1)"]
        {
            let e = resource(broken).expect_err(broken);
            assert!(
                format!("{e:?}").contains(broken.split('(').next().unwrap_or_default()),
                "{broken}: {e:?}"
            );
        }
    }

    #[test]
    fn references_are_read_from_a_path_or_a_whole_url() {
        let (set, key) = reference("https://example.org/api/data/v9.2/cdm_companies(cdm_companycode='DEMF')")
            .expect("url");
        assert_eq!(set, "cdm_companies");
        assert_eq!(key, KeyPredicate::Named(vec![("cdm_companycode".into(), json!("DEMF"))]));
        assert!(reference("/accounts").is_err(), "a reference names one entity");
    }

    #[test]
    fn literals_of_every_kind_and_enum_members() {
        assert_eq!(literal("'a''b'"), Ok(json!("a'b")));
        assert_eq!(literal("12"), Ok(json!(12)));
        assert_eq!(literal("1.5"), Ok(json!(1.5)));
        assert_eq!(literal("Microsoft.Dynamics.DataEntities.NoYes'Yes'"), Ok(json!("Yes")));
        assert_eq!(
            literal("8F0C2A9E-1B2C-4D3E-9F00-0123456789AB"),
            Ok(json!("8f0c2a9e-1b2c-4d3e-9f00-0123456789ab"))
        );
        assert!(literal("'a'b'").is_err() && literal("abc").is_err());
    }

    #[test]
    fn unsupported_and_malformed_query_options_are_refused_by_name() {
        let params = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>()
        };
        let supported = ["$select", "$filter", "$orderby", "$top", "$count"];
        let q = Query::parse(
            &params(&[
                ("$select", "name, accountid"),
                ("$orderby", "name desc,accountid"),
                ("$top", "3"),
                ("$count", "true"),
            ]),
            &supported,
        )
        .expect("parses");
        assert_eq!(q.select, Some(vec!["name".to_owned(), "accountid".to_owned()]));
        assert_eq!(q.orderby, vec![("name".to_owned(), true), ("accountid".to_owned(), false)]);
        assert_eq!((q.top, q.count), (Some(3), true));
        for (name, value, says) in [
            ("$expand", "x", "$expand"),
            ("$top", "-1", "$top"),
            ("$orderby", "name up", "up"),
            ("$count", "yes", "yes"),
        ] {
            let e = Query::parse(&params(&[(name, value)]), &supported).expect_err(name);
            assert!(format!("{e:?}").contains(says), "{name}: {e:?}");
        }
    }

    proptest::proptest! {
        /// Whatever a client puts in a path, a query string or a `$batch` body, the protocol layer
        /// answers with a value or an error, never a panic (which would be a 500).
        #[test]
        fn no_path_query_or_batch_body_panics(
            path in "[a-zA-Z_$/()=',0-9 %-]{0,40}",
            query in proptest::collection::vec(("[$a-z-]{1,10}", ".{0,20}"), 0..4),
            body in "(--b|\r\n|Content-Type: (multipart/mixed; boundary=c|application/http)|GET |POST |HTTP/1.1|[a-z(){}':]{0,8}){0,30}",
        ) {
            let _ = resource(&path);
            let _ = reference(&path);
            let _ = percent_decoded(&path);
            let _ = Query::parse(&query, &["$select", "$filter", "$orderby", "$top", "$skip", "$count"]);
            let _ = batch::parse("multipart/mixed; boundary=b", &body);
        }
    }
}
