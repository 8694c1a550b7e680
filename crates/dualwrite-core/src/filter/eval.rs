//! Evaluating a filter on a row, with SQL's three-valued logic (`None` = unknown).

use std::cmp::Ordering;

use serde_json::Value;

use super::{CompareOp, Dialect, Expr, Literal};
use crate::integration_key::{compare_normalized, normalize};
use crate::schema::Row;

pub(super) fn eval(e: &Expr, dialect: Dialect, row: &Row) -> Option<bool> {
    match e {
        Expr::And(a, b) => match (eval(a, dialect, row), eval(b, dialect, row)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Expr::Or(a, b) => match (eval(a, dialect, row), eval(b, dialect, row)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::Not(a) => eval(a, dialect, row).map(|b| !b),
        Expr::Compare { column, op, value } => {
            let cell = lookup(row, &column.0, dialect);
            compare(cell, *op, value)
        }
        Expr::Like { column, pattern } => match lookup(row, &column.0, dialect) {
            None | Some(Value::Null) => None,
            Some(v) => text(v).map(|t| like(&normalize(&t), &normalize(pattern))),
        },
        Expr::Call { function, column, value } => {
            let cell = text(lookup(row, &column.0, dialect)?)?;
            let Literal::String(needle) = value else { return None };
            let (cell, needle) = (normalize(&cell), normalize(needle));
            match function.as_str() {
                "contains" => Some(cell.contains(&needle)),
                "startswith" => Some(cell.starts_with(&needle)),
                "endswith" => Some(cell.ends_with(&needle)),
                _ => None,
            }
        }
    }
}

/// The row's value for a column: finops names case-insensitively; a nested OData path `a/b` is the
/// dotted-form key `a.b`.
fn lookup<'r>(row: &'r Row, path: &[String], dialect: Dialect) -> Option<&'r Value> {
    let name = path.join(".");
    match dialect {
        Dialect::OData => row.get(&name),
        Dialect::QueryRange => crate::row_mapping::get(row, &name, crate::schema::Side::Finops),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn compare(cell: Option<&Value>, op: CompareOp, literal: &Literal) -> Option<bool> {
    let cell = cell.filter(|v| !v.is_null());
    if let Literal::Null = literal {
        return match op {
            CompareOp::Eq => Some(cell.is_none()),
            CompareOp::Ne => Some(cell.is_some()),
            _ => None,
        };
    }
    let ordering = order(cell?, literal)?;
    Some(match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
    })
}

/// How the cell orders against the literal; `None` when they cannot be compared.
fn order(cell: &Value, literal: &Literal) -> Option<Ordering> {
    match literal {
        Literal::Null => None,
        Literal::Number(n) => number(cell)?.partial_cmp(n),
        Literal::Bool(b) => {
            let c = match cell {
                Value::Bool(c) => *c,
                Value::Number(n) => n.as_i64()? != 0,
                Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return None,
            };
            Some(c.cmp(b))
        }
        Literal::String(s) => match cell {
            // '3' against an option or number column compares as a number.
            Value::Number(_) => number(cell)?.partial_cmp(&s.trim().parse::<f64>().ok()?),
            Value::Bool(c) => Some(c.to_string().cmp(&s.trim().to_lowercase())),
            Value::String(c) => Some(compare_normalized(c, s)),
            _ => None,
        },
        Literal::Enum { value, .. } => match cell {
            Value::String(c) => Some(compare_normalized(c, value)),
            _ => None,
        },
        Literal::Date { year, month, day } => {
            let s = text(cell)?;
            let date = s.get(..10).filter(|d| crate::schema::is_date(d))?;
            let y = date[..4].parse::<u32>().ok()?;
            let m = date[5..7].parse::<u32>().ok()?;
            let d = date[8..10].parse::<u32>().ok()?;
            Some((y, m, d).cmp(&(*year, *month, *day)))
        }
    }
}

fn number(cell: &Value) -> Option<f64> {
    match cell {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `*` matches any run of characters, `?` one character.
fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
