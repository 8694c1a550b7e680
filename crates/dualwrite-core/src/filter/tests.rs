use serde_json::json;

use super::*;
use crate::schema::Schema;

fn row(value: serde_json::Value) -> Row {
    match value {
        serde_json::Value::Object(map) => map,
        _ => panic!("a row is an object"),
    }
}

fn contoso() -> Schema {
    Schema::from_json(include_str!("../../../../fixtures/contoso/schema.json")).expect("fixture schema")
}

#[test]
fn the_documented_filters_parse_and_print_back() {
    let cases = [
        (Dialect::OData, "customertypecode eq 3", "customertypecode eq 3"),
        (
            Dialect::OData,
            "msdyn_sellable eq true  and msdyn_contactpersonid ne null",
            "msdyn_sellable eq true and msdyn_contactpersonid ne null",
        ),
        (
            Dialect::OData,
            "(objecttypecode eq 'account' or objecttypecode eq 'contact') and msdyn_relatedentityid ne null",
            "(objecttypecode eq 'account' or objecttypecode eq 'contact') and msdyn_relatedentityid ne null",
        ),
        (Dialect::OData, "not contains(name, 'A')", "not contains(name, 'A')"),
        (Dialect::OData, "TransactionDate le '2021-06-23'", "TransactionDate le '2021-06-23'"),
        (Dialect::QueryRange, "((PartyType == \"Organization\"))", "(PartyType == \"Organization\")"),
        (Dialect::QueryRange, "(AssociatedContactType = 1)", "(AssociatedContactType == 1)"),
        (
            Dialect::QueryRange,
            "((TypeId == \"Note\") || (TypeId == \"URL\"))",
            "(TypeId == \"Note\") || (TypeId == \"URL\")",
        ),
        (Dialect::QueryRange, "(!(name like \"*A*\"))", "!((name like \"*A*\"))"),
        (
            Dialect::QueryRange,
            "(AccountType == AccountType::Customer)",
            "(AccountType == AccountType::Customer)",
        ),
        (Dialect::QueryRange, "(TransactionDate <= 23\\06\\2021)", "(TransactionDate <= 23\\06\\2021)"),
        (
            Dialect::QueryRange,
            "((numberofemployees > 1000) && (numberofemployees <= 2000))",
            "(numberofemployees > 1000) && (numberofemployees <= 2000)",
        ),
    ];
    for (dialect, text, printed) in cases {
        let filter = Filter::parse(dialect, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(filter.to_string(), printed);
        assert_eq!(Filter::parse(dialect, printed).as_ref(), Ok(&filter), "{printed}");
    }
}

#[test]
fn and_binds_tighter_than_or_and_operators_group_to_the_left() {
    let f = Filter::odata("a eq 1 or b eq 2 and c eq 3").expect("parses");
    assert!(matches!(&f.expr, Expr::Or(_, right) if matches!(**right, Expr::And(..))), "{f:?}");
    let f = Filter::odata("a eq 1 and (b eq 2 and c eq 3)").expect("parses");
    assert_eq!(f.to_string(), "a eq 1 and (b eq 2 and c eq 3)");
}

#[test]
fn a_broken_filter_says_where_and_what_was_expected() {
    let e = Filter::odata("customertypecode eq").expect_err("no value");
    assert_eq!(e.offset, 19);
    assert!(e.message.contains("expected a value"), "{e}");
    let e = Filter::query_range("((PartyType == \"Organization\")").expect_err("unclosed");
    assert!(e.to_string().starts_with("finops (query range) filter does not parse"), "{e}");
    let e = Filter::odata("name eq 'A").expect_err("unterminated string");
    assert!(e.message.contains("closing '"), "{e}");
    assert!(Filter::query_range("(x == 31\\02\\2021)").is_err(), "31 February is not a date");
}

#[test]
fn keywords_are_not_mistaken_for_column_prefixes() {
    let f = Filter::odata("notes eq 'x' and ordered eq true").expect("parses");
    assert_eq!(f.columns(), ["notes", "ordered"]);
}

#[test]
fn evaluation_follows_sql_null_and_case_rules() {
    let customer = row(json!({"customertypecode": 3, "name": "Contoso  ", "parent": null}));
    let matches = |text: &str| Filter::odata(text).expect("parses").matches(&customer);
    assert!(matches("customertypecode eq 3"));
    assert!(matches("customertypecode eq '3'"), "a quoted number compares as a number");
    assert!(matches("name eq 'contoso'"), "case and trailing spaces are ignored");
    assert!(matches("parent eq null") && matches("missing eq null"));
    assert!(!matches("parent ne 'x'"), "a comparison with null is unknown, and unknown does not match");
    assert!(!matches("not (parent eq 'x')"), "not of unknown is unknown");
    assert!(matches("parent eq null or parent eq 'x'"));
    assert!(matches("startswith(name, 'CON')"));
}

#[test]
fn finops_evaluation_reads_columns_case_insensitively_with_enums_likes_and_dates() {
    let customer =
        row(json!({"PARTYTYPE": "Organization", "NAME": "Adatum", "CREATED": "2021-06-23T10:00:00Z"}));
    let matches = |text: &str| Filter::query_range(text).expect("parses").matches(&customer);
    assert!(matches("((PartyType == \"organization\"))"));
    assert!(matches("(PartyType == DirPartyType::Organization)"));
    assert!(matches("(Name like \"ad*\") && !(Name like \"*x*\")"));
    assert!(matches("(Name like \"?datum\")"));
    assert!(matches("(Created <= 23\\06\\2021)") && !matches("(Created < 23\\06\\2021)"));
    assert!(!matches("(PartyType != \"Organization\")"));
}

#[test]
fn checking_names_unknown_columns_type_mismatches_nested_lookups_and_functions() {
    let schema = contoso();
    let account = schema.table(crate::schema::Side::Dataverse, "account").expect("account");
    let customers = schema.table(crate::schema::Side::Finops, "CustCustomerV3Entity").expect("customers");
    let kinds = |filter: Filter, table| filter.check(table).into_iter().map(|p| p.kind).collect::<Vec<_>>();
    assert_eq!(kinds(Filter::odata("customertypecode eq 3").expect("ok"), account), []);
    assert_eq!(
        kinds(Filter::odata("nosuch eq 1 or customertypecode eq 'x'").expect("ok"), account),
        [FilterProblemKind::UnknownColumn, FilterProblemKind::TypeMismatch]
    );
    assert_eq!(
        kinds(Filter::odata("msdyn_vendor/msdyn_vendoraccountnumber eq 'V1'").expect("ok"), account),
        [FilterProblemKind::NestedLookup]
    );
    assert_eq!(
        kinds(Filter::odata("contains(accountnumber, 'C')").expect("ok"), account),
        [FilterProblemKind::UnsupportedFunction]
    );
    assert_eq!(
        kinds(Filter::query_range("(ONHOLDSTATUS == CustVendorBlocked::Never)").expect("ok"), customers),
        []
    );
    assert_eq!(
        kinds(Filter::query_range("(ONHOLDSTATUS == CustVendorBlocked::Sometimes)").expect("ok"), customers),
        [FilterProblemKind::TypeMismatch]
    );
    assert_eq!(
        kinds(Filter::query_range("(CREDITLIMIT like \"1*\")").expect("ok"), customers),
        [FilterProblemKind::TypeMismatch]
    );
}

/// `text` with `open` repeated `n` times before it and `close` after it.
fn wrapped(open: &str, text: &str, close: &str, n: usize) -> String {
    format!("{}{text}{}", open.repeat(n), close.repeat(n))
}

/// The deepest filters of each shape a client can write: every one parses, prints back to itself,
/// checks and evaluates (all of which recurse) on a test thread's small stack, in a debug build.
#[test]
fn filters_as_deep_as_allowed_parse_print_check_and_evaluate() {
    let schema = contoso();
    let n = MAX_DEPTH;
    let cases = [
        (Dialect::OData, "account", wrapped("(", "a eq 1", ")", 2 * n - 1)),
        (Dialect::OData, "account", wrapped("not ", "a eq 1", "", n - 1)),
        (Dialect::OData, "account", wrapped("not (", "a eq 1 or b eq 2", ")", n / 2 - 1)),
        (Dialect::OData, "account", vec!["a eq 1"; n].join(" or ")),
        (Dialect::OData, "account", wrapped("(", &vec!["a eq 1"; n].join(" and "), ")", 2 * n - 1)),
        (Dialect::QueryRange, "CustCustomerV3Entity", wrapped("(", "a == 1", ")", 2 * n - 1)),
        (Dialect::QueryRange, "CustCustomerV3Entity", wrapped("!(", "(a == 1)", ")", n - 1)),
        (Dialect::QueryRange, "CustCustomerV3Entity", vec!["(a == 1)"; n].join(" || ")),
    ];
    for (dialect, table, text) in cases {
        let filter = Filter::parse(dialect, &text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let printed = filter.to_string();
        assert_eq!(Filter::parse(dialect, &printed).as_ref(), Ok(&filter), "{printed}");
        let table =
            schema.table(Side::Finops, table).or(schema.table(Side::Dataverse, table)).expect("table");
        assert!(!filter.check(table).is_empty(), "`a` is not a column of {}", table.name);
        assert!(!filter.matches(&row(json!({"b": 2}))));
    }
}

/// Found by fuzzing: deep nesting (parentheses, `not`s) or a long `and`/`or` chain overflowed the
/// stack, in the parser or in what walks the tree after it, and took the whole server down. Now such a
/// filter is an error naming the limit.
#[test]
fn a_filter_deeper_than_the_limit_is_an_error_not_a_stack_overflow() {
    let n = MAX_DEPTH;
    let cases = [
        (Dialect::OData, wrapped("(", "a eq 1", ")", 2 * n)),
        (Dialect::OData, wrapped("(", "a eq 1", ")", 20_000)),
        (Dialect::OData, wrapped("not ", "a eq 1", "", n)),
        (Dialect::OData, wrapped("not ", "a eq 1", "", 20_000)),
        (Dialect::OData, vec!["a eq 1"; n + 1].join(" or ")),
        (Dialect::OData, vec!["a eq 1"; 20_000].join(" and ")),
        (Dialect::OData, wrapped("not (", &vec!["a eq 1"; n].join(" or "), ")", 1)),
        (Dialect::QueryRange, wrapped("(", "a == 1", ")", 2 * n)),
        (Dialect::QueryRange, wrapped("(", "a == 1", ")", 20_000)),
        (Dialect::QueryRange, wrapped("!", "(a == 1)", "", n)),
        (Dialect::QueryRange, vec!["(a == 1)"; n + 1].join(" || ")),
        (Dialect::QueryRange, vec!["(a == 1)"; 20_000].join(" && ")),
    ];
    for (dialect, text) in cases {
        let error = Filter::parse(dialect, &text).expect_err("too deep");
        assert!(error.message.contains("at most 64 levels deep"), "{error}");
    }
    assert_eq!(MAX_DEPTH, 64, "the error message names the limit");
}

#[test]
fn a_bare_guid_is_a_value_and_a_protocol_can_rename_the_columns_it_spells_its_own_way() {
    let id = "8f0c2a9e-1b2c-4d3e-9f00-0123456789ab";
    let mut filter = Filter::odata(&format!("_transactioncurrencyid_value eq {id} and name ne null"))
        .expect("a bare GUID parses");
    assert_eq!(Filter::odata(&filter.to_string()).as_ref(), Ok(&filter), "it prints back as a value");
    filter.rename_columns(|c| c.strip_prefix('_').and_then(|c| c.strip_suffix("_value")).map(str::to_owned));
    assert_eq!(filter.columns(), ["transactioncurrencyid", "name"]);
    let account = row(json!({"transactioncurrencyid": id.to_uppercase(), "name": "Contoso"}));
    assert!(filter.matches(&account), "GUIDs compare as text, case ignored");
    assert!(Filter::odata("_x_value eq 8f0c2a9e-1b2c").is_err(), "half a GUID is no value");
}

#[test]
fn a_query_may_call_the_string_functions_on_text_columns_where_a_map_filter_may_not() {
    let schema = contoso();
    let account = schema.table(Side::Dataverse, "account").expect("account");
    let filter = Filter::odata("startswith(accountnumber, 'US') and creditlimit gt 10").expect("parses");
    assert_eq!(filter.check(account).len(), 1, "a map's filter may not call startswith");
    assert!(filter.check_query(account).is_empty(), "{:?}", filter.check_query(account));
    for (text, kind) in [
        ("contains(nosuch, 'x')", FilterProblemKind::UnknownColumn),
        ("endswith(creditlimit, '0')", FilterProblemKind::TypeMismatch),
        ("substringof('x', accountnumber)", FilterProblemKind::UnsupportedFunction),
        ("length(accountnumber, 'x')", FilterProblemKind::UnsupportedFunction),
    ] {
        let problems = Filter::odata(text).map(|f| f.check_query(account)).unwrap_or_default();
        let kinds: Vec<_> = problems.iter().map(|p| p.kind).collect();
        assert!(
            kinds == [kind]
                || (kind == FilterProblemKind::UnsupportedFunction && Filter::odata(text).is_err()),
            "{text}: {problems:?}"
        );
    }
}

#[test]
fn an_odata_enum_member_is_an_enum_value_and_prints_back() {
    let filter = Filter::odata("ISSALESTAXINCLUDEDINPRICE eq Microsoft.Dynamics.DataEntities.NoYes'Yes'")
        .expect("parses");
    assert_eq!(filter.to_string(), "ISSALESTAXINCLUDEDINPRICE eq Microsoft.Dynamics.DataEntities.NoYes'Yes'");
    assert_eq!(Filter::odata(&filter.to_string()).as_ref(), Ok(&filter));
    let Expr::Compare { value: Literal::Enum { enum_name, value }, .. } = &filter.expr else {
        panic!("{filter:?}")
    };
    assert_eq!((enum_name.as_str(), value.as_str()), ("Microsoft.Dynamics.DataEntities.NoYes", "Yes"));
    assert!(
        filter.matches(&row(json!({"ISSALESTAXINCLUDEDINPRICE": "yes"}))),
        "members compare ignoring case"
    );
    let schema = contoso();
    let groups = schema.table(Side::Finops, "CustCustomerGroupEntity").expect("groups");
    assert!(filter.check_query(groups).is_empty(), "{:?}", filter.check_query(groups));
    assert!(Filter::odata("name eq name'x").is_err(), "an unclosed member is no value");
}
