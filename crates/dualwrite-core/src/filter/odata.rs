//! The OData `$filter` parser (Dataverse side).

use winnow::ascii::{multispace0, Caseless};
use winnow::combinator::{alt, cut_err, delimited, preceded, repeat, terminated};
use winnow::error::{ContextError, ErrMode, ModalResult, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::token::{none_of, one_of, take_while};

use super::{ColumnPath, CompareOp, Expr, Literal, ParseError};

pub(super) fn parse(text: &str) -> Result<Expr, ParseError> {
    delimited(multispace0, or_expr, multispace0).parse(text).map_err(|e| ParseError {
        dialect_name: "Dataverse (OData)",
        offset: e.offset(),
        message: super::query_range::describe(e.inner(), &text[e.offset()..]),
    })
}

pub(super) fn ws<'i, O>(
    p: impl Parser<&'i str, O, ErrMode<ContextError>>,
) -> impl Parser<&'i str, O, ErrMode<ContextError>> {
    delimited(multispace0, p, multispace0)
}

pub(super) fn ident<'i>(input: &mut &'i str) -> ModalResult<&'i str> {
    (
        one_of(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(0.., |c: char| c.is_ascii_alphanumeric() || c == '_'),
    )
        .take()
        .context(StrContext::Expected(StrContextValue::Description("a column name")))
        .parse_next(input)
}

/// A keyword not followed by more identifier characters (`not` but not `notes`).
pub(super) fn keyword<'i>(word: &'static str) -> impl Parser<&'i str, (), ErrMode<ContextError>> {
    terminated(
        Caseless(word),
        winnow::combinator::not(one_of(|c: char| c.is_ascii_alphanumeric() || c == '_')),
    )
    .void()
}

fn or_expr(input: &mut &str) -> ModalResult<Expr> {
    let first = and_expr.parse_next(input)?;
    let rest: Vec<Expr> = repeat(0.., preceded(ws(keyword("or")), cut_err(and_expr))).parse_next(input)?;
    Ok(rest.into_iter().fold(first, |a, b| Expr::Or(Box::new(a), Box::new(b))))
}

fn and_expr(input: &mut &str) -> ModalResult<Expr> {
    let first = unary.parse_next(input)?;
    let rest: Vec<Expr> = repeat(0.., preceded(ws(keyword("and")), cut_err(unary))).parse_next(input)?;
    Ok(rest.into_iter().fold(first, |a, b| Expr::And(Box::new(a), Box::new(b))))
}

fn unary(input: &mut &str) -> ModalResult<Expr> {
    alt((
        preceded((keyword("not"), multispace0), cut_err(unary)).map(|e| Expr::Not(Box::new(e))),
        delimited(('(', multispace0), cut_err(or_expr), cut_err((multispace0, ')'))),
        call,
        comparison,
    ))
    .parse_next(input)
}

fn path(input: &mut &str) -> ModalResult<ColumnPath> {
    let first = ident.parse_next(input)?;
    let rest: Vec<&str> = repeat(0.., preceded('/', cut_err(ident))).parse_next(input)?;
    Ok(ColumnPath(std::iter::once(first).chain(rest).map(str::to_owned).collect()))
}

fn call(input: &mut &str) -> ModalResult<Expr> {
    let function = terminated(ident, (multispace0, '(')).parse_next(input)?;
    let (column, value) = cut_err((
        delimited(multispace0, path, (multispace0, ',', multispace0)),
        terminated(literal, (multispace0, ')')),
    ))
    .parse_next(input)?;
    Ok(Expr::Call { function: function.to_ascii_lowercase(), column, value })
}

fn comparison(input: &mut &str) -> ModalResult<Expr> {
    let column = path.parse_next(input)?;
    let op = cut_err(ws(alt((
        keyword("eq").value(CompareOp::Eq),
        keyword("ne").value(CompareOp::Ne),
        keyword("lt").value(CompareOp::Lt),
        keyword("le").value(CompareOp::Le),
        keyword("gt").value(CompareOp::Gt),
        keyword("ge").value(CompareOp::Ge),
    ))))
    .context(StrContext::Expected(StrContextValue::Description("an operator (eq ne gt ge lt le)")))
    .parse_next(input)?;
    let value = cut_err(literal).parse_next(input)?;
    Ok(Expr::Compare { column, op, value })
}

fn literal(input: &mut &str) -> ModalResult<Literal> {
    alt((
        keyword("null").value(Literal::Null),
        keyword("true").value(Literal::Bool(true)),
        keyword("false").value(Literal::Bool(false)),
        string,
        super::query_range::number,
    ))
    .context(StrContext::Expected(StrContextValue::Description(
        "a value ('text', a number, true, false or null)",
    )))
    .parse_next(input)
}

/// `'text'`, a doubled quote standing for one.
fn string(input: &mut &str) -> ModalResult<Literal> {
    let parts: Vec<char> = delimited(
        '\'',
        repeat(0.., alt(("''".value('\''), none_of('\'')))),
        cut_err('\'').context(StrContext::Expected(StrContextValue::Description("a closing '"))),
    )
    .parse_next(input)?;
    Ok(Literal::String(parts.into_iter().collect()))
}
