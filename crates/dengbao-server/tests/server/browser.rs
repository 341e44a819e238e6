//! End-to-end: Debian's Chromium, driven over WebDriver by chromedriver, against a server
//! started here on loopback. Needs `chromium` and `chromium-driver` (installed by `.ci/run`);
//! without them the test fails — set `DENGBAO_SKIP_BROWSER=1` to skip it knowingly.
//! Screenshots go to `target/e2e/`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use dengbao_server::{AppState, Config, app};
use dengbao_store::{Store, new_id};
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

// ----- a minimal WebDriver client (W3C protocol: JSON over HTTP) --------------------------------

struct Driver {
    port: u16,
    session: String,
    child: Child,
    base: String,
    shots: PathBuf,
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(90))).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // chromedriver may keep the connection open: read the head, then exactly the body.
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "webdriver closed the connection");
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse::<usize>().unwrap());
    let payload = match length {
        Some(len) => {
            while raw.len() < head_end + len {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "webdriver closed the connection early");
                raw.extend_from_slice(&buf[..n]);
            }
            raw[head_end..head_end + len].to_vec()
        }
        None => {
            s.read_to_end(&mut raw).unwrap();
            raw[head_end..].to_vec()
        }
    };
    serde_json::from_slice(&payload).unwrap_or_else(|_| {
        panic!(
            "webdriver answered {head}\n{}",
            String::from_utf8_lossy(&payload)
        )
    })
}

impl Driver {
    fn start(base: String, shots: PathBuf, profile: &Path) -> Driver {
        let port = free_port();
        let child = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1280,800", "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        }}});
        let r = http(port, "POST", "/session", Some(&caps));
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_owned();
        Driver {
            port,
            session,
            child,
            base,
            shots,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let r = http(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body.as_ref(),
        );
        if r["value"]["error"].is_string() {
            panic!("webdriver {method} {path}: {}", r["value"]);
        }
        r["value"].clone()
    }

    fn go(&self, path: &str) {
        self.cmd(
            "POST",
            "/url",
            Some(json!({ "url": format!("{}{path}", self.base) })),
        );
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None).as_str().unwrap().to_owned()
    }

    fn path(&self) -> String {
        self.url().trim_start_matches(&self.base).to_owned()
    }

    fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css} on {}: {v}", self.path()))
            .to_owned()
    }

    fn count(&self, css: &str) -> usize {
        self.js(
            "return document.querySelectorAll(arguments[0]).length;",
            json!([css]),
        )
        .as_u64()
        .unwrap() as usize
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.cmd("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The page's text, for assertion messages.
    fn body(&self) -> String {
        format!(
            "{}: {}",
            self.path(),
            self.js("return document.body.innerText.slice(0, 1500)", json!([]))
        )
    }

    /// Clicks something that loads a new page and waits until that page has loaded.
    fn submit(&self, css: &str) {
        self.js("window.__previous_page = true;", json!([]));
        self.click(css);
        self.wait_for(
            "the next page",
            "return !window.__previous_page && document.readyState === 'complete';",
        );
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/clear"), Some(json!({})));
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Picks an option of a `<select>` the way a user does (fires `change`).
    fn choose(&self, select: &str, value: &str) {
        self.click(&format!("{select} option[value=\"{value}\"]"));
    }

    fn set_value(&self, css: &str, value: &str) {
        self.js(
            "document.querySelector(arguments[0]).value = arguments[1];",
            json!([css, value]),
        );
    }

    fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self.js(script, json!([]));
            if !(v.is_null() || v == json!(false)) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A screenshot of the whole page: the window is made as tall as the page (up to a
    /// limit) for the picture, then restored.
    fn shot(&self, name: &str) {
        let size = self.cmd("GET", "/window/rect", None);
        let (w, h) = (
            size["width"].as_u64().unwrap(),
            size["height"].as_u64().unwrap(),
        );
        let page = self
            .js("return document.documentElement.scrollHeight", json!([]))
            .as_u64()
            .unwrap();
        self.js("window.scrollTo(0, 0)", json!([]));
        self.resize(
            w as u32,
            (page + (h - page.min(h)) + 120).clamp(h, 4000) as u32,
        );
        let b64 = self.cmd("GET", "/screenshot", None);
        self.resize(w as u32, h as u32);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    fn resize(&self, w: u32, h: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({ "width": w, "height": h })),
        );
    }

    /// The accessibility smoke check: a title, a `lang`, a label for every control, and no
    /// horizontal scrolling of the page itself.
    fn check_page(&self) {
        let problems = self.js(
            r##"
            const out = [];
            if (!document.title.trim()) out.push('no <title>');
            if (!document.documentElement.lang) out.push('no lang on <html>');
            for (const el of document.querySelectorAll('input, select, textarea')) {
              if (el.type === 'hidden') continue;
              const labelled = (el.id && document.querySelector('label[for="' + el.id + '"]'))
                || el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
              if (!labelled) out.push('unlabelled ' + el.outerHTML.slice(0, 80));
            }
            if (!document.querySelector('a.skip[href="#main"]')) out.push('no skip link');
            if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
            return out;
            "##,
            json!([]),
        );
        assert_eq!(problems, json!([]), "on {}", self.path());
    }

    /// Logs in; with TOTP required for everyone, enrols the authenticator shown on the page
    /// or, for a user who has one (`secret`), enters its current code.
    /// Logs in; answers the TOTP secret (read from the enrolment page the first time).
    fn login(&self, user: &str, password: &str, secret: Option<&str>, state: &AppState) -> String {
        // Stay on a login page that carries where to go next.
        if !self.path().starts_with("/login") {
            self.go("/login");
        }
        self.type_into("#username", user);
        self.type_into("#password", password);
        self.submit("form[action=\"/login\"] button[type=submit]");
        let path = self.path();
        let (secret, form) = if path.starts_with("/login/enrol") {
            (self.text("#totp-secret"), "/login/enrol")
        } else {
            assert!(path.starts_with("/login/totp"), "after password: {path}");
            (secret.expect("a TOTP secret").to_owned(), "/login/totp")
        };
        let code = dengbao_server::auth::totp_for(&secret, user)
            .unwrap()
            .generate((state.clock.now_ms() / 1000) as u64)
            .to_string();
        self.check_page();
        self.type_into("#code", &code);
        self.submit(&format!("form[action=\"{form}\"] button[type=submit]"));
        secret
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// Starts the server on loopback in its own runtime; answers its state and base URL.
fn serve(dir: &Path) -> (AppState, String, Vec<dengbao_server::demo::DemoLogin>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let db = format!("sqlite://{}", dir.join("e2e.db").display());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let store = Store::connect(&db, 4).await.unwrap();
            store.migrate().await.unwrap();
            let (pack, inv) = crate::harness::example();
            let logins = dengbao_server::demo::seed(
                &crate::harness::vault(&store),
                &pack,
                &inv,
                crate::harness::now_ms(),
            )
            .await
            .unwrap();
            let config = Config {
                require_totp_for_all: true,
                ..Config::default()
            };
            let state = crate::harness::state(store, config, pack);
            let mut logins = logins;
            logins.extend(
                dengbao_server::demo::seed_idc(&state.app, "")
                    .await
                    .unwrap(),
            );
            state
                .ledger
                .set_signer(dengbao_ledger::NoteSigner::generate("e2e.example/ledger").unwrap());
            dengbao_server::demo::seed_party_story(&state.app, "")
                .await
                .unwrap();
            dengbao_server::ledger::spawn_checkpointer(state.clone());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tx.send((state.clone(), format!("http://{addr}"), logins))
                .unwrap();
            axum::serve(listener, app(state)).await.unwrap();
        });
    });
    rx.recv_timeout(Duration::from_secs(60)).unwrap()
}

