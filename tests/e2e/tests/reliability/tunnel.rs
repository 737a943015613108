//! Faults of the tunnel and of PostgreSQL: the port-forward cut after N
//! bytes during seed, configure, deploy and a one-transaction psql, slow and
//! stalled frames, a closed pod port, a pod not running or gone, PostgreSQL
//! restarted during a run, and down. Each test has a PostgreSQL of its own
//! ([`Env::new`]), which it may restart or stop.

use super::*;

const TABLE: Table<Cx> = Table {
    name: "tunnel",
    prepare,
    dry: Cx::dry,
    rows,
};

/// `02-big.sql`: 20,000 rows through COPY.
fn big() -> String {
    let mut big = String::from("copy shop.items (id, name) from stdin;\n");
    for i in 0..20_000 {
        big.push_str(&format!("{i}\tname-{i}-xxxxxxxxxxxxxxxxxxxxxxxx\n"));
    }
    big.push_str("\\.\n");
    big
}

fn prepare(env: &Env) -> Cx {
    env.run("uis-db-configure", &["shop"]).ok();
    let dir = env.path("db");
    write(
        &dir.join("01-table.sql"),
        "create schema shop; create table shop.items(id int primary key, name text);\n",
    );
    write(&dir.join("02-big.sql"), big());
    write(
        &dir.join("03-after.sql"),
        "insert into shop.items values (-1, 'after');\n",
    );
    Cx::of(env)
}

/// The three seed files applied: `shop.items` holds 20,001 rows.
fn seeded(env: &Env) {
    let d = env.path("db").to_string_lossy().into_owned();
    env.run("uis-db-seed", &["shop", &d]).ok();
    assert_eq!(
        count(env, "shop_db", "select count(*) from shop.items"),
        20_001
    );
}

