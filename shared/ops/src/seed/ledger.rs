//! Seeds: a directory of `*.sql` files applied in byte order of their names,
//! each exactly once, recorded in a ledger table in the app's database
//! (`uis.seed_ledger`, documented in `docs/reference/seed-ledger.md`).
//!
//! What the anchors (dbmate, Flyway, sqitch, Supabase seeds) each miss, in
//! one place: a SHA-256 per file, a lock for the whole run, a dry run, and
//! clear rules for a changed file (an error before anything runs, unless the
//! file says `-- uis:repeatable` or is named with `--reapply`).
//!
//! Knows only PostgreSQL connections, never the cluster.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use uis_core::Failure;
use uis_core::app::{quote_ident, quote_literal};
use uis_core::error::Phase;

/// The first-line directive of a seed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Its own transaction, once.
    Once,
    /// `-- uis:no-transaction`: outside a transaction (CREATE INDEX
    /// CONCURRENTLY, VACUUM), once.
    NoTransaction,
    /// `-- uis:repeatable`: re-applied whenever its checksum changes.
    Repeatable,
}

/// One file of the directory.
#[derive(Debug, Clone)]
pub struct SeedFile {
    pub name: String,
    pub path: PathBuf,
    /// The checksum recorded: SHA-256 of the text with a leading UTF-8 BOM
    /// dropped and CRLF line ends read as LF (see [`checksum`]).
    pub sha256: String,
    /// SHA-256 of the raw bytes, the checksum ledgers written before line
    /// ends were normalized hold; a row with it still matches.
    pub raw_sha256: String,
    pub bytes: u64,
    pub mode: Mode,
}

impl SeedFile {
    /// Whether a ledger checksum is this file's: the current checksum, or
    /// the raw-bytes one ledgers written before hold.
    pub fn matches(&self, recorded: &str) -> bool {
        recorded == self.sha256 || recorded == self.raw_sha256
    }
}

/// A ledger row.
#[derive(Debug, Clone)]
pub struct Applied {
    pub sha256: String,
    pub applied_at: String,
    pub applied_by: String,
}

