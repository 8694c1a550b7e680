//! Bounds on a filter's nesting and size, checked before parsing: the parser, the printer and the
//! evaluator recurse over the expression, so a filter of a hundred thousand parentheses must be
//! refused with a message, not overflow the stack.

use super::{Dialect, ParseError};

/// Deepest nesting of parentheses accepted.
pub const MAX_DEPTH: usize = 64;
/// Most `and`, `or` and `not` operators accepted in one filter.
pub const MAX_OPERATORS: usize = 512;

pub(super) fn check(dialect: Dialect, text: &str) -> Result<(), ParseError> {
    let dialect_name = match dialect {
        Dialect::OData => "Dataverse (OData)",
        Dialect::QueryRange => "finops (query range)",
    };
    let refuse = |offset: usize, message: String| Err(ParseError { dialect_name, offset, message });
    let (mut depth, mut operators, mut quote, mut escaped) = (0usize, 0usize, None, false);
    let mut word_start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        if let Some(q) = quote {
            match c {
                '\\' if dialect == Dialect::QueryRange && !escaped => escaped = true,
                c if c == q && !escaped => quote = None,
                _ => escaped = false,
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = word_start.take() {
            let word = &text[start..i];
            if ["and", "or", "not"].iter().any(|k| word.eq_ignore_ascii_case(k)) {
                operators += 1;
            }
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '!' | '&' | '|' => operators += 1,
            _ => {}
        }
        if depth > MAX_DEPTH {
            return refuse(i, format!("parentheses nest deeper than {MAX_DEPTH}; flatten the filter"));
        }
        if operators > MAX_OPERATORS {
            return refuse(
                i,
                format!("more than {MAX_OPERATORS} operators; split the filter or simplify it"),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::filter::Filter;

    #[test]
    fn deep_or_long_filters_are_refused_and_their_neighbours_parse() {
        let nested = |n: usize| format!("{}name eq 'a'{}", "(".repeat(n), ")".repeat(n));
        assert!(Filter::odata(&nested(64)).is_ok());
        let deep = Filter::odata(&nested(100_000)).unwrap_err();
        assert!(deep.message.contains("nest deeper than 64"), "{deep}");

        let nots = format!("{}name eq 'a'", "not ".repeat(100_000));
        assert!(Filter::odata(&nots).unwrap_err().message.contains("operators"));
        let chain = |n: usize| vec!["(A == 1)"; n].join(" || ");
        assert!(Filter::query_range(&chain(200)).is_ok());
        assert!(Filter::query_range(&chain(100_000)).unwrap_err().message.contains("operators"));

        // Operators inside string literals are text, not operators.
        let quoted = format!("name eq '{}'", "(and ".repeat(1000));
        assert!(Filter::odata(&quoted).is_ok());
        let escaped = format!(r#"(Name == "{}")"#, r#"\" ((|| "#.repeat(1000));
        assert!(Filter::query_range(&escaped).is_ok(), "{escaped}");
    }
}
