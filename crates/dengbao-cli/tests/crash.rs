//! Crash safety: a server is killed with SIGKILL at random moments during a write load, again
//! and again. Afterwards every acknowledged write has its ledger entry, the log recomputes,
//! and it is consistent with every checkpoint handed out before the crashes.
//! `CRASH_ITERATIONS` raises the count (default 50); `bench/crash.sh` runs more.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_dengbao")
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// A minimal HTTP/1.1 client (one request per connection).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("truncated response"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let headers = lines
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    Ok(Resp {
        status,
        headers,
        body: body.to_owned(),
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The throw-away PostgreSQL database of a test, or a loud skip when there is none (an
/// error where one is required: `.ci/run` sets `DENGBAO_REQUIRE_POSTGRES=1`).
fn postgres_or_skip(test: &str) -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("DENGBAO_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("{test}: DENGBAO_REQUIRE_POSTGRES=1 but DATABASE_URL is not set")
        }
        Err(_) => {
            eprintln!(
                "SKIPPED {test}: needs DATABASE_URL pointing at a throw-away PostgreSQL database (.ci/run sets it)"
            );
            None
        }
    }
}

/// Starts `dengbao serve` with `args` (plus `--listen`) in `cwd` and waits until it is
/// ready; a server that does not come up is killed before the test fails.
fn serve(args: &[&str], cwd: &Path, port: u16) -> Child {
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(bin())
        .arg("serve")
        .args(args)
        .args(["--listen", &listen])
        // These tests log in continuously to exercise the group commit; the log-in throttle
        // has its own flood test.
        .args(["--login-burst-per-ip", "1000000"])
        .args(["--login-burst-per-account", "1000000"])
        .current_dir(cwd)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if http(port, "GET", "/readyz", &[], None).is_ok_and(|r| r.status == 200) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

fn start(dir: &Path, port: u16) -> Child {
    serve(&["--data-dir", dir.to_str().unwrap()], dir, port)
}

struct Session {
    cookie: String,
    csrf: String,
}

fn login(port: u16) -> Session {
    let r = http(
        port,
        "POST",
        "/api/v1/auth/login",
        &[],
        Some(r#"{"username":"crash-lead","password":"Crash#Test-2026x"}"#),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .unwrap()
        .1
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    Session {
        cookie,
        csrf: v["csrf_token"].as_str().unwrap().to_owned(),
    }
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--data-dir", dir.to_str().unwrap()]);
    Command::new(bin())
        .args(&a)
        .env("DENGBAO_PASSWORD", "Crash#Test-2026x")
        .output()
        .unwrap()
}

#[test]
fn sigkill_during_writes_loses_no_acknowledged_entry() {
    let iterations: usize = std::env::var("CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir: PathBuf = std::env::temp_dir().join(format!("dengbao-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    assert!(
        run(&dir, &["admin", "create-org", "--name", "Crash"])
            .status
            .success()
    );
    assert!(
        run(
            &dir,
            &[
                "admin",
                "create-user",
                "--org",
                "Crash",
                "--username",
                "crash-lead",
                "--role",
                "security_lead"
            ]
        )
        .status
        .success()
    );

    let acked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    // Request ids of answered log-ins: their security events go through group commit.
    let logins: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let mut handed_out: Vec<String> = Vec::new();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut created = false;
    for it in 0..iterations {
        let port = free_port();
        let mut child = start(&dir, port);
        let s = login(port);
        let hdr = [
            ("cookie", s.cookie.as_str()),
            ("x-csrf-token", s.csrf.as_str()),
        ];
        if !created {
            let body = r#"{"id":"crash","name":"Crash test","kind":"information_system","lifecycle":{"operating_since":"2024-01-01"},"assessment":{"business_information":[{"object":"social_order_public_interest","degree":"serious_damage"}],"system_service":[{"object":"citizens_legal_persons","degree":"damage"}]}}"#;
            assert_eq!(
                http(port, "POST", "/api/v1/systems", &hdr, Some(body))
                    .unwrap()
                    .status,
                201
            );
            created = true;
        }
        // Writers run until the server dies; a checkpoint is fetched while they write.
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        {
            let (logins, stop) = (logins.clone(), stop.clone());
            writers.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match http(
                        port,
                        "POST",
                        "/api/v1/auth/login",
                        &[],
                        Some(r#"{"username":"crash-lead","password":"Crash#Test-2026x"}"#),
                    ) {
                        Ok(r) if r.status == 200 => {
                            let rid = r
                                .headers
                                .iter()
                                .find(|(k, _)| k == "x-request-id")
                                .unwrap()
                                .1
                                .clone();
                            logins.lock().unwrap().push(rid);
                        }
                        Ok(r) => panic!("login refused: {} {}", r.status, r.body),
                        Err(_) => break,
                    }
                }
            }));
        }
        for w in 0..2 {
            let (acked, stop, cookie, csrf) = (
                acked.clone(),
                stop.clone(),
                s.cookie.clone(),
                s.csrf.clone(),
            );
            writers.push(std::thread::spawn(move || {
                let mut k = 0;
                while !stop.load(Ordering::Relaxed) {
                    let note = format!("it{it}-w{w}-{k}");
                    let body = format!(r#"{{"date":"2025-01-01","type":"self_inspection","conformity":"conformant","note":"{note}"}}"#);
                    match http(port, "POST", "/api/v1/systems/crash/events", &[("cookie", &cookie), ("x-csrf-token", &csrf)], Some(&body)) {
                        Ok(r) if r.status == 201 => acked.lock().unwrap().push(note),
                        Ok(r) => panic!("write refused: {} {}", r.status, r.body),
                        Err(_) => break,
                    }
                    k += 1;
                }
            }));
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let before_kill = Duration::from_millis(150 + seed % 500);
        std::thread::sleep(before_kill / 2);
        if let Ok(r) = http(port, "POST", "/api/v1/ledger/checkpoint", &hdr, None) {
            if r.status == 200 {
                handed_out.push(r.body);
            }
        }
        std::thread::sleep(before_kill / 2);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
    }

    // Recovery: the log recomputes and every stored checkpoint verifies against it.
    let out = run(&dir, &["ledger", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Every acknowledged write is there, with exactly one ledger entry per event.
    let port = free_port();
    let mut child = start(&dir, port);
    let s = login(port);
    let hdr = [
        ("cookie", s.cookie.as_str()),
        ("x-csrf-token", s.csrf.as_str()),
    ];
    let events: serde_json::Value = serde_json::from_str(
        &http(port, "GET", "/api/v1/systems/crash/events", &hdr, None)
            .unwrap()
            .body,
    )
    .unwrap();
    let notes: std::collections::HashSet<String> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event"]["note"].as_str().map(str::to_owned))
        .collect();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > iterations,
        "too little load: {} writes",
        acked.len()
    );
    for n in &acked {
        assert!(notes.contains(n), "acknowledged write {n} was lost");
    }
    let mut adds = 0;
    let mut login_ids = std::collections::HashSet::new();
    let mut from = 0;
    loop {
        let page: serde_json::Value = serde_json::from_str(
            &http(
                port,
                "GET",
                &format!("/api/v1/ledger/entries?from={from}&limit=1000"),
                &hdr,
                None,
            )
            .unwrap()
            .body,
        )
        .unwrap();
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        adds += page
            .iter()
            .filter(|e| e["entry"]["action"] == "event.add")
            .count();
        login_ids.extend(
            page.iter()
                .filter(|e| e["entry"]["action"] == "auth.login")
                .filter_map(|e| e["entry"]["request_id"].as_str().map(str::to_owned)),
        );
        from = page.last().unwrap()["seq"].as_i64().unwrap() + 1;
    }
    assert_eq!(adds, notes.len(), "one ledger entry per recorded event");
    let logins = logins.lock().unwrap().clone();
    assert!(
        logins.len() > iterations,
        "too few log-ins: {}",
        logins.len()
    );
    for rid in &logins {
        assert!(
            login_ids.contains(rid),
            "answered log-in {rid} has no ledger entry"
        );
    }
    // The log now is an extension of every checkpoint handed out before a crash.
    let key = std::fs::read_to_string(dir.join("ledger.pub")).unwrap();
    let v = dengbao_ledger::NoteVerifier::parse(&key).unwrap();
    let now = http(port, "POST", "/api/v1/ledger/checkpoint", &hdr, None)
        .unwrap()
        .body;
    let now = dengbao_ledger::Checkpoint::parse_body(v.open(&now).unwrap()).unwrap();
    assert!(!handed_out.is_empty());
    for note in &handed_out {
        let old = dengbao_ledger::Checkpoint::parse_body(v.open(note).unwrap()).unwrap();
        let r = http(
            port,
            "GET",
            &format!(
                "/api/v1/ledger/consistency?old={}&new={}",
                old.size, now.size
            ),
            &hdr,
            None,
        )
        .unwrap();
        let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        let path: Vec<[u8; 32]> = p["path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                base64::engine::general_purpose::STANDARD
                    .decode(h.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap()
            })
            .collect();
        assert!(
            dengbao_ledger::verify_consistency(old.size, now.size, &old.root, &now.root, &path),
            "log forked after checkpoint {}",
            old.size
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!(
        "{iterations} SIGKILLs; {} acknowledged writes and {} answered log-ins (group commit), {} events kept, {} checkpoints handed out, all consistent",
        acked.len(),
        logins.len(),
        notes.len(),
        handed_out.len()
    );
}

/// Two server processes on one PostgreSQL database write concurrently: the ledger stays
/// gapless, in commit order, and verifies; both nodes' checkpoints agree.
#[test]
fn two_processes_on_one_postgres_share_one_ledger() {
    let Some(url) = postgres_or_skip("two_processes_on_one_postgres_share_one_ledger") else {
        return;
    };
    let base = url[..url.rfind('/').unwrap()].to_owned();
    let db = format!("dengbao_nodes_{}", std::process::id());
    let admin = format!("{base}/postgres");
    assert!(
        Command::new("psql")
            .args([admin.as_str(), "-qc", &format!("CREATE DATABASE {db}")])
            .status()
            .unwrap()
            .success()
    );
    let db_url = format!("{base}/{db}");
    let dir = std::env::temp_dir().join(format!("dengbao-nodes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cli = |args: &[&str]| {
        Command::new(bin())
            .args(args)
            .args(["--database", &db_url])
            .env("DENGBAO_PASSWORD", "Crash#Test-2026x")
            .output()
            .unwrap()
    };
    assert!(
        cli(&["admin", "create-org", "--name", "Nodes"])
            .status
            .success()
    );
    assert!(
        cli(&[
            "admin",
            "create-user",
            "--org",
            "Nodes",
            "--username",
            "crash-lead",
            "--role",
            "security_lead"
        ])
        .status
        .success()
    );
    // One signing key shared by both nodes, as a deployment would.
    assert!(
        Command::new(bin())
            .args([
                "ledger",
                "keygen",
                "--name",
                "nodes.example/log",
                "--out",
                dir.to_str().unwrap()
            ])
            .status()
            .unwrap()
            .success()
    );
    let key = dir.join("nodes.example_log.key");
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        let child = serve(
            &["--database", &db_url, "--ledger-key", key.to_str().unwrap()],
            &dir,
            port,
        );
        nodes.push((port, child));
    }
    let s = login(nodes[0].0);
    let hdr = [
        ("cookie", s.cookie.as_str()),
        ("x-csrf-token", s.csrf.as_str()),
    ];
    let body = r#"{"id":"n","name":"N","kind":"information_system","assessment":{"business_information":[{"object":"social_order_public_interest","degree":"serious_damage"}],"system_service":[{"object":"citizens_legal_persons","degree":"damage"}]}}"#;
    assert_eq!(
        http(nodes[0].0, "POST", "/api/v1/systems", &hdr, Some(body))
            .unwrap()
            .status,
        201
    );
    let acked = Arc::new(Mutex::new(0usize));
    let mut writers = Vec::new();
    for (i, (port, _)) in nodes.iter().enumerate() {
        for w in 0..3 {
            let (port, acked) = (*port, acked.clone());
            let s = login(port);
            writers.push(std::thread::spawn(move || {
                for k in 0..40 {
                    let body = format!(r#"{{"date":"2025-01-01","type":"self_inspection","conformity":"conformant","note":"node{i}-w{w}-{k}"}}"#);
                    let r = http(port, "POST", "/api/v1/systems/n/events", &[("cookie", &s.cookie), ("x-csrf-token", &s.csrf)], Some(&body)).unwrap();
                    assert_eq!(r.status, 201, "{}", r.body);
                    *acked.lock().unwrap() += 1;
                }
            }));
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    // Each node signs a checkpoint; a verifier holding either accepts the log.
    for (port, _) in &nodes {
        let s = login(*port);
        assert_eq!(
            http(
                *port,
                "POST",
                "/api/v1/ledger/checkpoint",
                &[("cookie", &s.cookie), ("x-csrf-token", &s.csrf)],
                None
            )
            .unwrap()
            .status,
            200
        );
    }
    for (_, child) in &mut nodes {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let out = Command::new(bin())
        .args([
            "ledger",
            "verify",
            "--database",
            &db_url,
            "--pubkey",
            dir.join("nodes.example_log.pub").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let _ = Command::new("psql")
        .args([
            admin.as_str(),
            "-qc",
            &format!("DROP DATABASE {db} WITH (FORCE)"),
        ])
        .status();
    assert!(out.status.success(), "{text}");
    assert_eq!(*acked.lock().unwrap(), 240);
    // The user, the system, the 240 events and the 9 log-ins (one, then three writers and
    // one checkpoint per node) each have one entry, none missing or doubled.
    let expected = 2 + 240 + (1 + nodes.len() * 3 + nodes.len());
    assert!(
        text.starts_with(&format!("OK: {expected} entries recomputed")),
        "{text}"
    );
}

/// With `--database` and no `--ledger-key`, the server still creates its key (0600) under
/// the data directory, creating the directory too.
#[test]
fn serve_on_a_database_url_creates_its_signing_key() {
    let Some(url) = postgres_or_skip("serve_on_a_database_url_creates_its_signing_key") else {
        return;
    };
    let cwd = std::env::temp_dir().join(format!("dengbao-keydir-{}", std::process::id()));
    std::fs::create_dir_all(&cwd).unwrap();
    let port = free_port();
    // `serve` only returns once the server answered /readyz.
    let mut child = serve(&["--database", &url], &cwd, port);
    child.kill().unwrap();
    child.wait().unwrap();
    let key = cwd.join("data/ledger.key");
    assert!(key.exists() && cwd.join("data/ledger.pub").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
