//! Packages: `GET /packages/export?maps=&format=` and `POST /packages/import?preview=`, in the native
//! `dualwrite.package/v1` shape, dual-write's `msdyn_mapping` JSON, or a Power Platform solution
//! (`customizations.xml`, a solution zip or a zip of solution zips; see `dualwrite_artifacts::solution`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use dualwrite_artifacts::solution::{self, SolutionInfo};
use dualwrite_core::api::{ImportAction, ImportReport, ImportedMap, MapDoc, PackageDocument, PackageExport};
use dualwrite_core::document::Problem;
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::integration_key::IntegrationKeys;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::package::Package;
use dualwrite_core::table_map::changes;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{Body, Query};
use super::endpoint::OrFile;
use super::maps::{diagnose, find, refuse_unless_editable};
use super::AppState;
use crate::catalog::{self, Catalog, CatalogMap};
use crate::error::ApiError;
use crate::import_ms::{read_package, PackageFileError};
use crate::store::{EventKind, Tx};

#[derive(schemars::JsonSchema, Deserialize)]
pub struct ExportQuery {
    /// Comma-separated map ids; all maps when absent.
    maps: Option<String>,
    /// `native` (the default), `msdyn_mapping`, or `solution` (a solution zip, `application/zip`).
    format: Option<String>,
}

pub async fn export(
    State(app): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<OrFile<PackageExport>, ApiError> {
    app.read(move |_, catalog| {
        let chosen: Vec<&CatalogMap> = match q.maps.as_deref().filter(|m| !m.trim().is_empty()) {
            None => catalog.maps.iter().collect(),
            Some(ids) => ids.split(',').map(|id| find(catalog, id.trim())).collect::<Result<_, _>>()?,
        };
        let mut package =
            Package { maps: chosen.iter().map(|m| m.map.clone()).collect(), ..Package::default() };
        if let Some(schema) = &catalog.schema {
            for m in &chosen {
                if let Ok(key) = catalog.keys.effective(schema, &m.map.dataverse) {
                    package.integration_keys.insert(key.table, key.fields);
                }
            }
        }
        match q.format.as_deref().unwrap_or("native") {
            "native" => Ok(OrFile::Json(PackageExport::Native(PackageDocument::from(&package)))),
            "msdyn_mapping" => Ok(OrFile::Json(PackageExport::ms_mapping(&package))),
            "solution" => {
                let info = SolutionInfo::default();
                let zip = solution::write_package(&info, &package)
                    .map_err(|e| ApiError::Internal(anyhow::anyhow!("writing a solution zip: {e}")))?;
                let name = format!("{}_{}.zip", info.unique_name, info.version.replace('.', "_"));
                Ok(OrFile::File { content_type: "application/zip", name, bytes: zip })
            }
            other => Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
                format!("format `{other}` is not known; use native, msdyn_mapping or solution"),
            )),
        }
    })
    .await
}

#[derive(schemars::JsonSchema, Deserialize)]
pub struct ImportQuery {
    /// `true`: report what the import would do, field by field against the stored maps, and write
    /// nothing.
    preview: Option<bool>,
}

/// The body of `POST /packages/import`, by its content type: JSON (a native package or the
/// `msdyn_mapping` legs), or a solution: `application/zip` (a solution zip or a zip of solution zips)
/// or `application/xml` (a `customizations.xml`).
pub enum PackageBody {
    Json(Value),
    Solution(Bytes),
}

/// The media types a solution is sent as.
pub const SOLUTION_TYPES: [&str; 5] = [
    "application/zip",
    "application/x-zip-compressed",
    "application/octet-stream",
    "application/xml",
    "text/xml",
];

impl<S: Send + Sync> FromRequest<S> for PackageBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let essence = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if SOLUTION_TYPES.contains(&essence.as_str()) {
            return Ok(PackageBody::Solution(Bytes::from_request(req, state).await?));
        }
        if essence == "application/json" || essence.ends_with("+json") {
            let Body(value) = Body::<Value>::from_request(req, state).await?;
            return Ok(PackageBody::Json(value));
        }
        Err(ApiError::bad_request(
            ErrorCode::UnsupportedContentType,
            "send a package as application/json, or a solution as application/zip or application/xml",
        ))
    }
}

/// The package a body holds, or a 400 naming every problem with its place.
fn package_of(body: &PackageBody, catalog: &Catalog) -> Result<Package, ApiError> {
    let schema = catalog.schema.as_ref();
    let read = match body {
        PackageBody::Json(doc) if doc.get("format").is_some() => {
            Package::from_value(doc).map_err(PackageFileError::Document)
        }
        PackageBody::Json(doc) => {
            Package::from_ms_mapping(&doc.to_string(), schema).map_err(PackageFileError::Document)
        }
        PackageBody::Solution(bytes) => read_package("the solution", bytes, schema),
    };
    let mut package = read.map_err(|e| {
        let problems: Vec<Problem> = match &e {
            PackageFileError::Document(d) | PackageFileError::Maps(d) => d.problems.clone(),
            PackageFileError::Solution(s) => {
                vec![Problem { path: s.place.to_string(), message: s.message.to_string() }]
            }
            PackageFileError::NotText => vec![Problem { path: String::new(), message: e.to_string() }],
        };
        ApiError::bad_request(ErrorCode::InvalidPackage, format!("the package has problems: {e}"))
            .with("problems", serde_json::to_value(problems).unwrap_or_default())
    })?;
    // Maps are stored under the schema's own table names, whatever alias the package used.
    if let Some(schema) = schema {
        package.resolve_tables(schema);
    }
    Ok(package)
}

