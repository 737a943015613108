//! `uis-db-psql APP` on a terminal with no input: the local psql through the
//! tunnel, or, with no local psql, psql in the database pod through exec
//! (issue: uis-db-psql). A pseudo-terminal comes from util-linux `script`.

use uis_e2e::Env;

#[test]
fn local_psql_through_the_tunnel() {
    let env = Env::new();
    let psql_dir = uis_e2e::psql_path().parent().unwrap().to_path_buf();
    let path = format!("{}:/usr/bin:/bin", psql_dir.display());
    let Some((code, text)) = env.psql_on_a_terminal(&path, "select 40 + 2 as answer;\n\\q\n")
    else {
        uis_harness::missing_tool("script(1) (util-linux)", "this test");
        return;
    };
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("through the port-forward"),
        "says which: {text}"
    );
    assert!(text.contains("42"), "{text}");
    assert!(
        !text.contains(&env.pg.password),
        "no password on the terminal"
    );
}

#[test]
fn psql_in_the_pod_when_there_is_no_local_one() {
    let env = Env::new();
    // The binary sees no psql; the "pod" (the stand-in runs exec on this host) does.
    let Some((code, text)) =
        env.psql_on_a_terminal("/nonexistent", "select 40 + 2 as answer;\n\\q\n")
    else {
        uis_harness::missing_tool("script(1) (util-linux)", "this test");
        return;
    };
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "no local psql; running psql in pod default/{}",
            env.pg_pod
        )),
        "{text}"
    );
    assert!(text.contains("42"), "{text}");
    // The marker that says the pod's echo is off is not shown, and the
    // password sent after it never reaches the terminal.
    assert!(!text.contains("UIS-READY"), "{text}");
}
