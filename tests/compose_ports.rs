//! Port parsing as docker compose does it: a table of cases covering the
//! short and long syntax, addresses, ranges, protocols, interpolation with
//! and without `.env`, override files, profiles, and invalid specs with the
//! message each gets. Each case writes real files and loads them through
//! berth's compose reader; a few go through the `ports scan` binary.

mod common;

use std::collections::HashMap;
use std::path::Path;

use berth::compose::{self, Env};

/// What a case expects: the bindings as `service ip:published->target/proto`
/// (published `*` when the engine picks), or an error containing a text.
enum Want {
    Ports(&'static [&'static str]),
    Error(&'static str),
}

struct Case {
    name: &'static str,
    /// The `ports:` entries of service `web` (YAML list items), or a whole file when it starts with "services:".
    compose: &'static str,
    dotenv: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
    override_file: Option<&'static str>,
    want: Want,
}

const fn ports(name: &'static str, compose: &'static str, want: &'static [&'static str]) -> Case {
    Case {
        name,
        compose,
        dotenv: None,
        env: &[],
        override_file: None,
        want: Want::Ports(want),
    }
}

const fn bad(name: &'static str, compose: &'static str, why: &'static str) -> Case {
    Case {
        name,
        compose,
        dotenv: None,
        env: &[],
        override_file: None,
        want: Want::Error(why),
    }
}

