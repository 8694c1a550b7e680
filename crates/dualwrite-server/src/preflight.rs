//! Preflight: what an initial sync of a map would do to the actual rows, read in one snapshot and
//! written nowhere. The same index, chunks and planner as the initial sync, and the same link checks
//! as a write, so the prediction is the sync's own: rows per side, matched pairs, equal pairs,
//! conflicts with their field diffs and which side the master keeps, rows created on each side, and
//! every row that would fail, by problem, with the map that would bring a missing lookup target.

use std::collections::{BTreeMap, HashSet};

use dualwrite_core::api::PreflightReport;
use dualwrite_core::error_code::ErrorCode;
use dualwrite_core::initial_sync::Planner;
use dualwrite_core::integration_key::{key_part, normalize, DisplayKey};
use dualwrite_core::schema::{Row, Schema, Side, Table, COMPANY_KEY_PATH, DATA_AREA_ID};
use dualwrite_core::validation::{has_errors, Diagnostic};
use serde_json::Value;

use crate::catalog::{Catalog, CatalogMap};
use crate::environment::{keys, write};
use crate::initial_sync::{Deferred, CHUNK};
use crate::store::Tx;
use crate::sync_error::{Refusal, SyncError};
use crate::twins::{Chunk, Queued, TwinIndex};

/// Samples kept per problem and conflicts kept in the report (all of them go to the CSV).
pub const SAMPLE: usize = 20;

pub use dualwrite_core::api::{ConflictSample, PerSide, PreflightProblem as Problem, ProblemRow};

/// What an initial sync would do: the report the API answers, and every problem row (for the CSV
/// and the problem pages).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub summary: PreflightReport,
    pub all_problems: Vec<ProblemRow>,
}

impl std::ops::Deref for Report {
    type Target = PreflightReport;

    fn deref(&self) -> &PreflightReport {
        &self.summary
    }
}

impl std::ops::DerefMut for Report {
    fn deref_mut(&mut self) -> &mut PreflightReport {
        &mut self.summary
    }
}

/// What each problem means, for people.
pub fn title(code: &str) -> &'static str {
    match ErrorCode::parse(code) {
        Some(ErrorCode::NullKey) => "integration key is null or empty",
        Some(ErrorCode::DuplicateKey) => {
            "integration key occurs more than once (ignoring case and trailing spaces)"
        }
        Some(ErrorCode::TwinHasDuplicateKey) => "the twin's key occurs more than once on the other side",
        Some(ErrorCode::KeyNotMapped) | Some(ErrorCode::InvalidKey) => "integration key cannot be read",
        Some(ErrorCode::LookupNotFound) => "Dataverse lookup would not resolve",
        Some(ErrorCode::ReferenceNotFound) => "finops reference would not resolve",
        Some(ErrorCode::RequiredEmpty) => "required destination field left empty",
        Some(ErrorCode::ValueNotMapped) => "value missing from a value map",
        Some(ErrorCode::ValueTooLong) => "string would be truncated",
        Some(ErrorCode::MissingCompany) | Some(ErrorCode::UnknownCompany) => "row has no known company",
        _ => "value does not fit its destination",
    }
}

/// A link into the map's own table, checked once every chunk is read: the row it names may be one
/// the sync creates.
struct OwnLink {
    problem: ProblemRow,
    /// The target key (value, company) the link needs.
    target: (String, String),
    table: String,
    path: String,
}

