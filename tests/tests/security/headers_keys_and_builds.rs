//! Security headers and cookies, the server key's rotation, and the builds' checksums.

use super::*;

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_https_cookies_are_secure() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let server = ServerProcess::start(&[
        "--data-dir",
        data_dir,
        "--public-url",
        "https://bindery.example.com",
    ]);
    let http = reqwest::Client::new();
    let paths = [
        "/healthz",
        "/no/such/page",
        "/api/admin/v1/policies",
        "/api/agent/v1/checkin",
        "/console/login",
    ];
    for path in paths {
        let r = http
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("content-security-policy"), "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        // The public URL is https: HSTS, even though no proxy said how the client came.
        assert_eq!(h["strict-transport-security"], "max-age=31536000", "{path}");
    }
    // Without an https public URL, HSTS only where the request came over https.
    let plain_data = tempfile::tempdir().unwrap();
    let plain = ServerProcess::start(&["--data-dir", plain_data.path().to_str().unwrap()]);
    let r = http
        .get(format!("{}/healthz", plain.url))
        .send()
        .await
        .unwrap();
    assert!(!r.headers().contains_key("strict-transport-security"));
    let r = http
        .get(format!("{}/healthz", plain.url))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(r.headers().contains_key("strict-transport-security"));

    // The public URL is https: the sign-in cookie is Secure, whatever the request said.
    admin(data_dir, &["admin-create", "alice"]);
    let password = "correct horse battery staple";
    let mut cmd = std::process::Command::new(bindery_e2e::binary("bindery-server"));
    let status = cmd
        .args(["admin", "--data-dir", data_dir, "admin-password", "alice"])
        .env("BINDERY_ADMIN_PASSWORD", password)
        .status()
        .unwrap();
    assert!(status.success());
    let r = http
        .post(format!("{}/api/admin/v1/session", server.url))
        .header("content-type", "application/json")
        .body(json!({"username": "alice", "password": password}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_key_is_rotated_safely_and_a_loose_one_is_named() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn(
        "127.0.0.1:0".parse().unwrap(),
        connectwise_sandbox::Seed::default_seed(),
        true,
    )
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path();
    let d = dir.to_str().unwrap();
    admin(d, &["connect-sandbox", &sb.url()]);
    let key = dir.join("server.key");
    let before = std::fs::read(&key).unwrap();
    assert_eq!(
        stored_private_key(dir, &key).await.as_deref(),
        Some("sandbox-private")
    );

    let out = admin(d, &["rekey"]);
    assert!(out.contains("re-sealed 1"), "{out}");
    assert_ne!(
        std::fs::read(&key).unwrap(),
        before,
        "a new key is in place"
    );
    assert_eq!(std::fs::read(dir.join("server.key.old")).unwrap(), before);
    assert_eq!(
        stored_private_key(dir, &key).await.as_deref(),
        Some("sandbox-private"),
        "the secret opens under the new key"
    );
    assert_eq!(
        stored_private_key(dir, &dir.join("server.key.old")).await,
        None
    );

    // A rekey that crashed after re-sealing, before the new key took its place: running it again
    // finishes, and nothing is lost.
    let next = dir.join("server.key.new");
    let new = bindery_server::sealing::create_key_file(&next).unwrap();
    {
        let store = bindery_server::store::Store::open_in_dir(dir)
            .await
            .unwrap();
        let current = bindery_server::sealing::ServerKey::load_or_create(&key).unwrap();
        bindery_server::integration::reseal(&store, &current, &new)
            .await
            .unwrap();
        store.pool().close().await;
    }
    assert_eq!(
        stored_private_key(dir, &key).await,
        None,
        "the crash's state"
    );
    let out = admin(d, &["rekey"]);
    assert!(out.contains("re-sealed 0"), "{out}");
    assert!(!next.exists());
    assert_eq!(
        stored_private_key(dir, &key).await.as_deref(),
        Some("sandbox-private")
    );

    // A key others may read: the server says so, naming the file.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let log = dir.join("server.log");
    let server = ServerProcess::start_logged(&["--data-dir", d], &log);
    drop(server);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("readable by group or others") && logged.contains("server.key"),
        "{logged}"
    );
    // The secrets themselves never reach the log: neither the ConnectWise key nor the server key.
    assert!(!logged.contains("sandbox-private"), "{logged}");
    let key_bytes = std::fs::read(&key).unwrap();
    let key_hex: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!logged.contains(&key_hex));
}

#[tokio::test]
async fn each_agent_build_has_its_sha256_published_beside_it() {
    connectwise_client::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let build = "pretend agent build\n";
    std::fs::write(downloads.path().join("bindery-agent-linux-x86_64"), build).unwrap();
    let server = ServerProcess::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--downloads-dir",
        downloads.path().to_str().unwrap(),
    ]);
    let get = |path: &str| reqwest::get(format!("{}{path}", server.url));
    let published = get("/downloads/bindery-agent-linux-x86_64.sha256")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        published,
        format!(
            "{}  bindery-agent-linux-x86_64\n",
            bindery_server::secrets::hash_secret(build)
        )
    );
    for missing in [
        "/downloads/bindery-agent-macos-aarch64.sha256",
        "/downloads/server.key.sha256",
        "/downloads/..%2Fserver.key.sha256",
    ] {
        assert_eq!(get(missing).await.unwrap().status(), 404, "{missing}");
    }
}
