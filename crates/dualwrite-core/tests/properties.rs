//! Property tests: filters print back to what they parsed from, and an initial-sync plan accounts for
//! every row and leaves both sides equal on the mapped fields.

use dualwrite_core::filter::{ColumnPath, CompareOp, Dialect, Expr, Filter, Literal};
use dualwrite_core::initial_sync::{plan, Plan};
use dualwrite_core::integration_key::IntegrationKeys;
use dualwrite_core::package::Package;
use dualwrite_core::schema::{Row, Schema, Side};
use proptest::prelude::*;
use serde_json::{json, Value};

const SCHEMA: &str = include_str!("../../../fixtures/contoso/schema.json");
const PACKAGE: &str = include_str!("../../../fixtures/contoso/package.json");

fn column() -> impl Strategy<Value = String> {
    prop_oneof![Just("name".to_owned()), Just("notes".to_owned()), "[a-z_][a-z0-9_]{0,8}"]
        .prop_filter("not a keyword", |c| {
            !["and", "or", "not", "null", "true", "false", "like"].contains(&c.as_str())
        })
}

fn literal(dialect: Dialect) -> BoxedStrategy<Literal> {
    let common = prop_oneof![
        any::<bool>().prop_map(Literal::Bool),
        (-1.0e6..1.0e6f64).prop_map(Literal::Number),
        any::<i32>().prop_map(|n| Literal::Number(f64::from(n))),
        "[ -~]{0,12}".prop_map(Literal::String),
    ];
    match dialect {
        Dialect::OData => prop_oneof![common, Just(Literal::Null)].boxed(),
        Dialect::QueryRange => prop_oneof![
            common,
            ("[A-Z][a-zA-Z]{0,6}", "[A-Z][a-zA-Z]{0,6}")
                .prop_map(|(enum_name, value)| Literal::Enum { enum_name, value }),
            (1u32..=28, 1u32..=12, 1900u32..=2100).prop_map(|(day, month, year)| Literal::Date {
                year,
                month,
                day
            }),
        ]
        .boxed(),
    }
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge)
    ]
}

fn expr(dialect: Dialect) -> impl Strategy<Value = Expr> {
    let compare = (column(), op(), literal(dialect)).prop_map(|(c, op, value)| Expr::Compare {
        column: ColumnPath::single(&c),
        op,
        value,
    });
    let leaf = match dialect {
        Dialect::OData => prop_oneof![
            4 => compare,
            1 => (column(), column(), "[ -~]{0,6}").prop_map(|(a, b, s)| Expr::Compare {
                column: ColumnPath(vec![a, b]),
                op: CompareOp::Eq,
                value: Literal::String(s)
            }),
            1 => (column(), "[ -~]{0,6}").prop_map(|(c, s)| Expr::Call {
                function: "contains".into(),
                column: ColumnPath::single(&c),
                value: Literal::String(s)
            }),
        ]
        .boxed(),
        Dialect::QueryRange => prop_oneof![
            4 => compare,
            1 => (column(), "[ -~]{0,8}").prop_map(|(c, pattern)| Expr::Like { column: ColumnPath::single(&c), pattern }),
        ]
        .boxed(),
    };
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}