fn rows(cx: &Cx) -> Vec<Row> {
    let mut rows = Vec::new();
    let d = cx.p("db");
    for n in [3_000u64, 300_000, 600_000] {
        let case = Case::fault(
            format!("tunnel dropped after {n} bytes"),
            "uis-db-seed",
            &["shop", &d],
        )
        .code(2)
        .says(&["connection", "again"])
        .after(
            "files before the cut applied and in the ledger, the cut file rolled back (checked)",
        );
        let again = d.clone();
        rows.push(
            Row::check(case)
                .before(move |env| env.standin.faults().set_drop_tunnel_after(Some(n)))
                .then(move |env, _| {
                    let applied = ledger(env);
                    let items = count(env, "shop_db", "select count(*) from shop.items");
                    let expected = if applied.contains(&"02-big.sql".to_string()) {
                        20_000
                    } else if applied.is_empty() {
                        -1
                    } else {
                        0
                    };
                    assert_eq!(items, expected, "after a cut at {n}: ledger {applied:?}");
                    env.run("uis-db-seed", &["shop", &again]).ok();
                    assert_eq!(
                        count(env, "shop_db", "select count(*) from shop.items"),
                        20_001
                    );
                }),
        );
    }

    // configure and deploy of new apps, cut at several points: a re-run
    // converges to one run's state.
    for n in [1_000u64, 3_000, 4_500, 5_500] {
        let app = format!("cut{n}");
        let case = Case::fault(
            format!("tunnel dropped after {n} bytes"),
            "uis-db-configure",
            &[&app, "--with-roles", "postgrest"],
        )
        .code(2)
        .says(&["connection", "again"])
        .after("a prefix of the plan is done: the passwords are stored before any role is made (checked); a re-run completes, then plans no change (checked)");
        rows.push(
            Row::check(case)
                .before(move |env| env.standin.faults().set_drop_tunnel_after(Some(n)))
                .then(move |env, _| {
                    let roles = count(
                        env,
                        "postgres",
                        &format!("select count(*) from pg_roles where rolname like '{app}%'"),
                    );
                    let db = count(
                        env,
                        "postgres",
                        &format!("select count(*) from pg_database where datname = '{app}_db'"),
                    );
                    let stored = env
                        .standin
                        .get("v1", "Secret", Some("default"), &format!("uis-db-{app}"))
                        .is_some();
                    assert!(
                        roles == 0 || stored,
                        "roles made before their passwords were stored"
                    );
                    assert_eq!(db, 0, "the database comes after the roles");
                    if n == PARTIAL_CUT {
                        assert!(stored || roles > 0, "no cut landed after the first write");
                    }
                    env.run("uis-db-configure", &[&app, "--with-roles", "postgrest"])
                        .ok();
                    converged(env, &app);
                }),
        );
    }
    for n in [2_000u64, 4_000] {
        let case = Case::fault(
            format!("tunnel dropped after {n} bytes"),
            "uis-postgrest-deploy",
            &["web"],
        )
        .code(2)
        .says(&["connection", "again"])
        .after("the database steps before the cut are done, nothing in the cluster yet (checked); a re-run completes and a third changes nothing (checked)");
        rows.push(
            Row::check(case)
                .before(move |env| {
                    env.run("uis-db-configure", &["web", "--with-roles", "postgrest"])
                        .ok();
                    env.standin.faults().set_drop_tunnel_after(Some(n));
                })
                .then(|env, _| {
                    assert!(
                        env.standin
                            .get("apps/v1", "Deployment", Some("postgrest"), "web-postgrest")
                            .is_none()
                            && env
                                .standin
                                .get("v1", "Secret", Some("postgrest"), "web-postgrest")
                                .is_none(),
                        "the cluster objects come after the database side"
                    );
                    let out = env.run("uis-postgrest-deploy", &["web", "--json"]);
                    out.ok();
                    let again = env.run("uis-postgrest-deploy", &["web", "--json"]);
                    assert_eq!(again.json()["changes"], json!([]), "{}", again.stdout);
                }),
        );
    }

    // One transaction cut in the middle commits nothing.
    let big_path = cx.tmp.join("big2.sql");
    let big_file = big_path.to_string_lossy().into_owned();
    let before = Rc::new(Cell::new(0i64));
    let seen = before.clone();
    rows.push(
        Row::check(
            Case::fault(
                "tunnel dropped after 200000 bytes of `-1 -f`",
                "uis-db-psql",
                &["shop", "-1", "-f", &big_file],
            )
            .code(2)
            .says(&["connection"])
            .after("nothing committed: row count as before (checked)"),
        )
        .before(move |env| {
            seeded(env);
            write(
                &big_path,
                big().replace(
                    "copy shop.items",
                    "delete from shop.items where id >= 0;\ncopy shop.items",
                ),
            );
            env.standin.faults().set_drop_tunnel_after(Some(200_000));
            seen.set(count(env, "shop_db", "select count(*) from shop.items"));
        })
        .then(move |env, _| {
            assert_eq!(
                count(env, "shop_db", "select count(*) from shop.items"),
                before.get()
            );
        }),
    );
    // A slow network works, only slower.
    rows.push(
        Row::check(
            Case::fault(
                "20 ms per tunnel frame",
                "uis-db-psql",
                &[
                    "shop",
                    "--format",
                    "csv",
                    "-c",
                    "select count(*) from shop.items",
                ],
            )
            .code(0)
            .says(&["20001"]),
        )
        .before(|env| {
            seeded(env);
            env.standin
                .faults()
                .set_frame_latency(Duration::from_millis(20));
        }),
    );
    // A stalled tunnel: the login is bounded.
    rows.push(
        Row::check(
            Case::fault(
                "30 s per tunnel frame, PGCONNECT_TIMEOUT=2",
                "uis-db-psql",
                &["shop", "-c", "select 1"],
            )
            .env("PGCONNECT_TIMEOUT", "2")
            .code(2)
            .says(&["did not complete the login", "within 2 s", "hint:"])
            .within(Duration::from_secs(10)),
        )
        .before(|env| {
            env.standin
                .faults()
                .set_frame_latency(Duration::from_secs(30))
        }),
    );
    // The pod's port refuses connections.
    rows.push(
        Row::check(
            Case::fault(
                "nothing listens on the pod's port",
                "uis-db-psql",
                &["shop", "-c", "select 1"],
            )
            .code(2)
            .says(&["port-forward", "hint:"]),
        )
        .before(|env| {
            let closed = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            env.standin
                .set_pod_forward("default", &env.pg_pod, 5432, closed);
        }),
    );
    // The pod is not Running.
    rows.push(
        Row::check(
            Case::fault(
                "the PostgreSQL pod is Pending",
                "uis-db-psql",
                &["shop", "-c", "select 1"],
            )
            .says(&["is not ready (phase Pending)", "hint:"]),
        )
        .before(|env| match env.topology {
            uis_e2e::Topology::InCluster => {
                let pod = env
                    .standin
                    .get("v1", "Pod", Some("default"), &env.pg_pod)
                    .unwrap();
                let mut pending = pod.clone();
                pending["status"]["phase"] = json!("Pending");
                pending["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
                env.standin.put(pending);
            }
            // The proxy's pod belongs to a Deployment, whose controller
            // would heal a status written by hand: its template is made to
            // need a Secret that does not exist, so the new pod waits
            // (CreateContainerConfigError, phase Pending) as a kubelet
            // makes it wait.
            uis_e2e::Topology::Proxied => {
                let mut d = env
                    .standin
                    .get("apps/v1", "Deployment", Some("default"), "postgresql")
                    .unwrap();
                d["spec"]["template"]["spec"]["containers"][1]["envFrom"] =
                    json!([{"secretRef": {"name": "no-such-secret"}}]);
                env.standin.put(d);
            }
        })
        .then(|env, out| {
            // The message names the pod that is not ready.
            let pods: Vec<_> = env
                .standin
                .list("v1", "Pod", Some("default"))
                .into_iter()
                .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "postgresql")
                .collect();
            let [pod] = pods.as_slice() else {
                panic!("one database pod: {pods:?}")
            };
            let name = pod["metadata"]["name"].as_str().unwrap();
            assert!(
                out.stderr
                    .contains(&format!("pod default/{name} is not ready (phase Pending)")),
                "{}",
                out.stderr
            );
        }),
    );
    rows.push(
        Row::check(
            Case::fault("no PostgreSQL pod", "uis-db-seed", &["shop", &d])
                .says(&["app.kubernetes.io/name=postgresql", "hint:"]),
        )
        .before(|env| match env.topology {
            uis_e2e::Topology::InCluster => {
                env.standin
                    .delete("v1", "Pod", Some("default"), &env.pg_pod);
            }
            // A Deployment's controller replaces a deleted pod: scaled to
            // zero, the proxy has none.
            uis_e2e::Topology::Proxied => {
                let mut d = env
                    .standin
                    .get("apps/v1", "Deployment", Some("default"), "postgresql")
                    .unwrap();
                d["spec"]["replicas"] = json!(0);
                env.standin.put(d);
            }
        }),
    );

    // PostgreSQL restarts in the middle of a run.
    let again = d.clone();
    rows.push(Row::custom(
        Case::fault("PostgreSQL restarted during a seed file", "uis-db-seed", &["shop", &d])
            .code(2)
            .says(&["04-slow.sql", "again"])
            .after("earlier files kept, the running file rolled back and not in the ledger (checked); a re-run applies it (checked)"),
        move |env, case| {
            seeded(env);
            let dir = env.path("db");
            write(
                &dir.join("04-slow.sql"),
                "select pg_sleep(3);\ninsert into shop.items values (-2, 'slow');\n",
            );
            write(
                &dir.join("05-last.sql"),
                "insert into shop.items values (-3, 'last');\n",
            );
            let t = restart_in(env, 1.5);
            uis_e2e::reliability::check(env, case);
            t.join().unwrap();
            assert!(!ledger(env).contains(&"04-slow.sql".to_string()));
            env.run("uis-db-seed", &["shop", &again]).ok();
            assert_eq!(
                count(
                    env,
                    "shop_db",
                    "select count(*) from shop.items where id in (-2, -3)"
                ),
                2
            );
        },
    ));
    let slow_path = cx.tmp.join("slow.sql");
    let slow = slow_path.to_string_lossy().into_owned();
    rows.push(Row::custom(
        Case::fault(
            "PostgreSQL restarted during `psql -f`",
            "uis-db-psql",
            &["shop", "-f", &slow],
        )
        .code(2)
        .says(&["slow.sql:2", "connection"])
        .after("nothing written (the file only reads)"),
        move |env, case| {
            write(&slow_path, "select 1;\nselect pg_sleep(3);\nselect 2;\n");
            let t = restart_in(env, 1.5);
            uis_e2e::reliability::check(env, case);
            t.join().unwrap();
        },
    ));
    // PostgreSQL down: what needs only the cluster still works.
    let down = |env: &Env| env.pg.stop();
    rows.push(
        Row::check(
            Case::fault(
                "PostgreSQL down: credentials",
                "uis-db-creds",
                &["shop", "--format", "url"],
            )
            .code(0)
            .says(&["postgresql://shop:"])
            .after("nothing to compare: the server is down"),
        )
        .before(down),
    );
    rows.push(
        Row::check(
            Case::fault(
                "PostgreSQL down: a query",
                "uis-db-psql",
                &["shop", "-c", "select 1"],
            )
            .code(2)
            .says(&["cannot connect", "hint:"])
            .after("nothing to compare: the server is down"),
        )
        .before(down),
    );
    rows
}

