//! An unsaved map travels in the URL fragment: `#draft=` and the map's compact JSON in base64url
//! (no padding). The fragment never reaches the server, so a shared link carries the edits without
//! storing them anywhere.

use dualwrite_core::api::MapDoc;

/// What starts the fragment of a link that carries a draft.
pub const PREFIX: &str = "draft=";

/// The fragment (without `#`) that carries `doc`.
pub fn encode(doc: &MapDoc) -> String {
    let json = serde_json::to_string(doc).unwrap_or_default();
    format!("{PREFIX}{}", base64url_encode(json.as_bytes()))
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
        serde_json::from_slice(&bytes)
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
    }
}
