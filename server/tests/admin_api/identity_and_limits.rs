//! Previews, suggestions and identity decisions; session lifetimes; plain http to ConnectWise.

use super::*;

#[tokio::test]
async fn previews_suggestions_and_decisions_about_identity_through_the_api() {
    let s = server().await;
    let (t, _) = s.login().await;
    connect(&s, &t).await;
    let mut ids = Vec::new();
    for name in ["ACME, Inc.", "Globex office", "Nobody Here"] {
        let (_, p) = s
            .as_admin(&t, Method::POST, "/policies", Some(json!({"name": name})))
            .await;
        ids.push(p["id"].as_i64().unwrap());
    }
    let (status, suggested) = s
        .as_admin(&t, Method::GET, "/company-suggestions", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{suggested}");
    let company = |n: usize| suggested[n]["company"]["id"].as_i64();
    assert_eq!(
        (company(0), company(1), company(2)),
        (Some(2), Some(3), None),
        "{suggested}"
    );
    assert_eq!(suggested[0]["company"]["score"], 1.0);

    // Two machines: one already on record by its serial, one matching two records by name.
    let (_, token) = s
        .as_admin(
            &t,
            Method::POST,
            &format!("/policies/{}/tokens", ids[0]),
            Some(json!({})),
        )
        .await;
    let token = token["token"].as_str().unwrap().to_owned();
    // One rule for every way a token is made: a bounded label without control characters, at
    // most ten years.
    let tokens = format!("/policies/{}/tokens", ids[0]);
    for bad in ["x".repeat(101), "bell\u{7}".into()] {
        let (status, body) = s
            .as_admin(&t, Method::POST, &tokens, Some(json!({"label": bad})))
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("label"))
        );
    }
    let (_, long) = s
        .as_admin(
            &t,
            Method::POST,
            &tokens,
            Some(json!({"expiresInDays": 99_999})),
        )
        .await;
    let ten_years = 3650 * 86_400_000i64;
    assert!(long["expiresMs"].as_i64().unwrap() <= bindery_server::store::now_ms() + ten_years);
    let on_record = seed(&s, "old-pc", Some("SN-A"));
    let dups = [seed(&s, "dup", None), seed(&s, "DUP.corp", None)];
    let enroll = |agent: &str, facts: Value| {
        let body =
            json!({"token": token, "agentId": agent, "agentVersion": "0.1.0", "facts": facts});
        s.http
            .post(format!("{}/enroll", s.agent))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    assert_eq!(
        enroll("agent-a", json!({"name": "pc-a", "serialNumber": "SN-A"}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        enroll("agent-b", json!({"name": "dup"}))
            .await
            .unwrap()
            .status(),
        200
    );

    // The previews, single and for accepted suggestions, agree and write nothing.
    let link = json!({"links": [{"policyId": ids[0], "companyId": 2}]});
    let (status, many) = s
        .as_admin(
            &t,
            Method::POST,
            "/policies/links/preview",
            Some(link.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{many}");
    let (_, one) = s
        .as_admin(
            &t,
            Method::POST,
            &format!("/policies/{}/link/preview", ids[0]),
            Some(json!({"companyId": 2})),
        )
        .await;
    assert_eq!(many[0], one);
    assert_eq!(
        (one["adoptBySerial"].as_i64(), one["create"].as_i64()),
        (Some(1), Some(0)),
        "{one}"
    );
    assert_eq!(one["needsPerson"][0]["candidates"], json!(dups));
    assert_eq!(
        s.sb.sandbox.data().configurations.len(),
        3,
        "nothing written"
    );
    let (status, _) = s
        .as_admin(
            &t,
            Method::POST,
            "/policies/links/preview",
            Some(json!({"links": []})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Accepted: linked; agent-a adopts its record, agent-b waits for a person.
    let (status, linked) = s
        .as_admin(&t, Method::POST, "/policies/links", Some(link))
        .await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    let device = |agent: &'static str| {
        let s = &s;
        let t = t.clone();
        async move {
            let (_, list) = s.as_admin(&t, Method::GET, "/devices", None).await;
            list.as_array()
                .unwrap()
                .iter()
                .find(|d| d["agentId"] == agent)
                .unwrap()
                .clone()
        }
    };
    let mut b = Value::Null;
    for _ in 0..200 {
        b = device("agent-b").await;
        if b["binding"]["state"] == "needs_person"
            && device("agent-a").await["binding"]["state"] == "bound"
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(b["binding"]["candidates"], json!(dups), "{b}");
    assert_eq!(
        device("agent-a").await["binding"]["configurationId"],
        on_record
    );
    let (_, policy) = s
        .as_admin(&t, Method::GET, &format!("/policies/{}", ids[0]), None)
        .await;
    assert_eq!(
        (policy["needsPerson"].as_i64(), policy["link"].as_str()),
        (Some(1), Some("red"))
    );

    // A person picks; a choice without its configuration is refused.
    let b_id = b["id"].as_i64().unwrap();
    let path = format!("/devices/{b_id}/configuration");
    let (status, _) = s
        .as_admin(&t, Method::POST, &path, Some(json!({"kind": "adopt"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = s
        .as_admin(
            &t,
            Method::POST,
            &path,
            Some(json!({"kind": "adopt", "configurationId": dups[1]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for _ in 0..200 {
        if device("agent-b").await["binding"]["state"] == "bound" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let b = device("agent-b").await;
    assert_eq!(
        (
            b["binding"]["configurationId"].as_i64(),
            b["binding"]["choice"]["kind"].as_str()
        ),
        (Some(dups[1]), Some("adopt"))
    );
    assert_eq!(
        s.sb.sandbox.data().configurations.len(),
        3,
        "nothing created"
    );

    // Auto-approval of reinstalls: off by default, bounded, and saved.
    let (_, identity) = s.as_admin(&t, Method::GET, "/identity", None).await;
    assert_eq!(identity, json!({"autoApproveSilentDays": null}));
    let (status, _) = s
        .as_admin(
            &t,
            Method::PUT,
            "/identity",
            Some(json!({"autoApproveSilentDays": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = s
        .as_admin(
            &t,
            Method::PUT,
            "/identity",
            Some(json!({"autoApproveSilentDays": 30})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, identity) = s.as_admin(&t, Method::GET, "/identity", None).await;
    assert_eq!(identity["autoApproveSilentDays"], 30);

    // agent-a's serial from a wiped machine: a possible reinstall, which the admin keeps apart.
    assert_eq!(
        enroll("agent-c", json!({"name": "pc-c", "serialNumber": "SN-A"}))
            .await
            .unwrap()
            .status(),
        200
    );
    let c = device("agent-c").await;
    assert_eq!(c["reinstallOf"], device("agent-a").await["id"]);
    let path = format!("/devices/{}/reinstall", c["id"]);
    let (status, _) = s
        .as_admin(&t, Method::POST, &path, Some(json!({"answer": "maybe"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, kept) = s
        .as_admin(
            &t,
            Method::POST,
            &path,
            Some(json!({"answer": "keepSeparate"})),
        )
        .await;
    assert_eq!(
        (status, &kept["reinstallOf"]),
        (StatusCode::OK, &Value::Null)
    );
    let _ = s.stop.send(());
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_busy() {
    let s = common::admin::server_with(bindery_server::state::AgentSettings {
        session_lifetime: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let (token, _) = s.login().await;
    // Used all along (the idle limit is 12 hours), it still ends after two seconds.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, _) = s.as_admin(&token, Method::GET, "/session", None).await;
        statuses.push(status);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(statuses[0], StatusCode::OK);
    let (status, body) = s.as_admin(&token, Method::GET, "/session", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let _ = s.stop.send(());
}

#[tokio::test]
async fn plain_http_to_connectwise_needs_the_servers_own_option() {
    let s = common::admin::server_with(bindery_server::state::AgentSettings::default()).await;
    let (t, _) = s.login().await;
    let creds = json!({"site": s.sb.url(), "companyId": "bindery", "publicKey": "sandbox-public",
        "clientId": "tests", "allowHttp": true, "privateKey": PRIVATE_KEY});
    let (status, body) = s
        .as_admin(&t, Method::PUT, "/integration", Some(creds))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "allowHttp");
    let (_, stored) = s.as_admin(&t, Method::GET, "/integration", None).await;
    assert_eq!(stored, Value::Null, "nothing was saved");
    let _ = s.stop.send(());
}
