//! Row filters of a map: the Dataverse side's OData `$filter` subset and the finops side's query-range
//! subset. Both parse into one AST, print back ([`Filter`]'s `Display`: parse → print → parse gives the
//! same AST), are checked against a table, and are evaluated on rows.
//!
//! OData: `eq ne gt ge lt le`, `and or not`, parentheses, `'string'` (`''` escapes a quote), numbers,
//! GUIDs, enum members (`Microsoft.Dynamics.DataEntities.NoYes'Yes'`), `true`/`false`, `null`. Nested lookups (`a/b`) and `contains`/`startswith`/`endswith` parse but
//! are unsupported by dual-write, and [`Filter::check`] reports them.
//!
//! Query range: `== != < <= > >=` (a lone `=` as the out-of-box maps sometimes write it means `==`),
//! `&& || !`, `like "A*"` (`*` any run, `?` one character), `Enum::Value`, `"string"` (`\"` and `\\`
//! escape), numbers, `true`/`false`, dates `dd\mm\yyyy`, parentheses.
//!
//! A filter nests at most [`MAX_DEPTH`] levels deep, so that whatever text a client sends, parsing,
//! printing, checking, evaluating and dropping it (which all recurse) stay well inside a thread's stack.
//!
//! Evaluation follows SQL, as both source systems do: string comparison ignores case and trailing
//! spaces; a missing column is null; `x eq null` / `x ne null` test for null; any other comparison with
//! null is unknown, and unknown never matches (`not` of unknown is unknown).

mod check;
mod eval;
mod odata;
mod query_range;

use std::fmt;

pub use check::{FilterProblem, FilterProblemKind};

use crate::schema::{Row, Side, Table};

/// Which grammar a filter is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Dataverse: OData `$filter`.
    OData,
    /// finops: query-range expression.
    QueryRange,
}

impl Dialect {
    /// The grammar of one side's filter.
    pub fn of(side: Side) -> Dialect {
        match side {
            Side::Finops => Dialect::QueryRange,
            Side::Dataverse => Dialect::OData,
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub dialect: Dialect,
    pub expr: Expr,
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Compare {
        column: ColumnPath,
        op: CompareOp,
        value: Literal,
    },
    /// finops `column like "pattern"`.
    Like {
        column: ColumnPath,
        pattern: String,
    },
    /// OData function call `name(column, literal)`: parsed, unsupported by dual-write.
    Call {
        function: String,
        column: ColumnPath,
        value: Literal,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// A column, or (OData `a/b`) a nested lookup path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPath(pub Vec<String>);

impl ColumnPath {
    pub fn single(name: &str) -> ColumnPath {
        ColumnPath(vec![name.to_owned()])
    }

    /// The first (for a plain column, the only) segment.
    pub fn head(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }

    pub fn is_nested(&self) -> bool {
        self.0.len() > 1
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A literal value in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// finops `Enum::Value`; OData `Namespace.EnumType'Member'`.
    Enum {
        enum_name: String,
        value: String,
    },
    /// finops `dd\mm\yyyy`.
    Date {
        year: u32,
        month: u32,
        day: u32,
    },
}

/// How many levels deep a filter may be: each `not` is a level, and so is each `and`/`or` of a chain
/// (`a or b or c` is three deep, `(a or b) or c`). Parentheses do not count, but an operand may be
/// written inside at most twice this many of them and `not`s. Real filters stay far below it.
pub const MAX_DEPTH: usize = 64;

/// A filter that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{dialect_name} filter does not parse at character {offset}: {message}")]
pub struct ParseError {
    pub dialect_name: &'static str,
    /// Byte offset of the problem in the filter text.
    pub offset: usize,
    pub message: String,
}

impl Filter {
    /// Parses a filter in the given dialect.
    pub fn parse(dialect: Dialect, text: &str) -> Result<Filter, ParseError> {
        let expr = match dialect {
            Dialect::OData => odata::parse(text)?,
            Dialect::QueryRange => query_range::parse(text)?,
        };
        Ok(Filter { dialect, expr })
    }

    /// Parses a Dataverse (OData) filter.
    pub fn odata(text: &str) -> Result<Filter, ParseError> {
        Filter::parse(Dialect::OData, text)
    }

    /// Parses a finops (query-range) filter.
    pub fn query_range(text: &str) -> Result<Filter, ParseError> {
        Filter::parse(Dialect::QueryRange, text)
    }

    /// Checks the filter against the table it filters: unknown columns, literals that do not fit
    /// their column, nested lookups and functions dual-write does not support.
    pub fn check(&self, table: &Table) -> Vec<FilterProblem> {
        check::check(self, table, false)
    }

    /// Checks a filter that selects rows to read, as the Web API and OData endpoints take `$filter`:
    /// as [`Filter::check`], but `contains`, `startswith` and `endswith` may be called on text
    /// columns.
    pub fn check_query(&self, table: &Table) -> Vec<FilterProblem> {
        check::check(self, table, true)
    }

    /// Whether the row passes the filter (SQL semantics, see the module documentation).
    pub fn matches(&self, row: &Row) -> bool {
        eval::eval(&self.expr, self.dialect, row) == Some(true)
    }

    /// Renames the columns the filter reads (first segment of each path) for which `rename` gives a
    /// new name, as a protocol that spells columns its own way (OData's `_x_value` for lookup `x`)
    /// needs before checking and evaluating the filter on rows.
    pub fn rename_columns(&mut self, rename: impl Fn(&str) -> Option<String>) {
        fn walk(e: &mut Expr, rename: &dyn Fn(&str) -> Option<String>) {
            match e {
                Expr::Compare { column, .. } | Expr::Like { column, .. } | Expr::Call { column, .. } => {
                    if let Some(new) = column.0.first().and_then(|head| rename(head)) {
                        column.0[0] = new;
                    }
                }
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, rename);
                    walk(b, rename);
                }
                Expr::Not(a) => walk(a, rename),
            }
        }
        walk(&mut self.expr, &rename);
    }

    /// The columns the filter reads (first segment of each path), in order of appearance.
    pub fn columns(&self) -> Vec<&str> {
        fn walk<'e>(e: &'e Expr, out: &mut Vec<&'e str>) {
            match e {
                Expr::Compare { column, .. } | Expr::Like { column, .. } | Expr::Call { column, .. } => {
                    out.push(column.head())
                }
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Not(a) => walk(a, out),
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }
}

impl Expr {
    /// The levels of the expression tree: 1 for a comparison.
    fn depth(&self) -> usize {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => 1 + a.depth().max(b.depth()),
            Expr::Not(a) => 1 + a.depth(),
            Expr::Compare { .. } | Expr::Like { .. } | Expr::Call { .. } => 1,
        }
    }
}

/// Printing. Parentheses are written where precedence needs them (and, in the query-range dialect,
/// around each comparison, as X++ expects); parse → print → parse yields the same AST.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        print(&self.expr, self.dialect, f)
    }
}

fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        _ => 3,
    }
}

