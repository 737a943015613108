//! `uis onboard` (issue 24): examples/railway/uis.yaml converged on the
//! stand-in and a real PostgreSQL. A fresh onboarding gives what the five
//! commands give (the tokens see what the RLS policies promise); a second
//! run changes nothing, byte for byte (ledger rows, password hashes, Secret
//! data, Deployment generation, `.env`); a change to `uis.yaml` is applied
//! alone; a run interrupted at any step (API error, tunnel cut, killed
//! process, unwritable file) is finished by the next; bad `uis.yaml`s are
//! refused with the line, the column and the valid choices.

use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use uis_e2e::{Env, Out, output};

/// A copy of examples/railway (db/ and uis.yaml) in the test's directory.
fn railway_dir(env: &Env) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/railway");
    let dir = env.path("railway");
    copy_dir(&src.join("db"), &dir.join("db"));
    std::fs::copy(src.join("uis.yaml"), dir.join("uis.yaml")).expect("copy uis.yaml");
    if env.topology == uis_e2e::Topology::Proxied {
        // As examples/railway/onboard.sh does with an admin that is no
        // superuser: PostgREST logs in as the suite's own authenticator.
        let yaml = std::fs::read_to_string(dir.join("uis.yaml")).expect("read uis.yaml");
        let kept = yaml.replace("  authenticator: authenticator\n", "");
        assert_ne!(kept, yaml, "uis.yaml names the DDL's authenticator");
        std::fs::write(dir.join("uis.yaml"), kept).expect("write uis.yaml");
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read example dir") {
        let p = e.expect("entry").path();
        let dest = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

/// `uis-onboard ARGS` in `dir`.
fn onboard(env: &Env, dir: &Path, args: &[&str]) -> Out {
    output(env.cmd("uis-onboard").current_dir(dir).args(args))
}

/// What a re-run must leave byte-identical.
#[derive(Debug, PartialEq)]
struct State {
    ledger: Vec<String>,
    passwords: Vec<String>,
    store: Value,
    postgrest_secret: Value,
    generation: Value,
    dotenv: Vec<u8>,
}

fn state(env: &Env, dir: &Path) -> State {
    let mut db = env.pg.connect("railway");
    let ledger = db
        .query(
            "select seed_set || ' ' || file_name || ' ' || sha256 || ' ' || applied_at::text from uis.seed_ledger order by 1",
            &[],
        )
        .expect("ledger")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let passwords = env
        .pg
        .connect("postgres")
        .query(
            "select rolname || ' ' || coalesce(rolpassword, '') from pg_authid where rolname in ('railway_owner', 'authenticator', 'anon', 'authenticated') order by 1",
            &[],
        )
        .expect("pg_authid")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let secret = |ns: &str, name: &str| {
        let s = env
            .standin
            .get("v1", "Secret", Some(ns), name)
            .unwrap_or_else(|| panic!("Secret {ns}/{name}"));
        serde_json::json!({"data": s["data"], "annotations": s["metadata"]["annotations"]})
    };
    let dep = env.postgrest_deployment("railway").expect("the Deployment");
    State {
        ledger,
        passwords,
        store: secret("default", "uis-db-railway"),
        postgrest_secret: secret("postgrest", "railway-postgrest"),
        generation: dep["metadata"]["generation"].clone(),
        dotenv: std::fs::read(dir.join(".env")).expect(".env"),
    }
}

/// A `.env` value.
fn env_value(dir: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(dir.join(".env")).expect(".env");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} in .env:\n{text}"))
        .trim_matches('"')
        .to_string()
}

/// What a token sees: `select count(*)` of `table` as PostgREST would run it.
fn count(env: &Env, token: &str, table: &str) -> String {
    let out = env.run(
        "uis-db-psql",
        &[
            "railway",
            "--jwt",
            token,
            "-c",
            &format!("select count(*) from {table}"),
            "--format",
            "csv",
        ],
    );
    out.ok();
    out.stdout.lines().last().unwrap_or_default().to_string()
}

/// The onboarding is complete and works: every file in the ledger, the
/// tokens of the .env see what the policies promise, and a further run
/// says "no changes".
fn assert_onboarded(env: &Env, dir: &Path) {
    let st = state(env, dir);
    assert!(st.ledger.len() >= 7, "{:?}", st.ledger);
    assert_eq!(
        count(env, &env_value(dir, "POSTGREST_ANON_JWT"), "events"),
        "3"
    );
    assert_eq!(
        count(env, &env_value(dir, "POSTGREST_STAFF_JWT"), "registrations"),
        "6"
    );
    let again = onboard(env, dir, &["--json"]);
    again.ok();
    assert_eq!(again.json()["status"], "unchanged", "{}", again.stderr);
    assert!(again.stderr.contains("no changes"), "{}", again.stderr);
}

