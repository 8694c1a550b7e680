//! `$metadata`: the schema as the real services describe theirs, in OData CSDL XML. Dataverse: the
//! `Microsoft.Dynamics.CRM` namespace (alias `mscrm`), an entity type per table named by its logical
//! name, lookups as single-valued navigation properties with a `_x_value` property they constrain,
//! alternate keys as `OData.Community.Keys.V1.AlternateKeys` annotations. Finance and operations:
//! the `Microsoft.Dynamics.DataEntities` namespace, an entity type per entity keyed by its entity key
//! (`dataAreaId` first for a company-specific one), entity sets by public collection name, enum
//! columns typed by an `EnumType` each.

use std::fmt::Write;

use dualwrite_core::schema::{ColumnType, Schema, Side, Table};

/// The Dataverse namespace and its alias.
pub const DATAVERSE_NAMESPACE: &str = "Microsoft.Dynamics.CRM";

const EDMX_OPEN: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
"#;

/// The Dataverse side's `$metadata`.
pub fn dataverse(schema: &Schema) -> String {
    let mut xml = String::from(EDMX_OPEN);
    xml.push_str(
        r#"  <edmx:Reference Uri="http://vocabularies.odata.org/OData.Community.Keys.V1.xml">
    <edmx:Include Namespace="OData.Community.Keys.V1" Alias="Keys" />
    <edmx:IncludeAnnotations TermNamespace="OData.Community.Keys.V1" />
  </edmx:Reference>
  <edmx:DataServices>
    <Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">
"#,
    );
    let tables = schema.tables(Side::Dataverse);
    for table in tables {
        dataverse_entity_type(&mut xml, table);
    }
    xml.push_str("      <EntityContainer Name=\"System\">\n");
    for table in tables {
        let _ = writeln!(
            xml,
            "        <EntitySet Name=\"{}\" EntityType=\"{DATAVERSE_NAMESPACE}.{}\">",
            escape(&table.entity_set()),
            escape(&table.name)
        );
        for column in &table.columns {
            if let ColumnType::Lookup { target } = &column.ty {
                if let Some(target) = schema.table(Side::Dataverse, target) {
                    let _ = writeln!(
                        xml,
                        "          <NavigationPropertyBinding Path=\"{}\" Target=\"{}\" />",
                        escape(&column.name),
                        escape(&target.entity_set())
                    );
                }
            }
        }
        xml.push_str("        </EntitySet>\n");
    }
    xml.push_str("      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n");
    xml
}

fn dataverse_entity_type(xml: &mut String, table: &Table) {
    let name = escape(&table.name);
    let _ = writeln!(xml, "      <EntityType Name=\"{name}\">");
    let _ = writeln!(
        xml,
        "        <Key>\n          <PropertyRef Name=\"{}\" />\n        </Key>",
        escape(table.id_column_name())
    );
    for column in &table.columns {
        let property = match &column.ty {
            ColumnType::Lookup { .. } => format!("_{}_value", column.name),
            _ => column.name.clone(),
        };
        let _ =
            write!(xml, "        <Property Name=\"{}\" Type=\"{}\"", escape(&property), edm_type(&column.ty));
        if let ColumnType::String { max_length: Some(n) } = &column.ty {
            let _ = write!(xml, " MaxLength=\"{n}\"");
        }
        xml.push_str(" />\n");
    }
    for column in &table.columns {
        if let ColumnType::Lookup { target } = &column.ty {
            let nullable = if column.required { " Nullable=\"false\"" } else { "" };
            let _ = writeln!(
                xml,
                "        <NavigationProperty Name=\"{0}\" Type=\"mscrm.{1}\"{nullable}>\n          <ReferentialConstraint Property=\"_{0}_value\" ReferencedProperty=\"{1}id\" />\n        </NavigationProperty>",
                escape(&column.name),
                escape(target)
            );
        }
    }
    if !table.alternate_keys.is_empty() {
        xml.push_str(
            "        <Annotation Term=\"OData.Community.Keys.V1.AlternateKeys\">\n          <Collection>\n",
        );
        for key in &table.alternate_keys {
            xml.push_str("            <Record Type=\"OData.Community.Keys.V1.AlternateKey\">\n              <PropertyValue Property=\"Key\">\n                <Collection>\n");
            for column in &key.columns {
                let property = match table.column(column).map(|c| &c.ty) {
                    Some(ColumnType::Lookup { .. }) => format!("_{column}_value"),
                    _ => column.clone(),
                };
                let _ = writeln!(
                    xml,
                    "                  <Record Type=\"OData.Community.Keys.V1.PropertyRef\">\n                    <PropertyValue Property=\"Alias\" String=\"{0}\" />\n                    <PropertyValue Property=\"Name\" PropertyPath=\"{0}\" />\n                  </Record>",
                    escape(&property)
                );
            }
            xml.push_str(
                "                </Collection>\n              </PropertyValue>\n            </Record>\n",
            );
        }
        xml.push_str("          </Collection>\n        </Annotation>\n");
    }
    xml.push_str("      </EntityType>\n");
}

