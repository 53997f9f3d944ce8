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

mod fields;
mod forms_alerts_and_tokens;
mod instances;
mod routing;
mod signing_in_and_linking;
mod team;
mod windows_names_and_sessions;

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

/// What every phase of the console test works with.
pub struct Scene {
    sb: connectwise_sandbox::Running,
    server: ServerProcess,
    http: reqwest::Client,
    token: String,
    credentials: Vec<String>,
    public_url: String,
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
    let w = Scene {
        sb,
        server,
        http,
        token,
        credentials,
        public_url,
    };
    signing_in_and_linking::sign_in_connect_and_link(&mut s, &w).await;
    forms_alerts_and_tokens::forms_alerts_and_tokens(&mut s, &w).await;
    windows_names_and_sessions::windows_names_and_sessions(&mut s, &w).await;
    instances::instances(&mut s, &w).await;
    routing::routing(&mut s, &w).await;
    fields::fields(&mut s, &w).await;
    team::team(&mut s, &w).await;

    // No page carried the private key (or any other secret the test knows).
    for (i, html) in s.seen.iter().enumerate() {
        for secret in [PRIVATE_KEY, PASSWORD, w.token.as_str()] {
            assert!(!html.contains(secret), "page {i} shows a secret");
        }
    }
    s.c.close().await.unwrap();
    let Scene { sb, server, .. } = w;
    drop(server);
    sb.stop().await;
}
