//! The OData `$filter` parser (Dataverse side).

use winnow::ascii::{multispace0, Caseless};
use winnow::combinator::{alt, cut_err, delimited, fail, preceded, repeat, terminated};
use winnow::error::{ContextError, ErrMode, ModalResult, StrContext, StrContextValue};
use winnow::prelude::*;
use winnow::token::{none_of, one_of, take_while};

use super::{ColumnPath, CompareOp, Expr, Literal, ParseError, MAX_DEPTH};

pub(super) fn parse(text: &str) -> Result<Expr, ParseError> {
    delimited(multispace0, |i: &mut &str| or_expr(i, 0), multispace0).parse(text).map_err(|e| ParseError {
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

/// Fails, past backtracking, naming the limit: the filter nests deeper than [`MAX_DEPTH`].
fn too_deep<O>(input: &mut &str) -> ModalResult<O> {
    cut_err(fail)
        .context(StrContext::Expected(StrContextValue::Description(
            "a filter nested at most 64 levels deep (parentheses, not, chained conditions)",
        )))
        .parse_next(input)
}

/// Fails if an operand is written inside more parentheses and `not`s than a filter [`MAX_DEPTH`]
/// levels deep needs when printed (two per level: a `not` and its parentheses). Bounds the parser's
/// own recursion, which parentheses add to without adding levels.
pub(super) fn check_nesting(input: &mut &str, nesting: usize) -> ModalResult<()> {
    if nesting >= 2 * MAX_DEPTH {
        return too_deep(input);
    }
    Ok(())
}

/// `first` and `rest` joined left to right with `join` (`a or b or c` is `(a or b) or c`), unless the
/// tree would be deeper than [`MAX_DEPTH`].
pub(super) fn chain(
    input: &mut &str,
    first: Expr,
    rest: Vec<Expr>,
    join: fn(Box<Expr>, Box<Expr>) -> Expr,
) -> ModalResult<Expr> {
    let depth = rest.iter().fold(first.depth(), |depth, e| 1 + depth.max(e.depth()));
    if depth > MAX_DEPTH {
        return too_deep(input);
    }
    Ok(rest.into_iter().fold(first, |a, b| join(Box::new(a), Box::new(b))))
}

/// `not e`, unless it would be deeper than [`MAX_DEPTH`].
pub(super) fn negate(input: &mut &str, e: Expr) -> ModalResult<Expr> {
    if e.depth() >= MAX_DEPTH {
        return too_deep(input);
    }
    Ok(Expr::Not(Box::new(e)))
}

/// `nesting` counts the parentheses and `not`s around the expression.
fn or_expr(input: &mut &str, nesting: usize) -> ModalResult<Expr> {
    let first = and_expr(input, nesting)?;
    let rest: Vec<Expr> =
        repeat(0.., preceded(ws(keyword("or")), cut_err(|i: &mut &str| and_expr(i, nesting))))
            .parse_next(input)?;
    chain(input, first, rest, Expr::Or)
}

fn and_expr(input: &mut &str, nesting: usize) -> ModalResult<Expr> {
    let first = unary(input, nesting)?;
    let rest: Vec<Expr> =
        repeat(0.., preceded(ws(keyword("and")), cut_err(|i: &mut &str| unary(i, nesting))))
            .parse_next(input)?;
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
        call,
        comparison,
    ))
    .parse_next(input)
}

fn negation(input: &mut &str, nesting: usize) -> ModalResult<Expr> {
    let e = preceded((keyword("not"), multispace0), cut_err(|i: &mut &str| unary(i, nesting + 1)))
        .parse_next(input)?;
    negate(input, e)
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
        guid,
        enum_member,
        super::query_range::number,
    ))
    .context(StrContext::Expected(StrContextValue::Description(
        "a value ('text', a number, a GUID, true, false or null)",
    )))
    .parse_next(input)
}

/// A GUID written bare, as OData writes `Edm.Guid` values (`_parentid_value eq 8f0c…-…`): compared as
/// the text it is, and printed quoted.
fn guid(input: &mut &str) -> ModalResult<Literal> {
    let hex = |n: usize| take_while(n..=n, |c: char| c.is_ascii_hexdigit());
    (hex(8), '-', hex(4), '-', hex(4), '-', hex(4), '-', hex(12))
        .take()
        .map(|g: &str| Literal::String(g.to_owned()))
        .parse_next(input)
}

/// An enum member as OData writes it: the enum type's qualified name, then the member quoted
/// (`Microsoft.Dynamics.DataEntities.NoYes'Yes'`).
fn enum_member(input: &mut &str) -> ModalResult<Literal> {
    let enum_name = (ident, repeat::<_, _, (), _, _>(0.., ('.', ident))).take().parse_next(input)?;
    let Literal::String(value) = string.parse_next(input)? else {
        return fail.parse_next(input);
    };
    Ok(Literal::Enum { enum_name: enum_name.to_owned(), value })
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
