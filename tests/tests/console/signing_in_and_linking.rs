//! An admin signs in, sets up ConnectWise, links the first policy (one device fails, then binds),
//! adopts a record for a machine that matches two, and links the other through its suggestion.

use super::*;

/// Signs in, connects, links and fixes; adopts for a twin; links through a suggestion.
pub(super) async fn sign_in_connect_and_link(s: &mut Session, w: &Scene) {
    let Scene {
        sb,
        server,
        http,
        token,
        ..
    } = w;
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
    set_asset_tag_required(sb, true);

    // An earlier tool left a record of web-0 (by serial) and a printer in the company.
    let earlier = seed_config(sb, "old-web-0", json!({"serialNumber": "web00000"}));
    seed_config(sb, "printer", json!({"serialNumber": "PRN-1"}));

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
    // The devices are at Acme's Berlin office: the link names that site.
    s.click("#site_id option[value='2']").await;
    s.shot("link-preview").await;
    s.click("#confirm-link").await;
    s.wait_for("two bound and one failed", "/console/policies/1", |html| {
        html.contains("2 of 3 bound · 0 pending · 1 failed")
    })
    .await;
    assert!(
        s.text("#linked-company")
            .await
            .contains("site Berlin Office"),
        "the policy shows its site"
    );
    let sites: Vec<serde_json::Value> = sb
        .sandbox
        .data()
        .configurations
        .values()
        .filter(|c| c["deviceIdentifier"].is_string())
        .map(|c| c["site"].clone())
        .collect();
    assert!(
        sites.len() == 2 && sites.iter().all(|s| s["id"] == 2),
        "each bound configuration is at the Berlin office: {sites:?}"
    );
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
    set_asset_tag_required(sb, false);
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
        seed_config(sb, "HOST-3", json!({})),
        seed_config(sb, "host-3.corp.example", json!({})),
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

    // Billed by device count: the policy's agreement (the workstations' product is offered),
    // then the first quantity approved on the billing page, and ConnectWise's addition set.
    s.go("/console/policies/1").await;
    s.click("#billing-link").await;
    s.click("#agreement_id option[value='1']").await;
    s.shot("policy-billing").await;
    s.click("#save-billing").await;
    s.wait_for("the first quantity to wait", "/console/billing", |html| {
        html.contains("Approve ")
    })
    .await;
    s.shot("billing").await;
    let devices = s.text("tr[data-product='1'] .devices").await;
    s.click("tr[data-product='1'] button.approve").await;
    let billed = format!("<td class=\"quantity\">{devices}</td>");
    s.wait_for("the quantity to be written", "/console/billing", |html| {
        html.contains(&billed)
    })
    .await;
    let quantity = sb.sandbox.data().additions.get(1).unwrap()["quantity"].clone();
    assert_eq!(
        quantity.as_f64(),
        devices.parse::<f64>().ok(),
        "the seeded addition is adopted and set"
    );
    s.go("/console/policies/1").await;
}
