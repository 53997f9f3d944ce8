//! The console with each role: every page a person opens renders for every role (reading is
//! everyone's), every console route is in this file's table of who may use it (a new route
//! without a row fails here), and a form a role may not submit is refused with the reason,
//! changing nothing, while the role it needs succeeds.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use bindery_server::access::Role::{self, Admin, Owner, Technician, Viewer};
use common::admin::{Server, connect, server};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every console route (`METHOD /path`, as `console/*.rs` declare them) and the least role
/// that may use it. Pages (GET) are everyone's.
const ROUTES: &[(&str, Role)] = &[
    ("GET /", Viewer),
    ("GET /activity", Viewer),
    ("GET /alerts", Viewer),
    ("POST /alerts/{id}/close", Technician),
    ("GET /audit", Viewer),
    ("GET /billing", Viewer),
    ("GET /dashboard", Viewer),
    ("POST /billing/approve", Admin),
    ("POST /billing/choose", Admin),
    ("POST /billing/rules", Admin),
    ("GET /devices", Viewer),
    ("GET /devices/{id}", Viewer),
    ("POST /devices/{id}/configuration", Technician),
    ("POST /devices/{id}/move", Technician),
    ("POST /devices/{id}/reinstall", Technician),
    ("GET /fields", Viewer),
    ("POST /fields", Admin),
    ("POST /fields/preview", Viewer),
    ("GET /help-requests", Viewer),
    ("POST /help-requests/{id}/close", Technician),
    ("GET /integration", Viewer),
    ("POST /integration", Owner),
    ("POST /integration/choices", Admin),
    ("POST /integrations", Owner),
    ("POST /integrations/{id}/budget", Owner),
    ("POST /integrations/{id}/remove", Owner),
    ("POST /integrations/{id}/rename", Owner),
    ("GET /login", Viewer),
    ("POST /login", Viewer),
    ("POST /logout", Viewer),
    ("GET /policies", Viewer),
    ("POST /policies", Admin),
    ("GET /policies/{id}", Viewer),
    ("GET /policies/{id}/billing", Viewer),
    ("POST /policies/{id}/billing", Admin),
    ("POST /policies/{id}/billing/clear", Admin),
    ("POST /policies/{id}/delete", Admin),
    ("POST /policies/{id}/link", Admin),
    ("GET /policies/{id}/maintenance", Viewer),
    ("POST /policies/{id}/maintenance", Admin),
    ("GET /policies/{id}/preview", Admin),
    ("POST /policies/{id}/rename", Admin),
    ("POST /policies/{id}/retry", Technician),
    ("POST /policies/{id}/unlink", Admin),
    ("GET /routing", Viewer),
    ("POST /routing", Admin),
    ("POST /routing/dry-run", Viewer),
    ("GET /static/console.css", Viewer),
    ("GET /static/console.js", Viewer),
    // Suggestions read every company of the instance: part of linking.
    ("GET /suggestions", Admin),
    ("POST /suggestions/link", Admin),
    ("GET /suggestions/preview", Admin),
    ("GET /team", Viewer),
    ("POST /team/accounts", Owner),
    ("POST /team/role", Owner),
    ("POST /team/tokens", Viewer),
    ("POST /team/tokens/{id}/revoke", Viewer),
    ("POST /tokens", Admin),
    ("POST /tokens/{id}/revoke", Admin),
];