/// The cut of configure that lands after its first write (the passwords
/// stored, or a role made): with one PostgreSQL per test the byte counts
/// are the same at each run.
const PARTIAL_CUT: u64 = 5_500;

/// Restarts the test's PostgreSQL after `secs` seconds, on a thread.
fn restart_in(env: &Env, secs: f64) -> std::thread::JoinHandle<()> {
    let pg = env.pg;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs_f64(secs));
        pg.restart().expect("restart PostgreSQL");
    })
}

table!(
    TABLE;
    seed_tunnel_dropped_after_3000_bytes,
    seed_tunnel_dropped_after_300000_bytes,
    seed_tunnel_dropped_after_600000_bytes,
    configure_tunnel_dropped_after_1000_bytes,
    configure_tunnel_dropped_after_3000_bytes,
    configure_tunnel_dropped_after_4500_bytes,
    configure_tunnel_dropped_after_5500_bytes,
    postgrest_deploy_tunnel_dropped_after_2000_bytes,
    postgrest_deploy_tunnel_dropped_after_4000_bytes,
    psql_tunnel_dropped_after_200000_bytes_of_1_f,
    psql_20_ms_per_tunnel_frame,
    psql_30_s_per_tunnel_frame_pgconnect_timeout_2,
    psql_nothing_listens_on_the_pod_s_port,
    psql_the_postgresql_pod_is_pending,
    seed_no_postgresql_pod,
    seed_postgresql_restarted_during_a_seed_file,
    psql_postgresql_restarted_during_psql_f,
    creds_postgresql_down_credentials,
    psql_postgresql_down_a_query,
);
