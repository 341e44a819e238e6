//! End-to-end tests of the `dengbao` binary on the shipped examples: the JSON contract,
//! text output, rule packs, holiday calendars and error reporting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dengbao(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dengbao"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let out = dengbao(&a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn system<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
}

fn obligation<'a>(sys: &'a Value, kind: &str) -> &'a Value {
    sys["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn json_contract_on_the_payments_example() {
    let r = json(&[
        "assess",
        "examples/payments-operator.toml",
        "--as-of",
        "2025-11-21",
    ]);
    assert_eq!(r["format"], 2);
    assert_eq!(r["rules"]["id"], "measures-2007");
    // Every system carries the documented fields; every obligation has kind/due/status/cite.
    for s in r["systems"].as_array().unwrap() {
        for k in ["grade", "s_grade", "g_grade"] {
            assert!(s[k].is_string(), "{k}");
        }
        assert!(s["dossier"]["missing"].is_array());
        for o in s["obligations"].as_array().unwrap() {
            assert!(o["kind"].is_string() && o["status"].is_string());
            assert!(o["cite"].as_str().unwrap().starts_with("Measures art."));
            assert!(
                o.get("due").is_some(),
                "due is always present (null when none)"
            );
        }
        for v in s["violations"].as_array().unwrap() {
            assert!(v["kind"].as_str().unwrap().starts_with("art40_"));
            assert!(v["cite"].as_str().unwrap().starts_with("Measures art. 40("));
            assert!(!v["evidence"].as_array().unwrap().is_empty());
        }
    }
    let pay = system(&r, "pay-core");
    assert_eq!(
        (
            pay["grade"].as_str(),
            pay["s_grade"].as_str(),
            pay["g_grade"].as_str()
        ),
        (Some("III"), Some("III"), Some("II"))
    );
    let items: Vec<u64> = pay["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["item"].as_u64().unwrap())
        .collect();
    assert_eq!(items, [2, 3, 4, 5, 6]);
    let ev = obligation(pay, "grade_evaluation");
    assert_eq!(
        (ev["status"].as_str(), ev["due"].as_str()),
        (Some("overdue"), Some("2025-09-10"))
    );
    let missing: Vec<&str> = pay["dossier"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["product_list"]);

    // Grade II: overdue filing, but art. 40 applies only from Grade III.
    let oa = system(&r, "office-oa");
    assert_eq!(obligation(oa, "record_filing")["status"], "overdue");
    assert!(oa["violations"].as_array().unwrap().is_empty());

    // Branch of a nationwide system files locally under art. 15 ¶3.
    let br = system(&r, "settlement-sh");
    let f = obligation(br, "branch_filing");
    assert_eq!(
        (f["cite"].as_str(), f["due"].as_str(), f["status"].as_str()),
        (
            Some("Measures art. 15 ¶3 (period per art. 15 ¶1)"),
            Some("2025-11-27"),
            Some("due_soon")
        )
    );

    // Secret-involved, confidential: floor IV, expert review required, approval before operation.
    let ar = system(&r, "archive-c");
    assert_eq!(ar["grade"], "IV");
    assert_eq!(ar["grading"]["floor"]["raised"], true);
    assert_eq!(ar["grading"]["expert_review_required"]["value"], true);
    assert_eq!(obligation(ar, "secrecy_approval")["due"], "2026-03-01");
    assert_eq!(obligation(ar, "record_filing")["status"], "not_applicable");
}

#[test]
fn overlay_pack_and_holiday_calendar() {
    // Graded Mon 2025-09-01; 10 working days → Mon 2025-09-15.
    let r = json(&[
        "assess",
        "examples/single-system.json",
        "--rules",
        "examples/overlay-filing-10-working-days.toml",
        "--holidays",
        "examples/holidays-cn-2025.toml",
        "--as-of",
        "2025-09-05",
    ]);
    assert_eq!(r["rules"]["id"], "mlps2-filing-10wd");
    assert_eq!(r["holiday_calendar_years"], serde_json::json!([2025]));
    let f = obligation(&r["systems"][0], "record_filing");
    assert_eq!(f["due"], "2025-09-15");
    assert_eq!(f["unconfirmed"], true);
    assert!(f["cite"].as_str().unwrap().contains("unconfirmed"));
    // The baseline gives 30 calendar days: 2025-10-01 is a holiday, so 2025-10-09 with the calendar.
    let r = json(&[
        "assess",
        "examples/single-system.json",
        "--holidays",
        "examples/holidays-cn-2025.toml",
        "--as-of",
        "2025-09-05",
    ]);
    let f = obligation(&r["systems"][0], "record_filing");
    assert_eq!(f["due"], "2025-10-09");
    assert_eq!(f["due_notes"], serde_json::json!(["adjusted_for_rest_day"]));
}

#[test]
fn text_output_leads_with_what_is_wrong() {
    let out = dengbao(&[
        "assess",
        "examples/payments-operator.toml",
        "--as-of",
        "2025-11-21",
    ]);
    assert!(out.status.success());
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("■ pay-core — Payment core system"));
    assert!(t.contains("OVERDUE   2025-08-20"), "{t}");
    // Only the records show it: not rectified in time, not "refusing" (no refusal recorded).
    assert!(
        t.contains("Measures art. 40(5) Not rectified by the deadline"),
        "{t}"
    );
    assert!(t.contains("per the records"), "{t}");
    assert!(t.contains("Holiday calendar: none supplied"));
    assert!(t.contains("Summary: 4 grading object(s)"));
}

