//! Cluster credentials as kubectl takes them (issue 20, items 1, 3 and 8),
//! beyond the first examples in `kubeaccess`: exec plugin blocks and
//! outputs of every kind kubectl accepts or refuses, the plugin run once in
//! every binary, bearer tokens from every place, kubeconfig lists, and the
//! refusals (401, 403) saying which credential or permission and what to
//! do. Each case runs the real kubectl on the same kubeconfig.

use super::{GET_SECRET, kubeconfig, kubectl, proxy_vars, suite};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use uis_e2e::{Env, Out, base64_encode, need_tool, output};

/// A plugin script that counts its runs in `NAME.runs`, keeps its
/// `KUBERNETES_EXEC_INFO` in `NAME.info`, and prints `body` on stdout.
fn fake_plugin(env: &Env, name: &str, body: &str) -> (PathBuf, PathBuf, PathBuf) {
    let script = env.path(name);
    let runs = env.path(&format!("{name}.runs"));
    let info = env.path(&format!("{name}.info"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> '{}'\nprintf '%s\\n' \"$KUBERNETES_EXEC_INFO\" > '{}'\ncat <<'UIS_EOF'\n{body}\nUIS_EOF\n",
            runs.display(),
            info.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, runs, info)
}

fn runs(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

fn token_credential(api: &str, token: &str) -> String {
    format!(
        r#"{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/{api}","status":{{"token":"{token}","expirationTimestamp":"2099-01-01T00:00:00Z"}}}}"#
    )
}

/// An exec block with `apiVersion` (None: left out) and `interactiveMode`
/// (None: left out), the plugin given client secrets in args and env.
fn exec_block(command: &Path, api: Option<&str>, mode: Option<&str>, extra: &str) -> String {
    let mut s = String::from("    exec:\n");
    if let Some(api) = api {
        s.push_str(&format!(
            "      apiVersion: client.authentication.k8s.io/{api}\n"
        ));
    }
    s.push_str(&format!(
        "      command: {}\n      args: [\"get-token\", \"--client-secret\", \"PLUGIN-ARG-SECRET\"]\n      env:\n      - name: AZURE_CLIENT_SECRET\n        value: PLUGIN-ENV-SECRET\n",
        command.display()
    ));
    if let Some(mode) = mode {
        s.push_str(&format!("      interactiveMode: {mode}\n"));
    }
    s.push_str(extra);
    s
}

/// `out` failed (exit 1) without any plugin secret, token or the
/// kubeconfig-certificate hint, on stderr or in its JSON error object.
fn failed_cleanly(out: &Out, env: &Env) {
    out.expect_code(1);
    assert_eq!(out.json()["status"], "error", "{}", out.stdout);
    for text in [&out.stderr, &out.stdout] {
        for secret in [
            "PLUGIN-ARG-SECRET",
            "PLUGIN-ENV-SECRET",
            "OUTPUT-SECRET",
            &env.standin.token(),
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        for wrong in [
            "is the cluster running",
            "certificate data",
            "certificate-authority-data",
        ] {
            assert!(
                !text.contains(wrong),
                "{wrong:?} points the wrong way: {text}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Exec plugins.

#[test]
fn exec_blocks_kubectl_refuses_are_refused_in_its_words_before_the_plugin_runs() {
    let env = Env::new();
    let (script, count, _) = fake_plugin(
        &env,
        "plugin",
        &token_credential("v1", &env.standin.token()),
    );
    let cases: [(&str, String, &str); 4] = [
        (
            "no-api",
            exec_block(&script, None, Some("Never"), ""),
            "apiVersion must be specified for standin to use exec authentication plugin",
        ),
        (
            "v1-no-mode",
            exec_block(&script, Some("v1"), None, ""),
            "interactiveMode must be specified for standin to use exec authentication plugin",
        ),
        (
            "unnamed-env",
            exec_block(&script, Some("v1"), Some("Never"), "")
                .replace("- name: AZURE_CLIENT_SECRET", "- name: \"\""),
            "env variable name must be specified for standin to use exec authentication plugin",
        ),
        (
            "v1alpha1",
            exec_block(&script, Some("v1alpha1"), Some("Never"), ""),
            "exec plugin: invalid apiVersion \"client.authentication.k8s.io/v1alpha1\"",
        ),
    ];
    for (name, user, says) in cases {
        let kc = kubeconfig(&env, &format!("kc-{name}"), &user, "");
        let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
        failed_cleanly(&out, &env);
        assert!(out.stderr.contains(says), "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains("users[].user.exec"),
            "{name}: no fix: {}",
            out.stderr
        );
        assert_eq!(runs(&count), 0, "{name}: the plugin ran");
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            assert_ne!(k.code, 0, "{name}: kubectl accepted it");
            assert!(k.stderr.contains(says), "{name}: kubectl: {}", k.stderr);
        }
    }
    // v1beta1 without interactiveMode is IfAvailable, in both.
    let kc = kubeconfig(
        &env,
        "kc-beta-no-mode",
        &exec_block(&script, Some("v1beta1"), None, ""),
        "",
    );
    std::fs::write(
        &script,
        std::fs::read_to_string(&script)
            .unwrap()
            .replace("/v1\"", "/v1beta1\""),
    )
    .unwrap();
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    out.ok();
    assert_eq!(runs(&count), 1);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
    }
    // A token beside the exec block is used first (client-go): the plugin,
    // failing here, never runs.
    let failing = env.path("failing");
    std::fs::write(&failing, "#!/bin/sh\necho ran >> \"$0.runs\"\nexit 1\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
    let both = format!(
        "    token: {}\n{}",
        env.standin.token(),
        exec_block(&failing, Some("v1"), Some("Never"), "")
    );
    let kc = kubeconfig(&env, "kc-token-and-exec", &both, "");
    output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"])).ok();
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
    }
    assert_eq!(runs(&env.path("failing.runs")), 0, "the plugin ran");
    // A command with a slash, relative: to the kubeconfig's directory, as
    // client-go resolves it, whatever the working directory.
    let rel = kubeconfig(
        &env,
        "kc-relative",
        &exec_block(Path::new("./plugin"), Some("v1beta1"), None, ""),
        "",
    );
    std::fs::remove_file(&count).ok();
    let out = output(
        suite(&env, "uis-db-creds", &rel)
            .args(["--admin", "--json"])
            .current_dir("/"),
    );
    out.ok();
    assert_eq!(runs(&count), 1);
    if let Some(path) = need_tool("kubectl") {
        let mut c = Command::new(path);
        for v in proxy_vars() {
            c.env_remove(v);
        }
        let k = output(
            c.arg("--kubeconfig")
                .arg(&rel)
                .args(GET_SECRET)
                .env("HOME", env.path("kubectl-home"))
                .env_remove("KUBECONFIG")
                .stdin(std::process::Stdio::null())
                .current_dir("/"),
        );
        k.ok();
    }
}

#[test]
fn exec_info_is_kubectls_for_each_api_version_interactive_mode_and_terminal() {
    let env = Env::new();
    let token = env.standin.token();
    let script_tool = need_tool("script");
    for api in ["v1", "v1beta1"] {
        for mode in ["Never", "IfAvailable", "Always"] {
            let name = format!("p-{api}-{mode}");
            let (script, count, info) = fake_plugin(&env, &name, &token_credential(api, &token));
            let kc = kubeconfig(
                &env,
                &format!("kc-{api}-{mode}"),
                &exec_block(&script, Some(api), Some(mode), ""),
                "",
            );
            let read = || -> serde_json::Value {
                serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap()
            };
            // stdin not a terminal.
            let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
            if mode == "Always" {
                failed_cleanly(&out, &env);
                let says =
                    "exec plugin cannot support interactive mode: standard input is not a terminal";
                assert!(out.stderr.contains(says), "{}", out.stderr);
                assert_eq!(runs(&count), 0);
                if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
                    assert!(k.stderr.contains(says), "kubectl: {}", k.stderr);
                }
            } else {
                out.ok();
                assert_eq!(runs(&count), 1, "{name}");
                let ours = read();
                assert_eq!(ours["spec"]["interactive"], false, "{name}: {ours}");
                if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
                    k.ok();
                    let theirs = read();
                    assert_eq!(ours["apiVersion"], theirs["apiVersion"], "{name}");
                    assert_eq!(ours["kind"], theirs["kind"], "{name}");
                    assert_eq!(ours["spec"], theirs["spec"], "{name}");
                }
            }
            // On a terminal (util-linux `script` gives one): interactive
            // unless Never, as kubectl says it.
            if script_tool.is_some() {
                let on_tty = |line: String| {
                    let mut c = Command::new("script");
                    c.args(["-qec", &line, "/dev/null"])
                        .env("HOME", env.dir.path())
                        .env_remove("UIS_SERVICE_ACCOUNT_DIR");
                    for v in proxy_vars() {
                        c.env_remove(v);
                    }
                    let o = output(&mut c);
                    assert_eq!(o.code, 0, "{name}: {}{}", o.stdout, o.stderr);
                    read()
                };
                let ours = on_tty(format!(
                    "KUBECONFIG={} {} --admin --json >/dev/null 2>&1",
                    kc.display(),
                    uis_e2e::bin("uis-db-creds").display()
                ));
                assert_eq!(
                    ours["spec"]["interactive"],
                    mode != "Never",
                    "{name}: {ours}"
                );
                if let Some(path) = need_tool("kubectl") {
                    let theirs = on_tty(format!(
                        "{} --kubeconfig {} --cache-dir {} get secret urbalurba-secrets -n default >/dev/null 2>&1",
                        path.display(),
                        kc.display(),
                        env.path("kubectl-cache").display()
                    ));
                    assert_eq!(ours["spec"], theirs["spec"], "{name}");
                }
            }
        }
    }
    // provideClusterInfo: the cluster as kubectl hands it (server, CA data
    // from a file, tls-server-name, the exec extension as `config`).
    let (script, _, info) = fake_plugin(&env, "p-cluster", &token_credential("v1", &token));
    let ca = env.path("ca.crt");
    std::fs::write(&ca, env.standin.ca_pem()).unwrap();
    let kc = kubeconfig(
        &env,
        "kc-cluster-info",
        &exec_block(
            &script,
            Some("v1"),
            Some("Never"),
            "      provideClusterInfo: true\n",
        ),
        "    tls-server-name: 127.0.0.1\n    extensions:\n    - name: client.authentication.k8s.io/exec\n      extension:\n        audience: uis-test\n        nested: {a: 1}\n",
    );
    // The CA as a file, not data.
    let text = std::fs::read_to_string(&kc).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("certificate-authority-data:") {
                format!("    certificate-authority: {}", ca.display())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&kc, text + "\n").unwrap();
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    out.ok();
    let ours: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
    assert_eq!(
        ours["spec"]["cluster"]["config"]["audience"], "uis-test",
        "{ours}"
    );
    assert_eq!(
        ours["spec"]["cluster"]["certificate-authority-data"],
        base64_encode(env.standin.ca_pem().as_bytes())
    );
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
        let theirs: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
        assert_eq!(ours["spec"], theirs["spec"]);
    }
}

#[test]
fn exec_plugin_output_is_judged_as_kubectl_judges_it_and_never_quoted() {
    let env = Env::new();
    let v1 = "\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\"";
    // What the plugin printed, and the words of our error.
    let bad = [
        ("not-json", "OUTPUT-SECRET is not JSON".to_string(), "not an ExecCredential JSON object"),
        ("empty", String::new(), "not an ExecCredential JSON object"),
        ("truncated", format!("{{{v1},\"status\":{{\"token\":\"OUTPUT-SECRET\""), "not an ExecCredential JSON object"),
        ("no-status", format!("{{{v1}}}"), "has no status"),
        ("empty-status", format!("{{{v1},\"status\":{{}}}}"), "neither a token"),
        ("wrong-kind", "{\"kind\":\"Other\",\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{\"token\":\"OUTPUT-SECRET\"}}".to_string(), "not of kind ExecCredential"),
        ("other-version", "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"status\":{\"token\":\"OUTPUT-SECRET\"}}".to_string(), "answered apiVersion"),
        ("bad-time", format!("{{{v1},\"status\":{{\"token\":\"OUTPUT-SECRET\",\"expirationTimestamp\":\"OUTPUT-SECRET-TIME\"}}}}"), "expirationTimestamp is not an RFC 3339 time"),
        ("key-only", format!("{{{v1},\"status\":{{\"clientKeyData\":\"OUTPUT-SECRET\"}}}}"), "only one of clientCertificateData and clientKeyData"),
        ("not-pem", format!("{{{v1},\"status\":{{\"clientCertificateData\":\"garbage\",\"clientKeyData\":\"OUTPUT-SECRET\"}}}}"), "clientCertificateData is not a PEM CERTIFICATE"),
    ];
    for (name, body, says) in bad {
        let (script, count, _) = fake_plugin(&env, name, &body);
        let kc = kubeconfig(
            &env,
            &format!("kc-{name}"),
            &exec_block(&script, Some("v1"), Some("Never"), ""),
            "",
        );
        let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
        failed_cleanly(&out, &env);
        assert!(out.stderr.contains(says), "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains(&script.display().to_string()),
            "{name}: the plugin is not named: {}",
            out.stderr
        );
        assert_eq!(runs(&count), 1, "{name}");
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            assert_ne!(k.code, 0, "{name}: kubectl accepted it: {}", k.stdout);
            assert!(
                k.stderr.contains("getting credentials"),
                "{name}: kubectl: {}",
                k.stderr
            );
        }
    }
    // A plugin that cannot start (not executable) or is killed: named,
    // nothing of its arguments or environment.
    let (script, _, _) = fake_plugin(&env, "not-executable", "{}");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let kc = kubeconfig(
        &env,
        "kc-not-executable",
        &exec_block(&script, Some("v1"), Some("Never"), ""),
        "",
    );
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    failed_cleanly(&out, &env);
    let says = format!("exec: executable {} could not be started", script.display());
    assert!(out.stderr.contains(&says), "{}", out.stderr);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert!(
            k.stderr.contains("permission denied"),
            "kubectl: {}",
            k.stderr
        );
    }
    let killed = env.path("killed-plugin");
    std::fs::write(
        &killed,
        "#!/bin/sh
kill -9 $$
",
    )
    .unwrap();
    std::fs::set_permissions(&killed, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kc = kubeconfig(
        &env,
        "kc-killed",
        &exec_block(&killed, Some("v1"), Some("Never"), ""),
        "",
    );
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    failed_cleanly(&out, &env);
    let says = format!(
        "exec: executable {} was killed by signal 9",
        killed.display()
    );
    assert!(out.stderr.contains(&says), "{}", out.stderr);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert!(
            k.stderr
                .contains(&format!("exec: executable {} failed", killed.display())),
            "kubectl: {}",
            k.stderr
        );
    }
    // A client certificate instead of a token, as kubectl takes it, also
    // for the port-forward.
    let kc_text = env.standin.kubeconfig();
    let field = |key: &str| -> String {
        use base64::Engine as _;
        let b64 = kc_text
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("{key} in the stand-in's kubeconfig"));
        let pem = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .unwrap();
        serde_json::to_string(&String::from_utf8(pem).unwrap()).unwrap()
    };
    let body = format!(
        "{{{v1},\"status\":{{\"clientCertificateData\":{},\"clientKeyData\":{},\"expirationTimestamp\":\"2099-01-01T00:00:00Z\"}}}}",
        field("client-certificate-data"),
        field("client-key-data")
    );
    let (script, count, _) = fake_plugin(&env, "cert-plugin", &body);
    let kc = kubeconfig(
        &env,
        "kc-cert-plugin",
        &exec_block(&script, Some("v1"), Some("Never"), ""),
        "",
    );
    let out =
        output(suite(&env, "uis-db-psql", &kc).args(["--as", "admin", "-c", "select 7 as seven"]));
    out.ok();
    assert!(out.stdout.contains('7'), "{}", out.stdout);
    assert_eq!(runs(&count), 1);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        k.ok();
    }
}