/// Reads `dir/*.sql` sorted by the bytes of the file name, with checksums
/// and directives. Warnings (for people) come back beside the files.
///
/// Errors: phase `input` for a missing or unreadable directory, a `*.sql` that is not a file, a non-UTF-8 name or content.
pub fn scan(dir: &Path) -> Result<(Vec<SeedFile>, Vec<String>), Failure> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Failure::new(Phase::Input, format!("cannot read seed directory {}: {e}", dir.display()))
            .hint("give the directory of your numbered *.sql files, e.g. `uis db seed APP db/` (the default is ./db)")
    })?;
    let mut files = Vec::new();
    for e in entries {
        let e = e.map_err(|e| Failure::new(Phase::Input, e.to_string()))?;
        let path = e.path();
        let raw_name = e.file_name();
        if !raw_name.as_encoded_bytes().ends_with(b".sql") {
            continue;
        }
        let Some(name) = raw_name.to_str().map(str::to_string) else {
            return Err(Failure::new(
                Phase::Input,
                format!("{}: the file name is not valid UTF-8", path.display()),
            )
            .hint(
                "rename it with only UTF-8 characters (the name is recorded in the seed ledger)",
            ));
        };
        if !path.is_file() {
            return Err(Failure::new(
                Phase::Input,
                format!(
                    "{} is not a regular file (a directory?); nothing was applied",
                    path.display()
                ),
            )
            .hint("seed files are the *.sql files directly in DIR: move or rename it"));
        }
        let bytes = std::fs::read(&path).map_err(|e| {
            Failure::new(
                Phase::Input,
                format!("cannot read {}: {e}; nothing was applied", path.display()),
            )
        })?;
        // A file that is not UTF-8 and does not say its encoding is refused
        // before anything is applied; one that says it (`SET
        // client_encoding`, `SET NAMES`, `\encoding`, PGCLIENTENCODING)
        // is converted as psql's server would.
        if let Err(e) = std::str::from_utf8(&bytes)
            && !declares_encoding(&bytes)
        {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(Failure::new(
                Phase::Input,
                format!(
                    "{}:{line}: not valid UTF-8 (byte {}); nothing was applied",
                    path.display(),
                    at + 1
                ),
            )
            .hint(format!(
                "save it as UTF-8, e.g. `iconv -f LATIN1 -t UTF-8 {0} > {0}.utf8 && mv {0}.utf8 {0}`, or say its encoding on its first line: `SET client_encoding = 'LATIN1';`",
                path.display()
            )));
        }
        let text = bytes.strip_prefix(BOM).unwrap_or(&bytes);
        let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
        let first = String::from_utf8_lossy(first).trim().to_lowercase();
        let mode = match first.as_str() {
            "-- uis:no-transaction" => Mode::NoTransaction,
            "-- uis:repeatable" => Mode::Repeatable,
            _ => Mode::Once,
        };
        files.push(SeedFile {
            sha256: checksum(&bytes),
            raw_sha256: hex(&Sha256::digest(&bytes)),
            bytes: bytes.len() as u64,
            name,
            path,
            mode,
        });
    }
    files.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    let warnings = sort_warnings(&files);
    Ok((files, warnings))
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether a file's bytes may be in another encoding than UTF-8 on
/// purpose: it sets one, or PGCLIENTENCODING does.
fn declares_encoding(bytes: &[u8]) -> bool {
    let env = std::env::var("PGCLIENTENCODING").unwrap_or_default();
    if !env.is_empty() && !env.eq_ignore_ascii_case("utf8") && !env.eq_ignore_ascii_case("unicode")
    {
        return true;
    }
    let has = |needle: &[u8]| {
        bytes
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    has(b"client_encoding") || has(b"set names") || has(b"\\encoding")
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A seed file's checksum: SHA-256 of its bytes after dropping a leading
/// UTF-8 byte-order mark and reading each CRLF as LF, so re-saving a file
/// with other line ends or with/without a BOM is not a change, while any
/// other byte is. Flyway's checksum ignores the same (it is a CRC32 of the
/// lines as `BufferedReader.readLine` returns them, BOM stripped from the
/// first), but also every line end and a final newline; this keeps line
/// structure, so joining two lines is a change. For a file with LF line
/// ends and no BOM it is `sha256sum FILE`.
pub fn checksum(bytes: &[u8]) -> String {
    let text = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut h = Sha256::new();
    let mut from = 0;
    for (i, w) in text.windows(2).enumerate() {
        if w == b"\r\n" {
            h.update(&text[from..i]);
            from = i + 1;
        }
    }
    h.update(&text[from..]);
    hex(&h.finalize())
}

/// Names whose numeric prefixes have different widths sort surprisingly:
/// `10-b.sql` runs before `2-a.sql`.
fn sort_warnings(files: &[SeedFile]) -> Vec<String> {
    let prefix = |n: &str| n.bytes().take_while(u8::is_ascii_digit).count();
    let widths: std::collections::BTreeSet<usize> = files
        .iter()
        .map(|f| prefix(&f.name))
        .filter(|w| *w > 0)
        .collect();
    if widths.len() > 1 {
        let order: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        vec![format!(
            "file names have numeric prefixes of different widths, so they run in byte order: {}; pad the numbers (01-, 02-, ... 10-) to make the order obvious",
            order.join(", ")
        )]
    } else {
        Vec::new()
    }
}

/// The ledger's DDL (idempotent). The schema belongs to the app's owner, so
/// seeds run as the owner can record themselves; `grantees` (other roles
/// seeds run as) may read and write it.
pub fn ledger_ddl(owner: &str, grantees: &[&str]) -> Vec<String> {
    let o = quote_ident(owner);
    let mut v = vec![
        format!("CREATE SCHEMA IF NOT EXISTS uis AUTHORIZATION {o}"),
        "CREATE TABLE IF NOT EXISTS uis.seed_ledger (
            seed_set text NOT NULL,
            file_name text NOT NULL,
            sha256 text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            applied_by text NOT NULL DEFAULT current_user,
            duration_ms bigint NOT NULL,
            PRIMARY KEY (seed_set, file_name))"
            .to_string(),
        format!("ALTER TABLE uis.seed_ledger OWNER TO {o}"),
        format!(
            "COMMENT ON TABLE uis.seed_ledger IS {}",
            quote_literal(
                "Seed files applied by uis-db-seed: one row per (directory name, file name), with its SHA-256."
            )
        ),
    ];
    for g in grantees {
        let g = quote_ident(g);
        v.push(format!("GRANT USAGE ON SCHEMA uis TO {g}"));
        v.push(format!(
            "GRANT SELECT, INSERT, UPDATE ON uis.seed_ledger TO {g}"
        ));
    }
    v
}

/// The ledger rows of one seed set (directory name).
pub fn read_ledger(
    c: &mut postgres::Client,
    set: &str,
) -> Result<BTreeMap<String, Applied>, postgres::Error> {
    let exists: bool = c
        .query_one("select to_regclass('uis.seed_ledger') is not null", &[])?
        .get(0);
    if !exists {
        return Ok(BTreeMap::new());
    }
    Ok(c
        .query(
            "select file_name, sha256, to_char(applied_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), applied_by from uis.seed_ledger where seed_set = $1",
            &[&set],
        )?
        .iter()
        .map(|r| {
            (
                r.get::<_, String>(0),
                Applied { sha256: r.get(1), applied_at: r.get(2), applied_by: r.get(3) },
            )
        })
        .collect())
}

/// Records (or re-records) a file in the ledger, on the connection that ran
/// it, inside its transaction.
///
/// The file may have changed the session (`SET ROLE`, `SET SESSION
/// AUTHORIZATION`, `search_path`, temporary tables): first the session goes
/// back to the login's clean state, as the next file's psql would start,
/// so the row is written, and `applied_by` recorded, as `login`. One round
/// trip for all of it.
pub fn record(
    c: &mut postgres::Client,
    set: &str,
    f: &SeedFile,
    duration_ms: i64,
    login: &str,
) -> Result<(), postgres::Error> {
    let sql = format!(
        "RESET SESSION AUTHORIZATION; RESET ALL; DISCARD TEMP;
         insert into uis.seed_ledger (seed_set, file_name, sha256, duration_ms, applied_by) values ({}, {}, {}, {duration_ms}, {})
         on conflict (seed_set, file_name) do update set sha256 = excluded.sha256, applied_at = now(),
           applied_by = excluded.applied_by, duration_ms = excluded.duration_ms",
        quote_literal(set),
        quote_literal(&f.name),
        quote_literal(&f.sha256),
        quote_literal(login),
    );
    c.batch_execute(&sql)
}

/// What a run would do.
#[derive(Debug, Default)]
pub struct Plan {
    /// Already applied with the same checksum.
    pub applied: Vec<String>,
    /// To apply, in order.
    pub pending: Vec<SeedFile>,
    /// Applied before with another checksum.
    pub changed: Vec<Changed>,
}

/// A file applied before with another checksum.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Changed {
    /// Its name.
    pub file: String,
    /// The checksum in the ledger.
    pub old_sha256: String,
    /// Its checksum now.
    pub new_sha256: String,
    /// Whether this run applies it again (`--reapply` or `-- uis:repeatable`).
    pub reapply: bool,
}