/// A demo server, a browser on it and the run's directory, or `None` when the run skips browsers knowingly.
#[allow(clippy::type_complexity)]
fn browser() -> Option<(
    AppState,
    Driver,
    Vec<dengbao_server::demo::DemoLogin>,
    PathBuf,
)> {
    if std::env::var("DENGBAO_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("DENGBAO_SKIP_BROWSER=1: browser test skipped");
        return None;
    }
    assert!(
        Path::new(&chromium()).exists() && Path::new(&chromedriver()).exists(),
        "install chromium and chromium-driver (or set DENGBAO_SKIP_BROWSER=1)"
    );
    let dir = std::env::temp_dir().join(format!("dengbao-e2e-{}", new_id()));
    std::fs::create_dir_all(dir.join("profile")).unwrap();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e");
    std::fs::create_dir_all(&shots).unwrap();
    let (state, base, logins) = serve(&dir);
    let d = Driver::start(base, shots, &dir.join("profile"));
    Some((state, d, logins, dir))
}

#[test]
fn operator_grades_files_and_a_member_cannot_edit() {
    let Some((state, d, logins, dir)) = browser() else {
        return;
    };

    // Not signed in: a page sends you to log in and brings you back afterwards.
    d.go("/systems");
    assert!(
        d.path().starts_with("/login?next=%2Fsystems"),
        "{}",
        d.path()
    );
    d.check_page();
    d.type_into("#username", "lead");
    d.type_into("#password", "wrong password 1");
    d.submit("form[action=\"/login\"] button[type=submit]");
    assert_eq!(d.text("#login-error"), "用户名或密码错误。");
    d.login("lead", "Dengbao#2026-1", None, &state);
    assert_eq!(d.path(), "/systems");
    d.check_page();

    // Dashboard, in Chinese by default.
    d.go("/");
    assert_eq!(
        d.js("return document.documentElement.lang", json!([])),
        "zh-CN"
    );
    assert_eq!(d.text("h1"), "总览");
    assert!(
        d.count("table.obligations tbody tr") > 0,
        "the demo has due obligations"
    );
    d.check_page();
    d.shot("dashboard-zh-CN");
    let on_dashboard = d.count("ul.violations > li");
    d.go("/violations");
    d.check_page();
    assert_eq!(
        d.count("ul.violations > li"),
        on_dashboard,
        "the demo's art. 40 violations"
    );
    assert!(on_dashboard > 0);

    // Create a grading object: errors first, next to their fields, in the user's language.
    d.go("/systems/new");
    d.check_page();
    d.submit("form[action=\"/systems/new\"] button[type=submit]");
    assert_eq!(d.text("#id-error"), "此项必填。");
    assert_eq!(d.text("#name-error"), "此项必填。");
    assert!(d.text("#assessment-error").contains("至少选择一项"));
    d.check_page();
    d.type_into("#id", "e2e-portal");
    d.type_into("#name", "网上服务门户");
    d.choose("#kind", "information_system");
    d.set_value("#operating_since", "2026-01-05");
    d.choose("#s-citizens_legal_persons", "damage");
    d.choose("#g-citizens_legal_persons", "damage");
    d.submit("form[action=\"/systems/new\"] button[type=submit]");
    assert!(d.path().starts_with("/systems/e2e-portal"), "{}", d.path());
    assert_eq!(d.text(".flash"), "已创建。");
    assert_eq!(d.text("#system-grade"), "第一级");

    // Grade it to III in the wizard: the result follows each choice before saving.
    d.go("/systems/e2e-portal/grade");
    d.check_page();
    assert_eq!(d.text("#result-grade"), "第一级");
    d.choose("#s-social_order_public_interest", "serious_damage");
    d.wait_for(
        "the live grade",
        "const g = document.getElementById('result-grade'); return g && g.textContent === '第三级';",
    );
    let result = d.text("#grade-result");
    assert!(
        result.contains("《信息安全等级保护管理办法》第"),
        "citations shown: {result}"
    );
    d.shot("wizard-zh-CN");
    d.submit("#save-grading");
    assert!(
        d.path().starts_with("/systems/e2e-portal?ok="),
        "{}",
        d.path()
    );
    assert_eq!(d.text("#system-grade"), "第三级");

    // Record an evaluation that found the system wanting: a rectification plan falls due.
    d.click("#record-event summary");
    d.set_value("#date", "");
    d.submit("#record-event-button");
    assert_eq!(d.text("#date-error"), "此项必填。", "{}", d.body());
    d.check_page();
    d.choose("#type", "evaluation");
    d.set_value("#date", "2026-03-02");
    d.choose("#conformity", "non_conformant");
    let agency = d
        .js("const o = document.querySelectorAll('#agency option'); return o.length > 1 ? o[1].value : '';", json!([]))
        .as_str()
        .unwrap()
        .to_owned();
    if !agency.is_empty() {
        d.choose("#agency", &agency);
    }
    d.submit("#record-event-button");
    assert_eq!(d.text(".flash"), "事件已记录。", "{}", d.body());
    assert!(d.text("ol.timeline").contains("等级测评"));
    assert!(d.text("table.obligations").contains("制定整改方案"));

    // Say which registered products it uses.
    d.click("#in-use summary");
    let product = d
        .js("const b = document.querySelector('#in-use input[name=products]'); b.click(); return b.value;", json!([]))
        .as_str()
        .unwrap()
        .to_owned();
    d.submit("#save-in-use");
    assert_eq!(d.text(".flash"), "在用产品已保存。", "{}", d.body());
    assert!(
        d.text("section[aria-labelledby=\"overview\"] dl")
            .contains(&product)
    );

    // Its obligations, each with its article.
    let obligations = d.text("table.obligations");
    assert!(obligations.contains("向公安机关备案"), "{obligations}");
    assert!(
        obligations.contains("《信息安全等级保护管理办法》第十五条第一款"),
        "{obligations}"
    );
    d.go("/obligations?view=list");
    d.check_page();
    assert!(d.text("table.obligations").contains("网上服务门户"));
    d.go("/obligations");
    d.check_page();
    assert!(d.count("table.calendar td") >= 28);
    assert!(
        d.text(".summary").contains("已逾期"),
        "the demo has overdue work"
    );
    // The next deadline's month shows it on its day.
    d.submit(".summary a[href*=\"view=month\"]");
    d.check_page();
    assert!(d.count("table.calendar li") > 0, "{}", d.body());
    d.shot("obligations-month-zh-CN");
    d.go("/registry");
    d.check_page();
    assert!(d.count("details.candidate") > 0);
    assert!(d.body().contains("自主知识产权"), "criteria in Chinese");
    d.shot("registry-zh-CN");

    // The dossier: upload until complete, then submit.
    d.go("/systems/e2e-portal/dossier");
    d.check_page();
    assert_eq!(
        d.js(
            "return document.getElementById('dossier-state').dataset.complete",
            json!([])
        ),
        "false"
    );
    let missing = d.count("table.checklist tr.missing");
    assert!(
        missing >= 7,
        "Grade III needs art. 16(1)–(6) and the form: {missing}"
    );
    let mut uploads = 0;
    while d.count("table.checklist tr.missing") > 0 {
        let kind = d
            .js(
                "return document.querySelector('#kind option').value",
                json!([]),
            )
            .as_str()
            .unwrap()
            .to_owned();
        let file = dir.join(format!("{kind}.txt"));
        std::fs::write(&file, format!("{kind} — 测试材料 {uploads}\n")).unwrap();
        d.choose("#kind", &kind);
        let input = d.find("#file");
        d.cmd(
            "POST",
            &format!("/element/{input}/value"),
            Some(json!({ "text": file.display().to_string() })),
        );
        if uploads == 3 {
            d.shot("dossier-zh-CN");
        }
        d.submit("#upload-form button[type=submit]");
        assert_eq!(d.count(".flash"), 1, "{}", d.body());
        assert_eq!(d.text(".flash"), "材料已上传。");
        assert_eq!(d.count(&format!("#material-{kind}.provided")), 1);
        uploads += 1;
        assert!(uploads <= 10, "the dossier never completes");
    }
    assert_eq!(uploads, missing);
    assert_eq!(d.text("#dossier-state"), "材料齐全，可以提交备案。");
    // The stored file comes back byte for byte, as a download.
    let got = d.js(
        "const x = new XMLHttpRequest(); x.open('GET', '/systems/e2e-portal/materials/topology', false); x.send(); return [x.status, x.getResponseHeader('content-disposition'), x.responseText];",
        json!([]),
    );
    assert_eq!(got[0], 200);
    assert!(got[1].as_str().unwrap().starts_with("attachment"));
    assert_eq!(
        got[2],
        std::fs::read_to_string(dir.join("topology.txt")).unwrap()
    );
    d.submit("#submit-filing");
    assert_eq!(d.text(".flash"), "已提交备案。");
    assert!(
        d.text("#filings").contains("已提交"),
        "the filing status in the reader's words"
    );

    // Switch language: the same page in English, and it sticks.
    d.submit("a.lang");
    assert_eq!(
        d.js("return document.documentElement.lang", json!([])),
        "en"
    );
    assert!(
        d.text("h1").starts_with("Filing dossier"),
        "{}",
        d.text("h1")
    );
    d.check_page();
    d.shot("dossier-en");
    d.go("/");
    assert_eq!(d.text("h1"), "Dashboard");
    d.shot("dashboard-en");
    d.go("/systems/e2e-portal/grade");
    assert_eq!(d.text("#result-grade"), "Grade III");
    assert!(d.text("#grade-result").contains("Measures art. 7"));
    d.shot("wizard-en");

    // The object's history from the ledger, each change marked once a signed checkpoint
    // covers it (checkpoints are signed every second).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        d.go("/systems/e2e-portal");
        let marks = d.count("table.history .verified");
        let rows = d.count("table.history tbody tr");
        if rows > 0 && marks == rows {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "history not verified: {marks}/{rows}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        d.count("table.history tbody tr") >= 10,
        "create, grade, 7 uploads, submit"
    );

    // Phone width: still usable, nothing scrolls sideways.
    d.resize(390, 844);
    for page in [
        "/",
        "/systems/e2e-portal/dossier",
        "/systems/e2e-portal/grade",
        "/obligations",
    ] {
        d.go(page);
        d.check_page();
    }
    d.go("/");
    d.shot("dashboard-phone-en");
    d.resize(1280, 800);

    // A member (read-only) sees no edit controls, and a post anyway is refused.
    d.submit("form[action=\"/logout\"] button[type=submit]");
    assert!(d.path().starts_with("/login"), "{}", d.path());
    d.login("member", "Dengbao#2026-2", None, &state);
    d.go("/systems");
    assert_eq!(d.count("a[href=\"/systems/new\"]"), 0);
    assert_eq!(d.text("nav.pager"), "Page 1 / 1");
    d.go("/systems/e2e-portal");
    assert_eq!(d.count("a[href$=\"/grade\"]"), 0);
    d.go("/systems/e2e-portal/dossier");
    assert_eq!(d.count("#upload-form"), 0);
    assert_eq!(d.count("#submit-filing"), 0);
    d.go("/systems/e2e-portal/grade");
    assert_eq!(d.count("#save-grading"), 0);
    d.go("/obligations");
    assert_eq!(d.count("form[action=\"/obligations/feed\"]"), 0);
    let statuses = d.js(
        r#"
        const csrf = document.querySelector('meta[name="csrf-token"]').content;
        const post = (url, body) => {
          const x = new XMLHttpRequest();
          x.open('POST', url, false);
          x.setRequestHeader('content-type', 'application/x-www-form-urlencoded');
          x.send('_csrf=' + encodeURIComponent(csrf) + '&' + body);
          return x.status;
        };
        return [
          post('/systems/new', 'id=x1&name=x&kind=iot&s.national_security=damage&g.national_security=damage'),
          post('/systems/e2e-portal/grade', 'action=save&version=1&s.national_security=damage&g.national_security=damage'),
          post('/systems/e2e-portal/dossier/submit', ''),
          post('/obligations/feed', ''),
          post('/systems/new', 'id=x2'),
        ];
        "#,
        json!([]),
    );
    assert_eq!(statuses, json!([403, 403, 403, 403, 403]));
    // And without the CSRF token even the lead's session could not post (checked with the
    // member's session: the token is checked before the role).
    let no_csrf = d.js(
        "const x = new XMLHttpRequest(); x.open('POST', '/obligations/feed/revoke', false); x.setRequestHeader('content-type', 'application/x-www-form-urlencoded'); x.send('_csrf=forged'); return [x.status, x.responseText.includes('CSRF')];",
        json!([]),
    );
    assert_eq!(no_csrf, json!([403, true]));
    // Nothing the refused posts asked for happened.
    d.go("/systems/e2e-portal");
    assert_eq!(d.text("#system-grade"), "Grade III");
    d.go("/systems?q=x1");
    assert_eq!(d.count("table tbody tr"), 0);

    // The system administrator: administration only, under the three-administrator rule.
    d.submit("form[action=\"/logout\"] button[type=submit]");
    let admin = logins.iter().find(|l| l.username == "sysadmin").unwrap();
    d.login(
        "sysadmin",
        &admin.password,
        admin.totp_secret.as_deref(),
        &state,
    );
    assert!(
        d.path().starts_with("/admin"),
        "an administrator starts at administration: {}",
        d.path()
    );
    d.check_page();
    assert_eq!(
        d.count("nav a[href=\"/systems\"]"),
        0,
        "no compliance pages for administrators"
    );
    d.type_into("#username", "auditor2");
    d.type_into("#display_name", "Second auditor");
    d.type_into("#password", "short");
    d.submit("form[action=\"/admin/users\"] button[type=submit]");
    let err = d.text("#password-error");
    assert!(err.starts_with("This field breaks a rule:"), "{err}");
    d.check_page();
    d.type_into("#password", "Long-enough passphrase 2026");
    d.submit("form[action=\"/admin/users\"] button[type=submit]");
    assert_eq!(d.text(".flash"), "User created.");
    assert!(d.text("table").contains("auditor2"));
    d.shot("admin-en");
    d.go("/systems");
    assert_eq!(
        d.js(
            "return document.querySelector('.alert').textContent",
            json!([])
        ),
        "Your roles do not allow this."
    );

    // The audit administrator: the audit trail with the security events, and what a
    // verifier needs.
    d.submit("form[action=\"/logout\"] button[type=submit]");
    let auditor = logins.iter().find(|l| l.username == "auditor").unwrap();
    d.login(
        "auditor",
        &auditor.password,
        auditor.totp_secret.as_deref(),
        &state,
    );
    assert!(d.path().starts_with("/audit"), "{}", d.path());
    d.check_page();
    let trail = d.text("#audit-trail");
    for action in [
        "auth.login",
        "auth.login_failed",
        "system.create",
        "filing.submit",
        "user.create",
    ] {
        assert!(trail.contains(action), "{action} in the trail: {trail}");
    }
    assert!(d.text("#checkpoint").starts_with("e2e.example/ledger"));
    assert!(d.text("#public-key").starts_with("e2e.example/ledger+"));
    d.shot("audit-en");

    // The other party: Shanghai's public security bureau receives the operator's filing,
    // starts the art. 17 clock and issues the certificate, which anyone can check.
    d.submit("form[action=\"/logout\"] button[type=submit]");
    let psb_secret = d.login("psb", "Dengbao#2026-1", None, &state);
    assert!(
        d.path().starts_with("/reviews"),
        "the organ starts at its queue: {}",
        d.path()
    );
    d.check_page();
    let row = d.text("#review-e2e-portal");
    assert!(
        row.contains("submitted") && row.contains("Example Payments"),
        "{row}"
    );
    // The organ reads the filed dossier, with each file's digest, before it acts.
    d.submit("#review-e2e-portal a[href$=\"/dossier\"]");
    d.check_page();
    assert!(
        d.text("#review-materials").contains("topology.txt"),
        "{}",
        d.body()
    );
    d.go("/reviews");
    d.submit("#review-e2e-portal form[action$=\"/receive\"] button[type=submit]");
    assert_eq!(
        d.text(".flash"),
        "The filing is received; the review period runs."
    );
    let row = d.text("#review-e2e-portal");
    assert!(
        row.contains("received") && row.contains("Measures art. 17"),
        "{row}"
    );
    d.shot("reviews-en");
    d.submit("#review-e2e-portal form[action$=\"/decision\"] button[type=submit]");
    assert_eq!(d.text(".flash"), "Decided. The operator sees the decision.");
    assert!(d.text("#review-e2e-portal").contains("certified"));
    d.submit("#review-e2e-portal a[href^=\"/certificates/\"]");
    d.check_page();
    assert!(d.text("#cert-verified").contains("The signature verifies"));
    assert!(d.text("#cert-body").contains("e2e-portal"));
    d.shot("certificate-en");
    // The same two pages in Chinese.
    d.go("/lang/zh-CN?next=%2Freviews");
    d.check_page();
    d.shot("reviews-zh");
    d.submit("#review-e2e-portal a[href^=\"/certificates/\"]");
    d.check_page();
    d.shot("certificate-zh");
    // Another city's bureau sees none of it.
    d.go("/reviews");
    d.submit("form[action=\"/logout\"] button[type=submit]");
    d.login("psb-other", "Dengbao#2026-1", None, &state);
    assert!(d.path().starts_with("/reviews"), "{}", d.path());
    assert!(!d.text("main").contains("e2e-portal"));
    d.text("#reviews-empty");

    // Grading approval between two more parties, in Chinese: the expert committee's
    // opinion on the archive's Grade IV proposal, then the department's approval.
    d.submit("form[action=\"/logout\"] button[type=submit]");
    d.login("expert", "Dengbao#2026-1", None, &state);
    assert!(d.path().starts_with("/grade-reviews"), "{}", d.path());
    d.check_page();
    assert!(d.text("#grade-reviews").contains("archive-c"));
    d.type_into("#grade-reviews textarea[name=opinion]", "第四级定级准确。");
    d.submit("#grade-reviews form[action$=\"/opinion\"] button[type=submit]");
    assert_eq!(
        d.text(".flash"),
        "评审意见已提交并存入运营使用单位的备案材料；下一步由主管部门审批。"
    );
    d.submit("form[action=\"/logout\"] button[type=submit]");
    d.login("dept", "Dengbao#2026-1", None, &state);
    assert!(d.path().starts_with("/grade-reviews"), "{}", d.path());
    assert!(d.text("#grade-reviews").contains("第四级定级准确。"));
    d.shot("grades-zh");
    d.submit("#grade-reviews form[action$=\"/decision\"] button[type=submit]");
    assert_eq!(d.text(".flash"), "已审批。运营使用单位可以看到审批结果。");
    assert!(d.text("#grade-reviews").contains("已批准"));
    // The organ's supervision page: its area's objects with their inspection cadence.
    d.submit("form[action=\"/logout\"] button[type=submit]");
    // A fresh TOTP step: the organ's code from its first log-in may not be replayed.
    state.clock.advance(30_000);
    d.login("psb", "Dengbao#2026-1", Some(&psb_secret), &state);
    d.go("/supervision");
    d.check_page();
    assert!(d.text("#supervision").contains("pay-core"));
    d.shot("supervision-zh");

    // IDC customer data. The studio (cust-b) approves the destruction the data centre asked
    // for; the data centre executes it and gets the signed certificate; the bank (cust-a)
    // sees nothing of the studio.
    d.submit("form[action=\"/logout\"] button[type=submit]");
    let cust_b = d.login("cust-b", "Dengbao#2026-1", None, &state);
    assert!(
        d.path().starts_with("/idc"),
        "a customer starts at its data: {}",
        d.path()
    );
    d.check_page();
    assert!(d.text("#idc-assets").contains("Player profiles"));
    assert!(
        !d.body().contains("Example Bank"),
        "the other customer is never shown"
    );
    assert_eq!(
        d.count("#isolation li"),
        1,
        "its volume in a shared rack is flagged"
    );
    d.shot("idc-customer-zh");
    d.submit("#idc-destructions form[action$=\"/decision\"] button[value=approve]");
    d.check_page();
    assert!(
        d.text("#idc-destructions").contains("已批准"),
        "{}",
        d.text("#idc-destructions")
    );
    d.go("/lang/en?next=%2Fidc");
    d.shot("idc-customer-en");
    d.submit("form[action=\"/logout\"] button[type=submit]");
    d.login("idc-ops", "Dengbao#2026-1", None, &state);
    assert!(d.path().starts_with("/idc"), "{}", d.path());
    d.check_page();
    assert!(
        d.text("#idc-customers").contains("Example Bank")
            && d.text("#idc-customers").contains("c3")
    );
    assert!(
        d.count("table.raci") >= 2,
        "the responsibility matrices are drawn"
    );
    d.shot("idc-operator-en");
    d.submit("#idc-destructions form[action$=\"/execute\"] button[type=submit]");
    assert!(d.path().starts_with("/idc/certificates/D-"), "{}", d.path());
    d.check_page();
    assert!(d.text("#cert-verified").contains("The signature verifies"));
    assert!(d.text("#cert-body").contains("crypto-shred"));
    d.shot("idc-certificate-en");
    // Onboarding a customer and recording an incident through the page's forms.
    d.go("/idc");
    d.click("#customers-h ~ details summary");
    d.type_into("#nc-name", "E2E Clinic");
    d.type_into("#nc-sector", "healthcare");
    d.choose("#nc-class", "personal");
    d.submit("#new-customer button[type=submit]");
    d.check_page();
    let row = d.text("#idc-customers");
    assert!(
        row.contains("E2E Clinic") && row.contains("c3"),
        "a critical sector starts at c3: {row}"
    );
    d.click("#incidents-h ~ details summary");
    d.type_into("#ni-title", "E2E cooling failure");
    d.set_value("#ni-detected", "2026-01-05T09:30");
    d.click("#new-incident input[name=customer]");
    d.submit("#new-incident button[type=submit]");
    d.check_page();
    assert!(
        d.text("#idc-incidents").contains("E2E cooling failure"),
        "{}",
        d.body()
    );
    // Asking the studio for access to one of its assets.
    d.click("#access-h ~ details summary");
    let studio = d.js(
        "return [...document.querySelectorAll('#na2-customer option')].find(o => o.textContent.includes('Studio')).value;",
        json!([]),
    );
    d.choose("#na2-customer", studio.as_str().unwrap());
    let box_id = d.js(
        "return [...document.querySelectorAll('#new-access label')].find(l => l.textContent.includes('Player profiles')).htmlFor;",
        json!([]),
    );
    d.click(&format!("#{}", box_id.as_str().unwrap()));
    d.type_into("#na2-ticket", "CS-77");
    d.submit("#new-access button[type=submit]");
    d.check_page();
    assert!(d.text("#access").contains("CS-77"), "{}", d.text("#access"));
    d.go("/lang/zh-CN?next=%2Fidc");
    d.check_page();
    d.shot("idc-operator-zh");
    d.submit("form[action=\"/logout\"] button[type=submit]");
    d.login("cust-a", "Dengbao#2026-1", None, &state);
    d.check_page();
    assert!(d.text("#idc-assets").contains("Core ledger database"));
    assert!(!d.body().contains("Player profiles") && !d.body().contains("Games Studio"));
    // The studio's approver makes its key and approves, with the policy's reasoning in view.
    d.submit("form[action=\"/logout\"] button[type=submit]");
    // A fresh TOTP step: the code of the first log-in is spent.
    state.clock.advance(30_000);
    d.login("cust-b", "Dengbao#2026-1", Some(&cust_b), &state);
    d.check_page();
    d.submit("#make-key button[type=submit]");
    d.check_page();
    assert!(d.text("#access").contains("CS-77"));
    d.shot("idc-access-inbox-zh");
    d.submit("#access article form[action$=\"/decision\"] button[value=approve]");
    d.check_page();
    assert!(
        d.text("#access article").contains("已批准"),
        "{}",
        d.text("#access")
    );
    d.go("/lang/en?next=%2Fidc");
    d.shot("idc-access-inbox-en");
}

