//! The committed completions/, man/ and docs/reference/cli.md are what
//! `uis-gen` makes from today's clap definitions: regenerate into a temp
//! dir and compare, so a changed flag without regenerated files fails here.

use std::path::{Path, PathBuf};
use std::process::Command;
use uis_e2e::output;

/// The directories every file of which is generated.
const GENERATED_DIRS: &[&str] = &[
    "completions/bash",
    "completions/zsh",
    "completions/fish",
    "man",
];

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn committed_generated_files_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = tempfile::tempdir().unwrap();
    output(Command::new(uis_harness::bin("uis-gen")).arg(tmp.path())).ok();
    let fresh = files_under(tmp.path());
    assert!(
        fresh
            .iter()
            .any(|p| p == Path::new("docs/reference/cli.md"))
    );
    let mut stale = Vec::new();
    for rel in &fresh {
        match std::fs::read(root.join(rel)) {
            Ok(committed) if committed == std::fs::read(tmp.path().join(rel)).unwrap() => {}
            Ok(_) => stale.push(format!("{} (differs)", rel.display())),
            Err(_) => stale.push(format!("{} (missing)", rel.display())),
        }
    }
    for dir in GENERATED_DIRS {
        for rel in files_under(&root.join(dir)) {
            let rel = Path::new(dir).join(rel);
            if !fresh.contains(&rel) {
                stale.push(format!("{} (no longer generated)", rel.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "generated files are stale; run cargo run -p uis-gen\n  {}",
        stale.join("\n  ")
    );
}

#[test]
fn check_mode_reports_stale_files_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let gen_bin = uis_harness::bin("uis-gen");
    output(Command::new(&gen_bin).arg(tmp.path())).ok();
    output(Command::new(&gen_bin).arg("--check").arg(tmp.path())).ok();
    let page = tmp.path().join("man/uis-db-creds.1");
    std::fs::write(&page, "edited by hand\n").unwrap();
    let out = output(Command::new(&gen_bin).arg("--check").arg(tmp.path()));
    out.expect_code(1);
    assert!(
        out.stderr.contains("man/uis-db-creds.1 (differs)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("run cargo run -p uis-gen"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&page).unwrap(), "edited by hand\n");
}

/// Every Markdown page under docs/.
fn doc_pages(root: &Path) -> Vec<PathBuf> {
    files_under(&root.join("docs"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| root.join("docs").join(p))
        .collect()
}

/// The pages that teach (services, reference, tutorial) show the suite's way
/// only; pages that measure against the old way (benchmarks) may name it.
#[test]
fn docs_never_send_people_around_the_suite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let teaching = ["services", "reference", "tutorial"].map(|d| root.join("docs").join(d));
    let pages: Vec<PathBuf> = doc_pages(&root)
        .into_iter()
        .filter(|p| teaching.iter().any(|d| p.starts_with(d)))
        .collect();
    assert!(pages.len() >= 4, "docs pages: {pages:?}");
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        for banned in [
            "kubectl exec",
            "docker exec",
            "base64 -d",
            "base64 --decode",
        ] {
            assert!(
                !text.contains(banned),
                "{} mentions `{banned}`: the docs show the suite's way instead",
                page.display()
            );
        }
    }
}

#[test]
fn docs_relative_links_resolve() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for page in doc_pages(&root) {
        let text = std::fs::read_to_string(&page).unwrap();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap();
            if target.is_empty() || target.contains("://") {
                continue;
            }
            let path = page.parent().unwrap().join(target);
            assert!(
                path.exists(),
                "{}: link to {target} is broken",
                page.display()
            );
        }
    }
}
