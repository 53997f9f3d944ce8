//! A second ConnectWise instance from the console: added and connected to a second sandbox, a
//! new policy linked to a company there through the company search's instance select (the
//! preview and the policy name the instance), and the instance refused removal while linked.

use super::*;

/// Adds, connects and links through a second instance; refuses its removal.
pub(super) async fn instances(s: &mut Session, _w: &Scene) {
    let second =
        connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
            .await
            .unwrap();
    s.go("/console/integration").await;
    s.fill("#new_instance", "Acquired").await;
    s.click("#add-instance").await;
    assert!(s.text(".banner.ok").await.starts_with("Added."));
    assert!(s.text("#instance-list").await.contains("Acquired"));
    s.fill("#site", &second.url()).await;
    s.fill("#company_id", "bindery").await;
    s.fill("#public_key", "sandbox-public").await;
    s.fill("#private_key", PRIVATE_KEY).await;
    s.fill("#client_id", "bindery-console-test").await;
    s.click("input[name=allow_http]").await;
    s.click("#connect").await;
    assert!(
        s.text(".banner.ok")
            .await
            .starts_with("Connected to ConnectWise")
    );
    for (field, value) in [
        ("#monitoring_board", "1"),
        ("#monitoring_open", "1"),
        ("#monitoring_closed", "2"),
        ("#self_service_board", "2"),
        ("#self_service_open", "3"),
        ("#self_service_closed", "4"),
        ("#active_status", "1"),
        ("#inactive_status", "2"),
        ("#default_type", "1"),
    ] {
        s.select(field, value).await;
    }
    s.click("#save-choices").await;
    assert_eq!(s.text(".banner.ok").await, "Saved.");
    s.fill("#requests_per_minute", "600").await;
    s.click("#save-budget").await;
    assert_eq!(s.text(".banner.ok").await, "Saved.");
    s.shot("instances").await;

    // A new policy, linked to Acme of the acquired instance: company id 2 there is not the
    // first instance's Acme.
    s.go("/console/policies").await;
    s.fill("#name", "Acme (acquired)").await;
    s.click("form[action='/console/policies'] button[type=submit]")
        .await;
    assert_eq!(s.text(".banner.ok").await, "Created.");
    let page = s.c.current_url().await.unwrap().path().to_owned();
    s.go(&format!("{page}?q=Acme&integration=2")).await;
    s.click("input[name=company_id][value='2']").await;
    s.click("form[action$='/preview'] button[type=submit]")
        .await;
    assert!(s.text(".preview h2").await.contains("in Acquired"));
    s.click("#confirm-link").await;
    assert!(s.text("#linked-company").await.contains("in Acquired"));

    // Linked, the instance cannot be removed: the page says why.
    s.go("/console/integration?integration=2").await;
    s.click("#remove-instance").await;
    assert!(
        s.text(".banner.error")
            .await
            .contains("unlink or move them first")
    );
    second.stop().await;
}
