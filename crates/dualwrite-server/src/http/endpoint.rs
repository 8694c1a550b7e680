//! The API is declared once, endpoint by endpoint: each declaration registers the handler behind its
//! access guard and describes it in the OpenAPI document, so the document cannot drift from the routes.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::{middleware, Json, Router};
use dualwrite_core::access::Permission;
use dualwrite_core::api::ErrorBody;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::{access, AppState};

/// What a handler answers on success, as the OpenAPI document describes it. The document takes it
/// from the handler's own return type, so no endpoint can answer a body it does not describe.
pub trait Answer {
    /// The schema of the success body; `None` for an answer without one (a 204).
    fn schema(generator: &mut SchemaGenerator) -> Option<Schema>;
}

impl<T: JsonSchema> Answer for Json<T> {
    fn schema(generator: &mut SchemaGenerator) -> Option<Schema> {
        Some(generator.subschema_for::<T>())
    }
}

impl<A: Answer> Answer for (StatusCode, A) {
    fn schema(generator: &mut SchemaGenerator) -> Option<Schema> {
        A::schema(generator)
    }
}

impl<A: Answer, E> Answer for Result<A, E> {
    fn schema(generator: &mut SchemaGenerator) -> Option<Schema> {
        A::schema(generator)
    }
}

impl Answer for StatusCode {
    fn schema(_: &mut SchemaGenerator) -> Option<Schema> {
        None
    }
}

/// A JSON answer `T`, or, when the request asks for it, a file of another media type (the
/// endpoint names that type with [`Endpoint::also`]).
pub enum OrFile<T> {
    Json(T),
    File {
        /// The media type, e.g. `text/csv; charset=utf-8`.
        content_type: &'static str,
        /// The name a browser saves it under.
        name: String,
        bytes: Vec<u8>,
    },
}

impl<T: Serialize> IntoResponse for OrFile<T> {
    fn into_response(self) -> Response {
        match self {
            OrFile::Json(body) => Json(body).into_response(),
            OrFile::File { content_type, name, bytes } => (
                [
                    (header::CONTENT_TYPE, content_type.to_owned()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                ],
                bytes,
            )
                .into_response(),
        }
    }
}

impl<T: JsonSchema> Answer for OrFile<T> {
    fn schema(generator: &mut SchemaGenerator) -> Option<Schema> {
        Some(generator.subschema_for::<T>())
    }
}

/// The answer of a handler function taking `Args`.
pub trait Answers<Args> {
    type Output;
}

macro_rules! answers {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg,)*> Answers<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
            Fut: Future,
        {
            type Output = Fut::Output;
        }
    };
}

answers!();
answers!(A1);
answers!(A1, A2);
answers!(A1, A2, A3);
answers!(A1, A2, A3, A4);
answers!(A1, A2, A3, A4, A5);

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy)]
pub enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Delete => "delete",
        }
    }
}

type SchemaOf = fn(&mut SchemaGenerator) -> Schema;

/// What an endpoint is: its method and path, who may call it, and what it takes and answers.
pub struct Endpoint {
    verb: Verb,
    path: &'static str,
    /// `None`: public (no token needed).
    permission: Option<Permission>,
    summary: &'static str,
    query: Option<SchemaOf>,
    body: Option<(SchemaOf, bool)>,
    status: u16,
    /// Another media type the success may come in (CSV, say), beside JSON.
    also: Option<&'static str>,
    /// Other media types the body may come in (a zip, say), beside JSON.
    body_also: &'static [&'static str],
    /// The body is a document of this media type (XML, say), not JSON.
    document: Option<&'static str>,
    /// A body limit other than the API's [`super::MAX_BODY_BYTES`].
    body_limit: Option<usize>,
    /// The body is a file streamed in one of these media types (read as it arrives, not buffered).
    uploads: &'static [&'static str],
}

impl Endpoint {
    pub fn new(verb: Verb, path: &'static str, summary: &'static str) -> Endpoint {
        Endpoint {
            verb,
            path,
            permission: None,
            summary,
            query: None,
            body: None,
            status: 200,
            also: None,
            body_also: &[],
            document: None,
            body_limit: None,
            uploads: &[],
        }
    }

    /// Callable with any token whose role holds `permission`.
    pub fn needs(mut self, permission: Permission) -> Endpoint {
        self.permission = Some(permission);
        self
    }

