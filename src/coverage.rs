//! Static integration-key coverage of a map, as core's validation works it out field by field
//! (`key_coverage`), put in words for the key panel.

use dualwrite_core::api::MapDoc;
use dualwrite_core::integration_key::EffectiveKey;
use dualwrite_core::schema::Side;
use dualwrite_core::validation::{key_coverage, KeyFieldCoverage, KeyGap};

use crate::catalog::Catalog;

/// The coverage of the map's Dataverse table's key, or why there is none to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub key: EffectiveKey,
    /// Whether any field syncs both ways (then every key field must).
    pub needs_both_ways: bool,
    pub fields: Vec<KeyFieldCoverage>,
}

/// The coverage of `doc`'s integration key against the catalog, by core's own rules; an error in
/// words when the table has no key, is unknown, or the draft is not a map yet.
pub fn coverage(catalog: &Catalog, doc: &MapDoc) -> Result<Coverage, String> {
    let schema = catalog.schema.as_ref().ok_or("the server has no schema yet, so no key to check")?;
    let table = schema
        .table(Side::Dataverse, &doc.dataverse)
        .ok_or_else(|| format!("`{}` is not a Dataverse table of the schema", doc.dataverse))?;
    let key = catalog.key(&table.name).ok_or_else(|| {
        format!(
            "table {} has no alternate key and no manual key: set its integration key by hand",
            table.name
        )
    })?;
    let map = doc.to_map().map_err(|e| format!("the draft is not a complete map yet: {e}"))?;
    let fields = key_coverage(schema, &map, table, &key);
    Ok(Coverage { key, needs_both_ways: map.is_bidirectional(), fields })
}

/// What keeps a key field from letting rows match, in words; `None` when it is covered.
pub fn problem(c: &KeyFieldCoverage) -> Option<String> {
    c.gap.as_ref().map(|gap| words(c, gap))
}

/// What a gap means for the user.
fn words(c: &KeyFieldCoverage, gap: &KeyGap) -> String {
    let field = &c.field;
    match gap {
        KeyGap::NotMapped => match &c.lookup {
            Some((l, target)) => {
                format!("not mapped: map `{field}` (the key of {target} behind lookup `{l}`)")
            }
            None => format!("not mapped: add a mapping to `{field}`"),
        },
        KeyGap::UnexpandedLookup => {
            format!("`{field}` is a lookup: key it through its target's key (`{field}.…`)")
        }
        KeyGap::OneWay(_) => {
            "mapped one way, but the map syncs both ways: set the direction to both".to_owned()
        }
        KeyGap::CompanyNotStriped => {
            "the company part needs both tables company-specific (dataAreaId ↔ msdyn_company)".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::contoso as accounts;

    #[test]
    fn the_accounts_key_is_covered_by_account_number_and_the_company() {
        let (catalog, doc) = accounts();
        let c = coverage(&catalog, &doc).expect("coverage");
        assert!(c.needs_both_ways);
        assert_eq!(c.fields.len(), 2);
        assert_eq!(c.fields[0].mappings, vec![0]);
        assert!(c.fields[0].both_ways && problem(&c.fields[0]).is_none());
        assert!(c.fields[1].from_company && problem(&c.fields[1]).is_none());
    }

    #[test]
    fn a_key_field_mapped_one_way_in_a_two_way_map_is_not_covered() {
        let (catalog, mut doc) = accounts();
        doc.fields[0].direction = "to_dataverse".into();
        let c = coverage(&catalog, &doc).expect("coverage");
        assert!(problem(&c.fields[0]).is_some_and(|p| p.contains("both ways")));
        doc.fields.remove(0);
        let c = coverage(&catalog, &doc).expect("coverage");
        assert!(problem(&c.fields[0]).is_some_and(|p| p.starts_with("not mapped")));
    }
}
