//! The stable codes of errors and problems: the `code` of an API error, of a row the row mapper or
//! the initial-sync planner refuses, of a catch-up error and of an initial-sync error. Tools match on
//! them and databases keep them, so each is spelled here once and never changes.

crate::spelled! {
    /// A stable error code; [`ErrorCode::as_str`] is how it is written on the wire and in the store
    /// (`SCREAMING_SNAKE`).
    pub enum ErrorCode {
        // A request as a whole.
        /// The body is not JSON.
        MalformedJson = "MALFORMED_JSON",
        /// The body does not have the expected shape.
        InvalidBody = "INVALID_BODY",
        /// The body is not sent with a content type the endpoint takes.
        UnsupportedContentType = "UNSUPPORTED_CONTENT_TYPE",
        /// The body is larger than the server accepts.
        BodyTooLarge = "BODY_TOO_LARGE",
        /// The body did not arrive in time.
        RequestTimeout = "REQUEST_TIMEOUT",
        /// The query string is not valid.
        InvalidQuery = "INVALID_QUERY",
        /// The path names nothing.
        NotFound = "NOT_FOUND",
        /// The path exists, but not with this method.
        MethodNotAllowed = "METHOD_NOT_ALLOWED",
        /// No token, or one that is not (or no longer) valid.
        Unauthorized = "UNAUTHORIZED",
        /// The token's role may not do this.
        Forbidden = "FORBIDDEN",
        /// A token request with problems.
        InvalidTokenRequest = "INVALID_TOKEN_REQUEST",
        /// A token may not revoke itself.
        TokenIsYours = "TOKEN_IS_YOURS",
        /// The transaction lost to concurrent writes every time it ran; send it again.
        Contended = "CONTENDED",
        /// The server failed; its log says why.
        Internal = "INTERNAL",

        // Documents: schema, maps, packages, keys, alerts.
        /// The schema document has problems.
        InvalidSchema = "INVALID_SCHEMA",
        /// A `$metadata` document cannot be read.
        InvalidMetadata = "INVALID_METADATA",
        /// A table asked for is not in the document or the schema.
        UnknownTable = "UNKNOWN_TABLE",
        /// A table name that is not valid.
        InvalidTable = "INVALID_TABLE",
        /// The map document has problems.
        InvalidMap = "INVALID_MAP",
        /// The map has errors, so it cannot map rows.
        MapInvalid = "MAP_INVALID",
        /// The map cannot be edited in its status.
        MapNotEditable = "MAP_NOT_EDITABLE",
        /// The package has problems.
        InvalidPackage = "INVALID_PACKAGE",
        /// The alert rules have problems.
        InvalidAlerts = "INVALID_ALERTS",
        /// A map does not validate, so it cannot start.
        ValidationFailed = "VALIDATION_FAILED",
        /// Maps on the table are not `not_running`.
        MapsRunning = "MAPS_RUNNING",
        /// No schema has been loaded yet.
        NoSchema = "NO_SCHEMA",
        /// The action does not apply to the map's status.
        InvalidState = "INVALID_STATE",
        /// A filter that does not parse or does not fit the table.
        InvalidFilter = "INVALID_FILTER",

        // Rows and their writes.
        /// A row with a column that is not valid for its table.
        InvalidRow = "INVALID_ROW",
        /// A row writes a column the environment computes.
        ReadOnlyColumn = "READ_ONLY_COLUMN",
        /// An operation lacks what it needs (a `key`, a `row`).
        MissingField = "MISSING_FIELD",
        /// A key that does not identify a row of the table, or an integration key that cannot be read.
        InvalidKey = "INVALID_KEY",
        /// Another row already has this key.
        DuplicateKey = "DUPLICATE_KEY",
        /// A Dataverse lookup names no row.
        LookupNotFound = "LOOKUP_NOT_FOUND",
        /// A finance-and-operations reference names no row.
        ReferenceNotFound = "REFERENCE_NOT_FOUND",
        /// A row's company cannot change.
        CompanyChange = "COMPANY_CHANGE",
        /// A row has no company.
        MissingCompany = "MISSING_COMPANY",
        /// A row's company is not linked for dual-write.
        UnknownCompany = "UNKNOWN_COMPANY",
        /// Rows of a data export were refused.
        RowsRefused = "ROWS_REFUSED",
        /// A data export cannot be read.
        UnreadableExport = "UNREADABLE_EXPORT",

        // Live sync, queues and initial syncs.
        /// An environment is marked unavailable.
        EnvironmentUnavailable = "ENVIRONMENT_UNAVAILABLE",
        /// A write changes the integration-key value of a paired row.
        IntegrationKeyChange = "INTEGRATION_KEY_CHANGE",
        /// A row has no integration-key value.
        IntegrationKeyMissing = "INTEGRATION_KEY_MISSING",
        /// An integration key is null or empty.
        NullKey = "NULL_KEY",
        /// An integration-key field is not mapped.
        KeyNotMapped = "KEY_NOT_MAPPED",
        /// The twin's key occurs more than once on the other side.
        TwinHasDuplicateKey = "TWIN_HAS_DUPLICATE_KEY",
        /// The twin of a row could not be written.
        TwinFailed = "TWIN_FAILED",
        /// A value is missing from a value map.
        ValueNotMapped = "VALUE_NOT_MAPPED",
        /// A string would be truncated.
        ValueTooLong = "VALUE_TOO_LONG",
        /// A required destination field would be left empty.
        RequiredEmpty = "REQUIRED_EMPTY",
        /// A value that does not fit its column.
        InvalidValue = "INVALID_VALUE",
        /// A queued change moved to the catch-up errors when its map stopped.
        Stopped = "STOPPED",
        /// A queued change moved to the catch-up errors when its map skipped to live.
        Skipped = "SKIPPED",
        /// A queued change moved to the catch-up errors when its map's initial sync failed.
        InitialSyncFailed = "INITIAL_SYNC_FAILED",
        /// A queued change waits behind a failed change of the same key.
        BehindFailedChange = "BEHIND_FAILED_CHANGE",

        // The OData faces.
        /// A path that does not parse.
        InvalidPath = "INVALID_PATH",
        /// An entity set the service does not have.
        UnknownEntitySet = "UNKNOWN_ENTITY_SET",
        /// A system query option that is not valid.
        InvalidQueryOption = "INVALID_QUERY_OPTION",
        /// A system query option the service does not take.
        UnsupportedQueryOption = "UNSUPPORTED_QUERY_OPTION",
        /// An entity reference that does not name an entity.
        InvalidReference = "INVALID_REFERENCE",
        /// A column the entity type does not have.
        UnknownColumn = "UNKNOWN_COLUMN",
        /// A `$batch` body that does not parse.
        InvalidBatch = "INVALID_BATCH",
        /// `If-None-Match: *` and the entity exists.
        AlreadyExists = "ALREADY_EXISTS",
        /// `If-Match` and the entity changed since it was read.
        ChangedSinceRead = "CHANGED_SINCE_READ",
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<ErrorCode> for str {
    fn eq(&self, other: &ErrorCode) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<ErrorCode> for String {
    fn eq(&self, other: &ErrorCode) -> bool {
        self == other.as_str()
    }
}

impl From<ErrorCode> for String {
    fn from(code: ErrorCode) -> String {
        code.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::ErrorCode;

    #[test]
    fn every_code_is_screaming_snake_and_spelled_once() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(
                text.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !text.starts_with('_'),
                "{text} is not SCREAMING_SNAKE"
            );
            assert!(seen.insert(text), "{text} names two codes");
            assert_eq!(ErrorCode::parse(text), Some(*code), "{text} reads back as itself");
        }
    }

    #[test]
    fn stored_codes_read_back_the_same() {
        // Catch-up and initial-sync errors keep these in existing databases.
        for text in ["STOPPED", "SKIPPED", "INITIAL_SYNC_FAILED", "BEHIND_FAILED_CHANGE", "LOOKUP_NOT_FOUND"]
        {
            assert_eq!(ErrorCode::parse(text).map(ErrorCode::as_str), Some(text));
        }
        assert_eq!(ErrorCode::parse("NO_SUCH_CODE"), None);
    }
}
