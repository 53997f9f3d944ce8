//! The OpenAPI document against the real server: one admin's tour calls every documented
//! operation on real data (a linked policy, enrolled devices, an alert, a help request, a possible
//! reinstall), and each answer must match the schema documented for it, strictly. A route the
//! document lacks, a status it does not list, or a field it does not name fails here.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::admin::{Server, connect, server};
use common::tour::{hand_out_roles, ok, team};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

impl Server {
    /// An agent API call with a device credential (or none); the answer as JSON.
    async fn agent_call(&self, path: &str, auth: Option<&str>, body: Value) -> Value {
        let mut req = self
            .http
            .post(format!("{}{path}", self.agent))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        serde_json::from_str(&r.text().await.unwrap()).unwrap()
    }

    /// Enrolls a machine with `token`; its credential.
    async fn enroll(&self, token: &str, agent_id: &str, serial: &str) -> String {
        let body = json!({"token": token, "agentId": agent_id, "agentVersion": "0.1.0",
            "facts": {"name": agent_id, "serialNumber": serial}});
        let b = self.agent_call("/enroll", None, body).await;
        format!(
            "Bearer {}.{}",
            b["agentId"].as_str().unwrap(),
            b["deviceSecret"].as_str().unwrap()
        )
    }
}

#[tokio::test]
async fn every_documented_operation_answers_as_the_document_says() {
    let s = server().await;
    let (t, _) = s.login().await;
    let t = t.as_str();
    let get = Method::GET;
    hand_out_roles(&s, t).await;
    ok(&s, t, get.clone(), "/session", None).await;
    ok(&s, t, get.clone(), "/openapi.json", None).await;

    // ConnectWise: credentials, the connection test, the choices.
    connect(&s, t).await;
    ok(&s, t, get.clone(), "/integration", None).await;
    ok(&s, t, Method::POST, "/integration/test", None).await;
    ok(&s, t, get.clone(), "/integration/choices", None).await;
    // No public URL here: registering says why and Bindery polls.
    let cb = ok(&s, t, Method::POST, "/integration/callback", None).await;
    assert_eq!(cb["registered"], false, "{cb}");
    assert!(
        cb["reason"].as_str().unwrap().contains("public URL"),
        "{cb}"
    );
    ok(&s, t, get.clone(), "/integration/callback", None).await;
    ok(&s, t, Method::DELETE, "/integration/callback", None).await;
    let maps = json!([{"login": "ACME\\j.smith", "contactId": 4}]);
    ok(&s, t, Method::PUT, "/contact-mappings", Some(maps.clone())).await;
    assert_eq!(
        ok(&s, t, get.clone(), "/contact-mappings", None).await,
        maps
    );
    // Instances: today's settings are the first; a second is added, renamed, named by a call
    // (nothing set up there yet), and removed.
    let listed = ok(&s, t, get.clone(), "/integrations", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let named = json!({"name": "Acquired"});
    let added = ok(&s, t, Method::POST, "/integrations", Some(named)).await;
    let iid = added["id"].as_i64().unwrap();
    let renamed = json!({"name": "Acquired MSP", "requestsPerMinute": 600});
    let i = format!("/integrations/{iid}");
    let changed = ok(&s, t, Method::PATCH, &i, Some(renamed)).await;
    assert_eq!(changed["requestsPerMinute"], 600, "{changed}");
    let unset = format!("/integration?integration={iid}");
    assert_eq!(ok(&s, t, get.clone(), &unset, None).await, Value::Null);
    ok(&s, t, Method::DELETE, &i, None).await;
    ok(&s, t, get.clone(), "/identity", None).await;
    let identity = json!({"autoApproveSilentDays": null});
    ok(&s, t, Method::PUT, "/identity", Some(identity)).await;

    // Two policies, a token, machines enrolling (the third a possible reinstall of the first).
    let acme = ok(
        &s,
        t,
        Method::POST,
        "/policies",
        Some(json!({"name": "Acme"})),
    )
    .await;
    let pid = acme["id"].as_i64().unwrap();
    let other = json!({"name": "Globex Corporation"});
    let other = ok(&s, t, Method::POST, "/policies", Some(other)).await;
    let qid = other["id"].as_i64().unwrap();
    let p = format!("/policies/{pid}");
    ok(&s, t, get.clone(), "/policies", None).await;
    ok(&s, t, get.clone(), &p, None).await;
    let renamed = json!({"name": "Acme office"});
    ok(&s, t, Method::PATCH, &p, Some(renamed)).await;
    let label = json!({"label": "rollout"});
    let token = ok(&s, t, Method::POST, &format!("{p}/tokens"), Some(label)).await;
    let tokens = ok(&s, t, get.clone(), &format!("{p}/tokens"), None).await;
    let token_id = tokens[0]["id"].as_i64().unwrap();
    let enroll_token = token["token"].as_str().unwrap();
    let first = s.enroll(enroll_token, "agent-1", "SN-ONE-1").await;
    s.enroll(enroll_token, "agent-2", "SN-TWO-2").await;
    s.enroll(enroll_token, "agent-3", "SN-ONE-1").await;

    // Links: companies, suggestions, previews, one link and a bulk one.
    ok(&s, t, get.clone(), "/companies?q=acme", None).await;
    ok(&s, t, get.clone(), "/company-suggestions", None).await;
    let company = json!({"companyId": 2});
    ok(
        &s,
        t,
        Method::POST,
        &format!("{p}/link/preview"),
        Some(company.clone()),
    )
    .await;
    let sites = ok(&s, t, get.clone(), "/companies/2/sites", None).await;
    assert_eq!(sites[0]["name"], "Berlin Office", "{sites}");
    // Globex's site on an Acme link: refused, naming the field.
    let elsewhere = json!({"companyId": 2, "siteId": 4});
    let (status, refused) = s
        .as_admin(t, Method::PUT, &format!("{p}/link"), Some(elsewhere))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["field"], "siteId", "{refused}");
    let at_site = json!({"companyId": 2, "siteId": sites[0]["id"]});
    let linked = ok(&s, t, Method::PUT, &format!("{p}/link"), Some(at_site)).await;
    assert_eq!(
        linked["company"]["site"]["name"], "Berlin Office",
        "{linked}"
    );
    ok(&s, t, Method::PUT, &format!("{p}/link"), Some(company)).await;
    let links = json!({"links": [{"policyId": qid, "companyId": 3}]});
    ok(
        &s,
        t,
        Method::POST,
        "/policies/links/preview",
        Some(links.clone()),
    )
    .await;
    ok(&s, t, Method::POST, "/policies/links", Some(links)).await;
    ok(&s, t, Method::POST, "/sync", None).await;
    ok(&s, t, Method::POST, &format!("{p}/retry-pending"), None).await;

    // Devices, and the identity answers.
    let devices = ok(&s, t, get.clone(), &format!("/devices?policy={pid}"), None).await;
    let id_of = |agent: &str| {
        devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["agentId"] == agent)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (one, two, three) = (id_of("agent-1"), id_of("agent-2"), id_of("agent-3"));
    // Searched and paged by the database.
    let found = ok(
        &s,
        t,
        get.clone(),
        "/devices?q=AGENT-2&limit=1&offset=0",
        None,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["agentId"], "agent-2");
    let second = ok(&s, t, get.clone(), "/devices?limit=1&offset=1", None).await;
    assert_eq!(second[0]["id"], json!(id_of("agent-2")));
    let after = ok(
        &s,
        t,
        get.clone(),
        &format!("/devices?limit=1&after={one}"),
        None,
    )
    .await;
    assert_eq!(after, second, "a keyset page is the offset's page");
    ok(&s, t, get.clone(), &format!("/devices/{one}"), None).await;
    let separate = json!({"answer": "keepSeparate"});
    ok(
        &s,
        t,
        Method::POST,
        &format!("/devices/{three}/reinstall"),
        Some(separate),
    )
    .await;
    let auto = json!({"kind": "auto"});
    ok(
        &s,
        t,
        Method::POST,
        &format!("/devices/{two}/configuration"),
        Some(auto),
    )
    .await;
    let to_other = json!({"policyId": qid});
    ok(
        &s,
        t,
        Method::POST,
        &format!("/devices/{two}/move"),
        Some(to_other),
    )
    .await;

    // Billing by device count: an agreement and products, the first quantity waiting, approved.
    let agreements = ok(&s, t, get.clone(), "/companies/2/agreements", None).await;
    assert_eq!(agreements[0]["parentId"], 1, "{agreements}");
    let b = format!("{p}/billing");
    let billing = json!({"agreementId": 1, "workstationProduct": "MANAGED-WS",
        "coverConfigurations": true});
    ok(&s, t, Method::PUT, &b, Some(billing)).await;
    assert_eq!(ok(&s, t, get.clone(), &b, None).await["agreementId"], 1);
    let key = json!({"agreementId": 1, "productId": 1});
    let choice = json!({"agreementId": 1, "productId": 1, "additionId": 1});
    ok(&s, t, Method::POST, "/billing/choose", Some(choice)).await;
    let waiting = || async {
        let lines = ok(&s, t, Method::GET, "/billing", None).await;
        lines[0]["heldQuantity"].is_i64()
    };
    let mut tries = 0;
    while !waiting().await {
        tries += 1;
        assert!(
            tries < 400,
            "the first quantity never came to wait for approval"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    ok(&s, t, Method::POST, "/billing/approve", Some(key)).await;
    let rules = ok(&s, t, get.clone(), "/billing/rules", None).await;
    assert_eq!(rules, json!({"counting": "live", "maxDropPercent": 20}));
    let month = json!({"counting": "monthHigh", "maxDropPercent": 30});
    ok(&s, t, Method::PUT, "/billing/rules", Some(month)).await;
    ok(&s, t, Method::DELETE, &b, None).await;

    // Ticket routing: rules checked with ConnectWise, and a dry run for the first machine.
    let rules = json!({"rules": [{"name": "disks", "kinds": ["disk"], "typeId": 1, "subtypeId": 1,
        "priorityId": 2, "summary": "{device}: {monitor} {value}"}]});
    ok(&s, t, Method::PUT, "/routing", Some(rules.clone())).await;
    assert_eq!(ok(&s, t, get.clone(), "/routing", None).await, rules);
    let first_id = ok(&s, t, get.clone(), &format!("/devices?policy={pid}"), None).await[0]["id"]
        .as_i64()
        .unwrap();
    let ask = json!({"deviceId": first_id, "monitorId": "disk-free", "value": 4.2});
    let dry = ok(&s, t, Method::POST, "/routing/dry-run", Some(ask)).await;
    assert_eq!(dry["rule"], "disks", "{dry}");

    // The field map: the custom fields ConnectWise lists, a map filling one, a device's preview.
    let custom = ok(&s, t, get.clone(), "/field-map/custom-fields", None).await;
    assert_eq!(custom[1]["caption"], "BIOS Version", "{custom}");
    assert_eq!(
        ok(&s, t, get.clone(), "/field-map", None).await["rules"][1]["target"],
        "modelNumber"
    );
    let map = json!({"rules": [{"target": "modelNumber", "value": "{model}", "owned": true},
        {"target": "customField", "customFieldId": 2, "value": "BIOS {biosVersion}", "owned": false}]});
    ok(&s, t, Method::PUT, "/field-map", Some(map.clone())).await;
    assert_eq!(ok(&s, t, get.clone(), "/field-map", None).await, map);
    let preview = ok(
        &s,
        t,
        get.clone(),
        &format!("/devices/{first_id}/field-map"),
        None,
    )
    .await;
    assert_eq!(preview[1]["field"], "customField:2", "{preview}");

    // Monitors, an alert and a help request from the first machine.
    let m = format!("{p}/monitors");
    let shown = ok(&s, t, get.clone(), &m, None).await;
    let monitors =
        json!({"monitors": shown["monitors"], "offlineAfterMins": shown["offlineAfterMins"]});
    ok(&s, t, Method::PUT, &m, Some(monitors)).await;
    ok(&s, t, Method::DELETE, &m, None).await;
    // A maintenance window all day, every day: the alert below is held.
    let w = format!("{p}/maintenance");
    let always = json!({"timeZone": "Europe/Berlin",
        "weekly": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"}],
        "once": [{"start": "2026-12-24T18:00", "end": "2026-12-27T08:00", "note": "Office move"}]});
    let view = ok(&s, t, Method::PUT, &w, Some(always)).await;
    assert!(view["inWindowUntilMs"].as_i64().is_some(), "{view}");
    ok(&s, t, get.clone(), &w, None).await;
    let event = json!({"seq": 1, "monitorId": "disk-free", "subject": "/var", "kind": "raised",
        "atMs": 1_795_310_405_000u64, "summary": "Disk /var has 4.2% free", "value": 4.2});
    let events = json!({"events": [event]});
    s.agent_call("/alerts", Some(&first), events).await;
    let help = json!({"requestId": "r-1", "user": "jane", "summary": "Printer jammed"});
    s.agent_call("/help", Some(&first), help).await;
    let alerts = ok(&s, t, get.clone(), "/alerts?held=true", None).await;
    assert!(
        alerts["items"][0]["heldUntilMs"].as_i64().is_some(),
        "{alerts}"
    );
    let held = ok(&s, t, get.clone(), &w, None).await;
    assert_eq!(held["heldAlerts"], 1);
    ok(&s, t, Method::DELETE, &w, None).await;
    let alerts = ok(&s, t, get.clone(), "/alerts", None).await;
    let alert = alerts["items"][0]["id"].as_i64().unwrap();
    ok(&s, t, get.clone(), &format!("/alerts/{alert}"), None).await;
    ok(&s, t, Method::POST, &format!("/alerts/{alert}/close"), None).await;
    let help = ok(&s, t, get.clone(), "/help-requests", None).await;
    let help = help["items"][0]["id"].as_i64().unwrap();
    ok(
        &s,
        t,
        Method::POST,
        &format!("/help-requests/{help}/close"),
        None,
    )
    .await;

    // Endings: retire, revoke, unlink, delete, sign out.
    ok(
        &s,
        t,
        Method::POST,
        &format!("/devices/{three}/retire"),
        None,
    )
    .await;
    ok(&s, t, Method::DELETE, &format!("/tokens/{token_id}"), None).await;
    ok(&s, t, Method::DELETE, &format!("{p}/link"), None).await;
    ok(&s, t, Method::DELETE, &format!("/policies/{qid}"), None).await;
    team(&s, t).await;
    // Signing out ends the session that signs out (a token's call ends nothing).
    let (status, _) = s.as_admin(t, Method::DELETE, "/session", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.as_admin(t, get.clone(), "/session", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let covered = s.covered.lock().unwrap().clone();
    let missing: Vec<String> = s
        .documented
        .operations()
        .into_iter()
        .filter(|op| !covered.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "documented but never answered here: {missing:?}"
    );
    let _ = s.stop.send(());
}

#[test]
fn the_checker_catches_drift() {
    let doc = common::openapi::Documented::load();
    let error = json!({"code": "not_found", "message": "device not found"});
    assert_eq!(
        doc.check("GET", "/devices/7", 404, &error).unwrap(),
        "GET /devices/{id}"
    );
    let cases = [
        (json!({"code": "x"}), "required"),
        (
            json!({"code": "x", "message": "m", "extra": 1}),
            "not documented",
        ),
        (json!({"code": 1, "message": "m"}), "is not string"),
    ];
    for (body, why) in cases {
        let e = doc.check("GET", "/devices/7", 404, &body).unwrap_err();
        assert!(e.contains(why), "{e}");
    }
    assert!(doc.check("GET", "/devices/7", 418, &error).is_err());
    assert!(doc.check("GET", "/nowhere", 200, &error).is_err());
    // A literal segment wins over a parameter.
    let preview = doc.check("POST", "/policies/links/preview", 400, &error);
    assert_eq!(preview.unwrap(), "POST /policies/links/preview");
}

/// `docs/admin-api.openapi.json` is the document the code makes, committed so that a change to
/// the API shows in review and tools can read it without a server. After a deliberate change:
/// `BINDERY_UPDATE_SNAPSHOTS=1 cargo nextest run -p bindery-server --test openapi`.
#[test]
fn the_committed_document_is_the_one_the_code_makes() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/admin-api.openapi.json");
    let made = format!("{}\n", bindery_server::api::admin::openapi_document());
    if std::env::var_os("BINDERY_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &made).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == made,
        "docs/admin-api.openapi.json is not the document the code makes: run this test with \
         BINDERY_UPDATE_SNAPSHOTS=1 and review the difference"
    );
}

#[test]
fn the_checker_reads_flattened_types_and_keyed_maps() {
    let doc = common::openapi::Documented::load();
    // `allOf`: the credentials' view is the credentials and `privateKeySet`, closed.
    let view = json!({"site": "s", "companyId": "c", "publicKey": "p", "clientId": "i",
        "allowHttp": false, "privateKeySet": true});
    doc.check("GET", "/integration", 200, &view).unwrap();
    doc.check("GET", "/integration", 200, &Value::Null).unwrap();
    let mut extra = view.clone();
    extra["privateKey"] = json!("secret");
    let e = doc.check("GET", "/integration", 200, &extra).unwrap_err();
    assert!(e.contains("privateKey: not documented"), "{e}");
    let mut short = view.clone();
    short.as_object_mut().unwrap().remove("privateKeySet");
    assert!(doc.check("GET", "/integration", 200, &short).is_err());
    // `propertyNames`: why a fact is absent is keyed by fact names only.
    let device = |absent: Value| {
        json!([{"id": 1, "agentId": "a", "policyId": null, "agentVersion": "1",
            "enrolledMs": 1, "lastSeenMs": 1, "retired": false, "alertEventsDropped": 0,
            "reinstallOf": null, "mergedInto": null, "macShared": false,
            "facts": {"name": "pc", "absent": absent},
            "binding": {"state": "none", "companyId": null, "configurationId": null,
                "error": null, "candidates": [], "choice": {"kind": "auto"}}}])
    };
    doc.check(
        "GET",
        "/devices",
        200,
        &device(json!({"serialNumber": "no SMBIOS"})),
    )
    .unwrap();
    let e = doc
        .check("GET", "/devices", 200, &device(json!({"shoeSize": "?"})))
        .unwrap_err();
    assert!(e.contains("absent key"), "{e}");
}
