//! `$batch` in the OData v4 multipart format: a `multipart/mixed` body of requests, each an
//! `application/http` part, some grouped in change sets (a nested `multipart/mixed`, applied as one
//! transaction); the answer in the same shape, one `application/http` part per request, a change
//! set's answers in a nested `changesetresponse_` part.

use axum::http::{Method, StatusCode};

use dualwrite_core::error_code::ErrorCode;

use crate::error::ApiError;

/// Requests a batch may hold, as Dataverse allows.
pub const MAX_REQUESTS: usize = 1000;

/// One request of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Its `Content-ID`, by which later requests of its change set refer to what it created (`$1`).
    pub content_id: Option<String>,
    pub method: Method,
    /// As written: an absolute URL, a path, or a path relative to the service root.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A batch's items in order: lone requests and change sets.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Single(Request),
    ChangeSet(Vec<Request>),
}

/// One request's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    /// Its content type and body, if any.
    pub body: Option<(String, String)>,
}

/// An item's answer: one reply, or a change set's replies with their requests' `Content-ID`s.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyItem {
    Single(Reply),
    ChangeSet(Vec<(Option<String>, Reply)>),
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(ErrorCode::InvalidBatch, message)
}

/// The `boundary` parameter of a `multipart/mixed` content type.
fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"'))
    })
}

/// Reads a `$batch` body sent with `content_type`.
pub fn parse(content_type: &str, body: &str) -> Result<Vec<Item>, ApiError> {
    let boundary = boundary(content_type).ok_or_else(|| {
        bad(format!("a $batch body is multipart/mixed with a boundary, not `{content_type}`"))
    })?;
    let mut items = Vec::new();
    let mut count = 0;
    for part in parts(body, boundary)? {
        let (headers, content) = head_and_body(part);
        let part_type = header(&headers, "content-type").unwrap_or_default();
        if let Some(inner) = boundary_of_change_set(part_type) {
            let mut requests = Vec::new();
            for request in parts(content, inner)? {
                requests.push(http_request(request)?);
            }
            count += requests.len();
            items.push(Item::ChangeSet(requests));
        } else {
            count += 1;
            items.push(Item::Single(http_request(part)?));
        }
        if count > MAX_REQUESTS {
            return Err(bad(format!("a $batch holds at most {MAX_REQUESTS} requests")));
        }
    }
    Ok(items)
}

fn boundary_of_change_set(content_type: &str) -> Option<&str> {
    boundary(content_type)
}

/// The parts between `--boundary` delimiters, up to the closing `--boundary--`.
fn parts<'b>(body: &'b str, boundary: &str) -> Result<Vec<&'b str>, ApiError> {
    let delimiter = format!("--{boundary}");
    let mut pieces = body.split(delimiter.as_str());
    pieces.next(); // the preamble
    let mut out = Vec::new();
    for piece in pieces {
        if piece.starts_with("--") {
            return Ok(out);
        }
        // The line break after the delimiter starts the part; the one before the next ends it.
        let piece = piece.strip_prefix("\r\n").or_else(|| piece.strip_prefix('\n')).unwrap_or(piece);
        let piece = piece.strip_suffix("\r\n").or_else(|| piece.strip_suffix('\n')).unwrap_or(piece);
        out.push(piece);
    }
    Err(bad(format!("the multipart body does not end with --{boundary}--")))
}

/// A part's header lines and what follows the blank line after them.
fn head_and_body(part: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = match (part.find("\r\n\r\n"), part.find("\n\n")) {
        (Some(crlf), Some(lf)) if lf < crlf => (&part[..lf], &part[lf + 2..]),
        (Some(crlf), _) => (&part[..crlf], &part[crlf + 4..]),
        (None, Some(lf)) => (&part[..lf], &part[lf + 2..]),
        (None, None) => (part, ""),
    };
    let headers = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    (headers, body)
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// An `application/http` part: its MIME headers, then the request line, headers and body.
fn http_request(part: &str) -> Result<Request, ApiError> {
    let (mime, message) = head_and_body(part);
    let content_id = header(&mime, "content-id").map(str::to_owned);
    let (request_line, rest) = message.split_once('\n').unwrap_or((message, ""));
    // No header lines: the blank line follows the request line at once.
    let (headers, body) = match rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n')) {
        Some(body) => (Vec::new(), body),
        None => head_and_body(rest),
    };
    let request_line = request_line.trim();
    // Some clients leave the spaces of a query unencoded: the URL runs up to the protocol version.
    let without_version = match request_line.rfind(" HTTP/") {
        Some(at) => &request_line[..at],
        None => request_line,
    };
    let (Some(method), Some(url)) = without_version
        .split_once(' ')
        .map_or((None, None), |(m, u)| (Some(m), Some(u.trim()).filter(|u| !u.is_empty())))
    else {
        return Err(bad(format!("a batch request starts with `METHOD URL HTTP/1.1`, not `{request_line}`")));
    };
    let method =
        Method::from_bytes(method.as_bytes()).map_err(|_| bad(format!("`{method}` is no HTTP method")))?;
    Ok(Request { content_id, method, url: url.to_owned(), headers, body: body.trim_end().to_owned() })
}

