//! Sessions, CSRF, and an admin setting up ConnectWise and a link through the API.

use super::*;

#[tokio::test]
async fn every_documented_route_refuses_a_request_without_a_session() {
    let s = server().await;
    let doc: Value = serde_json::from_str(bindery_server::api::admin::openapi_document()).unwrap();
    let mut checked = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let public = op["security"] == json!([]);
            let url = path.replace("{id}", "1");
            let (status, body) = s
                .call(
                    method.clone(),
                    &url,
                    &[("authorization", "Bearer nope")],
                    None,
                )
                .await;
            if public {
                assert_ne!(status, StatusCode::NOT_FOUND, "{method} {path} is served");
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
                assert_eq!(body["code"], "unauthorized");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "{checked} protected routes");
    let _ = s.stop.send(());
}

#[tokio::test]
async fn sign_in_sessions_and_csrf() {
    let s = server().await;
    let (status, body) = s
        .call(
            Method::POST,
            "/session",
            &[],
            Some(json!({"username": "alice", "password": "wrong password"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = s
        .call(
            Method::POST,
            "/session",
            &[],
            Some(json!({"username": "mallory", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s
        .call(Method::POST, "/session", &[], Some(json!({"username": 1})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (token, csrf) = s.login().await;
    let (status, me) = s.as_admin(&token, Method::GET, "/session", None).await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("alice"))
    );

    // The cookie alone (as a browser sends it, also from another site's form) cannot change
    // anything without the CSRF token.
    let cookie = format!("bindery_session={token}");
    let (status, body) = s
        .call(
            Method::POST,
            "/policies",
            &[("cookie", &cookie)],
            Some(json!({"name": "Sneaky"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "csrf");
    let (status, list) = s
        .call(Method::GET, "/policies", &[("cookie", &cookie)], None)
        .await;
    assert_eq!(
        (status, list),
        (StatusCode::OK, json!([])),
        "nothing was created"
    );
    let (status, _) = s
        .call(
            Method::POST,
            "/policies",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            Some(json!({"name": "Office"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _) = s.as_admin(&token, Method::DELETE, "/session", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.as_admin(&token, Method::GET, "/policies", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out");
    let _ = s.stop.send(());
}

#[tokio::test]
async fn an_admin_sets_up_connectwise_links_a_policy_and_watches_it_bind() {
    let s = server().await;
    let (t, _) = s.login().await;
    let site = s.sb.url();
    let creds = json!({"site": site, "companyId": "bindery", "publicKey": "sandbox-public",
        "clientId": "tests", "allowHttp": true});

    // Wrong private key: saved, but the test says precisely what is wrong.
    let mut wrong = creds.clone();
    wrong["privateKey"] = "not-the-key".into();
    let (status, body) = s
        .as_admin(&t, Method::PUT, "/integration", Some(wrong))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s
        .as_admin(&t, Method::POST, "/integration/test", None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("cw_unauthorized"))
    );
    assert!(body["message"].as_str().unwrap().contains("401"));

    let mut right = creds.clone();
    right["privateKey"] = PRIVATE_KEY.into();
    let (status, view) = s
        .as_admin(&t, Method::PUT, "/integration", Some(right))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["privateKeySet"], true);
    let (status, catalog) = s
        .as_admin(&t, Method::POST, "/integration/test", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    let types = catalog["configurationTypes"].as_array().unwrap();
    let type_id = |name: &str| types.iter().find(|t| t["name"] == name).unwrap()["id"].clone();

    let mut choices = json!({
        "monitoring": {"boardId": 1, "openStatusId": 1, "closedStatusId": 2},
        "selfService": {"boardId": 2, "openStatusId": 3, "closedStatusId": 4},
        "activeStatusId": 1, "inactiveStatusId": 2,
        "defaultTypeId": type_id("Firewall"), "typeRules": []});
    let (status, body) = s
        .as_admin(
            &t,
            Method::PUT,
            "/integration/choices",
            Some(choices.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("Rack location"),
        "a type with required questions is refused, naming them: {body}"
    );
    choices["defaultTypeId"] = type_id("Managed Workstation");
    let (status, body) = s
        .as_admin(&t, Method::PUT, "/integration/choices", Some(choices))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A policy, a token, three machines enrolling with it.
    let (_, policy) = s
        .as_admin(
            &t,
            Method::POST,
            "/policies",
            Some(json!({"name": "Acme office"})),
        )
        .await;
    let pid = policy["id"].as_i64().unwrap();
    assert_eq!(policy["link"], "grey");
    let (status, token) = s
        .as_admin(
            &t,
            Method::POST,
            &format!("/policies/{pid}/tokens"),
            Some(json!({"label": "rollout"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let enroll_token = token["token"].as_str().unwrap().to_owned();
    let (_, tokens) = s
        .as_admin(&t, Method::GET, &format!("/policies/{pid}/tokens"), None)
        .await;
    assert!(
        tokens[0].get("token").is_none(),
        "a token is shown only once"
    );
    for n in 0..3 {
        let body = json!({"token": enroll_token, "agentId": format!("agent-{n}"), "agentVersion": "0.1.0",
            "facts": {"name": format!("pc-{n}"), "serialNumber": format!("SN{n}")}});
        let r = s
            .http
            .post(format!("{}/enroll", s.agent))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    // The company picker finds Acme; linking binds every device and turns the policy blue.
    let (status, found) = s.as_admin(&t, Method::GET, "/companies?q=acme", None).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let acme = found
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identifier"] == "Acme")
        .unwrap()["id"]
        .clone();
    let (status, linked) = s
        .as_admin(
            &t,
            Method::PUT,
            &format!("/policies/{pid}/link"),
            Some(json!({"companyId": acme})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    assert_eq!(linked["company"]["name"], "Acme Corporation");
    let mut link = String::new();
    for _ in 0..200 {
        let (_, p) = s
            .as_admin(&t, Method::GET, &format!("/policies/{pid}"), None)
            .await;
        link = p["link"].as_str().unwrap().to_owned();
        if link == "blue" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(link, "blue");
    let (_, devices) = s
        .as_admin(&t, Method::GET, &format!("/devices?policy={pid}"), None)
        .await;
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 3);
    for d in devices {
        assert_eq!(d["binding"]["state"], "bound", "{d}");
        assert!(d["binding"]["configurationId"].as_i64().is_some());
    }
    assert_eq!(s.sb.sandbox.data().configurations.len(), 3);

    // Unlink: grey, and every configuration inactive.
    let (status, p) = s
        .as_admin(&t, Method::DELETE, &format!("/policies/{pid}/link"), None)
        .await;
    assert_eq!((status, p["link"].as_str()), (StatusCode::OK, Some("grey")));
    for _ in 0..200 {
        let inactive =
            s.sb.sandbox
                .data()
                .configurations
                .values()
                .all(|c| c["status"]["id"] == 2);
        if inactive {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        s.sb.sandbox
            .data()
            .configurations
            .values()
            .all(|c| c["status"]["id"] == 2)
    );

    // Bad input changes nothing and says why.
    let (status, body) = s
        .as_admin(
            &t,
            Method::POST,
            "/policies",
            Some(json!({"name": "x".repeat(101)})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _) = s
        .as_admin(
            &t,
            Method::PUT,
            &format!("/policies/{pid}/link"),
            Some(json!({"companyId": 999_999})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let (_, p) = s
        .as_admin(&t, Method::GET, &format!("/policies/{pid}"), None)
        .await;
    assert_eq!(
        p["link"], "grey",
        "a failed link leaves the policy as it was"
    );

    let seen = s.seen.lock().unwrap().join("\n");
    assert!(
        !seen.contains(PRIVATE_KEY),
        "the private key never leaves the server"
    );
    assert!(!seen.contains("not-the-key"));
    let _ = (s.stop.send(()), s.base);
}
