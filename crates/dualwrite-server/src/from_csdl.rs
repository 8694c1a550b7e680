//! `dualwrite schema from-csdl [--dataverse FILE] [--finops FILE] [--tables A,B,…] [--out FILE]`: a
//! schema document (`dualwrite.schema/v1`) from the environments' OData `$metadata`, on stdout or in
//! `--out`; what the documents lack goes to stderr as notes.
//!
//! `--tables` names tables of either side, by name or by the names dual-write uses (entity sets,
//! labels); each side keeps the ones it has and what their lookups and references reach. Without it
//! every table is kept.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use dualwrite_artifacts::csdl::{self, Imported};
use dualwrite_core::schema::Side;

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct FromCsdlOptions {
    pub dataverse: Option<PathBuf>,
    pub finops: Option<PathBuf>,
    pub tables: Vec<String>,
    pub out: Option<PathBuf>,
}

/// Reads the documents, writes the schema to `--out` or `out`, and the notes to `notes`.
pub fn run(options: &FromCsdlOptions, out: &mut dyn Write, notes: &mut dyn Write) -> anyhow::Result<()> {
    let inputs: Vec<(Side, &Path)> = [(Side::Finops, &options.finops), (Side::Dataverse, &options.dataverse)]
        .into_iter()
        .filter_map(|(side, path)| Some((side, path.as_deref()?)))
        .collect();
    if inputs.is_empty() {
        bail!("give a $metadata document: --dataverse FILE, --finops FILE, or both");
    }
    let mut imports: Vec<Imported> = Vec::new();
    for (side, path) in inputs {
        let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
        let imported = csdl::read(BufReader::new(file), Some(side), &options.tables)
            .with_context(|| format!("{} is not a readable {side} $metadata document", path.display()))?;
        imports.push(imported);
    }
    // A name need only be found on one side.
    let unknown: Vec<String> = options
        .tables
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .filter(|t| imports.iter().all(|i| i.unknown.iter().any(|u| u.name == *t)))
        .flat_map(|t| imports.iter().flat_map(|i| &i.unknown).filter(move |u| u.name == t))
        .map(ToString::to_string)
        .collect();
    if !unknown.is_empty() {
        bail!("tables asked for are in no document: {}", unknown.join("; "));
    }
    let schema = csdl::schema(&imports).context("the tables read do not make a valid schema")?;
    let mut said = Vec::new();
    for imported in &imports {
        let kept = imported.tables.len();
        said.push(format!(
            "{}: {} entity types read, {kept} tables kept",
            imported.side, imported.entity_types
        ));
        said.extend(imported.notes.iter().map(|n| format!("{}: {n}", imported.side)));
    }
    said.push(
        "companies are not in $metadata: list the legal entities' codes under `companies` before loading rows"
            .to_owned(),
    );
    for note in said {
        writeln!(notes, "note: {note}").context("writing the notes")?;
    }
    let text = serde_json::to_string_pretty(&schema.to_value()).context("writing the schema")?;
    match &options.out {
        Some(path) => {
            std::fs::write(path, format!("{text}\n")).with_context(|| format!("writing {}", path.display()))
        }
        None => writeln!(out, "{text}").context("writing the schema"),
    }
}