/// The answer to a batch: its content type and body.
pub fn write(items: &[ReplyItem]) -> (String, String) {
    let boundary = format!("batchresponse_{}", uuid::Uuid::new_v4());
    let mut out = String::new();
    for item in items {
        out.push_str(&format!("--{boundary}\r\n"));
        match item {
            ReplyItem::Single(reply) => out.push_str(&http_reply(None, reply)),
            ReplyItem::ChangeSet(replies) => {
                let inner = format!("changesetresponse_{}", uuid::Uuid::new_v4());
                out.push_str(&format!("Content-Type: multipart/mixed; boundary={inner}\r\n\r\n"));
                for (content_id, reply) in replies {
                    out.push_str(&format!("--{inner}\r\n"));
                    out.push_str(&http_reply(content_id.as_deref(), reply));
                }
                out.push_str(&format!("--{inner}--\r\n"));
            }
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/mixed; boundary={boundary}"), out)
}

fn http_reply(content_id: Option<&str>, reply: &Reply) -> String {
    let mut out = String::from("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    let reason = reply.status.canonical_reason().unwrap_or_default();
    out.push_str(&format!("\r\nHTTP/1.1 {} {reason}\r\n", reply.status.as_u16()));
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    match &reply.body {
        Some((content_type, body)) => {
            out.push_str(&format!("Content-Type: {content_type}\r\n\r\n{body}\r\n"))
        }
        None => out.push_str("\r\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: &str = "--batch_1\r\nContent-Type: multipart/mixed;boundary=changeset_2\r\n\r\n--changeset_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\nPOST http://h/api/data/v9.2/transactioncurrencies HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"isocurrencycode\":\"AAA\"}\r\n--changeset_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\nPATCH transactioncurrencies(isocurrencycode='EUR') HTTP/1.1\r\nIf-Match: *\r\n\r\n{\"currencyname\":\"b\"}\r\n--changeset_2--\r\n\r\n--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET accounts?$top=1 HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n--batch_1--\r\n";

    #[test]
    fn a_batch_reads_as_its_change_sets_and_lone_requests() {
        let items = parse("multipart/mixed; boundary=batch_1", SENT).expect("parses");
        let [Item::ChangeSet(set), Item::Single(get)] = items.as_slice() else { panic!("{items:?}") };
        assert_eq!(set.len(), 2);
        assert_eq!((set[0].content_id.as_deref(), &set[0].method), (Some("1"), &Method::POST));
        assert_eq!(set[0].body, "{\"isocurrencycode\":\"AAA\"}");
        assert_eq!(set[1].header("if-match"), Some("*"));
        assert_eq!(set[1].url, "transactioncurrencies(isocurrencycode='EUR')");
        assert_eq!((&get.method, get.url.as_str(), get.body.as_str()), (&Method::GET, "accounts?$top=1", ""));
        let spaced = SENT.replace("GET accounts?$top=1", "GET accounts?$filter=name eq 'a b'");
        let spaced = parse("multipart/mixed; boundary=batch_1", &spaced).expect("parses");
        let Some(Item::Single(get)) = spaced.last() else { panic!("{spaced:?}") };
        assert_eq!(get.url, "accounts?$filter=name eq 'a b'", "a query's spaces left unencoded");
        let lf = SENT.replace("\r\n", "\n");
        assert_eq!(parse("multipart/mixed;boundary=\"batch_1\"", &lf).expect("bare line feeds"), items);
    }

    #[test]
    fn a_broken_batch_says_what_is_wrong() {
        for (content_type, body, says) in [
            ("application/json", SENT, "multipart/mixed"),
            (
                "multipart/mixed; boundary=batch_1",
                "--batch_1\r\nContent-Type: application/http\r\n\r\nGET",
                "--batch_1--",
            ),
            (
                "multipart/mixed; boundary=batch_1",
                "--batch_1\r\nContent-Type: application/http\r\n\r\n\r\n--batch_1--",
                "METHOD URL",
            ),
        ] {
            let e = parse(content_type, body).expect_err(says);
            assert!(format!("{e:?}").contains(says), "{e:?}");
        }
        let many = format!(
            "{}--b--",
            "--b\r\nContent-Type: application/http\r\n\r\nGET x HTTP/1.1\r\n\r\n".repeat(MAX_REQUESTS + 1)
        );
        assert!(parse("multipart/mixed; boundary=b", &many).is_err(), "more requests than allowed");
    }

    #[test]
    fn answers_are_written_in_the_shape_clients_parse() {
        let created = Reply {
            status: StatusCode::NO_CONTENT,
            headers: vec![("OData-EntityId".into(), "http://h/x(1)".into())],
            body: None,
        };
        let failed = Reply {
            status: StatusCode::NOT_FOUND,
            headers: vec![],
            body: Some(("application/json".into(), "{\"error\":{}}".into())),
        };
        let (content_type, body) =
            write(&[ReplyItem::ChangeSet(vec![(Some("1".into()), created)]), ReplyItem::Single(failed)]);
        let boundary = content_type.split("boundary=").nth(1).expect("boundary");
        assert!(
            body.starts_with(&format!("--{boundary}\r\n")) && body.ends_with(&format!("--{boundary}--\r\n"))
        );
        assert!(
            body.contains("--changesetresponse_")
                && body.contains(
                    "Content-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\nOData-EntityId: http://h/x(1)\r\n"
                )
        );
        assert!(
            body.contains(
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{\"error\":{}}\r\n"
            ),
            "{body}"
        );
    }
}
