//! Maintenance windows, a narrow window, renaming a policy, signing out and an expired session,
//! and the device page a configuration's managementLink leads to.

use super::*;

/// Maintenance, narrow pages, renaming, signing out, and the managementLink.
pub(super) async fn windows_names_and_sessions(s: &mut Session, w: &Scene) {
    let Scene { sb, public_url, .. } = w;
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
        .strip_prefix(public_url.as_str())
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
}
