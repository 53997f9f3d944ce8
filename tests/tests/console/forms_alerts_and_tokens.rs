//! A form without its CSRF token is refused; the other pages; an alert closed from the console;
//! a new token's install commands.

use super::*;

/// CSRF, the other pages, an alert closed, a new token and its commands.
pub(super) async fn forms_alerts_and_tokens(s: &mut Session, w: &Scene) {
    let Scene {
        sb,
        server,
        http,
        credentials,
        ..
    } = w;
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
}
