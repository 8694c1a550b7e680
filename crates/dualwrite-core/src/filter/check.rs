//! Checking a parsed filter against the table it filters.

use serde_json::Value;

use super::{CompareOp, Dialect, Expr, Filter, Literal};
use crate::schema::{ColumnType, Table};

/// What kind of problem a filter has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterProblemKind {
    UnknownColumn,
    TypeMismatch,
    NestedLookup,
    UnsupportedFunction,
}

/// One problem of a filter against its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterProblem {
    pub kind: FilterProblemKind,
    pub message: String,
}

/// The string functions a query may call (a map's filter may not: dual-write refuses them).
pub(super) const QUERY_FUNCTIONS: [&str; 3] = ["contains", "startswith", "endswith"];

/// `query`: the filter selects rows to read (as the Web API and OData endpoints take them), where
/// [`QUERY_FUNCTIONS`] are allowed; else it is a map's filter.
pub(super) fn check(filter: &Filter, table: &Table, query: bool) -> Vec<FilterProblem> {
    let mut problems = Vec::new();
    walk(&filter.expr, filter.dialect, table, query, &mut problems);
    problems
}

fn walk(e: &Expr, dialect: Dialect, table: &Table, query: bool, out: &mut Vec<FilterProblem>) {
    let mut push = |kind, message: String| out.push(FilterProblem { kind, message });
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            walk(a, dialect, table, query, out);
            walk(b, dialect, table, query, out);
        }
        Expr::Not(a) => walk(a, dialect, table, query, out),
        Expr::Call { function, column, .. } if query && QUERY_FUNCTIONS.contains(&function.as_str()) => {
            match table.column(column.head()) {
                _ if column.is_nested() => push(
                    FilterProblemKind::NestedLookup,
                    format!(
                        "`{}` reads through a nested lookup; name a column of {}",
                        column.0.join("/"),
                        table.name
                    ),
                ),
                None => push(FilterProblemKind::UnknownColumn, unknown(column.head(), table)),
                Some(c) if !c.ty.is_text() => push(
                    FilterProblemKind::TypeMismatch,
                    format!("`{function}` applies to text; `{}` is {}", c.name, c.ty.describe()),
                ),
                Some(_) => {}
            }
        }
        Expr::Call { function, column, .. } if query => push(
            FilterProblemKind::UnsupportedFunction,
            format!(
                "`{function}({}, …)` is not supported; the functions a query may call are {}",
                column.0.join("/"),
                QUERY_FUNCTIONS.join(", ")
            ),
        ),
        Expr::Call { function, column, .. } => push(
            FilterProblemKind::UnsupportedFunction,
            format!(
                "`{function}({}, …)` is not supported in dual-write filters (nor is `contains`); use \
                 comparisons (eq ne gt ge lt le) joined with and, or, not",
                column.0.join("/")
            ),
        ),
        Expr::Compare { column, .. } | Expr::Like { column, .. } if column.is_nested() => push(
            FilterProblemKind::NestedLookup,
            format!(
                "`{}` filters through a nested lookup, which dual-write does not support; filter on a \
                 column of {} itself",
                column.0.join("/"),
                table.name
            ),
        ),
        Expr::Compare { column, op, value } => {
            let Some(c) = table.column(column.head()) else {
                push(FilterProblemKind::UnknownColumn, unknown(column.head(), table));
                return;
            };
            if let Some(why) = literal_mismatch(&c.ty, *op, value, dialect) {
                push(
                    FilterProblemKind::TypeMismatch,
                    format!(
                        "`{}` is {} but is compared with {why}; compare it with a value of that type",
                        c.name,
                        c.ty.describe()
                    ),
                );
            }
        }
        Expr::Like { column, .. } => match table.column(column.head()) {
            None => push(FilterProblemKind::UnknownColumn, unknown(column.head(), table)),
            Some(c) if !c.ty.is_text() => push(
                FilterProblemKind::TypeMismatch,
                format!(
                    "`like` applies to text; `{}` is {}; compare with == instead",
                    c.name,
                    c.ty.describe()
                ),
            ),
            Some(_) => {}
        },
    }
}

fn unknown(column: &str, table: &Table) -> String {
    format!(
        "`{column}` is not a column of {} table {}; check the spelling against the schema",
        table.side, table.name
    )
}

/// Why a literal cannot be compared with a column of type `ty`, or `None` when it can.
fn literal_mismatch(ty: &ColumnType, op: CompareOp, value: &Literal, dialect: Dialect) -> Option<String> {
    let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
    match value {
        Literal::Null if ordering => {
            Some("null using an ordering operator; only eq/ne (==/!=) test null".into())
        }
        Literal::Null => None,
        Literal::Bool(_) if ordering => Some("a boolean using an ordering operator".into()),
        Literal::Enum { value, .. } => match ty {
            ColumnType::Enum { values } if values.iter().any(|v| v.eq_ignore_ascii_case(value)) => None,
            ColumnType::Enum { values } => {
                Some(format!("`{value}`, which is not one of its symbols ({})", values.join(", ")))
            }
            _ => Some(format!("the enum value `{value}`")),
        },
        Literal::Date { .. } => match ty {
            ColumnType::Date | ColumnType::Datetime => None,
            _ => Some("a date".into()),
        },
        other => {
            if ordering && matches!(ty, ColumnType::Boolean | ColumnType::Guid | ColumnType::Lookup { .. }) {
                return Some("an ordering operator".into());
            }
            let json = match other {
                Literal::Bool(b) => Value::Bool(*b),
                Literal::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
                Literal::String(s) => Value::String(s.clone()),
                _ => Value::Null,
            };
            // A string may be compared with a string column whatever its length, and an OData string
            // may spell a number or date ('3', '2021-06-23'), as the documented examples do.
            match ty.check_value(&json) {
                Ok(_) | Err(crate::schema::ValueError::TooLong { .. }) => None,
                Err(_) if ordering && matches!(other, Literal::String(_)) && ty.is_text() => None,
                Err(_) => Some(match (other, dialect) {
                    (Literal::String(s), Dialect::OData) => format!("'{s}'"),
                    (Literal::String(s), Dialect::QueryRange) => format!("\"{s}\""),
                    (Literal::Number(n), _) => format!("the number {n}"),
                    (Literal::Bool(b), _) => format!("{b}"),
                    _ => "a value".into(),
                }),
            }
        }
    }
}