/// Runs the preflight of `cmap` with `master` in the caller's (read) transaction.
pub fn run(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    cmap: &CatalogMap,
    master: Side,
    diagnostics: Vec<Diagnostic>,
) -> Result<Report, SyncError> {
    let schema = catalog.require_schema()?;
    let summary = PreflightReport {
        map_id: cmap.id.to_string(),
        map: cmap.map.name.clone(),
        master,
        ready: false,
        reasons: Vec::new(),
        rows: PerSide::default(),
        filtered: PerSide::default(),
        matched: 0,
        equal: 0,
        conflicts: 0,
        conflict_samples: Vec::new(),
        creates: PerSide::default(),
        updates: PerSide::default(),
        problems: Vec::new(),
        diagnostics,
    };
    let mut report = Report { summary, all_problems: Vec::new() };
    if has_errors(&report.diagnostics) {
        report.reasons.push("the map has validation errors; it cannot run until they are fixed".into());
        return Ok(report);
    }
    let planner = Planner::new(schema, &catalog.keys, &cmap.map, master)
        .map_err(|e| SyncError::invalid(ErrorCode::MapInvalid, e.to_string()))?;
    let deferred = Deferred::of(schema, cmap);
    let index = TwinIndex::build(tx, catalog, schema, cmap)?;
    let mut own_links: Vec<OwnLink> = Vec::new();
    let mut created_keys: HashSet<(String, String, String)> = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let keys = index.after(cursor.as_ref(), CHUNK)?;
        let Some((last, _)) = keys.last() else { break };
        cursor = Some(last.clone());
        let chunk = Chunk::read(tx, catalog, schema, cmap, &keys, &Queued::none())?;
        let plan = planner.plan(&chunk.finops_rows, &chunk.dataverse_rows);
        report.rows.add(Side::Finops, chunk.len(Side::Finops));
        report.rows.add(Side::Dataverse, chunk.len(Side::Dataverse));
        for f in &plan.filtered {
            report.filtered.add(f.side, 1);
        }
        report.equal += plan.equal.len() as u64;
        report.conflicts += plan.conflicts.len() as u64;
        report.matched += (plan.equal.len() + plan.conflicts.len()) as u64;
        for conflict in plan.conflicts.iter().take(SAMPLE.saturating_sub(report.conflict_samples.len())) {
            let index = if master == Side::Finops { conflict.finops_index } else { conflict.dataverse_index };
            let shown = chunk.display_key(&planner, master, index);
            report.conflict_samples.push(ConflictSample {
                key: shown.key,
                company: shown.company,
                diffs: conflict.diffs.clone(),
            });
        }
        for p in &plan.problems {
            let shown = chunk.display_key(&planner, p.side, p.index);
            report.all_problems.push(problem(&p.code, p.side, shown, p.message.clone()));
        }
        for create in &plan.creates {
            let table = write::table(schema, create.side, cmap.map.table(create.side))?;
            let source = create.side.other();
            let problems = links(
                tx,
                catalog,
                schema,
                table,
                &create.row,
                source,
                &chunk.display_key(&planner, source, create.source_index),
                &deferred,
                &mut own_links,
            )?;
            if problems.is_empty() {
                report.creates.add(create.side, 1);
                created_keys.extend(own_key_values(table, &create.row, cmap, schema));
            }
            report.all_problems.extend(problems);
        }
        for update in &plan.updates {
            let table = write::table(schema, update.side, cmap.map.table(update.side))?;
            let mut fields = update.fields.clone();
            if let Some(row) = chunk.row(update.side, update.index) {
                // Links resolve within the row's company, which an update does not repeat.
                for column in [DATA_AREA_ID, COMPANY_KEY_PATH] {
                    if let Some(v) = row.get(column) {
                        fields.entry(column.to_owned()).or_insert_with(|| v.clone());
                    }
                }
            }
            let source = update.side.other();
            let problems = links(
                tx,
                catalog,
                schema,
                table,
                &fields,
                source,
                &chunk.display_key(&planner, source, update.source_index),
                &deferred,
                &mut own_links,
            )?;
            if problems.is_empty() {
                report.updates.add(update.side, 1);
            }
            report.all_problems.extend(problems);
        }
        // Rows already there count as targets of self-references too.
        for side in [Side::Finops, Side::Dataverse] {
            let table = write::table(schema, side, cmap.map.table(side))?;
            for i in 0..chunk.len(side) {
                if let Some(row) = chunk.row(side, i) {
                    created_keys.extend(own_key_values(table, row, cmap, schema));
                }
            }
        }
    }
    for link in own_links {
        if !created_keys.contains(&(
            link.table,
            link.path,
            format!("{}\u{1f}{}", link.target.0, link.target.1),
        )) {
            report.all_problems.push(link.problem);
        }
    }
    summarize(&mut report);
    Ok(report)
}

fn problem(code: &str, side: Side, shown: DisplayKey, message: String) -> ProblemRow {
    ProblemRow {
        code: code.to_owned(),
        side,
        key: shown.key,
        company: shown.company,
        message,
        field: None,
        value: None,
        target_table: None,
        bringing_map: None,
    }
}