const CASES: &[Case] = &[
    // Short syntax.
    ports(
        "container only",
        r#"["3000"]"#,
        &["web 0.0.0.0:*->3000/tcp"],
    ),
    ports(
        "container only as number",
        "[3000]",
        &["web 0.0.0.0:*->3000/tcp"],
    ),
    ports(
        "container range",
        r#"["3000-3002"]"#,
        &[
            "web 0.0.0.0:*->3000/tcp",
            "web 0.0.0.0:*->3001/tcp",
            "web 0.0.0.0:*->3002/tcp",
        ],
    ),
    ports(
        "host:container",
        r#"["8080:80"]"#,
        &["web 0.0.0.0:8080->80/tcp"],
    ),
    ports(
        "same port",
        r#"["5432:5432"]"#,
        &["web 0.0.0.0:5432->5432/tcp"],
    ),
    ports(
        "ipv4:host:container",
        r#"["127.0.0.1:8001:8001"]"#,
        &["web 127.0.0.1:8001->8001/tcp"],
    ),
    ports(
        "ipv4 with tcp",
        r#"["127.0.0.1:8443:443/tcp"]"#,
        &["web 127.0.0.1:8443->443/tcp"],
    ),
    ports(
        "udp",
        r#"["6060:6060/udp"]"#,
        &["web 0.0.0.0:6060->6060/udp"],
    ),
    ports(
        "udp upper case",
        r#"["53:53/UDP"]"#,
        &["web 0.0.0.0:53->53/udp"],
    ),
    ports(
        "bracketed ipv6",
        r#"["[::1]:6379:6379"]"#,
        &["web ::1:6379->6379/tcp"],
    ),
    ports(
        "bracketed ipv6 unspecified",
        r#"["[::]:80:80"]"#,
        &["web :::80->80/tcp"],
    ),
    ports(
        "bare ipv6",
        r#"["::1:6001:6001"]"#,
        &["web ::1:6001->6001/tcp"],
    ),
    ports(
        "ip with engine-picked host port",
        r#"["127.0.0.1::5000"]"#,
        &["web 127.0.0.1:*->5000/tcp"],
    ),
    ports(
        "empty host port",
        r#"[":5000"]"#,
        &["web 0.0.0.0:*->5000/tcp"],
    ),
    ports(
        "ranges",
        r#"["9000-9002:9000-9002"]"#,
        &[
            "web 0.0.0.0:9000->9000/tcp",
            "web 0.0.0.0:9001->9001/tcp",
            "web 0.0.0.0:9002->9002/tcp",
        ],
    ),
    ports(
        "shifted ranges",
        r#"["9090-9091:8080-8081"]"#,
        &["web 0.0.0.0:9090->8080/tcp", "web 0.0.0.0:9091->8081/tcp"],
    ),
    ports(
        "ip and range",
        r#"["127.0.0.1:5000-5001:5000-5001"]"#,
        &[
            "web 127.0.0.1:5000->5000/tcp",
            "web 127.0.0.1:5001->5001/tcp",
        ],
    ),
    ports(
        "host range to one port",
        r#"["8000-8010:80"]"#,
        &["web 0.0.0.0:*->80/tcp"],
    ),
    ports(
        "range with udp",
        r#"["7000-7001:7000-7001/udp"]"#,
        &["web 0.0.0.0:7000->7000/udp", "web 0.0.0.0:7001->7001/udp"],
    ),
    ports(
        "several entries",
        r#"["80:80", "443:443", "127.0.0.1:9229:9229"]"#,
        &[
            "web 0.0.0.0:80->80/tcp",
            "web 0.0.0.0:443->443/tcp",
            "web 127.0.0.1:9229->9229/tcp",
        ],
    ),
    ports(
        "highest port",
        r#"["65535:65535"]"#,
        &["web 0.0.0.0:65535->65535/tcp"],
    ),
    ports("no ports key", "services:\n  web:\n    image: x\n", &[]),
    ports("empty ports list", "[]", &[]),
    ports(
        "expose publishes nothing",
        "services:\n  web:\n    expose: [\"3000\"]\n",
        &[],
    ),
    ports("null service", "services:\n  web:\n", &[]),
    // Long syntax.
    ports(
        "long: target only",
        "\n      - target: 80",
        &["web 0.0.0.0:*->80/tcp"],
    ),
    ports(
        "long: published number",
        "\n      - target: 80\n        published: 8080",
        &["web 0.0.0.0:8080->80/tcp"],
    ),
    ports(
        "long: published string",
        "\n      - target: 80\n        published: \"8080\"",
        &["web 0.0.0.0:8080->80/tcp"],
    ),
    ports(
        "long: published range",
        "\n      - target: 80\n        published: \"8080-8090\"",
        &["web 0.0.0.0:*->80/tcp"],
    ),
    ports(
        "long: host_ip",
        "\n      - target: 5432\n        published: 5432\n        host_ip: 127.0.0.1",
        &["web 127.0.0.1:5432->5432/tcp"],
    ),
    ports(
        "long: ipv6 host_ip",
        "\n      - target: 5432\n        published: 5432\n        host_ip: \"::1\"",
        &["web ::1:5432->5432/tcp"],
    ),
    ports(
        "long: udp",
        "\n      - target: 53\n        published: 1053\n        protocol: udp",
        &["web 0.0.0.0:1053->53/udp"],
    ),
    ports(
        "long: mode host",
        "\n      - target: 80\n        published: 81\n        mode: host",
        &["web 0.0.0.0:81->80/tcp"],
    ),
    ports(
        "long and short mixed",
        "\n      - \"8080:80\"\n      - target: 443\n        published: 8443",
        &["web 0.0.0.0:8080->80/tcp", "web 0.0.0.0:8443->443/tcp"],
    ),
    // Interpolation.
    Case {
        name: "variable from .env",
        compose: r#"["${WEB_PORT}:80"]"#,
        dotenv: Some("WEB_PORT=8181\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8181->80/tcp"]),
    },
    Case {
        name: "default when unset",
        compose: r#"["${WEB_PORT:-8282}:80"]"#,
        dotenv: None,
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8282->80/tcp"]),
    },
    Case {
        name: "environment beats .env",
        compose: r#"["${WEB_PORT:-1}:80"]"#,
        dotenv: Some("WEB_PORT=8181\n"),
        env: &[("WEB_PORT", "8383")],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8383->80/tcp"]),
    },
    Case {
        name: ":- replaces empty",
        compose: r#"["${WEB_PORT:-8484}:80"]"#,
        dotenv: Some("WEB_PORT=\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8484->80/tcp"]),
    },
    Case {
        name: "- keeps empty",
        compose: r#"["${BIND_IP-127.0.0.1}:${WEB_PORT:-8585}:80"]"#,
        dotenv: Some("BIND_IP=\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8585->80/tcp"]),
    },
    Case {
        name: "- default when unset",
        compose: r#"["${BIND_IP-127.0.0.1}:8686:80"]"#,
        dotenv: None,
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 127.0.0.1:8686->80/tcp"]),
    },
    Case {
        name: "bare $VAR",
        compose: r#"["$WEB_PORT:80"]"#,
        dotenv: Some("WEB_PORT=8787\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8787->80/tcp"]),
    },
    Case {
        name: "nested default",
        compose: r#"["${A:-${B:-8888}}:80"]"#,
        dotenv: None,
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8888->80/tcp"]),
    },
    Case {
        name: ":+ alternative",
        compose: r#"["${LOCAL:+127.0.0.1:}8080:80", "${UNSET:+127.0.0.1:}8081:81"]"#,
        dotenv: Some("LOCAL=1\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 127.0.0.1:8080->80/tcp", "web 0.0.0.0:8081->81/tcp"]),
    },
    Case {
        name: ":? satisfied",
        compose: r#"["${DB_PORT:?set DB_PORT}:5432"]"#,
        dotenv: Some("DB_PORT=15432\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:15432->5432/tcp"]),
    },
    Case {
        name: "quoted .env value",
        compose: r#"["${WEB_PORT}:80"]"#,
        dotenv: Some("# a comment\nWEB_PORT=\"8989\"\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8989->80/tcp"]),
    },
    Case {
        name: "variable ip in long syntax",
        compose: "\n      - target: 80\n        published: ${P}\n        host_ip: ${IP}",
        dotenv: Some("P=9191\nIP=127.0.0.2\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 127.0.0.2:9191->80/tcp"]),
    },
    // Override files and profiles.
    Case {
        name: "override file adds a port",
        compose: r#"["8080:80"]"#,
        dotenv: None,
        env: &[],
        override_file: Some(
            "services:\n  web:\n    ports: [\"127.0.0.1:9229:9229\"]\n  db:\n    image: postgres\n    ports: [\"5432:5432\"]\n",
        ),
        want: Want::Ports(&[
            "web 0.0.0.0:8080->80/tcp",
            "web 127.0.0.1:9229->9229/tcp",
            "db 0.0.0.0:5432->5432/tcp",
        ]),
    },
    Case {
        name: "override repeats a port once",
        compose: r#"["8080:80"]"#,
        dotenv: None,
        env: &[],
        override_file: Some("services:\n  web:\n    ports: [\"8080:80\"]\n"),
        want: Want::Ports(&["web 0.0.0.0:8080->80/tcp"]),
    },
    Case {
        name: "COMPOSE_FILE from .env picks files",
        compose: r#"["8080:80"]"#,
        dotenv: Some("COMPOSE_FILE=compose.yaml:extra.yaml\n"),
        env: &[],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:8080->80/tcp", "extra 0.0.0.0:7070->70/tcp"]),
    },
    ports(
        "inactive profile is not counted",
        "services:\n  web:\n    ports: [\"80:80\"]\n  debug:\n    profiles: [debug]\n    ports: [\"9999:9999\"]\n",
        &["web 0.0.0.0:80->80/tcp"],
    ),
    Case {
        name: "active profile is counted",
        compose: "services:\n  web:\n    ports: [\"80:80\"]\n  debug:\n    profiles: [debug]\n    ports: [\"9999:9999\"]\n",
        dotenv: None,
        env: &[("COMPOSE_PROFILES", "debug")],
        override_file: None,
        want: Want::Ports(&["web 0.0.0.0:80->80/tcp", "debug 0.0.0.0:9999->9999/tcp"]),
    },
    // Invalid specs: the message names the file, the service and the reason.
    bad(
        "port 0",
        r#"["0:80"]"#,
        "service 'web': invalid port '0:80': port 0 is out of range (1-65535)",
    ),
    bad(
        "port 70000",
        r#"["70000:80"]"#,
        "invalid port '70000:80': port 70000 is out of range (1-65535)",
    ),
    bad("container port 0", r#"["0"]"#, "port 0 is out of range"),
    bad(
        "not a number",
        r#"["web:80"]"#,
        "'web' is not a port number",
    ),
    bad(
        "bad protocol",
        r#"["80:80/sctp"]"#,
        "unknown protocol 'sctp'",
    ),
    bad(
        "bad ip",
        r#"["300.1.1.1:80:80"]"#,
        "'300.1.1.1' is not an IP address",
    ),
    bad("unclosed bracket", r#"["[::1:80:80"]"#, "unclosed '['"),
    bad(
        "range mismatch",
        r#"["9000-9002:9000-9001"]"#,
        "host range of 3 ports does not match container range of 2 ports",
    ),
    bad("backwards range", r#"["9002-9000:80"]"#, "runs backwards"),
    bad("empty spec", r#"[""]"#, "empty port spec"),
    bad(
        "long without target",
        "\n      - published: 80",
        "long syntax needs 'target'",
    ),
    bad(
        "long bad mode",
        "\n      - target: 80\n        mode: swarm",
        "unknown mode 'swarm'",
    ),
    bad(
        "long target range",
        "\n      - target: \"80-81\"",
        "'target' must be one port",
    ),
    bad(
        "ports not a list",
        "services:\n  web:\n    ports: \"80:80\"\n",
        "'ports' must be a list, not a string",
    ),
    bad(
        "port is a list",
        "[[80]]",
        "a port must be a string, a number or a mapping, not a list",
    ),
    bad(
        "required variable missing",
        r#"["${DB_PORT:?set DB_PORT in .env}:5432"]"#,
        "required variable DB_PORT is missing a value: set DB_PORT in .env",
    ),
    bad("lone dollar", r#"["$:80"]"#, "invalid interpolation format"),
    bad(
        "unclosed brace",
        r#"["${WEB_PORT:80"]"#,
        "invalid interpolation format",
    ),
    bad(
        "service not a mapping",
        "services:\n  web: [1]\n",
        "service 'web': must be a mapping, not a list",
    ),
    bad(
        "services not a mapping",
        "services: [web]\n",
        "'services' must be a mapping, not a list",
    ),
    bad(
        "top level not a mapping",
        "- services\n",
        "the top level must be a mapping",
    ),
    bad(
        "malformed YAML",
        "services:\n  web:\n    ports: [\"80:80\"\n",
        "invalid YAML in",
    ),
];

fn render(b: &berth::PortBinding) -> String {
    let published = b.published.map_or_else(|| "*".into(), |p| p.to_string());
    format!(
        "{} {}:{}->{}/{}",
        b.service, b.host_ip, published, b.target, b.protocol
    )
}

fn compose_text(spec: &str) -> String {
    if spec.starts_with("services:") || spec.starts_with('-') {
        spec.to_owned()
    } else if spec.starts_with('\n') {
        format!("services:\n  web:\n    image: nginx\n    ports:{spec}\n")
    } else {
        format!("services:\n  web:\n    image: nginx\n    ports: {spec}\n")
    }
}

fn run_case(dir: &Path, case: &Case) -> Result<Vec<String>, String> {
    std::fs::write(dir.join("compose.yaml"), compose_text(case.compose)).unwrap();
    if let Some(o) = case.override_file {
        std::fs::write(dir.join("compose.override.yaml"), o).unwrap();
    }
    if let Some(e) = case.dotenv {
        std::fs::write(dir.join(".env"), e).unwrap();
    }
    std::fs::write(
        dir.join("extra.yaml"),
        "services:\n  extra:\n    ports: [\"7070:70\"]\n",
    )
    .unwrap();
    let process: HashMap<String, String> = case
        .env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let dotenv = compose::read_dotenv(&dir.join(".env")).map_err(|e| format!("{e:#}"))?;
    let env = Env::from_maps(process, dotenv);
    let files = compose::discover(dir, &env).map_err(|e| format!("{e:#}"))?;
    let c = compose::load_files(&files, &env).map_err(|e| format!("{e:#}"))?;
    Ok(c.ports().map(render).collect())
}

#[test]
fn port_table() {
    assert!(CASES.len() >= 50, "{} cases", CASES.len());
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let got = run_case(dir.path(), case);
        match (&case.want, &got) {
            (Want::Ports(want), Ok(got))
                if got.iter().map(String::as_str).eq(want.iter().copied()) => {}
            (Want::Error(why), Err(msg)) if msg.contains(why) && msg.contains("compose.yaml") => {}
            _ => failures.push(format!("{}: got {got:?}", case.name)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn unset_variable_warns_and_defaults_to_blank() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        compose_text(r#"["${NOPE}8080:80"]"#),
    )
    .unwrap();
    let env = Env::from_maps(HashMap::new(), HashMap::new());
    let c = compose::load_files(&compose::discover(dir.path(), &env).unwrap(), &env).unwrap();
    assert_eq!(
        c.ports().map(render).collect::<Vec<_>>(),
        ["web 0.0.0.0:8080->80/tcp"]
    );
    assert_eq!(
        c.warnings,
        ["the NOPE variable is not set, defaulting to a blank string"]
    );
}

/// A variable `.env` names in a stored-secret comment (stackgen's and the
/// migration's) is set when compose runs: reading the files neither warns
/// nor fails a `${VAR:?}` on it, and the value caller hands over wins.
#[test]
fn a_variable_in_the_secrets_store_is_set_without_its_value() {
    use berth::envline::{StoredFrom, stored_line};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}\n      APP_KEY: ${APP_KEY}\n    ports: [\"${PORT}:5432\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "PORT=5999\n{}\n{}\n",
            stored_line(
                "POSTGRES_PASSWORD",
                StoredFrom::Generated { project: "shop" }
            ),
            stored_line("APP_KEY", StoredFrom::Moved)
        ),
    )
    .unwrap();
    let env = Env::for_dir(dir.path()).unwrap();
    let c = compose::load_dir_with(dir.path(), &env).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.ports().map(render).collect::<Vec<_>>(),
        ["db 0.0.0.0:5999->5432/tcp"]
    );
    let db = c.service("db").unwrap();
    assert_eq!(db.environment["POSTGRES_PASSWORD"], berth::secrets::MASK);
    assert_eq!(db.environment["APP_KEY"], berth::secrets::MASK);
    // The values the tools hand over (the store's) are read over the mark.
    let env = env.with_overrides(&[("POSTGRES_PASSWORD".to_owned(), "pw".to_owned())]);
    let c = compose::load_dir_with(dir.path(), &env).unwrap();
    assert_eq!(
        c.service("db").unwrap().environment["POSTGRES_PASSWORD"],
        "pw"
    );
    // Without the comments, the names are unset again: `:?` fails.
    std::fs::write(
        dir.path().join(".env"),
        "PORT=5999\n# APP_KEY is elsewhere\n",
    )
    .unwrap();
    let e = format!("{:#}", compose::load_dir(dir.path()).unwrap_err());
    assert!(e.contains("set it"), "{e}");
}

#[test]
fn discovery_prefers_compose_yaml_and_its_override() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in [
        "docker-compose.yml",
        "compose.yaml",
        "compose.override.yml",
        "docker-compose.override.yml",
    ] {
        std::fs::write(d.join(f), "services: {}\n").unwrap();
    }
    let env = Env::from_maps(HashMap::new(), HashMap::new());
    let files = compose::discover(d, &env).unwrap();
    assert_eq!(
        files,
        [d.join("compose.yaml"), d.join("compose.override.yml")]
    );
    std::fs::remove_file(d.join("compose.yaml")).unwrap();
    let files = compose::discover(d, &env).unwrap();
    assert_eq!(
        files,
        [
            d.join("docker-compose.yml"),
            d.join("docker-compose.override.yml")
        ]
    );
}

#[test]
fn scan_binary_reports_ports_and_names_file_and_service_on_error() {
    let h = common::Harness::new();
    h.write(
        "app/compose.yaml",
        "services:\n  web:\n    ports: [\"127.0.0.1:8080:80\", \"53:53/udp\"]\n",
    );
    let run = h
        .cmd("ports")
        .args(["scan", "app", "--json"])
        .run()
        .success();
    let v = run.json();
    assert_eq!(v[0]["project"], "app");
    assert_eq!(v[0]["host_ip"], "127.0.0.1");
    assert_eq!(v[0]["published"], 8080);
    assert_eq!(v[1]["protocol"], "udp");
    h.write(
        "bad/compose.yaml",
        "services:\n  api:\n    ports: [\"8080:0\"]\n",
    );
    h.cmd("ports")
        .args(["scan", "bad"])
        .run()
        .code_is(2)
        .stderr_has(
            "bad/compose.yaml: service 'api': invalid port '8080:0': port 0 is out of range",
        );
}

fn load_err(dir: &Path) -> String {
    let env = Env::from_maps(HashMap::new(), HashMap::new());
    let files = compose::discover(dir, &env).unwrap();
    format!("{:#}", compose::load_files(&files, &env).unwrap_err())
}

fn load_ports(dir: &Path) -> Vec<String> {
    let env = Env::from_maps(HashMap::new(), HashMap::new());
    let files = compose::discover(dir, &env).unwrap();
    let c = compose::load_files(&files, &env).unwrap_or_else(|e| panic!("{e:#}"));
    let mut got: Vec<String> = c.ports().map(render).collect();
    got.sort();
    got
}

#[test]
fn include_chains_are_bounded_and_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // compose.yaml -> a/inc.yaml -> a/b/inc.yaml, each path relative to its includer.
    std::fs::create_dir_all(d.join("a/b")).unwrap();
    std::fs::write(
        d.join("compose.yaml"),
        "include: [a/inc.yaml]\nservices: {}\n",
    )
    .unwrap();
    std::fs::write(d.join("a/inc.yaml"), "include: [{path: b/inc.yaml}]\n").unwrap();
    std::fs::write(
        d.join("a/b/inc.yaml"),
        "services:\n  deep:\n    ports: [\"7001:1\"]\n",
    )
    .unwrap();
    assert_eq!(load_ports(d), ["deep 0.0.0.0:7001->1/tcp"]);
    // Ten levels: refused at the bound.
    for i in 0..10 {
        std::fs::write(
            d.join(format!("l{i}.yaml")),
            format!("include: [l{}.yaml]\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(d.join("l10.yaml"), "services: {}\n").unwrap();
    std::fs::write(d.join("compose.yaml"), "include: [l0.yaml]\n").unwrap();
    let err = load_err(d);
    assert!(err.contains("includes nested more than 8 deep"), "{err}");
    // A service defined twice is an error, as in compose.
    std::fs::write(
        d.join("compose.yaml"),
        "include: [a/b/inc.yaml]\nservices:\n  deep: {}\n",
    )
    .unwrap();
    let err = load_err(d);
    assert!(
        err.contains("service 'deep' is defined both here and in an included file"),
        "{err}"
    );
}

#[test]
fn extends_merges_chains_across_files_and_reports_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("common")).unwrap();
    std::fs::write(
        d.join("common/base.yaml"),
        "services:\n  root:\n    image: x\n    ports: [\"7100:1\"]\n  mid:\n    extends: root\n    ports: [\"7101:2\"]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  web:\n    extends: {service: mid, file: common/base.yaml}\n    ports: [\"7102:3\"]\n",
    )
    .unwrap();
    assert_eq!(
        load_ports(d),
        [
            "web 0.0.0.0:7100->1/tcp",
            "web 0.0.0.0:7101->2/tcp",
            "web 0.0.0.0:7102->3/tcp"
        ]
    );
    std::fs::write(
        d.join("compose.yaml"),
        "services:\n  web:\n    extends: {service: nope, file: common/base.yaml}\n",
    )
    .unwrap();
    let err = load_err(d);
    assert!(
        err.contains("base.yaml: service 'nope' does not exist"),
        "{err}"
    );
}

#[test]
fn merge_keys_reset_and_override_as_compose_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("compose.yaml"),
        "x-ports: &ports\n  ports: [\"7200:1\"]\nx-img: &img {image: x}\nservices:\n  a:\n    <<: [*ports, *img]\n  b:\n    <<: *ports\n    ports: [\"7201:1\"]\n  c:\n    <<: *ports\n    ports: !reset []\n",
    )
    .unwrap();
    assert_eq!(
        load_ports(d),
        ["a 0.0.0.0:7200->1/tcp", "b 0.0.0.0:7201->1/tcp"]
    );
    std::fs::write(
        d.join("compose.override.yaml"),
        "services:\n  a:\n    ports: !override [\"7202:2\"]\n  b:\n    ports: [\"7203:3\"]\n",
    )
    .unwrap();
    assert_eq!(
        load_ports(d),
        [
            "a 0.0.0.0:7202->2/tcp",
            "b 0.0.0.0:7201->1/tcp",
            "b 0.0.0.0:7203->3/tcp"
        ]
    );
}