fn print(e: &Expr, d: Dialect, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let child = |c: &Expr, min: u8, f: &mut fmt::Formatter<'_>| -> fmt::Result {
        if precedence(c) < min {
            f.write_str("(")?;
            print(c, d, f)?;
            f.write_str(")")
        } else {
            print(c, d, f)
        }
    };
    let odata = d == Dialect::OData;
    match e {
        Expr::Or(a, b) | Expr::And(a, b) => {
            let p = precedence(e);
            let word = match (e, odata) {
                (Expr::Or(..), true) => " or ",
                (Expr::Or(..), false) => " || ",
                (_, true) => " and ",
                (_, false) => " && ",
            };
            child(a, p, f)?;
            f.write_str(word)?;
            // Operators associate to the left: a right operand of the same level needs parentheses.
            child(b, p + 1, f)
        }
        Expr::Not(a) => {
            f.write_str(if odata { "not " } else { "!" })?;
            if odata && precedence(a) == 3 && !matches!(**a, Expr::Not(_)) {
                print(a, d, f)
            } else {
                f.write_str("(")?;
                print(a, d, f)?;
                f.write_str(")")
            }
        }
        Expr::Compare { column, op, value } if odata => {
            write!(f, "{} {} ", column.0.join("/"), odata_op(*op))?;
            print_literal(value, d, f)
        }
        Expr::Compare { column, op, value } => {
            write!(f, "({} {} ", column.0.join("."), query_range_op(*op))?;
            print_literal(value, d, f)?;
            f.write_str(")")
        }
        Expr::Like { column, pattern } => {
            write!(f, "({} like ", column.0.join("."))?;
            print_literal(&Literal::String(pattern.clone()), d, f)?;
            f.write_str(")")
        }
        Expr::Call { function, column, value } => {
            write!(f, "{function}({}, ", column.0.join("/"))?;
            print_literal(value, d, f)?;
            f.write_str(")")
        }
    }
}

fn odata_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "eq",
        CompareOp::Ne => "ne",
        CompareOp::Lt => "lt",
        CompareOp::Le => "le",
        CompareOp::Gt => "gt",
        CompareOp::Ge => "ge",
    }
}

fn query_range_op(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "==",
        CompareOp::Ne => "!=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
    }
}

fn print_literal(l: &Literal, d: Dialect, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match l {
        Literal::Null => f.write_str("null"),
        Literal::Bool(b) => write!(f, "{b}"),
        Literal::Number(n) => write!(f, "{n}"),
        Literal::String(s) if d == Dialect::OData => write!(f, "'{}'", s.replace('\'', "''")),
        Literal::String(s) => write!(f, "\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        Literal::Enum { enum_name, value } if d == Dialect::OData => {
            write!(f, "{enum_name}'{}'", value.replace('\'', "''"))
        }
        Literal::Enum { enum_name, value } => write!(f, "{enum_name}::{value}"),
        Literal::Date { year, month, day } => write!(f, "{day:02}\\{month:02}\\{year:04}"),
    }
}

#[cfg(test)]
mod tests;