#[test]
fn an_exec_plugin_runs_once_per_command_in_every_binary() {
    let env = Env::new();
    let (script, count, _) = fake_plugin(
        &env,
        "plugin",
        &token_credential("v1", &env.standin.token()),
    );
    let kc = kubeconfig(
        &env,
        "kc",
        &exec_block(&script, Some("v1"), Some("IfAvailable"), ""),
        "",
    );
    // A device-code prompt on stderr, then a wait: each binary must show
    // it while the plugin still runs.
    let text = std::fs::read_to_string(&script).unwrap().replace(
        "cat <<'UIS_EOF'",
        "echo 'To sign in, open https://login.example/device and enter the code UIS-PROMPT' >&2\nsleep 1.2\ncat <<'UIS_EOF'",
    );
    std::fs::write(&script, text).unwrap();
    let seeds = env.path("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(seeds.join("01-t.sql"), "create table once_t (a int);\n").unwrap();
    let seeds = seeds.display().to_string();
    let steps: [(&str, Vec<&str>); 9] = [
        (
            "uis-db-configure",
            vec!["once", "--schemas", "once", "--json"],
        ),
        (
            "uis-db-configure",
            vec!["once", "--schemas", "once", "--json"],
        ),
        ("uis-db-creds", vec!["once", "--json"]),
        ("uis-db-psql", vec!["once", "-c", "select 1"]),
        ("uis-db-seed", vec!["once", &seeds]),
        (
            "uis-postgrest-deploy",
            vec!["once", "--schemas", "once", "--grants", "none", "--json"],
        ),
        ("uis-jwt-mint", vec!["once", "--role", "once_web_anon"]),
        ("uis-db-doctor", vec!["once", "--json"]),
        ("uis", vec!["db", "creds", "--admin", "--json"]),
    ];
    for (bin, args) in steps {
        std::fs::remove_file(&count).ok();
        let start = std::time::Instant::now();
        let mut child = suite(&env, bin, &kc)
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        let stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
                lines.push((start.elapsed(), line.unwrap_or_default()));
            }
            lines
        });
        let status = child.wait().expect("wait");
        let ended = start.elapsed();
        let lines = reader.join().unwrap();
        let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            status.code(),
            Some(0),
            "{bin} {args:?}: {}",
            text.join("\n")
        );
        let (at, _) = lines
            .iter()
            .find(|(_, l)| l.contains("UIS-PROMPT"))
            .unwrap_or_else(|| panic!("{bin}: no prompt on stderr: {text:?}"));
        assert!(
            *at < Duration::from_secs(1) && ended - *at >= Duration::from_millis(1100),
            "{bin}: the prompt came at {at:?}, the command ended at {ended:?}: not streamed"
        );
        assert_eq!(
            runs(&count),
            1,
            "{bin} {args:?} ran the plugin {} times",
            runs(&count)
        );
    }
    // The tunnel: one run for three connections.
    std::fs::remove_file(&count).ok();
    let mut child = suite(&env, "uis-db-tunnel", &kc)
        .arg("once")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = serde_json::from_str::<serde_json::Value>(&line).expect("JSON")["database_url"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        let o = env.psql(&[&url, "-Atc", "select 1"]);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        runs(&count),
        1,
        "the tunnel ran the plugin {} times",
        runs(&count)
    );
    if let Some(k) = kubectl(
        &env,
        &kc,
        &["get", "secret", "uis-db-once", "-n", "default"],
        &[],
    ) {
        k.ok();
    }
}