/// The `Edm` type of a column.
fn edm_type(ty: &ColumnType) -> &'static str {
    match ty {
        ColumnType::String { .. } | ColumnType::Enum { .. } => "Edm.String",
        ColumnType::Integer | ColumnType::Option { .. } => "Edm.Int32",
        ColumnType::Decimal => "Edm.Decimal",
        ColumnType::Boolean => "Edm.Boolean",
        ColumnType::Date => "Edm.Date",
        ColumnType::Datetime => "Edm.DateTimeOffset",
        ColumnType::Guid | ColumnType::Lookup { .. } => "Edm.Guid",
    }
}

/// The finance-and-operations namespace.
pub const FINOPS_NAMESPACE: &str = "Microsoft.Dynamics.DataEntities";

/// The finance-and-operations side's `$metadata`.
pub fn finops(schema: &Schema) -> String {
    let mut xml = String::from(EDMX_OPEN);
    let _ = writeln!(
        xml,
        "  <edmx:DataServices>\n    <Schema Namespace=\"{FINOPS_NAMESPACE}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">"
    );
    let tables = schema.tables(Side::Finops);
    let mut enums: Vec<(String, &[String])> = Vec::new();
    for table in tables {
        for column in &table.columns {
            if let ColumnType::Enum { values } = &column.ty {
                let name = enum_type(table, &column.name, values);
                if !enums.iter().any(|(n, _)| *n == name) {
                    enums.push((name, values));
                }
            }
        }
    }
    for (name, values) in &enums {
        let _ = writeln!(xml, "      <EnumType Name=\"{}\">", escape(name));
        for (i, value) in values.iter().enumerate() {
            let _ = writeln!(xml, "        <Member Name=\"{}\" Value=\"{i}\" />", escape(value));
        }
        xml.push_str("      </EnumType>\n");
    }
    for table in tables {
        let _ = writeln!(xml, "      <EntityType Name=\"{}\">\n        <Key>", escape(&table.name));
        for column in super::company_first(table.entity_key()) {
            let _ = writeln!(xml, "          <PropertyRef Name=\"{}\" />", escape(column));
        }
        xml.push_str("        </Key>\n");
        for column in &table.columns {
            let ty = match &column.ty {
                ColumnType::Enum { values } => {
                    format!("{FINOPS_NAMESPACE}.{}", enum_type(table, &column.name, values))
                }
                other => edm_type(other).to_owned(),
            };
            let nullable = if column.required || table.entity_key().contains(&column.name.as_str()) {
                " Nullable=\"false\""
            } else {
                ""
            };
            let _ = write!(
                xml,
                "        <Property Name=\"{}\" Type=\"{}\"{nullable}",
                escape(&column.name),
                escape(&ty)
            );
            if let ColumnType::String { max_length: Some(n) } = &column.ty {
                let _ = write!(xml, " MaxLength=\"{n}\"");
            }
            xml.push_str(" />\n");
        }
        xml.push_str("      </EntityType>\n");
    }
    xml.push_str("      <EntityContainer Name=\"Resources\">\n");
    for table in tables {
        let _ = writeln!(
            xml,
            "        <EntitySet Name=\"{}\" EntityType=\"{FINOPS_NAMESPACE}.{}\" />",
            escape(&table.entity_set()),
            escape(&table.name)
        );
    }
    xml.push_str("      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n</edmx:Edmx>\n");
    xml
}

/// The name of an enum column's `EnumType`: finance and operations' own `NoYes` for a no/yes
/// column, else one named after the entity and column.
fn enum_type(table: &Table, column: &str, values: &[String]) -> String {
    let no_yes =
        values.len() == 2 && values[0].eq_ignore_ascii_case("no") && values[1].eq_ignore_ascii_case("yes");
    if no_yes {
        "NoYes".to_owned()
    } else {
        format!("{}_{column}", table.name)
    }
}

/// `text` fit for an XML attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