proptest! {
    #[test]
    fn an_odata_filter_prints_to_text_that_parses_back_to_it(expr in expr(Dialect::OData)) {
        let filter = Filter { dialect: Dialect::OData, expr };
        let text = filter.to_string();
        let parsed = Filter::odata(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&parsed, &filter, "{}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn a_query_range_prints_to_text_that_parses_back_to_it(expr in expr(Dialect::QueryRange)) {
        let filter = Filter { dialect: Dialect::QueryRange, expr };
        let text = filter.to_string();
        let parsed = Filter::query_range(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&parsed, &filter, "{}", text);
        prop_assert_eq!(parsed.to_string(), text);
    }
}

/// One customer group, as either side holds it; `variant` changes the mapped values.
#[derive(Debug, Clone)]
struct Group {
    id: u8,
    company: &'static str,
    /// Spelling of the key on this side (case and trailing spaces vary).
    shout: bool,
    trailing: bool,
    description: u8,
    tax_included: bool,
}

fn group() -> impl Strategy<Value = Group> {
    (0u8..24, prop_oneof![Just("USMF"), Just("DEMF")], any::<bool>(), any::<bool>(), 0u8..3, any::<bool>())
        .prop_map(|(id, company, shout, trailing, description, tax_included)| Group {
            id,
            company,
            shout,
            trailing,
            description,
            tax_included,
        })
}

impl Group {
    fn key(&self) -> String {
        let key = format!("g{:02}", self.id);
        let key = if self.shout { key.to_uppercase() } else { key };
        if self.trailing {
            key + " "
        } else {
            key
        }
    }

    fn finops(&self) -> Row {
        row(json!({
            "CUSTOMERGROUPID": self.key(),
            "DESCRIPTION": format!("group {}", self.description),
            "ISSALESTAXINCLUDEDINPRICE": if self.tax_included { "yes" } else { "no" },
            "PAYMENTTERMID": "Net30",
            "CLEARINGPERIODPAYMENTTERMNAME": null,
            "dataAreaId": self.company,
        }))
    }

    fn dataverse(&self) -> Row {
        row(json!({
            "msdyn_groupid": self.key(),
            "msdyn_description": format!("group {}", self.description),
            "msdyn_issalestaxincludedinprice": self.tax_included,
            "msdyn_paymenttermid.msdyn_name": "Net30",
            "msdyn_clearingperiodpaymenttermname.msdyn_name": null,
            "msdyn_company.cdm_companycode": self.company,
        }))
    }
}

fn row(value: Value) -> Row {
    match value {
        Value::Object(map) => map,
        _ => Row::new(),
    }
}

fn every_row_lands_once(plan: &Plan, finops: usize, dataverse: usize) -> Result<(), TestCaseError> {
    let mut seen = [vec![0u8; finops], vec![0u8; dataverse]];
    let mut mark = |side: Side, index: usize| seen[side as usize][index] += 1;
    for c in &plan.creates {
        mark(c.side.other(), c.source_index);
    }
    for p in &plan.equal {
        mark(Side::Finops, p.finops_index);
        mark(Side::Dataverse, p.dataverse_index);
    }
    for c in &plan.conflicts {
        mark(Side::Finops, c.finops_index);
        mark(Side::Dataverse, c.dataverse_index);
    }
    for p in &plan.problems {
        mark(p.side, p.index);
    }
    for f in &plan.filtered {
        mark(f.side, f.index);
    }
    for side in Side::BOTH {
        for (index, count) in seen[side as usize].iter().enumerate() {
            prop_assert_eq!(*count, 1, "{} row {} has {} outcomes", side, index, count);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_plan_accounts_for_every_row_and_leaves_both_sides_equal(
        finops_groups in proptest::collection::vec(group(), 0..16),
        dataverse_groups in proptest::collection::vec(group(), 0..16),
        master in prop_oneof![Just(Side::Finops), Just(Side::Dataverse)],
        unmapped in proptest::option::of(0usize..16),
    ) {
        let schema = Schema::from_json(SCHEMA).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let package = Package::from_json(PACKAGE).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let keys = IntegrationKeys::from_package(&package.integration_keys, Some(&schema));
        let map = &package.maps[2];
        let mut finops: Vec<Row> = finops_groups.iter().map(Group::finops).collect();
        let mut dataverse: Vec<Row> = dataverse_groups.iter().map(Group::dataverse).collect();
        // One row whose enum value the value map does not know.
        if let Some(row) = unmapped.and_then(|i| finops.get_mut(i)) {
            row.insert("ISSALESTAXINCLUDEDINPRICE".into(), json!("maybe"));
        }
        let first = plan(&schema, &keys, map, master, &finops, &dataverse).map_err(|e| TestCaseError::fail(e.to_string()))?;
        every_row_lands_once(&first, finops.len(), dataverse.len())?;
        for c in &first.conflicts {
            for d in &c.diffs {
                prop_assert_eq!(d.winner, master, "every customer-group field is mapped both ways");
            }
        }

        first.apply(Side::Finops, &mut finops);
        first.apply(Side::Dataverse, &mut dataverse);
        let second = plan(&schema, &keys, map, master, &finops, &dataverse).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(second.creates.is_empty(), "{:?}", second.creates);
        prop_assert!(second.conflicts.is_empty(), "{:?}", second.conflicts);
        prop_assert_eq!(&second.problems, &first.problems, "the same rows still cannot be synced, for the same reasons");
    }
}