// ---------------------------------------------------------------------------
// Bearer tokens and refusals.

#[test]
fn token_files_of_every_shape_as_kubectl_reads_them() {
    let env = Env::new();
    let token = env.standin.token();
    let works = [
        ("none", token.clone()),
        ("lf", format!("{token}\n")),
        ("crlf", format!("{token}\r\n")),
        ("spaces", format!("  {token} \t\n\n")),
    ];
    for (name, body) in works {
        let file = env.path(&format!("token-{name}"));
        std::fs::write(&file, body).unwrap();
        let kc = kubeconfig(
            &env,
            &format!("kc-{name}"),
            &format!("    tokenFile: {}\n", file.display()),
            "",
        );
        let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
        out.ok();
        assert!(!out.stderr.contains(&token));
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            k.ok();
        }
    }
    // Empty, only a line break, missing, two lines: a failure naming the
    // file and the user (kubectl fails too, in its own ways), never a panic.
    for (name, body) in [
        ("empty", Some("")),
        ("blank", Some("\r\n")),
        ("missing", None),
        ("two-lines", Some("first-line\nsecond-line\n")),
    ] {
        let file = env.path(&format!("token-{name}"));
        if let Some(b) = body {
            std::fs::write(&file, b).unwrap();
        }
        let kc = kubeconfig(
            &env,
            &format!("kc-{name}"),
            &format!("    tokenFile: {}\n", file.display()),
            "",
        );
        let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
        failed_cleanly(&out, &env);
        assert!(
            out.stderr.contains(&file.display().to_string()),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("tokenFile of") && out.stderr.contains("user \"standin\""),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            assert_ne!(k.code, 0, "{name}: kubectl: {}", k.stdout);
        }
    }
    // An inline token written as a YAML block keeps its line break: no
    // header carries it; kubectl fails the same way.
    let kc = kubeconfig(
        &env,
        "kc-block",
        &format!("    token: |\n      {token}\n"),
        "",
    );
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    failed_cleanly(&out, &env);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the token of kubeconfig user \"standin\" holds a line break"),
        "{}",
        out.stderr
    );
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert!(
            k.stderr
                .contains("invalid header field value for \"Authorization\""),
            "kubectl: {}",
            k.stderr
        );
    }
}

