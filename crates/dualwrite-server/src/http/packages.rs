//! Packages: `GET /packages/export?maps=&format=` and `POST /packages/import`, in the native
//! `dualwrite.package/v1` shape or dual-write's `msdyn_mapping` JSON.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dualwrite_core::integration_key::IntegrationKeys;
use dualwrite_core::lifecycle::MapStatus;
use dualwrite_core::package::Package;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{Body, Query};
use super::maps::{diagnose, find, resource};
use super::AppState;
use crate::catalog::{self, CatalogMap};
use crate::error::ApiError;

#[derive(schemars::JsonSchema, Deserialize)]
pub struct ExportQuery {
    /// Comma-separated map ids; all maps when absent.
    maps: Option<String>,
    /// `native` (the default) or `msdyn_mapping`.
    format: Option<String>,
}

pub async fn export(
    State(app): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<Json<Value>, ApiError> {
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
            "native" => Ok(Json(package.to_value())),
            "msdyn_mapping" => Ok(Json(package.to_ms_mapping())),
            other => Err(ApiError::bad_request(
                "INVALID_QUERY",
                format!("format `{other}` is not known; use native or msdyn_mapping"),
            )),
        }
    })
    .await
}

/// Imports every map of a package as a new map (not running), and its integration keys.
pub async fn import(
    State(app): State<AppState>,
    Body(doc): Body<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    app.write(move |tx, catalog| {
        let native = doc.get("format").is_some();
        let mut package = if native {
            Package::from_value(&doc)
        } else {
            Package::from_ms_mapping(&doc.to_string(), catalog.schema.as_ref())
        }
        .map_err(|e| {
            ApiError::bad_request("INVALID_PACKAGE", format!("the package has problems: {e}"))
                .with("problems", serde_json::to_value(&e.problems).unwrap_or_default())
        })?;
        if let Some(schema) = &catalog.schema {
            package.resolve_tables(schema);
        }
        let imported_keys = IntegrationKeys::from_package(&package.integration_keys, catalog.schema.as_ref());
        let mut keys = catalog.keys.clone();
        for (table, key) in imported_keys.iter() {
            if let Some(m) =
                catalog.maps.iter().find(|m| m.map.dataverse == table && m.status != MapStatus::NotRunning)
            {
                return Err(ApiError::conflict(
                    "MAPS_RUNNING",
                    format!(
                        "map `{}` on {table} is {}; stop it before importing a key for its table",
                        m.map.name, m.status
                    ),
                ));
            }
            if key.manual {
                keys.set_manual(table, key.fields.clone());
            } else {
                keys.set_generated(table, key.fields.clone());
            }
        }
        catalog::put_keys(tx, &keys)?;
        let mut items = Vec::new();
        for map in &package.maps {
            let id = tx.insert_map(&map.to_value())?;
            tx.append_event(
                "map_saved",
                Some(id),
                &json!({"map": map.name, "version": map.version, "imported": true}),
            )?;
            let saved = CatalogMap {
                id,
                map: map.clone(),
                status: MapStatus::NotRunning,
                finops_filter: None,
                dataverse_filter: None,
            };
            let mut item = serde_json::to_value(resource(&saved)).unwrap_or_default();
            if let Value::Object(o) = &mut item {
                o.insert(
                    "diagnostics".into(),
                    serde_json::to_value(diagnose(catalog, map, Some(id))).unwrap_or_default(),
                );
            }
            items.push(item);
        }
        catalog::bump(tx)?;
        Ok((StatusCode::CREATED, Json(json!({"items": items}))))
    })
    .await
}
