//! `uis onboard --init`: a commented `uis.yaml` written from what the
//! current directory holds (its `db/` files) and the defaults, for a person
//! to read and adjust. Never overwrites a file.
//!
//! What is read from the SQL files is a guess a person checks: schemas
//! named in `CREATE SCHEMA` and `ON SCHEMA`, PostgREST's role names from
//! `CREATE ROLE`, the owner from `SET [LOCAL] ROLE`, the database from
//! `ON DATABASE` and `ALTER DATABASE` (the SQL's own name for it: a file
//! that says `GRANT CONNECT ON DATABASE railway` fails on any other), and
//! the extensions from `CREATE EXTENSION` and from the names of the
//! well-known contrib extensions the files use without creating them
//! ([`USED_EXTENSIONS`]: a `citext` column needs `citext` before the file
//! runs). Not for: parsing SQL (the words are matched case-insensitively,
//! outside `--` comments).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use uis_ops::Failure;
use uis_ops::core::error::Phase;

/// What the directory suggests.
#[derive(Debug, Default, PartialEq)]
pub struct Found {
    /// `db` when it holds `*.sql` files.
    pub ddl: Option<String>,
    /// `db/NAME` for each subdirectory of `db` holding `*.sql` files, in name order.
    pub seeds: Vec<String>,
    pub schemas: Vec<String>,
    pub owner: Option<String>,
    pub authenticator: Option<String>,
    pub anon: Option<String>,
    pub authenticated: Option<String>,
    pub extensions: Vec<String>,
    /// The database the SQL names (`ON DATABASE x`, `ALTER DATABASE x`).
    pub database: Option<String>,
}

/// Words (types, functions, operator classes) that only exist once a
/// contrib extension is created, and the extension: the ones whose words
/// are unlikely as an app's own names. From the PostgreSQL documentation's
/// appendix F (Additional Supplied Modules).
pub const USED_EXTENSIONS: &[(&str, &str)] = &[
    ("citext", "citext"),
    ("hstore", "hstore"),
    ("ltree", "ltree"),
    ("lquery", "ltree"),
    ("gin_trgm_ops", "pg_trgm"),
    ("gist_trgm_ops", "pg_trgm"),
    ("gen_random_bytes", "pgcrypto"),
    ("gen_salt", "pgcrypto"),
    ("pgp_sym_encrypt", "pgcrypto"),
    ("pgp_sym_decrypt", "pgcrypto"),
    ("uuid_generate_v1", "uuid-ossp"),
    ("uuid_generate_v1mc", "uuid-ossp"),
    ("uuid_generate_v4", "uuid-ossp"),
    ("unaccent", "unaccent"),
];

fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "sql"))
        .collect();
    v.sort();
    v
}

/// The identifier after `words` (e.g. `create schema if not exists`) in
/// lowercased SQL, each occurrence.
fn names_after(text: &str, words: &[&str]) -> Vec<String> {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',' || c == '(')
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        if tokens[i..].starts_with(words) {
            let mut j = i + words.len();
            if tokens.get(j) == Some(&"if") {
                j += 3; // if not exists
            }
            if let Some(n) = tokens.get(j) {
                let n = n.trim_matches('"');
                if !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    && !out.iter().any(|o| o == n)
                {
                    out.push(n.to_string());
                }
            }
        }
    }
    out
}

/// Reads `root/db` (and its subdirectories) for [`Found`].
pub fn scan(root: &Path) -> Found {
    let mut f = Found::default();
    let db = root.join("db");
    let top = sql_files(&db);
    if !top.is_empty() {
        f.ddl = Some("db".into());
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(&db)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !sql_files(p).is_empty())
        .collect();
    subdirs.sort();
    for s in &subdirs {
        if let Some(n) = s.file_name().and_then(|n| n.to_str()) {
            f.seeds.push(format!("db/{n}"));
        }
    }
    let mut roles = Vec::new();
    let mut used = Vec::new();
    for file in top
        .iter()
        .cloned()
        .chain(subdirs.iter().flat_map(|d| sql_files(d)))
    {
        let seed = !top.contains(&file);
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        // Comments out, so a word in a comment does not count.
        let text: String = text
            .lines()
            .map(|l| l.split("--").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
            .to_lowercase();
        for w in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if let Some((_, e)) = USED_EXTENSIONS.iter().find(|(word, _)| *word == w)
                && !used.contains(e)
            {
                used.push(*e);
            }
        }
        if seed {
            // Data files: only the extensions they use.
            continue;
        }
        for d in names_after(&text, &["on", "database"])
            .into_iter()
            .chain(names_after(&text, &["alter", "database"]))
        {
            f.database.get_or_insert(d);
        }
        for s in names_after(&text, &["create", "schema"])
            .into_iter()
            .chain(names_after(&text, &["on", "schema"]))
        {
            if !f.schemas.contains(&s) && s != "public" && s != "uis" {
                f.schemas.push(s);
            }
        }
        for e in names_after(&text, &["create", "extension"]) {
            if !f.extensions.contains(&e) {
                f.extensions.push(e);
            }
        }
        roles.extend(names_after(&text, &["create", "role"]));
        for r in names_after(&text, &["set", "local", "role"])
            .into_iter()
            .chain(names_after(&text, &["set", "role"]))
        {
            if f.owner.is_none() && r != "none" && r != "local" {
                f.owner = Some(r);
            }
        }
    }
    for e in used {
        if !f.extensions.iter().any(|x| x == e) {
            f.extensions.push(e.to_string());
        }
    }
    for r in roles {
        if r.contains("authenticator") {
            f.authenticator.get_or_insert(r);
        } else if r.contains("authenticated") {
            f.authenticated.get_or_insert(r);
        } else if r.contains("anon") {
            f.anon.get_or_insert(r);
        }
    }
    if f.owner
        .as_ref()
        .is_some_and(|o| [&f.authenticator, &f.anon, &f.authenticated].contains(&&Some(o.clone())))
    {
        f.owner = None;
    }
    f
}