#[test]
fn a_refused_credential_names_which_one_and_how_to_renew_it() {
    let env = Env::new();
    let bad = env.path("bad-token");
    std::fs::write(&bad, "not-the-token\n").unwrap();
    let (script, _, _) = fake_plugin(
        &env,
        "plugin",
        &token_credential("v1", "PLUGIN-WRONG-TOKEN"),
    );
    let cases = [
        (
            "token",
            "    token: not-the-token\n".to_string(),
            "the token of kubeconfig user \"standin\"".to_string(),
        ),
        (
            "file",
            format!("    tokenFile: {}\n", bad.display()),
            format!(
                "the token in {} (tokenFile of kubeconfig user \"standin\")",
                bad.display()
            ),
        ),
        (
            "plugin",
            exec_block(&script, Some("v1"), Some("Never"), ""),
            format!(
                "the credential that {} (the exec plugin of kubeconfig user \"standin\")",
                script.display()
            ),
        ),
    ];
    for (name, user, says) in cases {
        let kc = kubeconfig(&env, &format!("kc-{name}"), &user, "");
        let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
        failed_cleanly(&out, &env);
        for want in [
            "Unauthorized (HTTP 401)",
            "refused the credentials of context \"standin\"",
            &says,
        ] {
            assert!(
                out.stderr.contains(want),
                "{name}: {want:?} not in {}",
                out.stderr
            );
        }
        for secret in ["not-the-token", "PLUGIN-WRONG-TOKEN"] {
            assert!(
                !out.stderr.contains(secret) && !out.stdout.contains(secret),
                "{name}"
            );
        }
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            assert!(
                k.stderr.contains("You must be logged in to the server"),
                "{name}: kubectl: {}",
                k.stderr
            );
        }
    }
    // In a pod: the service account's token, and restarting the pod.
    let sa = env.path("serviceaccount");
    std::fs::create_dir_all(&sa).unwrap();
    std::fs::write(sa.join("token"), "not-the-token\n").unwrap();
    std::fs::write(sa.join("ca.crt"), env.standin.ca_pem()).unwrap();
    std::fs::write(sa.join("namespace"), "apps").unwrap();
    let mut c = env.cmd("uis-db-creds");
    for v in proxy_vars() {
        c.env_remove(v);
    }
    let out = output(
        c.args(["--admin", "--json"])
            .env("KUBECONFIG", env.path("no-such-file"))
            .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
            .env("KUBERNETES_SERVICE_PORT", env.standin.port().to_string())
            .env("UIS_SERVICE_ACCOUNT_DIR", &sa),
    );
    failed_cleanly(&out, &env);
    for want in [
        "service-account token",
        "restart the pod",
        "kubectl get serviceaccounts -n apps",
    ] {
        assert!(out.stderr.contains(want), "{want:?} not in {}", out.stderr);
    }
    for wrong in ["Rancher Desktop", "kubeconfig user"] {
        assert!(!out.stderr.contains(wrong), "{wrong:?} in {}", out.stderr);
    }
    // The same token in a kubeconfig, for kubectl.
    let kc = kubeconfig(
        &env,
        "kc-sa",
        &format!("    tokenFile: {}\n", sa.join("token").display()),
        "",
    );
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert!(
            k.stderr.contains("You must be logged in to the server"),
            "kubectl: {}",
            k.stderr
        );
    }
}

