//! The admin API tour's steps shared with its checks: a call made with exactly the least role
//! its operation needs (each lesser role refused first), the tokens of the lesser roles, and the
//! team's part of the tour (accounts, API tokens, the audit trail).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::admin::Server;

/// `(status, body)` of an admin call, which must succeed (2xx). Once the tour holds tokens of
/// the lesser roles, each role below the operation's least (`roles`) is refused first
/// (403), and the call is made with exactly that role (`t`, the owner's session, for an owner).
pub async fn ok(s: &Server, t: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let roles = s.roles.lock().unwrap().clone();
    let mut with = t.to_owned();
    if !roles.is_empty() {
        let op = format!(
            "{method} {}",
            s.documented.template(method.as_str(), path).unwrap()
        );
        let least = super::roles::least(&op);
        for (role, token) in &roles {
            if *role < least {
                let (status, b) = s.as_admin(token, method.clone(), path, body.clone()).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{op} as {role}: {b}");
            } else if *role == least {
                with = token.clone();
            }
        }
    }
    let (status, b) = s.as_admin(&with, method.clone(), path, body).await;
    assert!(status.is_success(), "{method} {path}: {status} {b}");
    b
}

/// API tokens of the owner's account with the lesser roles, from now on used by `ok`.
pub async fn hand_out_roles(s: &Server, t: &str) {
    use bindery_server::access::Role;
    let mut tokens = Vec::new();
    for role in [Role::Viewer, Role::Technician, Role::Admin] {
        let body = json!({"name": format!("tour {role}"), "role": role, "days": 1});
        let made = ok(s, t, Method::POST, "/api-tokens", Some(body)).await;
        tokens.push((role, made["secret"].as_str().unwrap().to_owned()));
    }
    *s.roles.lock().unwrap() = tokens;
}

/// Accounts, API tokens and the audit trail of the tour's own changes.
pub async fn team(s: &Server, t: &str) {
    let get = Method::GET;
    let bob = json!({"username": "bob", "password": "a long enough password", "role": "viewer"});
    ok(s, t, Method::POST, "/accounts", Some(bob)).await;
    let promote = json!({"role": "technician"});
    ok(s, t, Method::PATCH, "/accounts/bob", Some(promote)).await;
    let team = ok(s, t, get.clone(), "/accounts", None).await;
    assert_eq!(
        team,
        json!([{"username": "alice", "role": "owner"}, {"username": "bob", "role": "technician"}])
    );
    let spare = json!({"name": "spare", "role": "viewer", "days": 7});
    let spare = ok(s, t, Method::POST, "/api-tokens", Some(spare)).await;
    let tokens = ok(s, t, get.clone(), "/api-tokens", None).await;
    assert!(tokens.as_array().unwrap().len() >= 4, "{tokens}");
    assert!(
        !tokens
            .to_string()
            .contains(spare["secret"].as_str().unwrap())
    );
    let id = spare["id"].as_i64().unwrap();
    ok(s, t, Method::DELETE, &format!("/api-tokens/{id}"), None).await;
    let (status, _) = s
        .as_admin(
            spare["secret"].as_str().unwrap(),
            get.clone(),
            "/session",
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked token is refused"
    );
    // The trail names who did what, and how: the policy was made with the admin token.
    let trail = ok(s, t, get.clone(), "/audit?action=policy.create", None).await;
    assert_eq!(trail[0]["actor"], "alice", "{trail}");
    assert!(
        trail[0]["via"].as_str().unwrap().starts_with("token "),
        "{trail}"
    );
    assert_eq!(trail[0]["address"], "127.0.0.1", "{trail}");
    let (status, csv) = s.call_text(t, "/audit?format=csv&action=account.").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.starts_with("id,at,actor,via,address,action,object,detail\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\"account.role\",\"bob\",\"viewer -> technician\""),
        "{csv}"
    );
}
