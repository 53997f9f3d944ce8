//! The team from the console: an owner makes an API token (its secret shown once, and it works
//! on the admin API), and the audit trail lists the changes made in this session.

use super::*;

/// Makes an API token, uses it, and reads the audit trail.
pub(super) async fn team(s: &mut Session, w: &Scene) {
    s.go("/console/team").await;
    assert!(s.text("#account-table").await.contains("owner"));
    s.fill("#token-name", "nightly export").await;
    s.select("#token-role", "viewer").await;
    s.fill("#token-days", "30").await;
    s.click("#make-token").await;
    let secret = s.text("#new-token").await;
    assert!(secret.starts_with("bdy_api_"), "{secret}");
    assert!(s.text("#token-table").await.contains("nightly export"));
    s.shot("team").await;
    // The token reads the API as a viewer, and may not change anything.
    let api = format!("{}/api/admin/v1", w.server.url);
    let r = w
        .http
        .get(format!("{api}/policies"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = w
        .http
        .post(format!("{api}/policies"))
        .bearer_auth(&secret)
        .header("content-type", "application/json")
        .body(json!({"name": "Not allowed"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    s.go("/console/audit").await;
    let trail = s.text("#audit-table").await;
    for action in ["api_token.create", "policy.link", "field_map.save"] {
        assert!(trail.contains(action), "{action} missing from {trail}");
    }
    assert!(trail.contains("ana"), "{trail}");
    s.shot("audit").await;
    // The dashboard counts the fleet and each instance's binding, and links to the lists.
    s.go("/console/dashboard").await;
    let devices: i64 = s.text("#tile-devices").await.parse().unwrap();
    let online: i64 = s.text("#tile-online").await.parse().unwrap();
    assert!(devices >= 3 && online <= devices, "{devices} {online}");
    let binding = s.text("#binding").await;
    assert!(
        binding.contains("Binding, by ConnectWise instance"),
        "{binding}"
    );
    let page = s.seen.last().unwrap().clone();
    assert!(
        page.contains("href=\"/console/devices?state=bound\""),
        "links to the list"
    );
    assert!(page.contains("<svg class=\"chart\""), "the tickets chart");
    s.shot("dashboard").await;
}