#[test]
fn a_forbidden_request_names_the_object_the_permission_and_the_check() {
    let env = Env::new();
    env.run("uis-db-configure", &["denied", "--json"]).ok();
    let kc = kubeconfig(
        &env,
        "kc",
        &format!("    token: {}\n", env.standin.token()),
        "",
    );
    let faults = env.standin.faults();
    // The database pod: postgresql-0, or the proxied topology's proxy pod.
    let forward_path = format!("/api/v1/namespaces/default/pods/{}/portforward", env.pg_pod);
    let forward_object = format!("port-forward to pod default/{}", env.pg_pod);
    // (method, path, binary args, the object, the check)
    let cases: [(&str, &str, Vec<&str>, &str, &str); 3] = [
        (
            "GET",
            "/api/v1/namespaces/default/secrets/uis-db-denied",
            vec!["denied", "--json"],
            "Secret default/uis-db-denied",
            "kubectl auth can-i get secrets -n default",
        ),
        (
            "GET",
            "/api/v1/namespaces/default/pods",
            vec!["--admin", "--json"],
            "pods of namespace default",
            "kubectl auth can-i list pods -n default",
        ),
        (
            "GET",
            &forward_path,
            vec![],
            &forward_object,
            "kubectl auth can-i get pods/portforward -n default",
        ),
    ];
    for (method, path, args, object, check) in cases {
        faults.clear();
        faults.set_fail(Some(method), path, 403);
        let out = if args.is_empty() {
            output(suite(&env, "uis-db-psql", &kc).args(["denied", "-c", "select 1"]))
        } else {
            output(suite(&env, "uis-db-creds", &kc).args(&args))
        };
        assert_ne!(out.code, 0, "{path}");
        for want in [
            object,
            "(HTTP 403)",
            check,
            "the account of context \"standin\"",
        ] {
            assert!(
                out.stderr.contains(want),
                "{path}: {want:?} not in {}",
                out.stderr
            );
        }
        for wrong in [
            "is the cluster running",
            "database pod is running",
            "Status {",
        ] {
            assert!(
                !out.stderr.contains(wrong),
                "{path}: {wrong:?} in {}",
                out.stderr
            );
        }
        if !path.ends_with("portforward") {
            let resource = if path.contains("secrets") {
                vec!["get", "secret", "uis-db-denied", "-n", "default"]
            } else {
                vec!["get", "pods", "-n", "default"]
            };
            if let Some(k) = kubectl(&env, &kc, &resource, &[]) {
                assert!(
                    k.stderr.contains("Error from server (Forbidden)"),
                    "kubectl: {}",
                    k.stderr
                );
                assert!(k.stderr.contains("cannot"), "kubectl: {}", k.stderr);
            }
        }
    }
    // The tunnel reports the refused forward at once with the same check.
    faults.clear();
    faults.set_fail(Some("GET"), &forward_path, 403);
    let log = env.path("tunnel-403.log");
    let mut child = suite(&env, "uis-db-tunnel", &kc)
        .arg("denied")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = serde_json::from_str::<serde_json::Value>(&line).expect("JSON")["database_url"]
        .as_str()
        .unwrap()
        .to_string();
    let o = env.psql(&[&url, "-Atc", "select 1"]);
    assert_ne!(o.code, 0);
    let check = "kubectl auth can-i get pods/portforward -n default";
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains(check) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.contains(check), "{text}");
    assert!(!text.contains("if the pod is restarting"), "{text}");
    // A credential refused on the port-forward alone is a credential
    // problem, not the pod's.
    faults.clear();
    faults.set_fail(None, &forward_path, 401);
    let out = output(suite(&env, "uis-db-psql", &kc).args(["denied", "-c", "select 1"]));
    assert_ne!(out.code, 0);
    for want in [
        forward_object.as_str(),
        "(HTTP 401)",
        "refused the credentials",
        "the token of kubeconfig user \"standin\"",
    ] {
        assert!(out.stderr.contains(want), "{want:?} not in {}", out.stderr);
    }
    assert!(
        !out.stderr.contains("database pod is running"),
        "{}",
        out.stderr
    );
    faults.clear();
}

