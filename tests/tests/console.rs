//! The web console in a real browser: Debian's headless Chromium, driven through chromedriver
//! (WebDriver), against the real `bindery-server` binary and the ConnectWise sandbox. An admin
//! signs in, sets up the integration from the ConnectWise page (a type with a required question is
//! refused next to its field), links a policy with "Save Account" and watches the devices bind,
//! sees one device fail (red, ConnectWise's words under "View") and "Retry Pending" fix it once
//! the cause is gone (blue). An alert's ticket is closed from the alerts page. A form posted without its CSRF token is refused; signing out and an
//! expired session end on the sign-in page; no page ever carries the private key; the pages fit a
//! narrow window.
//!
//! Screenshots of the main pages go to `docs/screenshots/` when BINDERY_SCREENSHOTS=docs
//! (`scripts/screenshots`), otherwise to a temporary directory.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bindery_e2e::{ServerProcess, admin, free_port};
use connectwise_sandbox::Seed;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const PASSWORD: &str = "correct-horse-battery-staple";
const PRIVATE_KEY: &str = "sandbox-private";

/// chromedriver on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver runs: scripts/install-test-deps installs chromium-driver");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn browser(driver: &Driver) -> Client {
    // Debian's /usr/bin/chromium is a wrapper script; the browser itself is beside its libraries.
    let binary = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": binary, "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
            "--disable-gpu", "--window-size=1280,900", "--lang=en-US"]}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap()
}

/// Where screenshots go: docs/screenshots for the README, or a scratch directory.
fn shots_dir(scratch: &Path) -> PathBuf {
    if std::env::var("BINDERY_SCREENSHOTS").as_deref() == Ok("docs") {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
    } else {
        scratch.to_path_buf()
    }
}

struct Session {
    c: Client,
    base: String,
    shots: PathBuf,
    /// Every page's source seen, to scan for secrets at the end.
    seen: Vec<String>,
}

impl Session {
    async fn go(&mut self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
        self.record().await;
    }

    async fn record(&mut self) {
        self.seen.push(self.c.source().await.unwrap());
    }