/// The problems a write of `row` into `table` would meet in its links; self-references go to
/// `own_links`, checked once every row is known.
#[allow(clippy::too_many_arguments)]
fn links(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    schema: &Schema,
    table: &Table,
    row: &Row,
    source: Side,
    shown: &DisplayKey,
    deferred: &Deferred,
    own_links: &mut Vec<OwnLink>,
) -> Result<Vec<ProblemRow>, SyncError> {
    let mut problems = Vec::new();
    for error in write::broken_links(tx, schema, table, row)? {
        let target = error.detail("target_table").and_then(Value::as_str).map(str::to_owned);
        let bringing = target.as_deref().and_then(|t| {
            catalog.maps.iter().find(|m| {
                m.map.table(table.side) == t
                    || (table.side == Side::Finops && m.map.finops.eq_ignore_ascii_case(t))
            })
        });
        let Some(Refusal { code, message, .. }) = error.refusal() else { return Err(error) };
        problems.push(ProblemRow {
            code: code.as_str().to_owned(),
            side: source,
            key: shown.key.clone(),
            company: shown.company.clone(),
            message: message.clone(),
            field: error.detail("field").and_then(Value::as_str).map(str::to_owned),
            value: error.detail("value").cloned(),
            target_table: target.clone(),
            bringing_map: bringing.map(|m| m.map.name.clone()),
        });
    }
    let company =
        row.get(DATA_AREA_ID).or_else(|| row.get(COMPANY_KEY_PATH)).and_then(key_part).unwrap_or_default();
    for field in deferred.on(table.side) {
        let Some(value) = row.get(field).filter(|v| !v.is_null()) else { continue };
        let path = own_target_column(schema, table, field);
        own_links.push(OwnLink {
            problem: ProblemRow {
                code: if table.side == Side::Finops {
                    ErrorCode::ReferenceNotFound
                } else {
                    ErrorCode::LookupNotFound
                }
                .into(),
                side: source,
                key: shown.key.clone(),
                company: shown.company.clone(),
                message: format!(
                    "`{field}` = {value}: no {} row has that key, and the sync creates none",
                    table.name
                ),
                field: Some(field.clone()),
                value: Some(value.clone()),
                target_table: Some(table.name.clone()),
                bringing_map: None,
            },
            target: (key_part(value).unwrap_or_default(), company.clone()),
            table: table.name.clone(),
            path,
        });
    }
    Ok(problems)
}

/// The column of the map's own table a self-referencing field names (`accountnumber` for
/// `msdyn_billingaccount.accountnumber`, `CUSTOMERACCOUNT` for `INVOICEACCOUNT`).
fn own_target_column(schema: &Schema, table: &Table, field: &str) -> String {
    match table.side {
        Side::Finops => table
            .column(field)
            .and_then(|c| c.references.as_ref())
            .map_or_else(String::new, |r| normalize(&r.column)),
        Side::Dataverse => {
            schema.resolve_path(table, field).map_or_else(|_| String::new(), |p| p.column.name.clone())
        }
    }
}

/// The (table, column, value␟company) of `row` for every column that a self-reference of the map
/// names: what a self-reference to this row would match.
fn own_key_values(
    table: &Table,
    row: &Row,
    cmap: &CatalogMap,
    schema: &Schema,
) -> Vec<(String, String, String)> {
    let deferred = Deferred::of(schema, cmap);
    let company =
        row.get(DATA_AREA_ID).or_else(|| row.get(COMPANY_KEY_PATH)).and_then(key_part).unwrap_or_default();
    deferred
        .on(table.side)
        .iter()
        .map(|f| own_target_column(schema, table, f))
        .filter_map(|column| {
            let value = keys::get(table, row, &column).and_then(key_part)?;
            Some((table.name.clone(), column, format!("{value}\u{1f}{company}")))
        })
        .collect()
}

/// Groups the problem rows, largest problem first, and decides whether the map is ready.
fn summarize(report: &mut Report) {
    let mut by_code: BTreeMap<String, Vec<ProblemRow>> = BTreeMap::new();
    for p in &report.all_problems {
        by_code.entry(p.code.clone()).or_default().push(p.clone());
    }
    let mut problems: Vec<Problem> = by_code
        .into_iter()
        .map(|(code, rows)| Problem {
            title: title(&code).to_owned(),
            total: rows.len() as u64,
            items: rows.into_iter().take(SAMPLE).collect(),
            code,
        })
        .collect();
    problems.sort_by(|a, b| b.total.cmp(&a.total).then(a.code.cmp(&b.code)));
    for p in &problems {
        let rows = if p.total == 1 { "row" } else { "rows" };
        report.reasons.push(format!("{} {rows}: {}", p.total, p.title));
    }
    report.problems = problems;
    report.ready = report.reasons.is_empty();
}

/// Every problem row as CSV: code, side, key, company, field, value, target table, bringing map,
/// message. Scripts read its columns by the header's names: columns are added, never renamed or dropped.
pub fn csv(report: &Report) -> String {
    let mut out = String::from("code,side,key,company,field,value,target_table,bringing_map,message\n");
    let cell = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    for p in &report.all_problems {
        let value = match &p.value {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        };
        let cells = [
            p.code.as_str(),
            p.side.as_str(),
            &p.key,
            p.company.as_deref().unwrap_or(""),
            p.field.as_deref().unwrap_or(""),
            &value,
            p.target_table.as_deref().unwrap_or(""),
            p.bringing_map.as_deref().unwrap_or(""),
            &p.message,
        ];
        out.push_str(&cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}