/// Classifies the files against the ledger. `reapply` names files to run
/// again even when unchanged or changed.
pub fn plan(files: &[SeedFile], ledger: &BTreeMap<String, Applied>, reapply: &[String]) -> Plan {
    let mut p = Plan::default();
    for f in files {
        let forced = reapply.iter().any(|r| r == &f.name);
        match ledger.get(&f.name) {
            None => p.pending.push(f.clone()),
            Some(a) if f.matches(&a.sha256) && !forced => p.applied.push(f.name.clone()),
            Some(a) => {
                let again = forced || f.mode == Mode::Repeatable;
                if !f.matches(&a.sha256) {
                    p.changed.push(Changed {
                        file: f.name.clone(),
                        old_sha256: a.sha256.clone(),
                        new_sha256: f.sha256.clone(),
                        reapply: again,
                    });
                }
                if again {
                    p.pending.push(f.clone());
                }
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, sha: &str, mode: Mode) -> SeedFile {
        SeedFile {
            name: name.into(),
            path: name.into(),
            sha256: sha.into(),
            raw_sha256: format!("raw-{sha}"),
            bytes: 1,
            mode,
        }
    }

    #[test]
    fn plan_rules() {
        let files = vec![
            file("01.sql", "a", Mode::Once),
            file("02.sql", "b2", Mode::Once),
            file("03.sql", "c2", Mode::Repeatable),
            file("04.sql", "d", Mode::Once),
        ];
        let mut ledger = BTreeMap::new();
        for (n, s) in [("01.sql", "a"), ("02.sql", "b1"), ("03.sql", "c1")] {
            ledger.insert(
                n.to_string(),
                Applied {
                    sha256: s.into(),
                    applied_at: String::new(),
                    applied_by: String::new(),
                },
            );
        }
        let p = plan(&files, &ledger, &[]);
        assert_eq!(p.applied, ["01.sql"]);
        assert_eq!(
            p.pending
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["03.sql", "04.sql"]
        );
        assert_eq!(p.changed.len(), 2);
        assert!(
            !p.changed[0].reapply,
            "02 changed and not repeatable: a drift error"
        );
        assert!(p.changed[1].reapply, "03 is repeatable");
        let p = plan(&files, &ledger, &["02.sql".into()]);
        assert_eq!(
            p.pending
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            ["02.sql", "03.sql", "04.sql"]
        );
    }

    #[test]
    fn line_ends_and_bom_are_not_changes() {
        let lf = checksum(b"create table t(x int);\ninsert into t values (1);\n");
        assert_eq!(
            lf,
            hex(&Sha256::digest(
                b"create table t(x int);\ninsert into t values (1);\n"
            )),
            "an LF file without BOM: sha256sum FILE"
        );
        assert_eq!(
            checksum(b"create table t(x int);\r\ninsert into t values (1);\r\n"),
            lf
        );
        assert_eq!(
            checksum(b"\xEF\xBB\xBFcreate table t(x int);\ninsert into t values (1);\r\n"),
            lf
        );
        assert_ne!(
            checksum(b"create table t(x int);\ninsert into t values (2);\n"),
            lf
        );
        assert_ne!(
            checksum(b"create table t(x int);insert into t values (1);\n"),
            lf,
            "joining lines is a change"
        );
        assert_ne!(
            checksum(b"create table t(x int);\rinsert into t values (1);\n"),
            lf,
            "a lone CR is content"
        );
        let old = file("01.sql", "new", Mode::Once);
        assert!(old.matches("new") && old.matches("raw-new") && !old.matches("x"));
    }

    #[test]
    fn surprising_sort_orders_are_warned() {
        let files = vec![
            file("1-a.sql", "", Mode::Once),
            file("10-b.sql", "", Mode::Once),
        ];
        assert_eq!(sort_warnings(&files).len(), 1);
        let files = vec![
            file("01-a.sql", "", Mode::Once),
            file("10-b.sql", "", Mode::Once),
        ];
        assert!(sort_warnings(&files).is_empty());
    }
}