    /// The text of the first element matching `css`, waiting for it to appear (a form's answer
    /// may still be loading).
    async fn text(&self, css: &str) -> String {
        self.c
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self.c.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    async fn select(&self, css: &str, value: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Clicks, then lets a page the click loads finish loading.
    async fn click(&mut self, css: &str) {
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        for _ in 0..50 {
            let ready = self.c.execute("return document.readyState;", vec![]).await;
            if ready.is_ok_and(|r| r == "complete") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.record().await;
    }

    async fn shot(&self, name: &str) {
        let png = self.c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::create_dir_all(&self.shots).unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// Reloads the page until `done` holds on its source.
    async fn wait_for(&mut self, what: &str, path: &str, done: impl Fn(&str) -> bool) {
        let started = Instant::now();
        loop {
            self.go(path).await;
            if done(self.seen.last().unwrap()) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}: {}",
                self.seen.last().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// A configuration made by someone other than Bindery, in Acme; returns its id.
fn seed_config(sb: &connectwise_sandbox::Running, name: &str, extra: serde_json::Value) -> i64 {
    let mut record = json!({
        "name": name,
        "type": {"id": 2, "name": "Managed Server"},
        "status": {"id": 1, "name": "Active"},
        "company": {"id": 2, "identifier": "Acme", "name": "Acme Corporation"},
    });
    for (k, v) in extra.as_object().unwrap() {
        record[k] = v.clone();
    }
    sb.sandbox.data().configurations.insert(record)
}

fn set_asset_tag_required(sb: &connectwise_sandbox::Running, required: bool) {
    let mut data = sb.sandbox.data();
    data.type_questions.update_each(|q| {
        if q["question"] == "Asset tag" {
            q["requiredFlag"] = json!(required);
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_links_watches_binding_and_fixes_a_failure_in_a_real_browser() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    let created = Command::new(bindery_e2e::binary("bindery-server"))
        .args(["admin", "--data-dir", &d, "admin-create", "ana"])
        .env("BINDERY_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(created.status.success());
    admin(&d, &["policy-create", "Acme office"]);
    admin(&d, &["policy-create", "GLOBEX, Inc. office"]);
    let token = admin(&d, &["token-create", "--policy", "Acme office"])
        .trim()
        .to_owned();
    // Its public URL is where this test reaches it, so the install commands name it.
    let listen = format!("127.0.0.1:{}", bindery_e2e::free_port());
    let public_url = format!("http://{listen}");
    let server = ServerProcess::start_at(
        &listen,
        &[
            "--data-dir",
            &d,
            "--retry-base-ms",
            "100",
            "--public-url",
            &public_url,
            "--connectwise-allow-http",
        ],
    );

    // Three machines: two servers, and a workstation that a rule types differently.
    let http = reqwest::Client::new();
    let mut credentials = Vec::new();
    for (n, os) in [
        "Windows Server 2022 Standard",
        "Windows Server 2022 Standard",
        "Windows 11 Pro 23H2",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"token": token, "agentId": format!("web-{n}"), "agentVersion": "0.1.0",
            "facts": {"name": format!("host-{n}"), "serialNumber": format!("WEB{n:05}"), "osType": "Windows", "osInfo": os}});
        let r = http
            .post(format!("{}/api/agent/v1/enroll", server.url))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let reply: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        credentials.push(format!(
            "Bearer {}.{}",
            reply["agentId"].as_str().unwrap(),
            reply["deviceSecret"].as_str().unwrap()
        ));
    }

    let driver = start_driver();
    let scratch = tempfile::tempdir().unwrap();
    let mut s = Session {
        c: browser(&driver).await,
        base: server.url.clone(),
        shots: shots_dir(scratch.path()),
        seen: Vec::new(),
    };

    // Signing in: a page asks for the session; a wrong password is refused with a clear message.
    s.go("/console/policies").await;
    assert!(
        s.c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/login")
    );
    s.shot("login").await;
    s.fill("#username", "ana").await;
    s.fill("#password", "not-the-password").await;
    s.click("button[type=submit]").await;
    assert_eq!(s.text(".banner.error").await, "Wrong username or password.");
    s.fill("#username", "ana").await;
    s.fill("#password", PASSWORD).await;
    s.click("button[type=submit]").await;
    assert_eq!(s.text("h1").await, "Policies");

    // The integration: "Connect" says so; then the choices.
    s.go("/console/integration").await;
    s.fill("#site", &sb.url()).await;
    s.fill("#company_id", "bindery").await;
    s.fill("#public_key", "sandbox-public").await;
    s.fill("#private_key", "wrong-private").await;
    s.fill("#client_id", "bindery-console-test").await;
    s.click("input[name=allow_http]").await;
    s.click("#connect").await;
    let refused = s.text(".banner.error").await;
    assert!(refused.contains("refused"), "{refused}");
    s.fill("#private_key", PRIVATE_KEY).await;
    s.click("#connect").await;
    assert!(
        s.text(".banner.ok")
            .await
            .starts_with("Connected to ConnectWise")
    );
    s.select("#monitoring_board", "1").await;
    s.select("#monitoring_open", "1").await;
    s.select("#monitoring_closed", "2").await;
    s.select("#self_service_board", "2").await;
    s.select("#self_service_open", "3").await;
    s.select("#self_service_closed", "4").await;
    s.select("#active_status", "1").await;
    s.select("#inactive_status", "2").await;
    // Firewall has a required question: refused next to the field, nothing saved.
    s.select("#default_type", "3").await;
    s.click("#save-choices").await;
    let next_to = s.text("#default_type-error").await;
    assert!(next_to.contains("Rack location"), "{next_to}");
    s.select("#default_type", "2").await;
    s.select("#rule0_field", "osInfo").await;
    s.fill("#rule0_pattern", "*Windows 11*").await;
    s.select("#rule0_type", "1").await;
    s.click("#save-choices").await;
    assert_eq!(s.text(".banner.ok").await, "Saved.");
    s.shot("integration").await;

    // The workstation's type gets a required question: its configuration will be refused.
    set_asset_tag_required(&sb, true);

    // An earlier tool left a record of web-0 (by serial) and a printer in the company.
    let earlier = seed_config(&sb, "old-web-0", json!({"serialNumber": "web00000"}));
    seed_config(&sb, "printer", json!({"serialNumber": "PRN-1"}));

    // Link with the company picker and "Save Account": first the preview, which writes
    // nothing; then "Confirm link". Devices bind, one fails: red.
    s.go("/console/policies/1?q=Acme").await;
    s.click("input[name=company_id][value='2']").await;
    s.click("form[action$='/preview'] button[type=submit]")
        .await;
    assert_eq!(s.text("#adopt-1").await, "1");
    assert_eq!(s.text("#create-1").await, "2");
    assert!(
        s.text(".preview details summary")
            .await
            .contains("1 configurations")
    );
    assert_eq!(
        sb.sandbox.data().configurations.len(),
        2,
        "a preview writes nothing"
    );
    s.shot("link-preview").await;
    s.click("#confirm-link").await;
    s.wait_for("two bound and one failed", "/console/policies/1", |html| {
        html.contains("2 of 3 bound · 0 pending · 1 failed")
    })
    .await;
    assert_eq!(
        s.c.find(Locator::Css("#link-icon"))
            .await
            .unwrap()
            .attr("data-link")
            .await
            .unwrap(),
        Some("red".into())
    );
    s.click("tr[data-agent='web-2'] details summary").await;
    let error = s.text("tr[data-agent='web-2'] .error-text").await;
    assert!(
        error.contains("Asset tag"),
        "ConnectWise's words under View: {error}"
    );
    s.shot("policy-red").await;

    // The cause removed, "Retry Pending" binds it: blue.
    set_asset_tag_required(&sb, false);
    s.click("#retry-pending").await;
    s.wait_for("all three bound", "/console/policies/1", |html| {
        html.contains("3 of 3 bound · 0 pending · 0 failed")
    })
    .await;
    assert_eq!(
        s.c.find(Locator::Css("#link-icon"))
            .await
            .unwrap()
            .attr("data-link")
            .await
            .unwrap(),
        Some("blue".into())
    );
    s.shot("policy-blue").await;
    // One adopted, two created; the printer is left alone.
    assert_eq!(sb.sandbox.data().configurations.len(), 4);
    assert_eq!(
        sb.sandbox.data().configurations.get(earlier).unwrap()["deviceIdentifier"],
        "web-0"
    );

    // A fourth machine matches two records by name: it waits for a person, who adopts one.
    let twins = [
        seed_config(&sb, "HOST-3", json!({})),
        seed_config(&sb, "host-3.corp.example", json!({})),
    ];
    let body = json!({"token": token, "agentId": "web-3", "agentVersion": "0.1.0",
        "facts": {"name": "host-3", "osType": "Windows", "osInfo": "Windows Server 2022 Standard"}});
    let r = http
        .post(format!("{}/api/agent/v1/enroll", server.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.wait_for("web-3 waits for a person", "/console/policies/1", |html| {
        html.contains("3 of 4 bound") && html.contains("needs_person")
    })
    .await;
    s.shot("policy-needs-person").await;
    s.click(&format!(
        "tr[data-agent='web-3'] button.adopt[value='{}']",
        twins[1]
    ))
    .await;
    s.wait_for("web-3 adopted", "/console/policies/1", |html| {
        html.contains("4 of 4 bound")
    })
    .await;
    assert_eq!(
        sb.sandbox.data().configurations.get(twins[1]).unwrap()["deviceIdentifier"],
        "web-3"
    );
    assert!(sb.sandbox.data().configurations.get(twins[0]).unwrap()["deviceIdentifier"].is_null());
    assert_eq!(
        sb.sandbox.data().configurations.len(),
        6,
        "nothing created for it"
    );

    // The other policy is linked through the company suggestions: matched by name, previewed,
    // confirmed.
    s.go("/console/suggestions").await;
    assert!(
        s.text("#suggestions tr[data-policy='2']")
            .await
            .contains("Globex Inc")
    );
    s.click("#preview-all").await;
    assert!(
        s.text(".preview[data-policy='2'] h2")
            .await
            .contains("Globex Inc")
    );
    assert_eq!(s.text("#create-2").await, "0");
    s.shot("suggestions-preview").await;
    s.click("#confirm-link").await;
    s.go("/console/policies").await;
    assert!(
        s.seen.last().unwrap().contains("Globex Inc (id 3)"),
        "linked to the suggested company"
    );
    s.go("/console/policies/1").await;

    // A form posted without its CSRF token is refused and changes nothing.
    s.c.execute(
        "const f = document.querySelector(\"form[action$='/unlink']\"); f.querySelector('input[name=csrf]').remove(); f.submit();",
        vec![],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.record().await;
    assert!(
        s.seen
            .last()
            .unwrap()
            .contains("This form is out of date or did not come from this console"),
        "{}",
        s.seen.last().unwrap()
    );
    s.go("/console/policies").await;
    assert!(
        s.seen.last().unwrap().contains("data-link=\"blue\""),
        "still linked"
    );
    s.shot("policies").await;

    // The other pages, and an alert closed from the console.
    s.go("/console/devices").await;
    assert!(s.seen.last().unwrap().contains("host-2"));
    s.shot("devices").await;
    s.go("/console/activity").await;
    assert!(s.seen.last().unwrap().contains("configuration.create"));
    assert!(
        s.seen.last().unwrap().contains("refused"),
        "the failed create is logged"
    );
    s.shot("activity").await;
    // An alert from host-0 opens a ticket; closing it in the console closes the ticket.
    let alert = json!({"events": [{"seq": 1, "monitorId": "disk-free", "subject": "C:", "kind": "raised",
        "atMs": bindery_server::store::now_ms() - 90_000, "summary": "Disk C: has 3.0% free", "value": 3.0}]});
    let r = http
        .post(format!("{}/api/agent/v1/alerts", server.url))
        .header("content-type", "application/json")
        .header("authorization", &credentials[0])
        .body(alert.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.wait_for("the alert's ticket", "/console/alerts", |html| {
        html.contains("#1 open")
    })
    .await;
    s.shot("alerts").await;
    s.click("form[action$='/close'] button").await;
    assert!(s.text(".banner.ok").await.starts_with("Closing"));
    s.wait_for("the ticket closed", "/console/alerts", |html| {
        html.contains("#1 closed")
    })
    .await;
    let ticket = sb.sandbox.data().tickets.get(1).cloned().unwrap();
    assert_eq!(
        ticket["status"]["id"], 2,
        "the monitoring board's closed status"
    );
    s.go("/console/help-requests").await;

    // A new token on the policy page: the install commands with it filled in, and it enrolls.
    s.go("/console/policies/1").await;
    s.fill(
        "form[action='/console/tokens'] input[name=label]",
        "branch office",
    )
    .await;
    s.click("form[action='/console/tokens'] button[type=submit]")
        .await;
    let value = async |css: &str| {
        s.c.find(Locator::Css(css))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    };
    let new_token = value("#install-token").await;
    assert!(new_token.starts_with("bdy_enr_"), "{new_token}");
    assert_eq!(
        value("#install-linux").await,
        format!(
            "(umask 077; printf '%s' '{new_token}' > \"$HOME/.bindery-enroll-token\") && curl -fsSL {0}/install.sh | sudo sh -s -- --server {0} --token-file \"$HOME/.bindery-enroll-token\" --allow-http",
            server.url
        )
    );
    let windows = value("#install-windows").await;
    assert!(
        windows.contains(&format!("irm {}/install.ps1", server.url))
            && windows.contains(&format!("$env:BINDERY_ENROLL_TOKEN = '{new_token}'")),
        "{windows}"
    );
    let msi = value("#install-msi").await;
    assert!(
        msi.contains(&format!(
            "{}/downloads/bindery-agent-x86_64.msi",
            server.url
        )) && msi.contains(&format!("-Value '{new_token}'"))
            && msi.contains(" ENROLL_TOKEN_FILE=")
            && !msi.contains(&format!("ENROLL_TOKEN={new_token}"))
            && msi.contains(" ALLOW_HTTP=1\";"),
        "{msi}"
    );
    s.shot("token").await;
    let script = http
        .get(format!("{}/install.sh", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(script.starts_with("#!/bin/sh"), "the script is served");
    let body = json!({"token": new_token, "agentId": "web-new", "agentVersion": "0.1.0", "facts": {"name": "host-new"}});
    let r = http
        .post(format!("{}/api/agent/v1/enroll", server.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the console's token enrolls");

    // Maintenance windows: a mistake is named beside the text, then the windows are saved and
    // the page says the policy is in one.
    s.go("/console/policies/1/maintenance").await;
    s.fill("#time_zone", "Europe/Berlin").await;
    s.fill("#windows_text", "someday 22:00-02:00").await;
    s.click("form[action$='/maintenance'] button[type=submit]")
        .await;
    assert!(s.text(".banner.error").await.contains("line 1"));
    assert_eq!(
        s.c.find(Locator::Css("#windows_text"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("someday 22:00-02:00"),
        "the admin's text comes back"
    );
    s.fill("#windows_text", "daily 00:00-00:00").await;
    s.click("form[action$='/maintenance'] button[type=submit]")
        .await;
    assert_eq!(s.text(".banner.ok").await, "Saved.");
    assert!(
        s.text(".banner.info")
            .await
            .starts_with("In a maintenance window until")
    );
    s.shot("maintenance").await;
    s.fill("#windows_text", "").await;
    s.click("form[action$='/maintenance'] button[type=submit]")
        .await;
    assert_eq!(s.text(".banner.info").await, "No window in the next week.");

    // A narrow window: nothing wider than the screen on the main pages.
    s.c.set_window_size(390, 844).await.unwrap();
    for path in [
        "/console/policies",
        "/console/policies/1",
        "/console/integration",
        "/console/policies/1/maintenance",
        "/console/devices/1",
    ] {
        s.go(path).await;
        let overflow = s
            .c
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .unwrap();
        if overflow.as_i64().unwrap() > 0 {
            // Name the elements that stick out, so the failure says what to fix.
            let wide = s
                .c
                .execute(
                    "const w = document.documentElement.clientWidth; const name = e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''); return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 1 || e.scrollWidth > e.clientWidth + 1).slice(0, 12).map(e => name(e) + ' ' + Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth + '/' + e.clientWidth).join(', ');",
                    vec![],
                )
                .await
                .unwrap();
            panic!("{path} is wider than a phone by {overflow}px: {wide}");
        }
    }
    s.go("/console/policies/1").await;
    s.shot("policy-narrow").await;
    s.c.set_window_size(1280, 900).await.unwrap();

    // A policy is renamed from its page; a name another policy has is refused, and nothing
    // changes.
    s.go("/console/policies/1").await;
    s.fill("#policy_name", "Acme servers").await;
    s.click("#rename").await;
    assert_eq!(s.text(".banner.ok").await, "Renamed.");
    assert_eq!(s.text("h1").await, "Policy Acme servers");
    s.fill("#policy_name", "GLOBEX, Inc. office").await;
    s.click("#rename").await;
    assert!(
        s.text("main").await.contains("exists"),
        "a taken name is refused"
    );
    s.go("/console/policies/1").await;
    assert_eq!(s.text("h1").await, "Policy Acme servers");

    // Signing out, then a session that no longer exists: back to sign-in, with a note.
    s.go("/console/policies").await;
    s.click("form.signout button").await;
    assert_eq!(s.text(".banner.info").await, "You are signed out.");
    // A session cookie the server no longer knows (expired and purged, say).
    s.c.execute(
        "document.cookie = 'bindery_session=bdy_ses_long-gone; path=/';",
        vec![],
    )
    .await
    .unwrap();
    s.go("/console/devices").await;
    assert!(
        s.text(".banner.info")
            .await
            .contains("Your session has expired")
    );

    // ConnectWise's managementLink on each configuration leads, through sign-in, to the
    // device's page: its facts and its alerts.
    let link = sb
        .sandbox
        .data()
        .configurations
        .values()
        .find(|c| c["name"] == "host-0")
        .unwrap()["managementLink"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = link
        .strip_prefix(&public_url)
        .expect("the link is under the public URL");
    assert!(page.starts_with("/console/devices/"), "{link}");
    s.go(page).await;
    s.fill("#username", "ana").await;
    s.fill("#password", PASSWORD).await;
    s.click("button[type=submit]").await;
    assert_eq!(s.text("h1").await, "host-0");
    assert!(s.seen.last().unwrap().contains("Disk C: has 3.0% free"));
    assert!(s.seen.last().unwrap().contains("WEB00000"));
    s.shot("device").await;

    // No page carried the private key (or any other secret the test knows).
    for (i, html) in s.seen.iter().enumerate() {
        for secret in [PRIVATE_KEY, PASSWORD, token.as_str()] {
            assert!(!html.contains(secret), "page {i} shows a secret");
        }
    }
    s.c.close().await.unwrap();
    drop(server);
    sb.stop().await;
}