#[test]
fn several_files_and_fail_on() {
    let r = json(&[
        "assess",
        "examples/payments-operator.toml",
        "examples/single-system.json",
        "--as-of",
        "2025-11-21",
    ]);
    assert_eq!(r.as_array().unwrap().len(), 2);
    assert_eq!(r[1]["file"], "examples/single-system.json");
    let out = dengbao(&[
        "assess",
        "examples/payments-operator.toml",
        "--as-of",
        "2025-11-21",
        "--fail-on",
        "violation",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let out = dengbao(&[
        "assess",
        "examples/single-system.json",
        "--as-of",
        "2025-09-05",
        "--fail-on",
        "overdue",
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn rules_show_prints_a_pack_that_parses_back() {
    let out = dengbao(&["rules", "show"]);
    assert!(out.status.success());
    let t = String::from_utf8(out.stdout).unwrap();
    let table: toml::Table = t.parse().unwrap();
    assert_eq!(
        table["obligations"]["record_filing"]["cite"].as_str(),
        Some("Measures art. 15 ¶1; art. 15 ¶2")
    );
    let out = dengbao(&[
        "rules",
        "show",
        "examples/overlay-filing-10-working-days.toml",
    ]);
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("Overlay on `measures-2007`") && t.contains("10 working days"));
    assert!(
        String::from_utf8(dengbao(&["rules", "list"]).stdout)
            .unwrap()
            .starts_with("measures-2007\t")
    );
}

fn write_tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dengbao-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn invalid_input_names_file_field_and_rule() {
    let example = std::fs::read_to_string(root().join("examples/payments-operator.toml")).unwrap();
    let single = std::fs::read_to_string(root().join("examples/single-system.json")).unwrap();
    let cases: Vec<(PathBuf, &str, &str)> = vec![
        (
            write_tmp(
                "cc.toml",
                &example.replace("91310115MA1K4XYW1X", "91310115MA1K4XYW15"),
            ),
            "organisation.credit_code",
            "GB 32100",
        ),
        (
            write_tmp(
                "div.toml",
                &example.replace("division = \"310115\"\n\n", "division = \"990115\"\n\n"),
            ),
            "organisation.division",
            "GB/T 2260",
        ),
        (
            write_tmp("date.json", &single.replace("2025-09-01", "2025-02-30")),
            "events[0].date",
            "does not exist",
        ),
        (
            write_tmp(
                "enum.json",
                &single.replace(
                    "\"serious_damage\" }],\n    \"system_service\"",
                    "\"grave\" }],\n    \"system_service\"",
                ),
            ),
            "assessment.business_information[0].degree",
            "unknown variant",
        ),
        (
            write_tmp(
                "ref.toml",
                &example.replace("\"fw-1\", \"waf-2\"", "\"fw-1\", \"waf-9\""),
            ),
            "systems[0].products_in_use[1]",
            "no product",
        ),
        (
            write_tmp(
                "fact.toml",
                &example.replace("testing_years = 9", "testing_yrs = 9"),
            ),
            "agencies[0].facts.testing_yrs",
            "art. 22",
        ),
        (
            write_tmp(
                "order.toml",
                &example.replace(
                    "construction_started = 2021-06-01",
                    "construction_started = 2023-06-01",
                ),
            ),
            "systems[0].lifecycle.operating_since",
            "before construction_started",
        ),
        (
            write_tmp(
                "grade.json",
                &single.replace("\"grade\": \"III\"", "\"grade\": \"VI\""),
            ),
            "events[0].grade",
            "art. 7",
        ),
        (
            write_tmp(
                "unknown.json",
                &single.replace("\"kind\"", "\"colour\": 1, \"kind\""),
            ),
            "unknown.json: colour:",
            "unknown field `colour`",
        ),
    ];
    for (path, field, rule) in cases {
        let out = dengbao(&["assess", path.to_str().unwrap(), "--as-of", "2025-01-01"]);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{}: {err}", path.display());
        assert!(
            err.contains(&*path.display().to_string()),
            "file missing: {err}"
        );
        assert!(err.contains(field), "field `{field}` missing: {err}");
        assert!(err.contains(rule), "rule `{rule}` missing: {err}");
        assert!(out.stdout.is_empty(), "no partial report on bad input");
    }
    let out = dengbao(&[
        "assess",
        "examples/single-system.json",
        "--as-of",
        "2025-13-01",
    ]);
    assert!(String::from_utf8(out.stderr).unwrap().contains("--as-of"));
}

// ----- dengbao scan ----------------------------------------------------------------------

fn scan_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dengbao-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("customers.csv"),
        "name,id,mobile\n张三,11010519491231002X,13800138000\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "nothing to see here\n").unwrap();
    dir
}

#[test]
fn scan_reports_masked_values_and_verdicts() {
    let dir = scan_dir("verdicts");
    let out = dengbao(&["scan", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("Verdict: SENSITIVE"), "{t}");
    assert!(
        t.contains("1101**********002X") && t.contains("138****8000"),
        "{t}"
    );
    assert!(
        !t.contains("11010519491231002X") && !t.contains("13800138000"),
        "raw value printed: {t}"
    );

    let r = json(&["scan", dir.to_str().unwrap()]);
    assert_eq!(r["summary"]["verdict"], "sensitive");
    assert_eq!(r["summary"]["files_scanned"], 2);
    assert_eq!(r["summary"]["counts"]["resident_id"]["high"], 1);

    let out = dengbao(&["scan", dir.to_str().unwrap(), "--format", "sarif"]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
}

#[test]
fn scan_fail_on_and_errors() {
    let dir = scan_dir("fail-on");
    let d = dir.to_str().unwrap();
    assert_eq!(
        dengbao(&["scan", d, "--fail-on", "high"]).status.code(),
        Some(3)
    );
    let clean = dir.join("notes.txt");
    assert_eq!(
        dengbao(&["scan", clean.to_str().unwrap(), "--fail-on", "low"])
            .status
            .code(),
        Some(0)
    );
    // A path that cannot be read is reported and fails the run, after the report.
    let out = dengbao(&["scan", d, "/nonexistent/file.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("FAILED: /nonexistent/file.txt")
    );
    // A bad configuration names the file and field.
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "[[regex]]\nname = \"x\"\npattern = \"(\"\n").unwrap();
    let out = dengbao(&["scan", d, "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.toml: regex[0].pattern"), "{err}");
}

#[test]
fn scan_reads_standard_input() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dengbao"))
        .args(["scan", "-", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("密级：机密\n正文".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["summary"]["verdict"], "blocked");
    assert_eq!(r["files"][0]["path"], "-");
}

#[test]
fn ledger_proofs_verify_offline_with_only_the_public_key() {
    let dir = std::env::temp_dir().join(format!("dengbao-cli-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = |f: &str| dir.join(f).to_str().unwrap().to_owned();
    let entries: String = (0..57)
        .map(|i| format!("{{\"seq\":{i},\"action\":\"system.update\"}}\n"))
        .collect();
    std::fs::write(dir.join("entries.jsonl"), entries).unwrap();
    assert!(
        dengbao(&[
            "ledger",
            "keygen",
            "--name",
            "test.example/log",
            "--out",
            &p("")
        ])
        .status
        .success()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("test.example_log.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "private key readable by others");
    }
    let out = dengbao(&[
        "ledger",
        "prove-file",
        "--entries",
        &p("entries.jsonl"),
        "--index",
        "41",
        "--key",
        &p("test.example_log.key"),
        "--checkpoint-out",
        &p("cp"),
        "--proof-out",
        &p("proof.json"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = |cp: &str| {
        dengbao(&[
            "ledger",
            "check-proof",
            "--pubkey",
            &p("test.example_log.pub"),
            "--checkpoint",
            &p(cp),
            "--proof",
            &p("proof.json"),
        ])
    };
    let ok = check("cp");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("OK: entry 41 is included"));
    // A checkpoint edited after signing is refused.
    let cp = std::fs::read_to_string(dir.join("cp")).unwrap();
    std::fs::write(dir.join("cp-edited"), cp.replacen("\n57\n", "\n58\n", 1)).unwrap();
    let bad = check("cp-edited");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("does not verify"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    // Another key's checkpoint is refused too.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    assert!(
        dengbao(&[
            "ledger",
            "keygen",
            "--name",
            "test.example/log",
            "--out",
            other.to_str().unwrap()
        ])
        .status
        .success()
    );
    let out = dengbao(&[
        "ledger",
        "check-proof",
        "--pubkey",
        other.join("test.example_log.pub").to_str().unwrap(),
        "--checkpoint",
        &p("cp"),
        "--proof",
        &p("proof.json"),
    ]);
    assert_eq!(out.status.code(), Some(1));
}

/// Runs `sql` against the database behind `db_args` (SQLite through python3, PostgreSQL
/// through psql): the tamperer edits rows directly, bypassing the application.
fn tamper(db_args: &[String], sql: &str) {
    if db_args[0] == "--data-dir" {
        let db = Path::new(&db_args[1]).join("dengbao.db");
        let code = format!(
            "import sqlite3; c = sqlite3.connect({:?}); c.execute({:?}); c.commit()",
            db.to_str().unwrap(),
            sql
        );
        assert!(
            Command::new("python3")
                .args(["-c", &code])
                .status()
                .unwrap()
                .success()
        );
    } else {
        assert!(
            Command::new("psql")
                .args([db_args[1].as_str(), "-qc", sql])
                .status()
                .unwrap()
                .success()
        );
    }
}

fn tamper_case(db_args: Vec<String>, dir: &Path) {
    let run = |args: &[&str]| {
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        a.extend(db_args.iter().cloned());
        Command::new(env!("CARGO_BIN_EXE_dengbao"))
            .args(&a)
            .current_dir(root())
            .output()
            .unwrap()
    };
    assert!(
        run(&["admin", "create-org", "--name", "Tamper Test"])
            .status
            .success()
    );
    let out = run(&[
        "admin",
        "import",
        "--org",
        "Tamper Test",
        "examples/payments-operator.toml",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key_dir = dir.join("keys");
    std::fs::create_dir_all(&key_dir).unwrap();
    assert!(
        dengbao(&[
            "ledger",
            "keygen",
            "--name",
            "tamper.example/log",
            "--out",
            key_dir.to_str().unwrap()
        ])
        .status
        .success()
    );
    let key = key_dir.join("tamper.example_log.key");
    let public = key_dir.join("tamper.example_log.pub");
    let out = run(&["ledger", "checkpoint", "--key", key.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verify = || run(&["ledger", "verify", "--pubkey", public.to_str().unwrap()]);
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    // An offline proof from storage verifies with the public key alone.
    let cp = dir.join("cp");
    let proof = dir.join("proof.json");
    assert!(
        run(&[
            "ledger",
            "prove",
            "--seq",
            "3",
            "--checkpoint-out",
            cp.to_str().unwrap(),
            "--proof-out",
            proof.to_str().unwrap()
        ])
        .status
        .success()
    );
    assert!(
        dengbao(&[
            "ledger",
            "check-proof",
            "--pubkey",
            public.to_str().unwrap(),
            "--checkpoint",
            cp.to_str().unwrap(),
            "--proof",
            proof.to_str().unwrap()
        ])
        .status
        .success()
    );

    // Edit entry 7 in place: verify names it.
    tamper(
        &db_args,
        "UPDATE ledger_entries SET entry = REPLACE(entry, '\"import\"', '\"imp0rt\"') WHERE seq = 7",
    );
    let bad = verify();
    let text = String::from_utf8_lossy(&bad.stdout).to_string();
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(
        text.contains("BAD: entry 7: its text does not match"),
        "{text}"
    );
    // Edit it and its recorded hash consistently: the signed checkpoint still catches it.
    let leaf: String = {
        let out = run(&["ledger", "verify", "--pubkey", public.to_str().unwrap()]);
        let t = String::from_utf8_lossy(&out.stdout).to_string();
        t.split("text hashes to ").nth(1).unwrap()[..64].to_owned()
    };
    tamper(
        &db_args,
        &format!("UPDATE ledger_entries SET leaf_hash = '{leaf}' WHERE seq = 7"),
    );
    let bad = verify();
    let text = String::from_utf8_lossy(&bad.stdout).to_string();
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(!text.contains("entry 7: its text"), "{text}");
    assert!(
        text.contains("changed after the checkpoint was signed"),
        "{text}"
    );
}

#[test]
fn ledger_verify_finds_rows_edited_directly_in_the_database() {
    let dir = std::env::temp_dir().join(format!("dengbao-cli-tamper-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sqlite")).unwrap();
    tamper_case(
        vec![
            "--data-dir".into(),
            dir.join("sqlite").to_str().unwrap().into(),
        ],
        &dir.join("sqlite"),
    );
    // PostgreSQL, in a database of its own (the shared test database must stay intact).
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let base = &url[..url.rfind('/').unwrap()];
        let name = format!("dengbao_tamper_{}", std::process::id());
        let admin = format!("{base}/postgres");
        assert!(
            Command::new("psql")
                .args([admin.as_str(), "-qc", &format!("CREATE DATABASE {name}")])
                .status()
                .unwrap()
                .success()
        );
        std::fs::create_dir_all(dir.join("pg")).unwrap();
        tamper_case(
            vec!["--database".into(), format!("{base}/{name}")],
            &dir.join("pg"),
        );
        let _ = Command::new("psql")
            .args([
                admin.as_str(),
                "-qc",
                &format!("DROP DATABASE {name} WITH (FORCE)"),
            ])
            .status();
    }
}

/// The vault's master key lives beside the data directory (0600), administrators' TOTP
/// secrets are sealed under it, and `vault rotate-master` re-wraps every key and forgets the
/// old version; a key from the environment is refused rotation with the reason.
#[test]
fn vault_master_key_beside_the_data_directory_rotates() {
    let dir = std::env::temp_dir().join(format!("dengbao-cli-vault-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let d = data.to_str().unwrap();
    let run = |args: &[&str], env: Option<(&str, &str)>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dengbao"));
        c.args(args)
            .current_dir(&dir)
            .env("DENGBAO_PASSWORD", "Vault#Test-2026x");
        c.env_remove("DENGBAO_MASTER_KEY");
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let ok = |o: Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    ok(run(
        &[
            "admin",
            "create-org",
            "--data-dir",
            d,
            "--name",
            "Vault Org",
        ],
        None,
    ));
    ok(run(
        &[
            "admin",
            "create-user",
            "--data-dir",
            d,
            "--org",
            "Vault Org",
            "--username",
            "keeper",
            "--role",
            "system_admin",
        ],
        None,
    ));
    let key = dir.join("data.master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        !data.join("data.master.key").exists(),
        "the key is not in the data directory"
    );
    let status = ok(run(&["vault", "status", "--data-dir", d], None));
    assert!(status.contains("key-encryption keys: 1"), "{status}");
    let before = std::fs::read_to_string(&key).unwrap();
    let out = ok(run(&["vault", "rotate-master", "--data-dir", d], None));
    assert!(
        out.contains("1 key-encryption keys re-wrapped") && out.contains("forgotten"),
        "{out}"
    );
    let after = std::fs::read_to_string(&key).unwrap();
    let old_version = before.lines().nth(1).unwrap().split(' ').next().unwrap();
    assert!(!after.contains(old_version), "{after}");
    let status = ok(run(&["vault", "status", "--data-dir", d], None));
    assert!(
        status.contains(&format!(
            "under {}",
            after.lines().nth(1).unwrap().split(' ').next().unwrap()
        )),
        "{status}"
    );
    // A key from the environment: used, but never rotated by the vault.
    let env = Some(("DENGBAO_MASTER_KEY", "00112233445566778899aabbccddeeff"));
    let o = run(
        &[
            "vault",
            "rotate-master",
            "--data-dir",
            dir.join("other").to_str().unwrap(),
        ],
        env,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot rotate"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(
        &["vault", "status", "--data-dir", d],
        Some(("DENGBAO_MASTER_KEY", "xyz")),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("32 hexadecimal digits"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The customer's offline check of an IDC request's evidence, on files made here with the
/// ledger's primitives (the server test checks real evidence with the same verifier).
#[test]
fn check_evidence_verifies_offline_and_names_a_forged_entry() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    use dengbao_ledger::{Checkpoint, NoteSigner, Tree, leaf_hash};

    let dir = std::env::temp_dir().join(format!("dengbao-cli-evidence-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let op = NoteSigner::generate("idc.example/ledger").unwrap();
    let approver = NoteSigner::generate("dengbao-approver/cust-a").unwrap();
    let entries = [
        r#"{"action":"idc.access.request","actor":"ops","object":"R1","time":1}"#,
        r#"{"action":"idc.access.decide","actor":"cust-a","object":"R1","time":2}"#,
        r#"{"action":"idc.access.use","actor":"ops","object":"R1","time":3}"#,
    ];
    let tree = Tree::from_leaves(entries.iter().map(|e| leaf_hash(e.as_bytes())));
    let c = Checkpoint {
        origin: op.name.clone(),
        size: tree.len(),
        root: tree.root(),
    };
    let proofs: Vec<Value> = (0..3u64)
        .map(|i| {
            serde_json::json!({
                "kind": "inclusion", "index": i, "tree_size": 3,
                "entry": B64.encode(entries[i as usize]),
                "path": tree.inclusion_proof(i, 3).unwrap().iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let evidence = serde_json::json!({
        "checkpoint": op.sign_checkpoint(&c).unwrap(),
        "public_key": op.verifier().to_key_string(),
        "tree_size": 3,
        "proofs": proofs,
    })
    .to_string();
    let request = serde_json::json!({
        "id": "R1",
        "decisions": [{ "by": "cust-a", "decision": "approve",
            "note": approver.sign("request R1 version 2\ndecision approve\n").unwrap(),
            "public_key": approver.verifier().to_key_string() }],
    })
    .to_string();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let pubkey = write("ledger.pub", &op.verifier().to_key_string());
    let mine = write("cust-a.pub", &approver.verifier().to_key_string());
    let req = write("request.json", &request);
    let run = |ev: &str| {
        dengbao(&[
            "ledger",
            "check-evidence",
            "--pubkey",
            &pubkey,
            "--evidence",
            ev,
            "--request",
            &req,
            "--approver-key",
            &mine,
        ])
    };
    let good = run(&write("evidence.json", &evidence));
    let out = String::from_utf8_lossy(&good.stdout);
    assert!(
        good.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(
        out.contains("idc.access.use") && out.contains("signature verified with your key"),
        "{out}"
    );
    assert!(out.lines().last().unwrap().starts_with("OK:"), "{out}");

    let forged = evidence.replace(
        &B64.encode(entries[2]),
        &B64.encode(entries[2].replace("\"ops\"", "\"eve\"")),
    );
    let bad = run(&write("forged.json", &forged));
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains("INVALID") && out.contains("not included"),
        "{out}"
    );

    // Another operator's key: the checkpoint itself is refused.
    let other = write(
        "other.pub",
        &NoteSigner::generate("idc.example/ledger")
            .unwrap()
            .verifier()
            .to_key_string(),
    );
    let o = dengbao(&[
        "ledger",
        "check-evidence",
        "--pubkey",
        &other,
        "--evidence",
        &dir.join("evidence.json").to_string_lossy(),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not signed"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The CLI is a path to customer data only if it has a command that opens it: it has none.
/// Every command is listed here, so a new one is a deliberate change of this test.
#[test]
fn no_command_opens_customer_data() {
    let commands = |group: &[&str]| -> Vec<String> {
        let mut args = group.to_vec();
        args.push("--help");
        let o = dengbao(&args);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines()
            .skip_while(|l| !l.starts_with("Commands:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            // A command's line is indented by two; wrapped descriptions by more.
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .filter(|c| c != "help")
            .collect()
    };
    let mut all = Vec::new();
    for top in commands(&[]) {
        let sub = commands(&[&top]);
        if sub.is_empty() {
            all.push(top);
        } else {
            all.extend(sub.into_iter().map(|s| format!("{top} {s}")));
        }
    }
    assert_eq!(
        all,
        [
            "assess",
            "scan",
            "serve",
            "migrate",
            "admin create-org",
            "admin create-user",
            "admin import",
            "vault status",
            "vault rotate-master",
            "vault rotate-kek",
            "ledger keygen",
            "ledger verify",
            "ledger checkpoint",
            "ledger prove",
            "ledger prove-file",
            "ledger check-proof",
            "ledger check-evidence",
            "rules show",
            "rules list",
        ]
    );
}