fn steps(out: &Out) -> Vec<(String, String, Vec<String>)> {
    out.json()["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap_or_default().to_string(),
                s["status"].as_str().unwrap_or_default().to_string(),
                s["changes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn fresh_onboarding_then_a_rerun_changes_nothing() {
    let env = Env::new();
    let dir = railway_dir(&env);

    let plan = onboard(&env, &dir, &["--dry-run", "--json"]);
    plan.ok();
    assert_eq!(plan.json()["status"], "dry_run");
    assert!(
        steps(&plan)
            .iter()
            .all(|(_, s, c)| s == "planned" && !c.is_empty()),
        "{:?}",
        steps(&plan)
    );
    assert!(
        env.standin
            .get("v1", "Secret", Some("default"), "uis-db-railway")
            .is_none(),
        "--dry-run stored nothing"
    );
    assert!(!dir.join(".env").exists(), "--dry-run wrote no .env");

    let first = onboard(&env, &dir, &["--json"]);
    first.ok();
    let r = first.json();
    assert_eq!(r["status"], "ok", "{}", first.stderr);
    assert_eq!(r["api_url"], "http://api-railway.localhost");
    let names: Vec<String> = steps(&first).into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["database", "ddl", "seed", "postgrest", "env"]);
    assert!(steps(&first).iter().all(|(_, s, _)| s == "changed"));
    // The deploy's lines are said once, not by its plan and again by it.
    assert_eq!(
        first.stderr.matches("can now read through the API").count(),
        1,
        "{}",
        first.stderr
    );
    // What the five commands give: the tokens see what the policies promise.
    let anon = env_value(&dir, "POSTGREST_ANON_JWT");
    let staff = env_value(&dir, "POSTGREST_STAFF_JWT");
    assert_eq!(count(&env, &anon, "events"), "3");
    assert_eq!(count(&env, &anon, "pages"), "1");
    assert_eq!(count(&env, &staff, "events"), "5");
    assert_eq!(count(&env, &staff, "registrations"), "6");
    assert_eq!(
        env_value(&dir, "POSTGREST_URL"),
        "http://api-railway.localhost"
    );
    let secret = env
        .standin
        .get("v1", "Secret", Some("postgrest"), "railway-postgrest")
        .expect("Secret");
    let jwt = uis_e2e::base64_encode(env_value(&dir, "JWT_SECRET").as_bytes());
    assert_eq!(secret["data"]["PGRST_JWT_SECRET"], jwt.as_str());

    let before = state(&env, &dir);
    let second = onboard(&env, &dir, &["--json"]);
    second.ok();
    assert_eq!(second.json()["status"], "unchanged", "{}", second.stderr);
    assert!(
        second.stderr.contains("uis: no changes"),
        "{}",
        second.stderr
    );
    assert!(
        steps(&second)
            .iter()
            .all(|(_, s, c)| s == "unchanged" && c.is_empty()),
        "{:?}",
        steps(&second)
    );
    assert_eq!(state(&env, &dir), before, "a re-run changed nothing");
    // The text form says it too.
    let plan = onboard(&env, &dir, &["--dry-run"]);
    plan.ok();
    assert_eq!(plan.json()["status"], "dry_run");
    assert_eq!(state(&env, &dir), before);
}

#[test]
fn a_change_to_uis_yaml_is_applied_alone() {
    let env = Env::new();
    let dir = railway_dir(&env);
    onboard(&env, &dir, &["--json"]).ok();
    let before = state(&env, &dir);
    let anon = env_value(&dir, "POSTGREST_ANON_JWT");
    let staff = env_value(&dir, "POSTGREST_STAFF_JWT");

    // A new schema, a new seed file and a new token.
    let yaml = std::fs::read_to_string(dir.join("uis.yaml")).unwrap();
    let yaml = yaml
        .replace("schemas: [railway, auth] ", "schemas: [railway, auth, reports] ")
        .replace(
            "    exp: 30d\n",
            "    exp: 30d\n  - name: POSTGREST_EDITOR_JWT\n    role: authenticated\n    capabilities: [content:edit]\n    exp: 1d\n",
        );
    assert!(yaml.contains("reports") && yaml.contains("EDITOR"));
    std::fs::write(dir.join("uis.yaml"), yaml).unwrap();
    std::fs::write(
        dir.join("db/seeds/03-more.sql"),
        "INSERT INTO railway.pages (slug, body, published) VALUES ('faq', 'Questions.', true);\n",
    )
    .unwrap();

    let plan = onboard(&env, &dir, &["--dry-run", "--json"]);
    plan.ok();
    let planned = steps(&plan);
    let by = |name: &str| {
        planned
            .iter()
            .find(|s| s.0 == name)
            .map(|s| s.2.clone())
            .unwrap()
    };
    assert!(
        by("database")
            .iter()
            .any(|c| c.contains("CREATE SCHEMA IF NOT EXISTS \"reports\"")),
        "{planned:?}"
    );
    assert!(by("ddl").is_empty(), "{planned:?}");
    assert_eq!(by("seed"), ["apply 03-more.sql"]);
    assert!(by("postgrest").is_empty(), "{planned:?}");
    assert_eq!(by("env").len(), 1, "{planned:?}");
    assert!(
        by("env")[0].starts_with("mint POSTGREST_EDITOR_JWT"),
        "{planned:?}"
    );
    assert_eq!(state(&env, &dir), before, "--dry-run changed nothing");

    let run = onboard(&env, &dir, &["--json"]);
    run.ok();
    assert_eq!(run.json()["status"], "ok");
    let after = state(&env, &dir);
    // Earlier ledger rows, passwords, the Deployment and the other tokens stay.
    assert!(before.ledger.iter().all(|r| after.ledger.contains(r)));
    assert_eq!(after.ledger.len(), 8);
    assert_eq!(after.passwords, before.passwords);
    assert_eq!(after.generation, before.generation);
    assert_eq!(after.postgrest_secret, before.postgrest_secret);
    assert_eq!(env_value(&dir, "POSTGREST_ANON_JWT"), anon);
    assert_eq!(env_value(&dir, "POSTGREST_STAFF_JWT"), staff);
    let editor = env_value(&dir, "POSTGREST_EDITOR_JWT");
    assert_eq!(count(&env, &editor, "registrations"), "0");
    assert_eq!(count(&env, &editor, "pages"), "3");
    let schema: bool = env
        .pg
        .connect("railway")
        .query_one(
            "select exists(select 1 from pg_namespace where nspname = 'reports')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(schema);
    assert_onboarded(&env, &dir);
}

/// One PostgREST key changed alone is planned as the fields it changes
/// (not "apply every object"), and what it changes in the `.env` (the URL,
/// the tokens' audience) is in the same plan; after the run, a re-run says
/// no changes. A token or schema taken out of uis.yaml is left as it is.
#[test]
fn a_postgrest_key_changed_alone_is_planned_field_by_field() {
    let env = Env::new();
    let dir = railway_dir(&env);
    onboard(&env, &dir, &["--json"]).ok();
    let yaml = std::fs::read_to_string(dir.join("uis.yaml")).unwrap();
    let declare = |extra: &str| {
        let y = yaml.replace("  grants: none", &format!("  grants: none\n{extra}"));
        assert_ne!(y, yaml);
        std::fs::write(dir.join("uis.yaml"), y).unwrap();
    };
    let plan = |env: &Env| {
        let out = onboard(env, &dir, &["--dry-run", "--json"]);
        out.ok();
        steps(&out)
            .into_iter()
            .filter(|s| !s.2.is_empty())
            .map(|s| (s.0, s.2))
            .collect::<Vec<_>>()
    };
    let name = "postgrest/railway-postgrest";

    // Replicas: the Deployment's spec.replicas, and the deploy record.
    declare("  replicas: 3");
    let before = state(&env, &dir);
    let p = plan(&env);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, "postgrest");
    assert!(
        p[0].1
            .contains(&format!("Deployment {name}: spec.replicas 2 -> 3")),
        "{p:?}"
    );
    assert!(
        p[0].1
            .iter()
            .all(|c| !c.starts_with("Service") && !c.starts_with("IngressRoute")),
        "{p:?}"
    );
    assert_eq!(state(&env, &dir), before, "--dry-run changed nothing");
    onboard(&env, &dir, &["--json"]).ok();
    let rerun = onboard(&env, &dir, &["--json"]);
    assert_eq!(rerun.json()["status"], "unchanged", "{}", rerun.stdout);

    // The URL prefix: the IngressRoute's host, and POSTGREST_URL with it.
    declare("  url_prefix: rail");
    let p = plan(&env);
    assert!(
        p.iter().any(|(s, c)| s == "postgrest"
            && c.iter()
                .any(|c| c.starts_with(&format!("IngressRoute {name}: spec.routes[0].match")))),
        "{p:?}"
    );
    assert!(
        p.contains(&("env".to_string(), vec!["set POSTGREST_URL".to_string()])),
        "{p:?}"
    );
    onboard(&env, &dir, &["--json"]).ok();
    assert_eq!(env_value(&dir, "POSTGREST_URL"), "http://rail.localhost");

    // The audience: the Secret's key by name only, and both tokens re-minted.
    declare("  url_prefix: rail\n  audience: urn:railway:api");
    let p = plan(&env);
    let (_, pg) = p
        .iter()
        .find(|(s, _)| s == "postgrest")
        .expect("postgrest planned");
    assert!(
        pg.contains(&format!("Secret {name}: data.PGRST_JWT_AUD")),
        "{p:?}"
    );
    // A Secret's values are never in the plan.
    assert!(
        pg.iter()
            .all(|c| !c.starts_with("Secret") || !c.contains("urn:")),
        "{p:?}"
    );
    let (_, e) = p.iter().find(|(s, _)| s == "env").expect("env planned");
    assert_eq!(
        e,
        &[
            "mint POSTGREST_ANON_JWT (role anon): another audience",
            "mint POSTGREST_STAFF_JWT (role authenticated): another audience"
        ],
        "{p:?}"
    );
    onboard(&env, &dir, &["--json"]).ok();
    let rerun = onboard(&env, &dir, &["--json"]);
    assert_eq!(rerun.json()["status"], "unchanged", "{}", rerun.stdout);

    // Taken out of uis.yaml: nothing is dropped, no line removed.
    let staff = env_value(&dir, "POSTGREST_STAFF_JWT");
    let y = std::fs::read_to_string(dir.join("uis.yaml"))
        .unwrap()
        .replace("schemas: [railway, auth] ", "schemas: [railway] ")
        .replace(
            "  - name: POSTGREST_STAFF_JWT\n    role: authenticated           # every capability of auth.capabilities\n    exp: 30d\n",
            "",
        );
    assert!(!y.contains("STAFF") && !y.contains("auth] "), "{y}");
    std::fs::write(dir.join("uis.yaml"), y).unwrap();
    let before = state(&env, &dir);
    let rerun = onboard(&env, &dir, &["--json"]);
    assert_eq!(rerun.json()["status"], "unchanged", "{}", rerun.stdout);
    assert_eq!(state(&env, &dir), before);
    assert_eq!(env_value(&dir, "POSTGREST_STAFF_JWT"), staff);

    // Another anonymous role: created and deployed, and the anon token
    // re-minted for it, in the plan as in the run.
    let y = std::fs::read_to_string(dir.join("uis.yaml"))
        .unwrap()
        .replace("  anon: anon\n", "  anon: web_anon\n");
    assert!(y.contains("web_anon"), "{y}");
    std::fs::write(dir.join("uis.yaml"), y).unwrap();
    let p = plan(&env);
    assert!(
        p.iter().any(|(s, c)| s == "postgrest"
            && c.contains(&format!("Secret {name}: data.PGRST_DB_ANON_ROLE"))),
        "{p:?}"
    );
    assert!(
        p.contains(&(
            "env".to_string(),
            vec!["mint POSTGREST_ANON_JWT (role web_anon): another role".to_string()]
        )),
        "{p:?}"
    );
    onboard(&env, &dir, &["--json"]).ok();
    let rerun = onboard(&env, &dir, &["--json"]);
    assert_eq!(rerun.json()["status"], "unchanged", "{}", rerun.stdout);
}

/// Runs `uis-onboard` and kills it when its stderr shows `line`; true when
/// it was killed (false: it ended first).
fn kill_when(env: &Env, dir: &Path, line: &str) -> bool {
    let mut child = env
        .cmd("uis-onboard")
        .current_dir(dir)
        .arg("--json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn uis-onboard");
    let stderr = child.stderr.take().expect("stderr");
    let mut killed = false;
    let mut seen = String::new();
    for l in std::io::BufReader::new(stderr).lines() {
        let l = l.unwrap_or_default();
        seen.push_str(&l);
        seen.push('\n');
        if l.contains(line) {
            let _ = child.kill();
            killed = true;
            break;
        }
    }
    let _ = child.wait();
    uis_e2e::assert_no_known_secret("stderr of uis-onboard", &seen);
    killed
}

/// Kills a fresh onboarding when its stderr shows `line` (in the middle of
/// a step), then the next run finishes it.
fn killed_then_finished(line: &str) {
    let env = Env::new();
    let dir = railway_dir(&env);
    assert!(kill_when(&env, &dir, line), "never saw {line:?}");
    let out = onboard(&env, &dir, &["--json"]);
    out.ok();
    assert_eq!(out.json()["status"], "ok", "after a kill at {line:?}");
    assert_onboarded(&env, &dir);
}

#[test]
fn killed_in_the_database_step_the_next_run_finishes() {
    killed_then_finished("uis: CREATE DATABASE");
}

#[test]
fn killed_in_the_ddl_the_next_run_finishes() {
    killed_then_finished("uis: applied 02-schemas.sql");
}

#[test]
fn killed_in_the_seeds_the_next_run_finishes() {
    killed_then_finished("uis: applied 01-capabilities.sql");
}

#[test]
fn killed_in_the_postgrest_rollout_the_next_run_finishes() {
    killed_then_finished("uis: waiting up to");
}

/// A fresh onboarding whose API call `method path` answers 500: it stops
/// in `step` with exit 1 and UIS's error object, and the next run finishes.
fn api_error_then_finished(method: &str, path: &str, step: &str, done_before: bool) {
    let env = Env::new();
    let dir = railway_dir(&env);
    let faults = env.standin.faults();
    faults.set_fail(Some(method), path, 500);
    let out = onboard(&env, &dir, &["--json"]);
    faults.clear();
    assert_eq!(out.code, 1, "{step}: {}", out.stderr);
    let e = out.json();
    assert_eq!(e["status"], "error", "{step}");
    let detail = e["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with(step), "{step}: {detail}");
    assert_eq!(
        detail.contains("run `uis onboard` again to finish"),
        done_before,
        "{detail}"
    );
    // An API error passes: a plain re-run finishes, nothing to fix.
    assert!(!detail.contains("fix it"), "{detail}");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let again = onboard(&env, &dir, &["--json"]);
    again.ok();
    assert_eq!(again.json()["status"], "ok", "{step}: {}", again.stderr);
    assert_onboarded(&env, &dir);
}

#[test]
fn an_api_error_storing_credentials_then_the_next_run_finishes() {
    api_error_then_finished(
        "PATCH",
        "/api/v1/namespaces/default/secrets/uis-db-railway",
        "database",
        false,
    );
}

#[test]
fn an_api_error_applying_the_deployment_then_the_next_run_finishes() {
    api_error_then_finished(
        "PATCH",
        "/apis/apps/v1/namespaces/postgrest/deployments",
        "PostgREST",
        true,
    );
}

#[test]
fn a_tunnel_cut_or_a_failed_write_then_the_next_run_finishes() {
    let env = Env::new();
    let dir = railway_dir(&env);
    // Every PostgreSQL connection dropped after 8 kB: the DDL's is cut.
    env.standin.faults().set_drop_tunnel_after(Some(8_000));
    let out = onboard(&env, &dir, &["--json"]);
    env.standin.faults().clear();
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["status"], "error");
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    // A directory where the .env goes: refused before any step (exit 2).
    std::fs::create_dir(dir.join(".env")).unwrap();
    let out = onboard(&env, &dir, &["--json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("env.path: .env is a directory"),
        "{}",
        out.stderr
    );
    std::fs::remove_dir(dir.join(".env")).unwrap();
    // A .env that is a link out of the app's directory (a cloned uis.yaml
    // could point it at ~/.bashrc): refused before any step (exit 2),
    // nothing written there.
    let outside = env.path("outside.env");
    std::fs::write(&outside, "KEEP=1\n").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join(".env")).unwrap();
    let out = onboard(&env, &dir, &["--json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("env.path: .env is a link that leads out of the directory of uis.yaml"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "KEEP=1\n");
    std::fs::remove_file(dir.join(".env")).unwrap();
    // The .env cannot be written when the last step comes: a quote it
    // opens and never closes (the writer does not guess where its value
    // ends).
    std::fs::write(dir.join(".env"), "NOTE='unclosed\n").unwrap();
    let out = onboard(&env, &dir, &["--json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.json()["phase"], "write", "{}", out.stdout);
    std::fs::remove_file(dir.join(".env")).unwrap();
    let out = onboard(&env, &dir, &["--json"]);
    out.ok();
    let done = steps(&out);
    assert_eq!(
        done.last().map(|s| s.1.as_str()),
        Some("changed"),
        "{done:?}"
    );
    assert!(
        done.iter().all(|s| s.0 == "env" || s.1 == "unchanged"),
        "the steps done before were not done again: {done:?}"
    );
    assert_onboarded(&env, &dir);
}

#[test]
fn down_removes_postgrest_and_purge_everything() {
    let env = Env::new();
    let dir = railway_dir(&env);
    onboard(&env, &dir, &["--json"]).ok();
    let refused = onboard(&env, &dir, &["--purge"]);
    refused.expect_code(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    // --yes confirms --purge and nothing else: alone it is refused, not
    // ignored (the same in uis db configure and uis postgrest deploy).
    let alone = onboard(&env, &dir, &["--yes"]);
    alone.expect_code(2);
    assert!(alone.stderr.contains("--purge"), "{}", alone.stderr);
    for bin in ["uis-db-configure", "uis-postgrest-deploy"] {
        let out = env.run(bin, &["railway", "--yes"]);
        out.expect_code(2);
        assert!(out.stderr.contains("--purge"), "{bin}: {}", out.stderr);
    }

    // The plan names what is there; the run deletes it; the plan then
    // names nothing.
    let deleted = |out: &Out| -> Vec<String> {
        out.json()["deleted"]
            .as_array()
            .expect("deleted")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let plan = onboard(&env, &dir, &["--down", "--dry-run", "--json"]);
    plan.ok();
    let objects = [
        "deployment/railway-postgrest",
        "service/railway-postgrest",
        "ingressroute/railway-postgrest",
    ];
    assert_eq!(deleted(&plan), objects);
    let down = onboard(&env, &dir, &["--down", "--json"]);
    down.ok();
    assert_eq!(down.json()["status"], "down");
    assert_eq!(deleted(&down), objects);
    assert!(env.postgrest_deployment("railway").is_none());
    let plan = onboard(&env, &dir, &["--down", "--dry-run", "--json"]);
    plan.ok();
    assert_eq!(deleted(&plan), Vec::<String>::new());
    let db_exists = |env: &Env| -> bool {
        env.pg
            .connect("postgres")
            .query_one(
                "select exists(select 1 from pg_database where datname = 'railway')",
                &[],
            )
            .unwrap()
            .get(0)
    };
    assert!(db_exists(&env), "--down keeps the database");
    // Converging again brings PostgREST back, the tokens still valid.
    let up = onboard(&env, &dir, &["--json"]);
    up.ok();
    let s = steps(&up);
    assert!(
        s.iter().any(|x| x.0 == "postgrest" && x.1 == "changed"),
        "{s:?}"
    );
    assert!(
        s.iter().any(|x| x.0 == "database" && x.1 == "unchanged"),
        "{s:?}"
    );

    let plan = onboard(&env, &dir, &["--purge", "--yes", "--dry-run", "--json"]);
    plan.ok();
    let purged = onboard(&env, &dir, &["--purge", "--yes", "--json"]);
    purged.ok();
    assert_eq!(purged.json()["status"], "purged");
    // The plan named every object the purge deleted.
    assert_eq!(deleted(&plan), deleted(&purged));
    assert!(!db_exists(&env), "--purge drops the database");
    let owner: bool = env
        .pg
        .connect("postgres")
        .query_one(
            "select exists(select 1 from pg_roles where rolname = 'railway_owner')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!owner, "--purge drops the owner");
    assert!(
        env.standin
            .get("v1", "Secret", Some("default"), "uis-db-railway")
            .is_none()
    );
    // The same declaration onboards again from nothing.
    std::fs::remove_file(dir.join(".env")).unwrap();
    onboard(&env, &dir, &["--json"]).ok();
    assert_onboarded(&env, &dir);
}

#[test]
fn init_writes_a_commented_uis_yaml_and_never_overwrites() {
    let env = Env::new();
    let dir = env.path("my-app");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/railway/db"),
        &dir.join("db"),
    );
    let out = onboard(&env, &dir, &["--init"]);
    out.ok();
    let text = std::fs::read_to_string(dir.join("uis.yaml")).unwrap();
    assert!(text.starts_with("# uis.yaml"), "{text}");
    assert!(text.contains("app: my-app\n"), "{text}");
    assert!(text.contains("ddl: db "), "{text}");
    assert!(text.contains("seeds: [db/seeds]"), "{text}");
    let again = onboard(&env, &dir, &["--init"]);
    again.expect_code(2);
    assert!(
        again.stderr.contains("never overwrites"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(dir.join("uis.yaml")).unwrap(), text);
    // What it wrote is a plan.
    let plan = onboard(&env, &dir, &["--dry-run", "--json"]);
    plan.ok();
    assert_eq!(plan.json()["app"], "my-app");
}

/// What `--init` writes from the tutorial's `db/` runs as written: the
/// database the SQL grants on (`GRANT CONNECT ON DATABASE railway`) and
/// the extension its columns use (`citext`, never created by the SQL) are
/// in it, so the DDL does not fail on a database or type that is not there.
#[test]
fn init_then_run_as_written_onboards_the_tutorial_db() {
    let env = Env::new();
    let dir = env.path("railway");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/railway/db"),
        &dir.join("db"),
    );
    onboard(&env, &dir, &["--init"]).ok();
    let text = std::fs::read_to_string(dir.join("uis.yaml")).unwrap();
    assert!(text.contains("\ndatabase: railway "), "{text}");
    assert!(text.contains("\nextensions: [citext] "), "{text}");
    if env.topology == uis_e2e::Topology::Proxied {
        // As railway_dir: the admin is no superuser there.
        let kept = text.replace("  authenticator: authenticator\n", "");
        assert_ne!(kept, text, "--init names the DDL's authenticator");
        std::fs::write(dir.join("uis.yaml"), kept).unwrap();
    }
    let out = onboard(&env, &dir, &["--json"]);
    out.ok();
    assert_eq!(out.json()["status"], "ok", "{}", out.stderr);
    assert_onboarded(&env, &dir);
}

/// Every mode's stdout with `--json` (and piped) is exactly one JSON
/// document with the documented `status`, errors included, those clap
/// finds in the arguments too (conflicting flags, a bad value, an unknown
/// flag), and the exit code is the documented one.
#[test]
fn every_mode_prints_one_json_document() {
    let env = Env::new();
    let dir = railway_dir(&env);
    let one = |args: &[&str], code: i32, status: &str| {
        let out = onboard(&env, &dir, args);
        out.expect_code(code);
        let docs: Vec<Value> = serde_json::Deserializer::from_str(&out.stdout)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON ({e}):\n{}", out.stdout));
        assert_eq!(docs.len(), 1, "{args:?}: {}", out.stdout);
        assert_eq!(docs[0]["status"], status, "{args:?}: {}", out.stdout);
        docs.into_iter().next().unwrap()
    };
    one(&["--dry-run", "--json"], 0, "dry_run");
    one(&["--json"], 0, "ok");
    one(&[], 0, "unchanged");
    one(&["--down", "--dry-run", "--json"], 0, "dry_run");
    let e = one(&["--purge", "--json"], 2, "error");
    assert_eq!(e["phase"], "usage");
    // From a subdirectory, the command the hint gives names the file.
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    let out = onboard(&env, &sub, &["-f", "../uis.yaml", "--purge", "--json"]);
    out.expect_code(2);
    let hint = out.json()["hint"].as_str().unwrap_or_default().to_string();
    assert!(
        hint.contains("`uis onboard -f ../uis.yaml --purge --yes`"),
        "{hint}"
    );
    // Errors clap finds in the arguments: still one document, phase usage.
    for args in [
        &["--init", "--dry-run", "--json"][..],
        &["--pg-port", "0", "--json"][..],
        &["--frobnicate"][..],
    ] {
        let e = one(args, 2, "error");
        assert_eq!(e["phase"], "usage", "{args:?}");
        assert!(!e["detail"].as_str().unwrap_or_default().is_empty(), "{e}");
    }
    one(&["-f", "nope.yaml", "--json"], 2, "error");
    one(&["--down", "--json"], 0, "down");
    one(&["--purge", "--yes", "--json"], 0, "purged");
}

/// An owner another app holds is refused, nothing is changed, and the
/// hint's example is a name that is free (it was the refused one when
/// the app's own default, APP_owner, was the name taken).
#[test]
fn an_owner_of_another_app_is_refused_with_a_free_name_as_example() {
    let env = Env::new();
    let first = env.path("first");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::write(
        first.join("uis.yaml"),
        "app: first\nowner: railway_owner\ntokens: []\nenv: {path: null}\n",
    )
    .unwrap();
    onboard(&env, &first, &["--json"]).ok();
    let dir = railway_dir(&env);
    let out = onboard(&env, &dir, &["--json"]);
    out.expect_code(1);
    let e = out.json();
    let detail = e["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("belongs to app \"first\""), "{e}");
    let hint = e["hint"].as_str().unwrap_or_default();
    assert!(hint.contains("e.g."), "{e}");
    assert!(!hint.contains("railway_owner"), "{e}");
    // Nothing of railway's was made.
    let dbs: i64 = env
        .pg
        .connect("postgres")
        .query_one(
            "select count(*) from pg_database where datname = 'railway'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(dbs, 0);
}

#[test]
fn bad_uis_yaml_is_refused_with_its_line_and_the_valid_choices() {
    let env = Env::new();
    let dir = env.path("bad");
    std::fs::create_dir_all(dir.join("a/seeds")).unwrap();
    std::fs::create_dir_all(dir.join("b/seeds")).unwrap();
    for (yaml, code, want) in [
        (
            "app: railway\nschema: [a]\n",
            2,
            "uis.yaml:2:1: unknown field `schema`, expected one of app, database, owner, schemas,",
        ),
        (
            "app: railway\npostgrest:\n  replica: 2\n",
            2,
            "uis.yaml:3:3: unknown field `replica`, expected one of schemas, grants, url_prefix, audience, replicas,",
        ),
        (
            "app: railway\nschemas: railway\n",
            2,
            "uis.yaml:2:10: schemas: expected a list, e.g. [a, b]",
        ),
        (
            "app: railway\npostgrest:\n  replicas: two\n",
            2,
            "uis.yaml:3:13: replicas: expected a whole number",
        ),
        // YAML 1.2's types: a quoted number or boolean is a string, and
        // so are YAML 1.1's yes/on (as Kubernetes refuses replicas: "2").
        (
            "app: railway\npostgrest:\n  replicas: \"2\"\n",
            2,
            "uis.yaml:3:13: replicas: expected a whole number, found the string \"2\" (quoted",
        ),
        (
            "app: railway\nowner_createrole: \"true\"\n",
            2,
            "uis.yaml:2:19: owner_createrole: expected true or false, found the string \"true\"",
        ),
        (
            "app: railway\nowner_createrole: yes\n",
            2,
            "uis.yaml:2:19: owner_createrole: expected true or false, found the string \"yes\"",
        ),
        (
            "app: railway\npostgrest:\n  timeout: 2.5\n",
            2,
            "uis.yaml:3:12: timeout: expected a whole number, found 2.5",
        ),
        (
            "app: railway\npostgrest:\n  grants: all\n",
            2,
            "uis.yaml:3:11: grants: unknown variant `all`, expected one of anon-select, none",
        ),
        (
            "app: railway\ntokens:\n  - name: A\n    role: anon\n    ttl: 1d\n",
            2,
            "uis.yaml:5:5: unknown field `ttl`, expected one of name, role, exp, capabilities",
        ),
        ("database: x\n", 2, "uis.yaml:1:1: missing field `app`"),
        // Values that break their flag's rule: located at the value.
        (
            "app: Railway\n",
            2,
            "uis.yaml:1:6: app: invalid APP \"Railway\"",
        ),
        (
            "app: railway\ntokens:\n  - {name: A, role: anon, exp: 5}\n",
            2,
            "uis.yaml:3:32: tokens[0].exp: duration \"5\" has no unit",
        ),
        (
            "app: railway\npostgrest: {replicas: 0}\n",
            2,
            "uis.yaml:2:23: postgrest.replicas: 0 is out of range",
        ),
        (
            "app: railway\npostgrest:\n  url_prefix: api-\n",
            2,
            "uis.yaml:3:15: postgrest.url_prefix: \"api-\" is not a DNS label",
        ),
        (
            "app: railway\npostgrest:\n  image: ''\n",
            2,
            "uis.yaml:3:10: postgrest.image: \"\" is not an image reference",
        ),
        (
            "app: railway\nschemas: [railway, Auth]\n",
            2,
            "uis.yaml:2:20: invalid schemas[1] \"Auth\"",
        ),
        (
            "app: railway\nroles:\n  anon: 'we\"b'\n",
            2,
            "uis.yaml:3:9: invalid roles.anon \"we\\\"b\"",
        ),
        (
            "app: railway\npostgrest:\n  cors_origins: [https://a.example, '*']\n",
            2,
            "uis.yaml:3:37: postgrest.cors_origins[1]: \"*\"",
        ),
        (
            "app: railway\nenv: {path: null}\n",
            2,
            "uis.yaml:2:13: tokens: tokens are kept in the .env file, and env.path is null",
        ),
        // Paths: directories beside uis.yaml, never outside it.
        (
            "app: railway\nddl: db\n",
            2,
            "uis.yaml:2:6: ddl: directory db does not exist",
        ),
        (
            "app: railway\nseeds: [.., ../x]\n",
            2,
            "uis.yaml:2:9: seeds[0]: .. leaves the directory of uis.yaml",
        ),
        (
            "app: railway\nenv:\n  path: /tmp/x.env\n",
            2,
            "uis.yaml:3:9: env.path: /tmp/x.env is absolute",
        ),
        (
            "app: railway\nenv:\n  path: .\n",
            2,
            "uis.yaml:3:9: env.path: . is a directory",
        ),
        // Capabilities are for the authenticated role's tokens.
        (
            "app: railway\ntokens:\n  - {name: A, role: anon, capabilities: [a]}\n",
            2,
            "uis.yaml:3:41: tokens[0].capabilities: only tokens of the authenticated role carry capabilities",
        ),
        // A list names each item once.
        (
            "app: railway\ntokens:\n  - {name: A, role: authenticated, capabilities: [a, b, a]}\n",
            2,
            "uis.yaml:3:57: tokens[0].capabilities[2]: \"a\" is given twice (first as tokens[0].capabilities[0])",
        ),
        // Two seed directories with one last name would share a ledger.
        (
            "app: railway\nseeds: [a/seeds, b/seeds]\n",
            2,
            "uis.yaml:2:18: seeds[1]: b/seeds has the ledger name \"seeds\" of seeds[0]",
        ),
        // The reader's own refusals, in the file's words.
        ("app: railway\nschemas: [a\n", 2, "uis.yaml:2:"),
        ("", 2, "uis.yaml: the file is empty"),
        (
            "# a comment\n\n# and another\n",
            2,
            "uis.yaml: the file is empty",
        ),
        (
            "app: railway\napp: shop\n",
            2,
            "uis.yaml:2:1: duplicate key `app`: each key may be given once",
        ),
        (
            "app: railway\n---\napp: shop\n",
            2,
            "uis.yaml:3:1: a second YAML document (`---`)",
        ),
        (
            "app:\n",
            2,
            "uis.yaml:1:4: expected a string, found nothing (null)",
        ),
    ] {
        std::fs::write(dir.join("uis.yaml"), yaml).unwrap();
        let out = onboard(&env, &dir, &["--json"]);
        assert_eq!(out.code, code, "{yaml:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("error: {want}")),
            "{yaml:?}: want {want:?} in:\n{}",
            out.stderr
        );
        assert_eq!(out.json()["status"], "error", "{yaml:?}");
        assert_eq!(out.json()["phase"], "usage", "{yaml:?}");
    }
    // Not UTF-8: the line and column of the first bad byte.
    std::fs::write(dir.join("uis.yaml"), b"app: railway\ndatabase: r\xe9\n").unwrap();
    let out = onboard(&env, &dir, &[]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("error: uis.yaml:2:12: not UTF-8 text"),
        "{}",
        out.stderr
    );
    // A directory as -f.
    let out = onboard(&env, &dir, &["-f", "."]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("error: . is a directory"),
        "{}",
        out.stderr
    );
    // No file at all: a usage error whose hint names --init; taking an
    // app down without it names the app's form.
    std::fs::remove_file(dir.join("uis.yaml")).unwrap();
    let out = onboard(&env, &dir, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("uis onboard --init"), "{}", out.stderr);
    let out = onboard(&env, &dir, &["--down"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("`uis onboard --down APP`"),
        "{}",
        out.stderr
    );
    // APP given that is not the file's.
    std::fs::write(dir.join("uis.yaml"), "app: railway\n").unwrap();
    let out = onboard(&env, &dir, &["other"]);
    out.expect_code(2);
    assert!(out.stderr.contains("is not the app of"), "{}", out.stderr);
}

/// A seed file with an SQL error stops the run with `uis db seed`'s exit
/// code 3 and its file:line, rolled back; fixed, the next run applies it
/// and only what is left.
#[test]
fn a_failing_seed_file_exits_3_and_the_fixed_one_is_applied_next() {
    let env = Env::new();
    let dir = railway_dir(&env);
    let file = dir.join("db/seeds/02-events.sql");
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{good}\nSELECT * FROM railway.no_such_table;\n"),
    )
    .unwrap();
    let out = onboard(&env, &dir, &["--json"]);
    out.expect_code(3);
    assert_eq!(out.json()["status"], "error");
    assert!(out.stderr.contains("02-events.sql"), "{}", out.stderr);
    assert!(out.stderr.contains("no_such_table"), "{}", out.stderr);
    // The file fails again until it is fixed: the message says so.
    assert!(
        out.stderr
            .contains("fix it, then run `uis onboard` again to finish"),
        "{}",
        out.stderr
    );
    std::fs::write(&file, good).unwrap();
    let out = onboard(&env, &dir, &["--json"]);
    out.ok();
    let s = steps(&out);
    assert_eq!(
        s.iter().find(|x| x.0 == "seed").map(|x| x.2.clone()),
        Some(vec!["applied 02-events.sql".to_string()]),
        "{s:?}"
    );
    assert!(
        s.iter().any(|x| x.0 == "ddl" && x.1 == "unchanged"),
        "{s:?}"
    );
    assert_onboarded(&env, &dir);
}

/// A new audience for the API re-deploys PostgREST with it and re-mints
/// the tokens of the `.env` with the new `aud` (the old ones say why).
#[test]
fn a_new_audience_redeploys_and_remints_the_tokens() {
    let env = Env::new();
    let dir = railway_dir(&env);
    onboard(&env, &dir, &["--json"]).ok();
    let anon = env_value(&dir, "POSTGREST_ANON_JWT");
    let yaml = std::fs::read_to_string(dir.join("uis.yaml")).unwrap();
    let yaml = yaml.replace(
        "  grants: none ",
        "  audience: https://railway.example\n  grants: none ",
    );
    assert!(yaml.contains("audience"));
    std::fs::write(dir.join("uis.yaml"), yaml).unwrap();
    let out = onboard(&env, &dir, &["--json"]);
    out.ok();
    let s = steps(&out);
    let env_changes = s
        .iter()
        .find(|x| x.0 == "env")
        .map(|x| x.2.clone())
        .unwrap();
    assert!(
        env_changes
            .iter()
            .any(|c| c.starts_with("mint POSTGREST_ANON_JWT") && c.ends_with("another audience")),
        "{s:?}"
    );
    assert!(
        s.iter().any(|x| x.0 == "postgrest" && x.1 == "changed"),
        "{s:?}"
    );
    let new_anon = env_value(&dir, "POSTGREST_ANON_JWT");
    assert_ne!(new_anon, anon);
    assert_eq!(count(&env, &new_anon, "events"), "3");
    assert_onboarded(&env, &dir);
}

/// On a terminal (a tmux pane, 100 columns), the spinner owns the last
/// line and every line the operations print goes above it: when the run
/// is done no spinner frame is left on the screen, each step's line and
/// the operations' lines (`uis: CREATE DATABASE`, `uis: applied
/// 05-rls.sql`) stand on rows of their own, and the report follows.
#[test]
fn progress_on_a_terminal_leaves_whole_lines() {
    let Some(tmux) = ["/usr/bin/tmux", "/bin/tmux", "/usr/local/bin/tmux"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        uis_harness::missing_tool("tmux", "the terminal progress test of uis-onboard");
        return;
    };
    let env = Env::new();
    let dir = railway_dir(&env);
    let q = |s: &Path| format!("'{}'", s.display().to_string().replace('\'', "'\\''"));
    let program = format!(
        "cd {}; /usr/bin/env -i KUBECONFIG={} HOME={} TERM=xterm {}; echo EXIT=$?; exec /bin/sleep 900",
        q(&dir),
        q(&env.kubeconfig),
        q(env.dir.path()),
        q(&uis_harness::bin("uis-onboard")),
    );
    let socket = env.dir.path().join("onboard-tmux.sock");
    let tmux_cmd = |args: &[&str]| {
        let out = std::process::Command::new(tmux)
            .arg("-S")
            .arg(&socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    tmux_cmd(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "100",
        "-y",
        "50",
        &format!("/bin/sh -c \"{}\"", program.replace('"', "\\\"")),
    ]);
    let started = std::time::Instant::now();
    let text = loop {
        let text = tmux_cmd(&["capture-pane", "-p", "-S", "-2000"]);
        if text.contains("EXIT=") || started.elapsed() > std::time::Duration::from_secs(120) {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    tmux_cmd(&["kill-server"]);
    assert!(text.contains("EXIT=0"), "the run ends with 0:\n{text}");
    let spinner = |c: char| ('\u{2800}'..='\u{28ff}').contains(&c);
    assert!(
        !text.chars().any(spinner),
        "a spinner frame is left on the screen:\n{text}"
    );
    let rows: Vec<&str> = text.lines().map(str::trim_end).collect();
    for want in [
        "uis: CREATE DATABASE \"railway\" OWNER \"railway_owner\"",
        "  DDL as the superuser (db): changed (5 changes)",
        "railway: onboarded",
    ] {
        assert!(
            rows.iter().any(|r| r.starts_with(want)),
            "no row starts with {want:?}:\n{text}"
        );
    }
    assert!(
        rows.iter()
            .any(|r| r.starts_with("uis: applied 05-rls.sql in ") && r.ends_with(" ms")),
        "{text}"
    );
}

/// A `.env` edited by hand: comments, other keys, `export` and quotes stay
/// byte for byte on a run with nothing to do; a key given twice with
/// different values (readers disagree on which wins) is planned and made
/// one line, the other lines kept.
#[test]
fn a_hand_edited_env_is_kept_and_a_key_given_twice_is_made_one() {
    let env = Env::new();
    let dir = railway_dir(&env);
    onboard(&env, &dir, &["--json"]).ok();
    let path = dir.join(".env");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited: String = text
        .lines()
        .map(|l| match l.split_once('=') {
            Some(("POSTGREST_URL", v)) => format!("export POSTGREST_URL=\"{v}\""),
            Some(("JWT_SECRET", v)) => format!("JWT_SECRET='{v}'  # for the app"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    let edited = format!("# settings\r\nOTHER='keep me'\r\n{edited}\r\n");
    std::fs::write(&path, &edited).unwrap();
    let rerun = onboard(&env, &dir, &["--json"]);
    assert_eq!(rerun.json()["status"], "unchanged", "{}", rerun.stdout);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);

    std::fs::write(&path, format!("{edited}POSTGREST_STAFF_JWT=stale\r\n")).unwrap();
    let plan = onboard(&env, &dir, &["--dry-run", "--json"]);
    let planned = steps(&plan);
    let env_step = planned.iter().find(|s| s.0 == "env").expect("env step");
    assert_eq!(
        env_step.2,
        [
            "mint POSTGREST_STAFF_JWT (role authenticated): set more than once in the file, with different values"
        ],
        "{planned:?}"
    );
    onboard(&env, &dir, &["--json"]).ok();
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(after.matches("POSTGREST_STAFF_JWT=").count(), 1, "{after}");
    assert!(!after.contains("stale"), "{after}");
    assert!(
        after.starts_with("# settings\r\nOTHER='keep me'\r\nexport POSTGREST_URL=\""),
        "{after}"
    );
    assert_onboarded(&env, &dir);
    let rerun = onboard(&env, &dir, &["--json"]);
    assert_eq!(rerun.json()["status"], "unchanged", "{}", rerun.stdout);
}

/// A token for a role the mint would refuse is refused by the plan too
/// (`--dry-run` exits 1 as the run would, nothing written); for a
/// privileged role (the superuser) the error never suggests granting it to
/// the authenticator.
#[test]
fn a_token_the_mint_refuses_is_refused_by_the_plan() {
    let env = Env::new();
    let dir = railway_dir(&env);
    onboard(&env, &dir, &["--json"]).ok();
    let before = state(&env, &dir);
    let yaml = std::fs::read_to_string(dir.join("uis.yaml")).unwrap();
    for (role, want) in [
        ("no_such_role", "role \"no_such_role\" does not exist"),
        // The admin: a superuser in the cluster, CREATEROLE CREATEDB on the
        // proxied topology; privileged either way.
        (
            "postgres",
            "a token for it would give anyone with the JWT secret those powers",
        ),
    ] {
        let y = yaml.replace(
            "    exp: 30d\n",
            &format!("    exp: 30d\n  - name: EXTRA_JWT\n    role: {role}\n"),
        );
        std::fs::write(dir.join("uis.yaml"), y).unwrap();
        for args in [&["--dry-run", "--json"][..], &["--json"][..]] {
            let out = onboard(&env, &dir, args);
            assert_eq!(out.code, 1, "{args:?} {role}: {}", out.stderr);
            assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
            assert!(!out.stderr.contains("GRANT"), "{}", out.stderr);
            if role == "postgres" {
                assert!(out.stderr.contains("CREATEROLE"), "{}", out.stderr);
            }
            assert_eq!(
                state(&env, &dir),
                before,
                "{args:?} {role}: nothing changed"
            );
        }
    }
}

/// Secret values ending in a line break (as `kubectl create secret
/// --from-file` keeps it) met by a re-run of `uis onboard`, which reads the
/// app's Secret at every step: each is said once, naming the Secret and key;
/// the owner's password reaches neither the role nor the `.env` with it; a
/// JWT secret ending in `\r\n`, which no `.env` can carry, is refused with
/// the command that issues one without it (not a hint about the path).
#[test]
fn secret_values_ending_in_a_line_break_are_said_once_and_the_jwt_secret_one_names_the_rotation() {
    let env = Env::new();
    let dir = railway_dir(&env);
    onboard(&env, &dir, &[]).ok();
    let mut store = env
        .standin
        .get("v1", "Secret", Some("default"), "uis-db-railway")
        .expect("the store Secret");
    let owner_key = "password.railway_owner";
    let owner_password = {
        use base64::Engine;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(store["data"][owner_key].as_str().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    store["data"][owner_key] =
        uis_e2e::base64_encode(format!("{owner_password}\r\n").as_bytes()).into();
    env.standin.put(store);

    let out = onboard(&env, &dir, &[]);
    out.ok();
    let said = format!("Secret default/uis-db-railway key {owner_key} ends with a line break");
    assert_eq!(out.stderr.matches(&said).count(), 1, "{}", out.stderr);
    let text = std::fs::read_to_string(dir.join(".env")).expect(".env");
    assert!(!text.contains('\r'), "{text:?}");
    assert!(
        text.lines().all(|l| l.contains('=')),
        "a value broken across lines: {text:?}"
    );
    // The owner still logs in with the password without the line break.
    let url = format!(
        "postgresql://railway_owner:{owner_password}@{}:{}/railway",
        env.pg.addr().ip(),
        env.pg.addr().port()
    );
    env.psql(&[&url, "-Atc", "select 1"]).ok();

    // A JWT secret ending in a line break: PostgREST verifies with it as
    // it is; the trailing bytes are a Secret's newline, not the value.

    let secret = env
        .standin
        .get("v1", "Secret", Some("postgrest"), "railway-postgrest")
        .expect("the PostgREST Secret");
    let jwt = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(secret["data"]["PGRST_JWT_SECRET"].as_str().unwrap())
            .unwrap()
    };
    // Neither ending goes into a .env (none is part of the secret's
    // value: docs/security.md): onboard and `uis jwt mint --write-env`
    // refuse, naming the rotation, and the .env keeps its bytes.
    let before = std::fs::read(dir.join(".env")).unwrap();
    for ending in [&b"\r\n"[..], &b"\n"[..]] {
        let mut secret = env
            .standin
            .get("v1", "Secret", Some("postgrest"), "railway-postgrest")
            .expect("the PostgREST Secret");
        let mut jwt_nl = jwt.clone();
        jwt_nl.extend(ending);
        secret["data"]["PGRST_JWT_SECRET"] = uis_e2e::base64_encode(&jwt_nl).into();
        env.standin.put(secret);
        let hint = "hint: issue a secret without that character: `uis postgrest deploy railway --rotate-jwt-secret`";
        let out = onboard(&env, &dir, &[]);
        assert_eq!(out.code, 1, "{ending:?}: {}", out.stderr);
        assert!(out.stderr.contains(hint), "{ending:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains("give env.path a file"),
            "{}",
            out.stderr
        );
        let env_file = dir.join(".env").display().to_string();
        let out = env.run("uis-jwt-mint", &["railway", "--write-env", &env_file]);
        assert_eq!(out.code, 1, "{ending:?}: {}", out.stderr);
        assert!(out.stderr.contains(hint), "{ending:?}: {}", out.stderr);
        assert_eq!(
            std::fs::read(dir.join(".env")).unwrap(),
            before,
            "{ending:?}: the .env is left as it was"
        );
    }
}

/// A re-run of `uis onboard` that would issue a new password for the role
/// PostgREST logs in as (its stored password gone, the role's cleared)
/// while PostgREST's Secret is immutable (`kubectl patch ... immutable`):
/// refused in the plan and in the real run before the database changes,
/// naming the Secret and the command that recreates it; once recreated
/// without the mark, the next run finishes and doctor passes.
#[test]
fn a_new_password_postgrest_cannot_receive_is_refused_before_the_role_changes() {
    let env = Env::new();
    let dir = railway_dir(&env);
    onboard(&env, &dir, &[]).ok();
    let secret = env
        .standin
        .get("v1", "Secret", Some("postgrest"), "railway-postgrest")
        .expect("the PostgREST Secret");
    let uri = {
        use base64::Engine;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(secret["data"]["PGRST_DB_URI"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    let user = uri
        .split_once("://")
        .and_then(|(_, r)| r.split_once(':'))
        .map(|(u, _)| u.to_string())
        .expect("PGRST_DB_URI's user");
    let patch = ["patch", "secret", "railway-postgrest", "-n", "postgrest"];
    match env.kubectl(&[&patch[..], &["-p", r#"{"immutable":true}"#]].concat()) {
        Some(k) => {
            k.ok();
        }
        None => {
            let mut s = secret.clone();
            s["immutable"] = true.into();
            env.standin.put(s);
        }
    }
    let mut store = env
        .standin
        .get("v1", "Secret", Some("default"), "uis-db-railway")
        .expect("the store Secret");
    store["data"]
        .as_object_mut()
        .unwrap()
        .remove(&format!("password.{user}"));
    env.standin.put(store.clone());
    let mut admin = env.admin_connect("postgres");
    admin
        .batch_execute(&format!("ALTER ROLE \"{user}\" PASSWORD NULL"))
        .unwrap();
    let cleared = |admin: &mut postgres::Client| -> bool {
        admin
            .query_one(
                "select rolpassword is null from pg_authid where rolname = $1",
                &[&user],
            )
            .map(|r| r.get(0))
            .unwrap_or_else(|_| {
                // No superuser (proxied): the admin cannot read pg_authid;
                // a login with no password tells the same.
                true
            })
    };
    for args in [&["--dry-run"][..], &[][..]] {
        let out = onboard(&env, &dir, args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "role {user} would get a new password, which PostgREST's Secret postgrest/railway-postgrest (key PGRST_DB_URI) must then hold, but that Secret is immutable"
            )),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("sed '/^immutable: true$/d' | kubectl replace --force"),
            "{}",
            out.stderr
        );
        assert!(cleared(&mut admin), "{args:?}: the role's password changed");
        let now = env
            .standin
            .get("v1", "Secret", Some("default"), "uis-db-railway")
            .unwrap();
        assert_eq!(now["data"], store["data"], "{args:?}: the store changed");
    }
    // Recreated without the mark (what the hint's kubectl replace does).
    let mut s = env
        .standin
        .get("v1", "Secret", Some("postgrest"), "railway-postgrest")
        .unwrap();
    s.as_object_mut().unwrap().remove("immutable");
    assert!(
        env.standin
            .delete("v1", "Secret", Some("postgrest"), "railway-postgrest")
    );
    env.standin.put(s);
    onboard(&env, &dir, &[]).ok();
    let doctor = output(env.cmd("uis-db-doctor").args(["railway", "--json"]));
    doctor.ok();
}
