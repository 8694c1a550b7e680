//! The query-range expression parser (finops side).

use winnow::ascii::{digit1, multispace0};
use winnow::combinator::{alt, cut_err, delimited, opt, preceded, repeat};
use winnow::error::{ContextError, ModalResult, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::token::{any, none_of, one_of, take_while};

use super::odata::{chain, check_nesting, ident, keyword, negate, ws};
use super::{ColumnPath, CompareOp, Expr, Literal, ParseError};

pub(super) fn parse(text: &str) -> Result<Expr, ParseError> {
    delimited(multispace0, |i: &mut &str| or_expr(i, 0), multispace0).parse(text).map_err(|e| ParseError {
        dialect_name: "finops (query range)",
        offset: e.offset(),
        message: describe(e.inner(), &text[e.offset()..]),
    })
}

/// What the parser expected, and what it found instead.
pub(super) fn describe(error: &ContextError, rest: &str) -> String {
    let expected: Vec<String> = error
        .context()
        .filter_map(|c| match c {
            StrContext::Expected(StrContextValue::Description(d)) => Some((*d).to_owned()),
            StrContext::Expected(other) => Some(other.to_string()),
            _ => None,
        })
        .collect();
    let found = match rest.chars().take(20).collect::<String>() {
        s if s.is_empty() => "the end of the filter".to_owned(),
        s => format!("`{s}`"),
    };
    if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", expected.join(" or "))
    }
}

/// `nesting` counts the parentheses and `!`s around the expression.
fn or_expr(input: &mut &str, nesting: usize) -> ModalResult<Expr> {
    let first = and_expr(input, nesting)?;
    let rest: Vec<Expr> =
        repeat(0.., preceded(ws("||"), cut_err(|i: &mut &str| and_expr(i, nesting)))).parse_next(input)?;
    chain(input, first, rest, Expr::Or)
}

fn and_expr(input: &mut &str, nesting: usize) -> ModalResult<Expr> {
    let first = unary(input, nesting)?;
    let rest: Vec<Expr> =
        repeat(0.., preceded(ws("&&"), cut_err(|i: &mut &str| unary(i, nesting)))).parse_next(input)?;
    chain(input, first, rest, Expr::And)
}

fn unary(input: &mut &str, nesting: usize) -> ModalResult<Expr> {
    check_nesting(input, nesting)?;
    alt((
        |i: &mut &str| negation(i, nesting),
        delimited(
            ('(', multispace0),
            cut_err(|i: &mut &str| or_expr(i, nesting + 1)),
            cut_err((multispace0, ')')),
        ),
        comparison,
    ))
    .context(StrContext::Expected(StrContextValue::Description("a comparison like (Name == \"A\")")))
    .parse_next(input)
}

fn negation(input: &mut &str, nesting: usize) -> ModalResult<Expr> {
    let e = preceded(('!', multispace0), cut_err(|i: &mut &str| unary(i, nesting + 1))).parse_next(input)?;
    negate(input, e)
}

fn comparison(input: &mut &str) -> ModalResult<Expr> {
    let column = ColumnPath::single(ident.parse_next(input)?);
    multispace0.parse_next(input)?;
    let like = opt(keyword("like")).parse_next(input)?;
    if like.is_some() {
        multispace0.parse_next(input)?;
        let pattern = cut_err(string)
            .context(StrContext::Expected(StrContextValue::Description("a \"pattern\" after like")))
            .parse_next(input)?;
        return Ok(Expr::Like { column, pattern });
    }
    let op = cut_err(alt((
        "==".value(CompareOp::Eq),
        "!=".value(CompareOp::Ne),
        "<=".value(CompareOp::Le),
        ">=".value(CompareOp::Ge),
        "<".value(CompareOp::Lt),
        ">".value(CompareOp::Gt),
        // The out-of-box maps sometimes write a lone `=`.
        "=".value(CompareOp::Eq),
    )))
    .context(StrContext::Expected(StrContextValue::Description("an operator (== != < <= > >= like)")))
    .parse_next(input)?;
    multispace0.parse_next(input)?;
    let value = cut_err(literal).parse_next(input)?;
    Ok(Expr::Compare { column, op, value })
}

fn literal(input: &mut &str) -> ModalResult<Literal> {
    alt((
        string.map(Literal::String),
        date,
        number,
        enum_value,
        keyword("true").value(Literal::Bool(true)),
        keyword("false").value(Literal::Bool(false)),
    ))
    .context(StrContext::Expected(StrContextValue::Description(
        "a value (\"text\", a number, Enum::Value, dd\\mm\\yyyy, true or false)",
    )))
    .parse_next(input)
}

/// `"text"`, `\"` and `\\` escaping.
fn string(input: &mut &str) -> ModalResult<String> {
    let chars: Vec<char> = delimited(
        '"',
        repeat(0.., alt((preceded('\\', any), none_of(['"', '\\'])))),
        cut_err('"').context(StrContext::Expected(StrContextValue::Description("a closing \""))),
    )
    .parse_next(input)?;
    Ok(chars.into_iter().collect())
}

fn enum_value(input: &mut &str) -> ModalResult<Literal> {
    let (enum_name, _, value) = (ident, "::", cut_err(ident)).parse_next(input)?;
    Ok(Literal::Enum { enum_name: enum_name.to_owned(), value: value.to_owned() })
}

/// `dd\mm\yyyy`, a real day.
fn date(input: &mut &str) -> ModalResult<Literal> {
    let (day, _, month, _, year) = (
        take_while(1..=2, |c: char| c.is_ascii_digit()),
        '\\',
        take_while(1..=2, |c: char| c.is_ascii_digit()),
        '\\',
        take_while(4, |c: char| c.is_ascii_digit()),
    )
        .verify_map(|(d, _, m, _, y): (&str, char, &str, char, &str)| {
            let (d, m, y) = (d.parse::<u32>().ok()?, m.parse::<u32>().ok()?, y.parse::<u32>().ok()?);
            let valid = (1..=12).contains(&m) && d >= 1 && d <= crate::schema::days_in_month(y, m);
            valid.then_some((d, '\\', m, '\\', y))
        })
        .parse_next(input)?;
    Ok(Literal::Date { year, month, day })
}

/// A decimal number, optionally signed, optionally with a fraction and exponent.
pub(super) fn number(input: &mut &str) -> ModalResult<Literal> {
    (
        opt(one_of(['-', '+'])),
        digit1,
        opt(('.', digit1)),
        opt((one_of(['e', 'E']), opt(one_of(['-', '+'])), digit1)),
    )
        .take()
        .verify_map(|s: &str| s.parse::<f64>().ok().filter(|f| f.is_finite()))
        .map(Literal::Number)
        .parse_next(input)
}
