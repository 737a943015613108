//! The tutorial (docs/tutorial/add-a-database-for-my-app.md) is a test: it
//! names none of the workarounds (kubectl exec, docker exec, base64 -d), and
//! every `uis` command in its code blocks runs, in order, against the
//! stand-in with the Railway example's SQL (issue: docs; bucket A.3).

use std::process::{Command, Stdio};
use uis_e2e::{Env, output};

fn tutorial() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/tutorial/add-a-database-for-my-app.md");
    std::fs::read_to_string(p).unwrap()
}

fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_bash = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_bash = !in_bash && line.trim() == "```bash";
            continue;
        }
        if in_bash && line.starts_with("uis ") {
            out.push(line.to_string());
        }
    }
    out
}

/// The tutorial's one `yaml` block: the uis.yaml it declares.
fn yaml_block(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("```") {
            inside = !inside && line.trim() == "```yaml";
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(out.starts_with("app: railway"), "{out}");
    out
}

/// The uis.yaml the tutorial shows is examples/railway/uis.yaml without
/// its comments.
#[test]
fn shows_the_example_uis_yaml() {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/railway/uis.yaml");
    let example: String = std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| format!("{}\n", l.split(" #").next().unwrap_or_default().trim_end()))
        .collect();
    assert_eq!(yaml_block(&tutorial()), example);
}

#[test]
fn names_no_workaround() {
    let text = tutorial();
    for bad in ["kubectl exec", "docker exec", "base64 -d"] {
        assert!(!text.contains(bad), "the tutorial mentions {bad}");
    }
}

#[test]
fn every_command_runs_in_order() {
    if uis_e2e::in_cluster_only(
        "the tutorial's `--authenticator authenticator` needs an admin that can read pg_authid (a superuser); on proxied the suite refuses it by design and examples/railway/onboard.sh (railway::) runs the onboarding with the suite's own authenticator",
    ) {
        return;
    }
    let env = Env::new();
    let work = env.path("myapp");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/railway/db");
    std::fs::create_dir_all(&work).unwrap();
    output(Command::new("cp").arg("-r").arg(&src).arg(&work)).ok();
    // The uis.yaml the tutorial shows, for `uis onboard`.
    std::fs::write(work.join("uis.yaml"), yaml_block(&tutorial())).unwrap();
    std::fs::write(
        work.join("query.sql"),
        "select count(*) from railway.events;\n",
    )
    .unwrap();
    let bin_dir = uis_harness::bin_dir();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cmds = commands(&tutorial());
    assert!(cmds.len() >= 12, "{cmds:?}");
    for cmd in &cmds {
        // The tunnel runs until interrupted: give it three seconds.
        let script = if cmd.starts_with("uis db tunnel") {
            format!("timeout 3 {cmd}; test $? = 124")
        } else {
            cmd.clone()
        };
        let out = output(
            Command::new("bash")
                .args(["-c", &script])
                .current_dir(&work)
                .env("PATH", &path)
                .env("KUBECONFIG", &env.kubeconfig)
                .env("HOME", env.dir.path())
                .stdin(Stdio::null()),
        );
        assert_eq!(
            out.code, 0,
            "`{cmd}` failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        assert!(
            !out.stderr.contains(&env.pg.password),
            "`{cmd}` printed the superuser password on stderr"
        );
    }
    let env_file = std::fs::read_to_string(work.join(".env")).unwrap();
    assert!(env_file.contains("POSTGREST_STAFF_JWT="));
}