// ---------------------------------------------------------------------------
// Kubeconfig lists.

#[test]
fn kubeconfig_lists_merge_as_kubectl_merges_them() {
    let env = Env::new();
    let one = env.path("one");
    let two = env.path("two");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    let ca = one.join("ca.crt");
    std::fs::write(&ca, env.standin.ca_pem()).unwrap();
    std::fs::write(two.join("token"), format!("{}\r\n", env.standin.token())).unwrap();
    // The first file: a cluster (CA relative to it), two contexts, the
    // current one; a user with a wrong token.
    std::fs::write(
        one.join("config"),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: {}\n    certificate-authority: ca.crt\ncontexts:\n- name: good\n  context: {{cluster: c1, user: u1, namespace: default}}\n- name: bad\n  context: {{cluster: c1, user: ubad}}\ncurrent-context: good\nusers:\n- name: ubad\n  user:\n    token: wrong-token\n",
            env.standin.url()
        ),
    )
    .unwrap();
    // The second: the user u1 (tokenFile relative to it), the same names
    // again (the first file's win) and another current-context.
    std::fs::write(
        two.join("config"),
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: good\n  context: {{cluster: nowhere, user: ubad}}\ncurrent-context: bad\nusers:\n- name: u1\n  user:\n    tokenFile: token\n- name: ubad\n  user:\n    token: {}\n",
            env.standin.token()
        ),
    )
    .unwrap();
    let (a, b) = (one.join("config"), two.join("config"));
    let missing = env.path("missing");
    let lists = [
        (format!("{}:{}", a.display(), b.display()), true),
        (
            format!("{}:{}:{}", missing.display(), a.display(), b.display()),
            true,
        ),
        (format!("::{}::{}:", a.display(), b.display()), true),
        // Reversed: the second file's current-context (bad) and its c1.
        (format!("{}:{}", b.display(), a.display()), false),
    ];
    for (list, ok) in lists {
        let mut ours = env.cmd("uis-db-creds");
        ours.args(["--admin", "--json"])
            .env("KUBECONFIG", &list)
            .current_dir("/");
        let mut theirs = need_tool("kubectl").map(Command::new);
        for c in std::iter::once(&mut ours).chain(theirs.as_mut()) {
            for v in proxy_vars() {
                c.env_remove(v);
            }
        }
        let out = output(&mut ours);
        assert_eq!(out.code == 0, ok, "{list}: {}", out.stderr);
        if let Some(mut c) = theirs {
            let k = output(
                c.args(GET_SECRET)
                    .env("KUBECONFIG", &list)
                    .env("HOME", env.path("kubectl-home"))
                    .stdin(std::process::Stdio::null())
                    .current_dir("/"),
            );
            assert_eq!(k.code == 0, ok, "{list}: kubectl: {}", k.stderr);
        }
    }
}