/// Imports every map of a package: a map named like a stored map replaces it (which must be
/// `not_running`), any other is created, not running; and the package's integration keys. With
/// `?preview=true`, nothing is written and each map says what would happen, field by field.
pub async fn import(
    State(app): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: PackageBody,
) -> Result<(StatusCode, Json<ImportReport>), ApiError> {
    if q.preview.unwrap_or(false) {
        let report = app.read(move |_, catalog| plan(catalog, &body).map(|(_, items)| items)).await?;
        return Ok((StatusCode::OK, Json(ImportReport { preview: true, items: report })));
    }
    app.write(move |tx, catalog| {
        let (package, mut items) = plan(catalog, &body)?;
        write_keys(tx, catalog, &package)?;
        for (map, item) in package.maps.iter().zip(items.iter_mut()) {
            let id = match item.id.as_deref().and_then(|id| id.parse::<i64>().ok()) {
                Some(id) => {
                    tx.update_map(id, &map.to_value())?;
                    id
                }
                None => tx.insert_map(&map.to_value())?,
            };
            tx.record_event(
                EventKind::MapSaved,
                Some(id),
                &json!({"map": map.name, "version": map.version, "imported": true,
                        "replaced": item.action == ImportAction::Replaced}),
            )?;
            item.id = Some(id.to_string());
            if item.action == ImportAction::Created {
                item.diagnostics = diagnose(catalog, map, Some(id));
            }
        }
        catalog::bump(tx)?;
        Ok((StatusCode::CREATED, Json(ImportReport { preview: false, items })))
    })
    .await
}

/// What importing `body` does to each map, checked as the import checks it: the package must read,
/// no two of its maps may share a name, a map it replaces must be editable, and no key may change
/// under a map that is not `not_running`.
fn plan(catalog: &Catalog, body: &PackageBody) -> Result<(Package, Vec<ImportedMap>), ApiError> {
    let package = package_of(body, catalog)?;
    refuse_running_keys(catalog, &package)?;
    let mut items = Vec::new();
    for (i, map) in package.maps.iter().enumerate() {
        if package.maps[..i].iter().any(|m| m.name == map.name) {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidPackage,
                format!(
                    "two maps of the package are named `{}`; a name identifies the map it replaces",
                    map.name
                ),
            ));
        }
        let stored = catalog.maps.iter().find(|m| m.map.name == map.name);
        let item = match stored {
            Some(stored) => {
                refuse_unless_editable(stored, "replace")?;
                ImportedMap {
                    action: ImportAction::Replaced,
                    id: Some(stored.id.to_string()),
                    status: stored.status,
                    map: MapDoc::from_map(map),
                    changes: changes(&stored.map, map),
                    diagnostics: diagnose(catalog, map, Some(stored.id)),
                }
            }
            None => ImportedMap {
                action: ImportAction::Created,
                id: None,
                status: MapStatus::NotRunning,
                map: MapDoc::from_map(map),
                changes: Vec::new(),
                diagnostics: diagnose(catalog, map, None),
            },
        };
        items.push(item);
    }
    Ok((package, items))
}

fn refuse_running_keys(catalog: &Catalog, package: &Package) -> Result<(), ApiError> {
    let imported = IntegrationKeys::from_package(&package.integration_keys, catalog.schema.as_ref());
    for (table, _) in imported.iter() {
        if let Some(m) =
            catalog.maps.iter().find(|m| m.map.dataverse == table && m.status != MapStatus::NotRunning)
        {
            return Err(ApiError::conflict(
                ErrorCode::MapsRunning,
                format!(
                    "map `{}` on {table} is {}; stop it before importing a key for its table",
                    m.map.name, m.status
                ),
            ));
        }
    }
    Ok(())
}

fn write_keys(tx: &mut dyn Tx, catalog: &Catalog, package: &Package) -> Result<(), ApiError> {
    let imported = IntegrationKeys::from_package(&package.integration_keys, catalog.schema.as_ref());
    let mut keys = catalog.keys.clone();
    for (table, key) in imported.iter() {
        if key.manual {
            keys.set_manual(table, key.fields.clone());
        } else {
            keys.set_generated(table, key.fields.clone());
        }
    }
    catalog::put_keys(tx, &keys)?;
    Ok(())
}
