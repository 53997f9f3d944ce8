//! Faults, unreachable sites, unsafe conditions, codebase discovery and redirects.

use super::*;

#[tokio::test]
async fn server_errors_timeouts_and_lost_replies_are_transient() {
    let sb = sandbox().await;
    let mut config = config_for(&sb.url(), "sandbox-private");
    config.timeout = Duration::from_millis(400);
    let c = Client::new(config).unwrap();
    c.company_info().await.unwrap();

    sb.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let err = c.system_info().await.unwrap_err();
    assert!(
        matches!(err, Error::Server { status: 500, .. }) && err.is_transient(),
        "{err:?}"
    );

    sb.sandbox.set_faults(Faults {
        timeout_rate: 1.0,
        hang_ms: 3_000,
        ..Faults::default()
    });
    let err = c.system_info().await.unwrap_err();
    assert_eq!(err, Error::Timeout);

    sb.stop().await;
}

/// The write happens, the reply never arrives: the hardest case for duplicates.
#[tokio::test]
async fn a_lost_reply_is_transient_though_the_write_happened() {
    let sb = sandbox().await;
    let c = client(&sb);
    c.company_info().await.unwrap();
    sb.sandbox.set_faults(Faults {
        lost_reply_rate: 1.0,
        ..Faults::default()
    });
    let err = c
        .create_configuration(&device("lost", 2, "agent-lost"))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let log = sb.sandbox.requests();
    let post = log.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!((post.status, post.fault), (201, Some("lost-reply")));
    sb.sandbox.set_faults(Faults::default());
    let q = ListQuery::filter(Condition::text("deviceIdentifier", Op::Eq, "agent-lost").unwrap());
    assert_eq!(
        c.count_configurations(&q).await.unwrap(),
        1,
        "ConnectWise holds it even so"
    );
    sb.stop().await;
}

#[tokio::test]
async fn an_unreachable_site_is_a_network_error() {
    // Bind then drop a listener: the port is free and refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::new(config_for(&format!("http://127.0.0.1:{port}"), "k")).unwrap();
    let err = c.system_info().await.unwrap_err();
    assert!(
        matches!(err, Error::Network { .. }) && err.is_transient(),
        "{err:?}"
    );
}

#[tokio::test]
async fn unsafe_condition_values_are_refused_before_anything_is_sent() {
    let sb = sandbox().await;
    let c = client(&sb);
    let err = c
        .find_tickets_by_external_ref("x\" or id > 0 or externalXRef=\"")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Condition(_)), "{err:?}");
    assert!(
        sb.sandbox.requests().is_empty(),
        "nothing reached ConnectWise"
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_404_on_a_discovered_codebase_discovers_it_again() {
    let sb = sandbox().await;
    let c = client(&sb);
    // A missing record is a real 404: the codebase is looked up once more, found unchanged, and
    // the 404 stands.
    assert!(matches!(
        c.get_ticket(99).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    let companyinfo = codebase_lookups(&sb);
    assert_eq!(companyinfo, 2);
    sb.stop().await;
}

/// A site that answers every request with a 302 to another loopback port: the client follows
/// none of them (they would carry the keys or the clientId anywhere), and says where it led.
#[tokio::test]
async fn redirects_are_never_followed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_port = elsewhere.local_addr().unwrap().port();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = elsewhere.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 19\r\n\r\n{\"signing_key\":\"k\"}")
                .await;
        }
    });
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site_port = site.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = site.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:{elsewhere_port}/stolen\r\n\
                     content-length: 0\r\n\r\n"
                );
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    });
    let site_url = format!("http://127.0.0.1:{site_port}");
    let c = Client::new(config_for(&site_url, "sandbox-private")).unwrap();
    let key_url = format!("{site_url}/v4_6_release/apis/3.0/callbackkey");
    for err in [
        c.callback_signing_key(&key_url).await.unwrap_err(),
        c.company_info().await.unwrap_err(),
        c.system_info().await.unwrap_err(),
    ] {
        match &err {
            Error::Redirected { status, to } => {
                assert_eq!(
                    (*status, to.as_str()),
                    (302, format!("127.0.0.1:{elsewhere_port}").as_str())
                );
            }
            other => panic!("not refused as a redirect: {other:?}"),
        }
        assert!(!err.is_transient(), "a person must fix the site address");
    }
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "nothing reached the other port"
    );
}

/// The jobs that start together after a restart share one codebase lookup.
#[tokio::test]
async fn many_first_requests_share_one_codebase_lookup() {
    let sb = sandbox().await;
    let c = client(&sb);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let c = c.clone();
        calls.spawn(async move { c.system_info().await.map(|_| ()) });
    }
    for r in calls.join_all().await {
        r.unwrap();
    }
    let companyinfo = codebase_lookups(&sb);
    assert_eq!(companyinfo, 1);
    sb.stop().await;
}