#[test]
fn a_server_certificate_the_kubeconfig_does_not_trust_is_not_a_cluster_that_is_down() {
    let env = Env::new();
    // Another stand-in's CA: the cluster was re-created, the kubeconfig
    // kept the old one.
    let other = kube_standin::StandIn::start(Default::default()).expect("a second stand-in");
    let kc = kubeconfig(
        &env,
        "kc",
        &format!("    token: {}\n", env.standin.token()),
        "",
    );
    let text = std::fs::read_to_string(&kc).unwrap().replace(
        &base64_encode(env.standin.ca_pem().as_bytes()),
        &base64_encode(other.ca_pem().as_bytes()),
    );
    std::fs::write(&kc, text).unwrap();
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    out.expect_code(1);
    assert_eq!(out.json()["status"], "error", "{}", out.stdout);
    assert!(
        !out.stderr.contains("is the cluster running"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(&env.standin.token()));
    for want in [
        "invalid peer certificate",
        "the API server's certificate is not what context \"standin\"",
        "certificate-authority-data",
    ] {
        assert!(out.stderr.contains(want), "{want:?} not in {}", out.stderr);
    }
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert!(
            k.stderr.contains("certificate signed by unknown authority"),
            "kubectl: {}",
            k.stderr
        );
    }
    // The other way round: a client certificate of another cluster ends
    // the handshake (as Go's VerifyClientCertIfGiven does): the
    // certificate is refused, the cluster is up.
    let other_kc = other.kubeconfig();
    let user: String = other_kc
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("client-certificate-data:") || l.starts_with("client-key-data:")
        })
        .map(|l| format!("    {}\n", l.trim_start()))
        .collect();
    assert!(user.contains("client-key-data"), "{other_kc}");
    let kc = kubeconfig(&env, "kc-other-cert", &user, "");
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    out.expect_code(1);
    assert_eq!(out.json()["status"], "error", "{}", out.stdout);
    for want in [
        "refused the TLS handshake",
        "the client certificate of kubeconfig user \"standin\" is expired or not signed by this cluster's CA",
    ] {
        assert!(out.stderr.contains(want), "{want:?} not in {}", out.stderr);
    }
    assert!(
        !out.stderr.contains("is the cluster running"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("PRIVATE KEY"), "{}", out.stderr);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert_ne!(k.code, 0);
        assert!(k.stderr.contains("tls:"), "kubectl: {}", k.stderr);
    }
}

