//! The configuration field map from the console: a value naming a fact that does not exist is
//! refused with its reason and the admin's rows kept; a saved rule shows, the preview says what a
//! device's configuration would get, and the configuration in ConnectWise gets it.

use super::*;

/// Refuses, saves and previews a field map, then finds the field written in ConnectWise.
pub(super) async fn fields(s: &mut Session, w: &Scene) {
    s.go("/console/fields").await;
    let rules = s.text("#field-rules").await;
    assert!(
        s.seen.last().unwrap().contains("value=\"{model}\""),
        "{rules}"
    );
    // The default map has four rules; row 5 (index 4) is the first empty one.
    s.select("select[name=target_4]", "tagNumber").await;
    s.fill("input[name=value_4]", "Serial {serial}").await;
    s.click("#save-fields").await;
    let refused = s.text(".banner.error").await;
    assert!(
        refused.contains("rule 5 (tagNumber)") && refused.contains("names no fact {serial}"),
        "{refused}"
    );
    assert!(
        s.seen.last().unwrap().contains("value=\"Serial {serial}\""),
        "the admin's rows come back"
    );
    s.fill("input[name=value_4]", "Serial {serialNumber}").await;
    s.click("input[name=owned_4]").await;
    s.click("#save-fields").await;
    assert_eq!(s.text(".banner.ok").await, "Saved.");
    // web-0 is device 1: it reports a serial but no model.
    s.fill("#device_id", "1").await;
    s.click("#run-preview").await;
    let preview = s.text("#preview-result").await;
    assert!(preview.contains("Serial WEB00000"), "{preview}");
    assert!(preview.contains("does not report"), "{preview}");
    s.shot("fields").await;
    // The save synced the instance's companies: web-0's configuration carries its tag.
    let mut tries = 0;
    loop {
        let tagged =
            w.sb.sandbox
                .data()
                .configurations
                .values()
                .any(|c| c["deviceIdentifier"] == "web-0" && c["tagNumber"] == "Serial WEB00000");
        if tagged {
            break;
        }
        tries += 1;
        assert!(tries < 600, "the tag never reached ConnectWise");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