    /// Takes the query string `Q`.
    pub fn query<Q: JsonSchema>(mut self) -> Endpoint {
        self.query = Some(SchemaGenerator::root_schema_for::<Q>);
        self
    }

    /// Takes a JSON body `B`.
    pub fn body<B: JsonSchema>(mut self) -> Endpoint {
        self.body = Some((SchemaGenerator::subschema_for::<B>, true));
        self
    }

    /// Also takes a body of these media types (a file, read by its content), beside JSON.
    pub fn body_also(mut self, content_types: &'static [&'static str]) -> Endpoint {
        self.body_also = content_types;
        self
    }

    /// Takes a JSON body `B` that may be left out.
    pub fn optional_body<B: JsonSchema>(mut self) -> Endpoint {
        self.body = Some((SchemaGenerator::subschema_for::<B>, false));
        self
    }

    /// Takes a body of `content_type` (not JSON) of up to `limit` bytes (413 beyond).
    pub fn document(mut self, content_type: &'static str, limit: usize) -> Endpoint {
        self.document = Some(content_type);
        self.body_limit = Some(limit);
        self
    }

    /// Takes a file of one of `content_types` as the body, streamed by the handler itself (which
    /// enforces its own limit), not held in memory.
    pub fn upload(mut self, content_types: &'static [&'static str]) -> Endpoint {
        self.uploads = content_types;
        self
    }

    /// Answers `status` on success (200 unless told).
    pub fn status(mut self, status: u16) -> Endpoint {
        self.status = status;
        self
    }

    /// May answer a document of another media type (CSV, say) on success, when asked to.
    pub fn also(mut self, content_type: &'static str) -> Endpoint {
        self.also = Some(content_type);
        self
    }
}

/// The API being declared: its routes and their description.
pub struct Api {
    state: AppState,
    /// The finished document, served at `/openapi.json` (itself one of the endpoints described).
    document: Arc<OnceLock<Value>>,
    router: Router<AppState>,
    paths: Map<String, Value>,
    schemas: SchemaGenerator,
}

impl Api {
    pub fn new(state: AppState) -> Api {
        let document = Arc::new(OnceLock::new());
        let api = Api {
            state,
            document: document.clone(),
            router: Router::new(),
            paths: Map::new(),
            schemas: SchemaSettings::openapi3().into_generator(),
        };
        let serve = move || {
            let document = match document.get() {
                Some(Value::Object(document)) => document.clone(),
                _ => Map::new(),
            };
            std::future::ready(Json(document))
        };
        api.add(
            Endpoint::new(Verb::Get, "/openapi.json", "This document: the whole API, in OpenAPI 3"),
            serve,
        )
    }

    /// Adds `endpoint`, served by `handler`; what it answers on success is the handler's answer type.
    ///
    /// # Panics
    /// When the handler answers no body and the endpoint does not say it answers 204: the document
    /// would describe a body that is never sent.
    pub fn add<H, T, Args>(mut self, endpoint: Endpoint, handler: H) -> Api
    where
        H: Handler<T, AppState> + Answers<Args>,
        <H as Answers<Args>>::Output: Answer,
        T: 'static,
    {
        let response = <<H as Answers<Args>>::Output as Answer>::schema(&mut self.schemas);
        assert!(
            response.is_some() == (endpoint.status != 204),
            "{} {} answers {} with {} body",
            endpoint.verb.name(),
            endpoint.path,
            endpoint.status,
            if response.is_some() { "a" } else { "no" },
        );
        let mut route = on(endpoint.verb.filter(), handler);
        if let Some(limit) = endpoint.body_limit {
            // Set nearer the handler than the API's default, so it is the one that counts.
            route = route.layer(axum::extract::DefaultBodyLimit::max(limit));
        }
        if let Some(permission) = endpoint.permission {
            route = route
                .route_layer(middleware::from_fn_with_state((self.state.clone(), permission), access::guard));
        }
        self.router = self.router.route(endpoint.path, route);
        let operation = self.operation(&endpoint, response);
        let item = self.paths.entry(endpoint.path).or_insert_with(|| json!({}));
        if let Some(item) = item.as_object_mut() {
            item.insert(endpoint.verb.name().into(), operation);
        }
        self
    }