/// An unsigned JWT whose `exp` is `exp` (seconds since the epoch).
fn jwt(exp: u64) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2ln",
        b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64.encode(format!(
            r#"{{"iss":"https://idp.example","sub":"dev","exp":{exp}}}"#
        ))
    )
}

#[test]
fn auth_providers_are_taken_or_refused_as_kubectl_does() {
    let env = Env::new();
    let provider = |name: &str, id_token: &str| {
        format!(
            "    auth-provider:\n      name: {name}\n      config:\n        client-id: uis\n        client-secret: PROVIDER-SECRET\n        idp-issuer-url: https://127.0.0.1:1/\n        id-token: {id_token}\n"
        )
    };
    // Gone from client-go, or never there: kubectl's words, and the
    // plugin that replaced it.
    for (name, says, fix) in [
        (
            "azure",
            "The azure auth plugin has been removed.",
            "kubelogin convert-kubeconfig",
        ),
        (
            "gcp",
            "The gcp auth plugin has been removed.",
            "gke-gcloud-auth-plugin",
        ),
        (
            "keystone",
            "no Auth Provider found for name \"keystone\"",
            "exec credential plugin",
        ),
    ] {
        let kc = kubeconfig(&env, &format!("kc-{name}"), &provider(name, "x"), "");
        let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
        out.expect_code(1);
        assert!(
            out.stderr.contains(says) && out.stderr.contains(fix),
            "{name}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("PROVIDER-SECRET") && !out.stdout.contains("PROVIDER-SECRET"));
        if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
            assert!(k.stderr.contains(says), "{name}: kubectl: {}", k.stderr);
        }
    }
    // With an exec block too: refused, as kubectl refuses it.
    let both = format!(
        "{}    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: kubelogin\n      interactiveMode: Never\n",
        provider("oidc", "x")
    );
    let kc = kubeconfig(&env, "kc-both", &both, "");
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    out.expect_code(1);
    let says = "authProvider cannot be provided in combination with an exec plugin for standin";
    assert!(out.stderr.contains(says), "{}", out.stderr);
    if let Some(k) = kubectl(&env, &kc, &GET_SECRET, &[]) {
        assert!(k.stderr.contains(says), "kubectl: {}", k.stderr);
    }
    // oidc: its id-token is the bearer token while it is valid (a cluster
    // whose API server takes that JWT); not a JWT, or expired: what to do.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let valid = jwt(now + 3600);
    let oidc_cluster = kube_standin::StandIn::start(kube_standin::StandInOptions {
        token: Some(valid.clone()),
        ..Default::default()
    })
    .expect("a stand-in taking the id-token");
    let oidc_kc = |name: &str, id_token: &str| {
        let path = env.path(name);
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: idp\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: dev\n  user:\n{}contexts:\n- name: idp\n  context:\n    cluster: idp\n    user: dev\ncurrent-context: idp\n",
            oidc_cluster.url(),
            base64_encode(oidc_cluster.ca_pem().as_bytes()),
            provider("oidc", id_token)
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let kc = oidc_kc("kc-oidc", &valid);
    let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
    // Past the API server's authentication: an empty cluster has no
    // PostgreSQL, and that is what it says.
    out.expect_code(1);
    assert!(!out.stderr.contains("401"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Secret default/urbalurba-secrets"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(&valid), "{}", out.stderr);
    if let Some(k) = kubectl(&env, &kc, &["get", "ns"], &[]) {
        k.ok();
    }
    for (name, id_token, says) in [
        (
            "not-jwt",
            "OIDC-NOT-A-JWT".to_string(),
            "is not a valid JWT",
        ),
        ("expired", jwt(now - 60), "has expired"),
    ] {
        let kc = oidc_kc(&format!("kc-oidc-{name}"), &id_token);
        let out = output(suite(&env, "uis-db-creds", &kc).args(["--admin", "--json"]));
        out.expect_code(1);
        assert!(out.stderr.contains(says), "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains("run `kubectl get ns` once"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains(&id_token) && !out.stdout.contains(&id_token));
        if let Some(k) = kubectl(&env, &kc, &["get", "ns"], &[]) {
            assert_ne!(k.code, 0, "{name}: kubectl: {}", k.stdout);
        }
    }
}