/// The console's routes as its sources declare them: `.route("/path", get(..).post(..))`.
fn declared_routes() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        for part in text.split(".route(").skip(1) {
            let Some(path) = part
                .trim_start()
                .strip_prefix('"')
                .and_then(|p| p.split('"').next())
            else {
                continue;
            };
            let handlers = part.split(")\n").next().unwrap_or("");
            for (call, method) in [("get(", "GET"), ("post(", "POST")] {
                if handlers.contains(call) {
                    out.push(format!("{method} {path}"));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_console_route_says_who_may_use_it() {
    let declared = declared_routes();
    assert!(declared.len() > 40, "{declared:?}");
    let missing: Vec<&String> = declared
        .iter()
        .filter(|route| !ROUTES.iter().any(|(r, _)| r == *route))
        .collect();
    assert!(
        missing.is_empty(),
        "no row in ROUTES (tests/console_roles.rs) says who may use {missing:?}"
    );
    for (route, _) in ROUTES {
        assert!(declared.contains(&route.to_string()), "{route} is gone");
    }
}

/// A form: where it posts, its fields, and the least role that may submit it.
type Form<'a> = (&'a str, Vec<(&'a str, &'a str)>, Role);

/// A console session of an account: its cookie and the CSRF token its forms carry.
struct Person {
    cookie: String,
    csrf: String,
}

async fn sign_in(s: &Server, username: &str, password: &str) -> Person {
    let (status, b) = s
        .call(
            Method::POST,
            "/session",
            &[],
            Some(json!({"username": username, "password": password})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    Person {
        cookie: format!("bindery_session={}", b["token"].as_str().unwrap()),
        csrf: b["csrfToken"].as_str().unwrap().to_owned(),
    }
}

impl Person {
    async fn page(&self, s: &Server, path: &str) -> (StatusCode, String) {
        let r = s
            .http
            .get(format!("{}/console{path}", s.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn submit(
        &self,
        s: &Server,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .post(format!("{}/console{path}", s.base))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                form.iter()
                    .map(|(k, v)| format!("{k}={}", bindery_server::console::enc(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            )
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_reads_every_page_and_changes_only_what_it_may() {
    let s = server().await;
    let (t, _) = s.login().await;
    connect(&s, &t).await;
    let p = s
        .as_admin(&t, Method::POST, "/policies", Some(json!({"name": "Acme"})))
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let password = "a long enough password";
    let mut people = Vec::new();
    for role in [Viewer, Technician, Admin] {
        let name = format!("{role}-1");
        let body = json!({"username": name, "password": password, "role": role});
        let (status, b) = s.as_admin(&t, Method::POST, "/accounts", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{b}");
        people.push((role, sign_in(&s, &name, password).await));
    }
    people.push((Owner, sign_in(&s, "alice", common::admin::PASSWORD).await));

    let pages = [
        "/policies".to_owned(),
        format!("/policies/{p}"),
        format!("/policies/{p}/maintenance"),
        format!("/policies/{p}/billing"),
        "/devices".into(),
        "/alerts".into(),
        "/help-requests".into(),
        "/activity".into(),
        "/billing".into(),
        "/routing".into(),
        "/fields".into(),
        "/integration".into(),
        "/suggestions".into(),
        "/team".into(),
        "/audit".into(),
        "/dashboard".into(),
    ];
    for (role, person) in &people {
        for page in &pages {
            let template = format!("GET {}", page.replace(&format!("/{p}"), "/{id}"));
            let least = ROUTES.iter().find(|(r, _)| *r == template).unwrap().1;
            let (status, html) = person.page(&s, page).await;
            if *role >= least {
                assert_eq!(status, StatusCode::OK, "{page} as {role}: {html}");
                assert!(html.contains("Sign out"), "{page} as {role}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{page} as {role}: {html}");
                assert!(html.contains(&format!("needs the {least} role")), "{html}");
            }
        }
        let (_, team) = person.page(&s, "/team").await;
        assert_eq!(team.contains("Add an account"), *role == Owner, "{role}");
    }

    // One form at each boundary: refused below it (with the reason, nothing changed), done at it.
    let rename = format!("/policies/{p}/rename");
    let retry = format!("/policies/{p}/retry");
    let forms: [Form; 4] = [
        (&retry, vec![], Technician),
        (&rename, vec![("name", "Acme HQ")], Admin),
        (
            "/team/role",
            vec![("username", "viewer-1"), ("role", "technician")],
            Owner,
        ),
        ("/integrations", vec![("name", "Second")], Owner),
    ];
    for (path, fields, least) in forms {
        for (role, person) in people.iter().filter(|(r, _)| *r <= least) {
            let (status, body) = person.submit(&s, path, &fields).await;
            if *role < least {
                assert!(
                    status.is_client_error() && body.contains(&format!("needs the {least} role")),
                    "{path} as {role}: {status} {body}"
                );
            } else {
                assert_eq!(status, StatusCode::SEE_OTHER, "{path} as {role}: {body}");
            }
        }
    }
    let (_, policy) = s
        .as_admin(&t, Method::GET, &format!("/policies/{p}"), None)
        .await;
    assert_eq!(policy["name"], "Acme HQ");
    let (_, team) = s.as_admin(&t, Method::GET, "/accounts", None).await;
    let viewer = team
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "viewer-1")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(viewer["role"], "technician", "{team}");
    // Each change is in the trail once, under the account that made it.
    let (_, trail) = s
        .as_admin(&t, Method::GET, "/audit?action=policy.rename", None)
        .await;
    assert_eq!(trail.as_array().unwrap().len(), 1, "{trail}");
    assert_eq!(trail[0]["actor"], "admin-1");
    assert_eq!(trail[0]["via"], "session");
    let _ = s.stop.send(());
}