    /// The router, serving the OpenAPI document that describes it.
    pub fn finish(mut self) -> Router<AppState> {
        let mut schemas = self.schemas.take_definitions(true);
        schemas.insert("Error".into(), self.schemas.subschema_for::<ErrorBody>().to_value());
        schemas.extend(self.schemas.take_definitions(true));
        let document = json!({
            "openapi": "3.0.3",
            "info": {
                "title": "dualwrite",
                "version": dualwrite_core::VERSION,
                "description": "Bidirectional sync between finance and operations and Dataverse, driven by \
                    table maps and integration keys. Every call but the public ones needs \
                    `Authorization: Bearer <token>`; errors are `{\"error\": {\"code\", \"message\", ...}}`.",
            },
            "servers": [{"url": super::API}],
            "paths": self.paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        });
        // Set once, here; `new` made the slot and nothing else fills it.
        let _ = self.document.set(document);
        self.router
    }

    fn operation(&mut self, e: &Endpoint, response: Option<Schema>) -> Value {
        let mut parameters: Vec<Value> = path_parameters(e.path)
            .map(|name| {
                let schema = match name {
                    "side" => json!({"type": "string", "enum": ["finops", "dataverse"]}),
                    _ => json!({"type": "string"}),
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        if let Some(query) = e.query {
            parameters.extend(query_parameters(&query(&mut self.schemas).to_value()));
        }
        let error =
            json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let mut responses = Map::new();
        let described = match response {
            None => json!({"description": "done"}),
            Some(schema) => {
                let status = e.status;
                let success = json!({"schema": schema.to_value()});
                let mut content = json!({"application/json": success});
                if let Some(other) = e.also {
                    content[other] = json!({"schema": {"type": "string"}});
                }
                json!({"description": reason(status), "content": content})
            }
        };
        responses.insert(e.status.to_string(), described);
        let mut statuses = vec![400, 404, 405, 408, 409, 413, 422, 503];
        if e.permission.is_some() {
            statuses.extend([401, 403]);
        }
        statuses.sort_unstable();
        for status in statuses {
            let mut answer = error.clone();
            answer["description"] = reason(status).into();
            responses.insert(status.to_string(), answer);
        }
        let mut operation = json!({
            "summary": e.summary,
            "operationId": operation_id(e.verb, e.path),
            "parameters": parameters,
            "responses": responses,
        });
        match e.permission {
            Some(permission) => {
                let roles: Vec<&str> = permission.roles().map(|r| r.as_str()).collect();
                operation["description"] = format!("Roles: {}.", roles.join(", ")).into();
                operation["security"] = json!([{"bearer": []}]);
            }
            None => operation["security"] = json!([]),
        }
        if let Some(content_type) = e.document {
            operation["requestBody"] = json!({
                "required": true,
                "content": {content_type: {"schema": {"type": "string"}}},
            });
        }
        if !e.uploads.is_empty() {
            let content: serde_json::Map<String, Value> = e
                .uploads
                .iter()
                .map(|t| ((*t).to_owned(), json!({"schema": {"type": "string", "format": "binary"}})))
                .collect();
            operation["requestBody"] = json!({"required": true, "content": content});
        }
        if let Some((schema, required)) = e.body {
            let mut content = json!({"application/json": {"schema": schema(&mut self.schemas).to_value()}});
            for other in e.body_also {
                content[*other] = json!({"schema": {"type": "string", "format": "binary"}});
            }
            operation["requestBody"] = json!({"required": required, "content": content});
        }
        operation
    }
}

/// The `{name}` segments of a route.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
}

/// Query parameters from the JSON Schema of a query struct: one per property.
fn query_parameters(schema: &Value) -> Vec<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            let description = property.as_object_mut().and_then(|p| p.remove("description"));
            let mut parameter = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": property,
            });
            if let Some(description) = description {
                parameter["description"] = description;
            }
            parameter
        })
        .collect()
}

/// `get /maps/{id}/queue` → `get_maps_id_queue`.
fn operation_id(verb: Verb, path: &str) -> String {
    let words: Vec<String> = path
        .split(['/', '-'])
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_matches(['{', '}']).replace('.', "_"))
        .collect();
    format!("{}_{}", verb.name(), words.join("_"))
}

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("answer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_and_operation_ids_come_from_the_route() {
        assert_eq!(path_parameters("/envs/{side}/tables/{table}").collect::<Vec<_>>(), ["side", "table"]);
        assert_eq!(operation_id(Verb::Post, "/maps/{id}/skip-to-live"), "post_maps_id_skip_to_live");
    }
}
