//! What the anon role reads through the API: the tables and views of the
//! exposed schemas it may SELECT from (some column at least) in a schema it
//! has USAGE on. Deploy compares that before and after a run, so widening
//! (a schema exposed, grants added) is printed and shown by `--dry-run`,
//! never silent. Reads the catalog only.

use postgres::Client;
use serde::Serialize;
use std::collections::BTreeSet;
use uis_core::Failure;
use uis_core::output::note;

/// The difference a run makes to what anon reads, as `SELECT on
/// schema.table` entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnonReads {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl AnonReads {
    /// Says the difference on stderr (nothing when there is none).
    pub fn tell(&self, anon: &str) {
        if !self.added.is_empty() {
            note(format!(
                "uis: anon role {anon} can now read through the API: {}",
                self.added.join(", ")
            ));
        }
        if !self.removed.is_empty() {
            note(format!(
                "uis: anon role {anon} no longer reads through the API: {}",
                self.removed.join(", ")
            ));
        }
    }
}

/// One table or view of a schema, with what anon has on it today.
struct Relation {
    schema: String,
    shown: String,
    usage: bool,
    select: bool,
}

fn relations(c: &mut Client, anon: &str, schemas: &[String]) -> Result<Vec<Relation>, Failure> {
    let exists = c
        .query_opt("select 1 from pg_roles where rolname = $1", &[&anon])?
        .is_some();
    let rows = c.query(
        "select n.nspname::text, 'SELECT on ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                case when $3 then has_schema_privilege($1, n.oid, 'USAGE') else false end,
                case when $3 then has_any_column_privilege($1, c.oid, 'SELECT') else false end
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = any($2) and c.relkind in ('r', 'p', 'v', 'm', 'f')
          order by 2",
        &[&anon, &schemas, &exists],
    )?;
    Ok(rows
        .iter()
        .map(|r| Relation {
            schema: r.get(0),
            shown: r.get(1),
            usage: r.get(2),
            select: r.get(3),
        })
        .collect())
}

/// What the anon role reads with `before`'s schemas exposed and today's
/// grants (role and schemas), against what the anon role of `after` reads
/// with its schemas exposed once the grants planned for `granted` (USAGE
/// and SELECT on everything there) have run.
///
/// Errors: the catalog query's.
pub fn anon_reads(
    c: &mut Client,
    before: (&str, &[String]),
    after: (&str, &[String]),
    granted: &[String],
) -> Result<AnonReads, Failure> {
    let reads = |c: &mut Client,
                 anon: &str,
                 exposed: &[String],
                 granted: &[String]|
     -> Result<BTreeSet<String>, Failure> {
        Ok(relations(c, anon, exposed)?
            .into_iter()
            .filter(|r| granted.contains(&r.schema) || (r.usage && r.select))
            .map(|r| r.shown)
            .collect())
    };
    let was = reads(c, before.0, before.1, &[])?;
    let will = reads(c, after.0, after.1, granted)?;
    Ok(AnonReads {
        added: will.difference(&was).cloned().collect(),
        removed: was.difference(&will).cloned().collect(),
    })
}

/// Whether anon has USAGE on every schema and SELECT on every table and
/// view in them (what `--grants anon-select` gives): how a deployment made
/// before the record is read back.
///
/// Errors: the catalog query's.
pub fn reads_everything(c: &mut Client, anon: &str, schemas: &[String]) -> Result<bool, Failure> {
    let exists = c
        .query_opt("select 1 from pg_roles where rolname = $1", &[&anon])?
        .is_some();
    if !exists {
        return Ok(false);
    }
    let usage: bool = c
        .query_one(
            "select coalesce(bool_and(has_schema_privilege($1, n.oid, 'USAGE')), false)
               from pg_namespace n where n.nspname = any($2)",
            &[&anon, &schemas],
        )?
        .get(0);
    Ok(usage && relations(c, anon, schemas)?.iter().all(|r| r.select))
}
