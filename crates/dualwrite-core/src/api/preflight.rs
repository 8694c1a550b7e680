//! `POST /maps/{id}/preflight`: what an initial sync would do to the current rows, and one problem's
//! rows page by page.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::initial_sync::FieldDiff;
use crate::schema::Side;
use crate::validation::Diagnostic;

/// `POST /maps/{id}/preflight`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PreflightRequest {
    /// The side whose values would win conflicts; Dataverse unless chosen.
    pub master: Option<Side>,
}

/// One row that would not sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ProblemRow {
    pub code: String,
    /// The side of the row that would fail to sync.
    pub side: Side,
    /// Its integration-key values as the row holds them (`C001`, company part left out), or `(no key)`.
    pub key: String,
    /// The row's company code as the row holds it, for a company-specific key.
    pub company: Option<String>,
    pub message: String,
    /// The field, its value and, for a missing lookup or reference, the table it names and the map
    /// that would bring that table's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bringing_map: Option<String>,
}

/// The rows of one problem: in the report, how many and the first of them; with `?problem=CODE`, a
/// page of them from `offset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PreflightProblem {
    pub code: String,
    pub title: String,
    pub total: u64,
    pub items: Vec<ProblemRow>,
}

/// Twins whose values differ, and what the master keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ConflictSample {
    /// The master's row's key values and company, as that row holds them.
    pub key: String,
    pub company: Option<String>,
    pub diffs: Vec<FieldDiff>,
}

/// A count for each side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PerSide {
    pub finops: u64,
    pub dataverse: u64,
}

impl PerSide {
    pub fn add(&mut self, side: Side, n: usize) {
        let n = n as u64;
        match side {
            Side::Finops => self.finops += n,
            Side::Dataverse => self.dataverse += n,
        }
    }
}

/// What an initial sync would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct PreflightReport {
    pub map_id: String,
    pub map: String,
    pub master: Side,
    /// Whether the map can run with an initial sync and every row would sync.
    pub ready: bool,
    pub reasons: Vec<String>,
    /// Rows read on each side, and of those, rows outside the side's filter.
    pub rows: PerSide,
    pub filtered: PerSide,
    /// Twins found on both sides; of those, already equal and in conflict.
    pub matched: u64,
    pub equal: u64,
    pub conflicts: u64,
    pub conflict_samples: Vec<ConflictSample>,
    /// Rows that would be created on each side, and twins that would be updated on each side.
    pub creates: PerSide,
    pub updates: PerSide,
    /// Rows that would fail, by problem (largest first), each with samples.
    pub problems: Vec<PreflightProblem>,
    /// The static checks of the map (validation), key coverage among them.
    pub diagnostics: Vec<Diagnostic>,
}

/// The JSON answers of `POST /maps/{id}/preflight`: the report, or with `?problem=CODE` a page of
/// that problem's rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum PreflightAnswer {
    Report(PreflightReport),
    Problem(PreflightProblem),
}