/// The secret-involved and cryptography tracks with three parties: the operator reports a
/// change of its secret-involved archive and is refused a second usage filing while one
/// waits; the secrecy department approves the demo's waiting application and requires
/// re-approval of the change (reasons required); the cryptography administration accepts
/// the usage filing, its products checked against the list, and keeps its list.
#[test]
fn secrecy_and_cryptography_submissions_between_three_parties() {
    let Some((state, d, _, _)) = browser() else {
        return;
    };
    let lead = d.login("lead", "Dengbao#2026-1", None, &state);
    d.go("/submissions");
    d.check_page();
    assert_eq!(d.text("h1"), "保密与密码报送");
    assert!(
        d.text("#secret-archive-c").contains("齐全"),
        "the demo's art. 30 materials are complete: {}",
        d.text("#secret-objects")
    );
    // The change report: what changed, when, and how.
    d.choose("#change-object", "archive-c");
    d.choose("#change-aspect", "connection_area");
    d.type_into("#change-description", "新增与市档案馆专网的连接。");
    d.submit("#change button[type=submit]");
    assert_eq!(d.text(".flash"), "变更已报告，并记入系统历史。");
    d.check_page();
    // A usage filing with an algorithm's name that is not one, then a second one while the
    // demo's waits: each refused on the page with the rule's words.
    d.type_into("#crypto-algorithms", "SM2 <SM3>");
    d.type_into("#crypto-purposes", "支付报文的传输加密。");
    d.submit("#crypto-filing button[type=submit]");
    assert!(d.text(".alert").contains("algorithms[1]"), "{}", d.body());
    d.type_into("#crypto-algorithms", "SM2, SM3、SM4");
    d.type_into("#crypto-purposes", "支付报文的传输加密。");
    d.submit("#crypto-filing button[type=submit]");
    assert!(
        d.text(".alert").contains("already waiting"),
        "the demo's filing waits: {}",
        d.body()
    );
    let sent = d.text("#submissions");
    assert!(
        sent.contains("变更报告") && sent.contains("涉密系统申请") && sent.contains("密码使用备案"),
        "{sent}"
    );
    d.shot("submissions-operator-zh");
    d.go("/lang/en?next=%2Fsubmissions");
    d.check_page();
    assert_eq!(d.text("h1"), "Secrecy and cryptography submissions");
    d.shot("submissions-operator-en");

    // The secrecy department: the application and the change report.
    d.go("/lang/zh-CN?next=%2Fsubmissions");
    d.submit("form[action=\"/logout\"] button[type=submit]");
    d.login("secrecy", "Dengbao#2026-1", None, &state);
    d.go("/submissions");
    d.check_page();
    let inbox = d.text("#submissions");
    assert!(
        inbox.contains("archive-c")
            && inbox.contains("变更报告")
            && !inbox.contains("密码使用备案"),
        "the department sees what reached it, not the cryptography filing: {inbox}"
    );
    d.shot("submissions-secrecy-zh");
    let row_of = |label: &str| -> String {
        d.js(
            "return [...document.querySelectorAll('#submissions tbody tr')].find(r => r.cells[0].innerText.includes(arguments[0]) && r.dataset.status === 'submitted').id;",
            json!([label]),
        )
        .as_str()
        .unwrap()
        .to_owned()
    };
    let app_row = row_of("涉密系统申请");
    d.submit(&format!("#{app_row} button[type=submit]"));
    assert_eq!(d.text(".flash"), "已决定。运营使用单位可见，并已记入账本。");
    assert!(d.text(&format!("#{app_row}")).contains("已批准"));
    let change_row = row_of("变更报告");
    d.choose(&format!("#{change_row} select"), "reapproval_required");
    d.submit(&format!("#{change_row} button[type=submit]"));
    assert!(
        d.text(".alert").contains("reasons"),
        "re-approval needs reasons: {}",
        d.body()
    );
    d.choose(&format!("#{change_row} select"), "reapproval_required");
    d.type_into(
        &format!("#{change_row} textarea"),
        "连接范围扩大，须重新审批。",
    );
    d.set_value(&format!("#{change_row} input[name=deadline]"), "2099-01-31");
    d.submit(&format!("#{change_row} button[type=submit]"));
    assert!(d.text(&format!("#{change_row}")).contains("须重新审批"));
    d.go("/lang/en?next=%2Fsubmissions");
    d.check_page();
    d.shot("submissions-secrecy-en");

    // The cryptography administration: the filing's products against the list.
    d.go("/lang/zh-CN?next=%2Fsubmissions");
    d.submit("form[action=\"/logout\"] button[type=submit]");
    d.login("crypto", "Dengbao#2026-1", None, &state);
    d.go("/submissions");
    d.check_page();
    let inbox = d.text("#submissions");
    assert!(
        inbox.contains("pay-core") && inbox.contains("在目录内") && !inbox.contains("archive-c"),
        "{inbox}"
    );
    let filing = row_of("密码使用备案");
    d.choose(&format!("#{filing} select"), "accept");
    d.submit(&format!("#{filing} button[type=submit]"));
    assert!(d.text(&format!("#{filing}")).contains("已备案"));
    d.type_into("#lp-certificate", "GM004-2026-0001");
    d.type_into("#lp-name", "E2E 密码机");
    d.type_into("#lp-vendor", "某密码公司");
    d.set_value("#lp-until", "2030-12-31");
    d.submit("#list-product button[type=submit]");
    assert_eq!(d.text(".flash"), "产品已列入本部门目录。");
    let listed = d.js(
        "return [...document.querySelectorAll('#approved-products tbody tr')].find(r => r.innerText.includes('GM004-2026-0001')).id;",
        json!([]),
    );
    let listed = listed.as_str().unwrap().to_owned();
    d.submit(&format!("#{listed} button[type=submit]"));
    assert!(d.text(&format!("#{listed}")).contains("已失效"));
    d.check_page();
    d.shot("submissions-crypto-zh");
    d.go("/lang/en?next=%2Fsubmissions");
    d.shot("submissions-crypto-en");

    // Back on the operator's side: the decisions arrived.
    d.go("/lang/zh-CN?next=%2Fsubmissions");
    d.submit("form[action=\"/logout\"] button[type=submit]");
    state.clock.advance(30_000);
    d.login("lead", "Dengbao#2026-1", Some(&lead), &state);
    d.go("/submissions");
    let sent = d.text("#submissions");
    assert!(
        sent.contains("已批准") && sent.contains("须重新审批") && sent.contains("已备案"),
        "{sent}"
    );
    assert!(sent.contains("连接范围扩大，须重新审批。"));
    // The department's time limit is now the archive's obligation (art. 31).
    d.go("/systems/archive-c");
    d.check_page();
    let main = d.text("main");
    assert!(
        main.contains("变更后重新审批") && main.contains("2099-01-31"),
        "{main}"
    );
}
