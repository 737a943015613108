//! The capabilities a staff token carries: the names in the app's
//! capabilities table, found in the catalog.

use super::CapabilityChoice;
use uis_core::Failure;
use uis_core::app::quote_ident;
use uis_core::error::Phase;
use uis_core::output::note;
use uis_postgrest as pgrst;

/// Where to look: a table and, when named, its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    pub schema: String,
    pub table: String,
    pub column: Option<String>,
}

impl TableRef {
    /// `SCHEMA.TABLE` or `SCHEMA.TABLE.COLUMN`.
    ///
    /// Errors: phase `usage` for any other shape.
    pub fn parse(from: &str) -> Result<TableRef, Failure> {
        let parts: Vec<&str> = from.split('.').collect();
        let (schema, table, column) = match parts.as_slice() {
            [s, t] => (s, t, None),
            [s, t, c] => (s, t, Some(c.to_string())),
            _ => {
                return Err(Failure::usage(format!(
                    "invalid --capabilities-from {from:?}: expected SCHEMA.TABLE or SCHEMA.TABLE.COLUMN, e.g. auth.capabilities.name"
                )));
            }
        };
        Ok(TableRef {
            schema: schema.to_string(),
            table: table.to_string(),
            column,
        })
    }
}

/// A capabilities table found, and every name in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// `schema.table.column`.
    pub qualified: String,
    /// The column's non-null values as text, sorted.
    pub names: Vec<String>,
}

/// The capabilities table and all its names: `from`, else
/// `<schema>.capabilities` for each exposed schema, then `auth.capabilities`
/// (seed item B.4). The column is the one named, else `name`, else the
/// single text primary key. `None` when no default candidate exists.
///
/// Errors: phase `usage` for a malformed `from`; `capabilities` when the
/// named table does not exist or no column can be chosen; `sql` otherwise.
pub fn find(
    pg: &mut postgres::Client,
    config: &pgrst::Config,
    from: Option<&str>,
) -> Result<Option<Found>, Failure> {
    let candidates: Vec<TableRef> = match from {
        Some(f) => vec![TableRef::parse(f)?],
        None => {
            let mut v: Vec<TableRef> = config
                .schemas
                .iter()
                .map(|s| TableRef {
                    schema: s.clone(),
                    table: "capabilities".into(),
                    column: None,
                })
                .collect();
            if !config.schemas.iter().any(|s| s == "auth") {
                v.push(TableRef {
                    schema: "auth".into(),
                    table: "capabilities".into(),
                    column: None,
                });
            }
            v
        }
    };
    for TableRef {
        schema,
        table,
        column,
    } in candidates
    {
        let oid: Option<u32> = pg
            .query_opt(
                "select c.oid from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relname = $2 and c.relkind in ('r','v','m','p','f')",
                &[&schema, &table],
            )?
            .map(|r| r.get(0));
        let Some(oid) = oid else {
            if from.is_some() {
                return Err(Failure::new(
                    Phase::Capabilities,
                    format!("table {schema}.{table} does not exist"),
                ));
            }
            continue;
        };
        let column = match column {
            Some(c) => c,
            None => name_column(pg, oid, &schema, &table)?,
        };
        let sql = format!(
            "select {c}::text from {s}.{t} where {c} is not null order by 1",
            c = quote_ident(&column),
            s = quote_ident(&schema),
            t = quote_ident(&table)
        );
        let names: Vec<String> = pg
            .query(sql.as_str(), &[])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        return Ok(Some(Found {
            qualified: format!("{schema}.{table}.{column}"),
            names,
        }));
    }
    Ok(None)
}

/// The column of a capabilities table: `name`, else its single text
/// primary key.
fn name_column(
    pg: &mut postgres::Client,
    oid: u32,
    schema: &str,
    table: &str,
) -> Result<String, Failure> {
    let has_name = pg
        .query_opt("select 1 from pg_attribute where attrelid = $1 and attname = 'name' and not attisdropped", &[&oid])?
        .is_some();
    if has_name {
        return Ok("name".to_string());
    }
    let pk: Vec<String> = pg
        .query(
            "select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
              where i.indrelid = $1 and i.indisprimary
                and format_type(a.atttypid, null) in ('text', 'character varying', 'citext')",
            &[&oid],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    match pk.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(Failure::new(
            Phase::Capabilities,
            format!("{schema}.{table} has no column `name` and no single text primary key"),
        )
        .hint(format!(
            "name the column: --capabilities-from {schema}.{table}.COLUMN"
        ))),
    }
}

/// The `capabilities` claim of a staff token for `choice`
/// ([`CapabilityChoice::Omit`] is the caller's business): every name of the
/// table, or the chosen ones checked against it; without a table, none for
/// `All` and the chosen ones as given. Notes on stderr say which.
///
/// Errors: those of [`find`]; phase `usage` for a chosen name the table
/// does not hold (listing the valid ones).
pub fn choose(
    pg: &mut postgres::Client,
    config: &pgrst::Config,
    from: Option<&str>,
    choice: &CapabilityChoice,
) -> Result<Option<Vec<String>>, Failure> {
    let table = find(pg, config, from)?;
    Ok(match (table, choice) {
        (_, CapabilityChoice::Omit) => None,
        (Some(Found { qualified, names }), CapabilityChoice::All) => {
            note(format!(
                "uis: capabilities from {qualified}: {}",
                names.join(", ")
            ));
            Some(names)
        }
        (Some(Found { qualified, names }), CapabilityChoice::Only(given)) => {
            let unknown: Vec<&String> = given.iter().filter(|c| !names.contains(c)).collect();
            if !unknown.is_empty() {
                return Err(Failure::usage(format!(
                    "unknown capabilit{} {} (not in {qualified}); valid: {}",
                    if unknown.len() == 1 { "y" } else { "ies" },
                    unknown
                        .iter()
                        .map(|u| format!("{u:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    names.join(", ")
                )));
            }
            Some(given.clone())
        }
        (None, CapabilityChoice::All) => {
            note(format!(
                "uis: no capabilities table ({}auth.capabilities): the token has no capabilities claim",
                config
                    .schemas
                    .iter()
                    .map(|s| format!("{s}.capabilities, "))
                    .collect::<String>()
            ));
            None
        }
        (None, CapabilityChoice::Only(given)) => {
            note("uis: no capabilities table to check --capabilities against; using them as given");
            Some(given.clone())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_refs() {
        assert_eq!(
            TableRef::parse("auth.capabilities.name").unwrap(),
            TableRef {
                schema: "auth".into(),
                table: "capabilities".into(),
                column: Some("name".into())
            }
        );
        assert_eq!(TableRef::parse("a.b").unwrap().column, None);
        for bad in ["a", "a.b.c.d", ""] {
            let e = TableRef::parse(bad).unwrap_err();
            assert!(e.detail.contains("SCHEMA.TABLE.COLUMN"), "{bad}: {e:?}");
        }
    }
}