/// The app name a directory suggests: its name, lowercased, with every
/// character outside `[a-z0-9-]` as '-', starting with a letter.
pub fn app_from_dir(root: &Path) -> Option<String> {
    let name = root.file_name()?.to_str()?.to_lowercase();
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    s = s.trim_matches('-').to_string();
    s.truncate(41);
    let s = s.trim_end_matches('-').to_string();
    (s.starts_with(|c: char| c.is_ascii_lowercase())).then_some(s)
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// The text of a commented `uis.yaml` for `app` and what was found.
pub fn render(app: &str, f: &Found) -> String {
    let mut t = String::new();
    let sql = app.replace('-', "_");
    let _ = writeln!(
        t,
        "# uis.yaml: the onboarding of {app}, converged by `uis onboard` (safe to run again).\n# Every key: docs/reference/uis-yaml.md. Written by `uis onboard --init`: check it.\n"
    );
    let _ = writeln!(t, "app: {app}");
    match &f.database {
        Some(d) => {
            let _ = writeln!(
                t,
                "database: {d}        # the SQL files name it (ON DATABASE)"
            );
        }
        None => {
            let _ = writeln!(
                t,
                "# database: {sql}_db        # default: the app's name with '-' as '_', then _db"
            );
        }
    }
    match &f.owner {
        Some(o) => {
            let _ = writeln!(t, "owner: {o}            # the SQL files SET ROLE to it");
        }
        None => {
            let _ = writeln!(
                t,
                "# owner: {sql}            # default: the app's name with '-' as '_'"
            );
        }
    }
    if f.schemas.is_empty() {
        let _ = writeln!(t, "schemas: []               # created, owned by the owner");
    } else {
        let _ = writeln!(
            t,
            "schemas: {}    # named in the SQL files; created, owned by the owner",
            list(&f.schemas)
        );
    }
    let _ = writeln!(
        t,
        "extensions: {}            # used or created in the SQL files; created by the superuser",
        list(&f.extensions)
    );
    let _ = writeln!(
        t,
        "# with_roles: [postgrest]  # postgrest: APP_authenticator, APP_web_anon, APP_authenticated; readonly: APP_readonly"
    );
    if f.authenticator.is_some() || f.anon.is_some() || f.authenticated.is_some() {
        let _ = writeln!(
            t,
            "roles:                     # PostgREST's roles, as the SQL files create them"
        );
        for (k, v) in [
            ("authenticator", &f.authenticator),
            ("anon", &f.anon),
            ("authenticated", &f.authenticated),
        ] {
            match v {
                Some(v) => {
                    let _ = writeln!(t, "  {k}: {v}");
                }
                None => {
                    let _ = writeln!(t, "  # {k}: ...");
                }
            }
        }
    } else {
        let _ = writeln!(
            t,
            "# roles: {{authenticator: {sql}_authenticator, anon: {sql}_web_anon, authenticated: {sql}_authenticated}}"
        );
    }
    match &f.ddl {
        Some(d) => {
            let _ = writeln!(
                t,
                "ddl: {d}                    # *.sql in name order, each once, as the superuser"
            );
        }
        None => {
            let _ = writeln!(
                t,
                "# ddl: db                  # *.sql in name order, each once, as the superuser"
            );
        }
    }
    if f.seeds.is_empty() {
        let _ = writeln!(
            t,
            "seeds: []                  # data directories, each once, as the owner"
        );
    } else {
        let _ = writeln!(
            t,
            "seeds: {}        # data directories, each once, as the owner",
            list(&f.seeds)
        );
    }
    let exposed: Vec<String> = f
        .schemas
        .iter()
        .filter(|s| s.as_str() != "auth")
        .take(1)
        .cloned()
        .collect();
    let _ = writeln!(t, "postgrest:");
    if exposed.is_empty() {
        let _ = writeln!(t, "  # schemas: [public]      # exposed through the API");
    } else {
        let _ = writeln!(
            t,
            "  schemas: {}      # exposed through the API",
            list(&exposed)
        );
    }
    let grants = if f.anon.is_some() {
        "none"
    } else {
        "anon-select"
    };
    let _ = writeln!(
        t,
        "  grants: {grants}             # anon-select: USAGE and SELECT for anon; none: your SQL grants"
    );
    let _ = writeln!(t, "  # url_prefix: api-{app}   # http://PREFIX.localhost");
    let _ = writeln!(t, "  # audience: ...           # the aud tokens must carry");
    let _ = writeln!(t, "  # replicas: 2");
    let _ = writeln!(
        t,
        "tokens:                     # kept in the .env while valid, minted when not"
    );
    let _ = writeln!(t, "  - name: POSTGREST_ANON_JWT");
    let _ = writeln!(t, "    role: anon");
    let _ = writeln!(t, "    exp: 10y");
    let _ = writeln!(t, "  - name: POSTGREST_STAFF_JWT");
    let _ = writeln!(
        t,
        "    role: authenticated      # every capability; `capabilities: [a, b]` for some"
    );
    let _ = writeln!(t, "    exp: 30d");
    let _ = writeln!(t, "env:");
    let _ = writeln!(t, "  path: .env");
    let _ = writeln!(t, "  url: POSTGREST_URL");
    let _ = writeln!(t, "  jwt_secret: JWT_SECRET");
    let _ = writeln!(
        t,
        "  # database_url: DATABASE_URL   # the owner's URL on this machine"
    );
    t
}

/// Writes `path` for `app` (default: from the directory's name), refusing
/// to overwrite.
///
/// Errors: phase `usage` when the file exists or no app name can be
/// derived; `write` when it cannot be written.
pub fn write(path: &Path, app: Option<&str>) -> Result<(String, Found), Failure> {
    let root = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let abs = root.canonicalize().unwrap_or(root.clone());
    let app = match app {
        Some(a) => a.to_string(),
        None => app_from_dir(&abs).ok_or_else(|| {
            Failure::usage(format!(
                "cannot make an app name of directory {}",
                abs.display()
            ))
            .hint("give it: `uis onboard --init APP`, e.g. `uis onboard --init railway`")
        })?,
    };
    uis_ops::app::validate_app(&app)?;
    let found = scan(&root);
    let text = render(&app, &found);
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failure::usage(format!(
                "{} exists; --init never overwrites it (nothing was written)",
                path.display()
            ))
            .hint(format!(
                "edit it, or move it away first: `mv {0} {0}.old && uis onboard --init`",
                path.display()
            )));
        }
        Err(e) => {
            return Err(Failure::new(
                Phase::Write,
                format!("cannot write {}: {e}", path.display()),
            ));
        }
    };
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| {
        Failure::new(
            Phase::Write,
            format!("cannot write {}: {e}", path.display()),
        )
    })?;
    Ok((app, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn railway_example_is_read() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/railway");
        let f = scan(&root);
        assert_eq!(f.ddl.as_deref(), Some("db"));
        assert_eq!(f.seeds, ["db/seeds"]);
        assert_eq!(f.schemas, ["railway", "auth"]);
        assert_eq!(f.owner.as_deref(), Some("railway_owner"));
        assert_eq!(f.database.as_deref(), Some("railway"));
        assert_eq!(f.extensions, ["citext"]);
        assert_eq!(f.anon.as_deref(), Some("anon"));
        assert_eq!(f.authenticator.as_deref(), Some("authenticator"));
        assert_eq!(f.authenticated.as_deref(), Some("authenticated"));
        let text = render("railway", &f);
        let spec = crate::spec::parse("uis.yaml", &text).expect("what --init writes parses");
        assert_eq!(spec.app, "railway");
        assert_eq!(spec.postgrest.schemas, ["railway"]);
        assert_eq!(spec.database.as_deref(), Some("railway"));
        assert_eq!(spec.extensions, ["citext"]);
        spec.desired(&root).expect("and is valid");
    }

    #[test]
    fn app_names_from_dirs() {
        assert_eq!(
            app_from_dir(Path::new("/x/My_Shop")).as_deref(),
            Some("my-shop")
        );
        assert_eq!(app_from_dir(Path::new("/x/9lives")), None);
    }

    #[test]
    fn never_overwrites() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("uis.yaml");
        std::fs::write(&p, "app: mine\n").unwrap();
        let e = write(&p, Some("x")).unwrap_err();
        assert!(e.detail.contains("never overwrites"), "{e:?}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "app: mine\n");
    }
}
