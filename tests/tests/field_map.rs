//! The field map with the real binaries: the real agent reports this machine's inventory
//! (gateway, disks: what `bindery-agent facts` prints), the default map puts it on the
//! configuration, `field-map-set` refuses a custom field that is not a text field and saves a
//! sound map, and `field-map-preview` says what the configuration gets.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use bindery_e2e::{ServerProcess, admin, enroll, run, wait_for};
use connectwise_sandbox::Seed;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_agent_s_inventory_lands_where_the_field_map_says() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let (d, state_dir) = (
        data.path().to_str().unwrap().to_owned(),
        state.path().to_str().unwrap().to_owned(),
    );
    admin(&d, &["connect-sandbox", &sb.url()]);
    admin(&d, &["policy-create", "Acme"]);
    admin(&d, &["link", "--policy", "Acme", "--company", "2"]);
    let token = admin(&d, &["token-create", "--policy", "Acme"]);
    let server = ServerProcess::start(&["--data-dir", &d, "--retry-base-ms", "100"]);

    let (ok, here, err) = run("bindery-agent", &["facts", "--json"]);
    assert!(ok, "{err}");
    let here: Value = serde_json::from_str(&here).unwrap();
    let (ok, _, err) = enroll(&server.url, token.trim(), &state_dir, &[]);
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        "bindery-agent",
        &["run", "--once", "--state-dir", &state_dir],
    );
    assert!(ok, "{err}");
    let agent_id = std::fs::read_to_string(state.path().join("agent-id")).unwrap();
    let config = || {
        sb.sandbox
            .data()
            .configurations
            .values()
            .find(|c| c["deviceIdentifier"] == agent_id.trim())
            .cloned()
    };
    wait_for("the configuration", 60, || config().is_some());
    let c = config().unwrap();
    // Whatever this machine reports of its gateway and disks is what the configuration holds
    // (a fact it cannot read leaves the field alone).
    for (fact, field) in [
        ("defaultGateway", "defaultGateway"),
        ("localHardDrives", "localHardDrives"),
    ] {
        match here[fact].as_str() {
            Some(v) => assert_eq!(c[field], v, "{field}: {c}"),
            None => assert!(c.get(field).is_none_or(Value::is_null), "{field}: {c}"),
        }
    }

    // A date field cannot be filled from facts: refused, with why; a text one can.
    let file = data.path().join("map.json");
    let path = file.to_str().unwrap();
    let wrong = json!({"rules": [{"target": "customField", "customFieldId": 1, "value": "{osInstallDate}"}]});
    std::fs::write(&file, wrong.to_string()).unwrap();
    let (ok, _, err) = run(
        "bindery-server",
        &["admin", "--data-dir", &d, "field-map-set", "--file", path],
    );
    assert!(
        !ok && err.contains("rule 1") && err.contains("only text fields"),
        "{err}"
    );
    let fields = admin(&d, &["field-map-custom-fields"]);
    assert!(fields.contains("BIOS Version  [Text]"), "{fields}");
    let map = json!({"rules": [
        {"target": "customField", "customFieldId": 4, "value": "{osType} {osInfo}", "owned": true},
        {"target": "tagNumber", "value": "{name}", "owned": false}
    ]});
    std::fs::write(&file, map.to_string()).unwrap();
    admin(&d, &["field-map-set", "--file", path]);
    let shown: Value = serde_json::from_str(&admin(&d, &["field-map"])).unwrap();
    assert_eq!(shown, map);
    let device = admin(&d, &["device-list"])
        .lines()
        .find(|l| l.contains(agent_id.trim()))
        .and_then(|l| l.split('\t').next().map(str::to_owned))
        .unwrap();
    let preview = admin(&d, &["field-map-preview", "--device", &device]);
    let os = format!(
        "{} {}",
        here["osType"].as_str().unwrap(),
        here["osInfo"].as_str().unwrap()
    );
    assert!(
        preview.contains(&os) && preview.contains("[owned]"),
        "{preview}"
    );
    // The running server syncs the company the save queued: the fields follow.
    let custom = |c: &Value| c["customFields"][3]["value"].clone();
    wait_for("the custom field", 60, || {
        config().is_some_and(|c| custom(&c) == os.as_str())
    });
    let c = config().unwrap();
    assert_eq!(c["tagNumber"], here["name"], "{c}");
    assert_eq!(
        c["customFields"][0]["value"],
        Value::Null,
        "the others stay unset"
    );

    // A technician edits the tag (not owned) and the custom field (owned) in ConnectWise; after
    // "Sync now" the tag stays theirs and the owned field is put back.
    let id = c["id"].as_i64().unwrap();
    let edit = json!([
        {"op": "replace", "path": "tagNumber", "value": "ASSET-7"},
        {"op": "replace", "path": "customFields", "value": [{"id": 4, "value": "edited"}]},
    ]);
    let r = reqwest::Client::new()
        .patch(format!(
            "{}/v4_6_release/apis/3.0/company/configurations/{id}",
            sb.url()
        ))
        .basic_auth("bindery+tech-public", Some("tech-private"))
        .header("clientId", "tests")
        .header("content-type", "application/json")
        .body(edit.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    assert_eq!(custom(&config().unwrap()), "edited");
    admin(&d, &["sync-now"]);
    wait_for("the owned field put back", 60, || {
        config().is_some_and(|c| custom(&c) == os.as_str())
    });
    assert_eq!(
        config().unwrap()["tagNumber"],
        "ASSET-7",
        "the person's edit stands"
    );
    drop(server);
    sb.stop().await;
}
