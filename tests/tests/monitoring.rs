//! Monitoring with the real binaries: the real agent runs a process monitor against a process
//! this test starts and stops; the real server opens and closes ConnectWise tickets in the
//! sandbox. Covers: one ticket on the right board and status with the configuration attached,
//! closed when the alert resolves; a flapping process that stays one ticket; the server down
//! while alerts fire (all delivered after, in order, none doubled) with sandbox faults on
//! return; and the help-request round trip.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bindery_e2e::{KillOnDrop, ServerProcess, admin, binary, free_port, run, wait_for};
use connectwise_sandbox::{Faults, Seed};
use serde_json::{Value, json};

const MONITORING_BOARD: i64 = 1;
const MONITORING_NEW: i64 = 1;
const MONITORING_CLOSED: i64 = 2;
const SELF_SERVICE_BOARD: i64 = 2;
const SELF_SERVICE_NEW: i64 = 3;
const SELF_SERVICE_CLOSED: i64 = 4;
/// The watched process: a copy of sleep(1) under a name no other process has.
const PROCESS: &str = "bnd-sleeper";

/// The monitoring board's tickets, oldest first.
fn monitoring_tickets(sb: &connectwise_sandbox::Running) -> Vec<Value> {
    sb.sandbox
        .data()
        .tickets
        .values()
        .filter(|t| t["board"]["id"] == MONITORING_BOARD)
        .cloned()
        .collect()
}

fn status(t: &Value) -> i64 {
    t["status"]["id"].as_i64().unwrap()
}

/// Sets the policy's monitors: only the process monitor, with this minimum duration.
fn watch_process(d: &str, dir: &std::path::Path, min_secs: u32) {
    let file = dir.join("monitors.json");
    let settings = json!({"monitors": [{"id": "sleeper", "kind": "processRunning",
        "target": PROCESS, "minDurationSecs": min_secs}], "offlineAfterMins": 0});
    std::fs::write(&file, settings.to_string()).unwrap();
    admin(
        d,
        &[
            "monitors-set",
            "--policy",
            "Acme office",
            file.to_str().unwrap(),
        ],
    );
}

struct Sleeper {
    exe: std::path::PathBuf,
    child: Option<Child>,
}

impl Sleeper {
    fn start(&mut self) {
        if self.child.is_none() {
            self.child = Some(Command::new(&self.exe).arg("600").spawn().unwrap());
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_help_requests_become_tickets_once_through_flapping_outages_and_faults() {
    connectwise_client::install_tls_provider();
    let sb = connectwise_sandbox::spawn("127.0.0.1:0".parse().unwrap(), Seed::default_seed(), true)
        .await
        .unwrap();
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap().to_owned();
    admin(&d, &["connect-sandbox", &sb.url()]);
    admin(&d, &["policy-create", "Acme office"]);
    admin(&d, &["link", "--policy", "Acme office", "--company", "2"]);
    watch_process(&d, data.path(), 0);
    let token = admin(&d, &["token-create", "--policy", "Acme office"])
        .trim()
        .to_owned();
    let listen = format!("127.0.0.1:{}", free_port());
    let server_args = [
        "--data-dir",
        d.as_str(),
        "--checkin-interval",
        "2",
        "--retry-base-ms",
        "100",
    ];
    let server = ServerProcess::start_at(&listen, &server_args);

    let state = tempfile::tempdir().unwrap();
    let state_dir = state.path().to_str().unwrap().to_owned();
    let (ok, _, err) = run(
        "bindery-agent",
        &[
            "enroll",
            "--server",
            &server.url,
            "--token",
            &token,
            "--state-dir",
            &state_dir,
        ],
    );
    assert!(ok, "{err}");
    let exe = state.path().join(PROCESS);
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let mut sleeper = Sleeper { exe, child: None };
    let agent = KillOnDrop(
        Command::new(binary("bindery-agent"))
            .args(["run", "--state-dir", &state_dir])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // The process is not running: one ticket, open, with the machine's configuration.
    wait_for("the first ticket", 60, || {
        monitoring_tickets(&sb).len() == 1 && !sb.sandbox.data().ticket_configurations.is_empty()
    });
    let first = monitoring_tickets(&sb)[0].clone();
    let first_id = first["id"].as_i64().unwrap();
    assert_eq!(status(&first), MONITORING_NEW);
    assert_eq!(first["company"]["id"], 2);
    assert!(
        first["summary"]
            .as_str()
            .unwrap()
            .starts_with("Process bnd-sleeper is not running on "),
        "{first}"
    );
    let config = sb.sandbox.data().configurations.values().next().unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        sb.sandbox.data().ticket_configurations,
        vec![(first_id, config)]
    );

    // It starts: the alert resolves and the ticket closes.
    sleeper.start();
    wait_for("the first ticket to close", 30, || {
        status(&monitoring_tickets(&sb)[0]) == MONITORING_CLOSED
    });

    // Back within the reopen window (24 h by default): the same ticket reopens, with a note.
    // Flapping far faster than the monitor's 6 s then changes nothing: no ticket per flap.
    watch_process(&d, data.path(), 6);
    std::thread::sleep(Duration::from_secs(3)); // the agent takes the new settings
    sleeper.stop();
    wait_for("the first ticket to reopen", 30, || {
        status(&monitoring_tickets(&sb)[0]) == MONITORING_NEW
    });
    let notes: Vec<String> = sb
        .sandbox
        .data()
        .notes
        .values()
        .filter(|n| n["ticketId"] == first_id)
        .filter_map(|n| n["text"].as_str().map(str::to_owned))
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("Reopened: the alert came back")),
        "{notes:?}"
    );
    for _ in 0..6 {
        sleeper.start();
        std::thread::sleep(Duration::from_millis(1200));
        sleeper.stop();
        std::thread::sleep(Duration::from_millis(1200));
    }
    let tickets = monitoring_tickets(&sb);
    assert_eq!(tickets.len(), 1, "flapping made no new ticket");
    assert_eq!(status(&tickets[0]), MONITORING_NEW, "and closed none");
    sleeper.start();
    wait_for("the reopened ticket to close", 30, || {
        status(&monitoring_tickets(&sb)[0]) == MONITORING_CLOSED
    });
    // From here every alert gets a ticket of its own (so the outage below counts them).
    let rules = admin(&d, &["ticket-rules", "--reopen-within-hours", "0"]);
    assert!(rules.starts_with("reopen within 0 h"), "{rules}");
    // Maintenance windows from the command line: set, shown, refused with the line named, and
    // removed (the server tests cover what a window does to alerts).
    let set = admin(
        &d,
        &[
            "maintenance",
            "--policy",
            "Acme office",
            "--time-zone",
            "Europe/Berlin",
            "--window",
            "sat,sun 22:00-02:00",
            "--window",
            "2026-12-24 18:00 - 2026-12-27 08:00 Office move",
        ],
    );
    assert!(
        set.contains("time zone: Europe/Berlin")
            && set.contains("sat,sun 22:00-02:00\n2026-12-24 18:00 - 2026-12-27 08:00 Office move"),
        "{set}"
    );
    let (ok, _, err) = bindery_e2e::run(
        "bindery-server",
        &[
            "admin",
            "--data-dir",
            &d,
            "maintenance",
            "--policy",
            "Acme office",
            "--window",
            "someday 22:00-02:00",
        ],
    );
    assert!(!ok && err.contains("line 1"), "{err}");
    let cleared = admin(&d, &["maintenance", "--policy", "Acme office", "--clear"]);
    assert!(cleared.contains("no windows"), "{cleared}");
    // A 3 s monitor for the outage below, so that it fits more changes in less time.
    watch_process(&d, data.path(), 3);
    std::thread::sleep(Duration::from_secs(3));

    // The server goes down while the process stops and starts: the events wait in the agent's
    // spool and arrive in order when it returns, through sandbox faults. The short form makes
    // three events in 24 s; the reliability suite's long form (BINDERY_RELIABILITY=long) 21
    // events over almost three minutes.
    let cycles = if std::env::var("BINDERY_RELIABILITY").as_deref() == Ok("long") {
        10
    } else {
        1
    };
    let events = 2 * cycles + 1;
    assert_eq!(server.terminate(), Some(0));
    let down = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    // Each change holds 8 s: the monitor needs 3 s of it, read every 2 s, plus jitter.
    for _ in 0..cycles {
        sleeper.stop();
        std::thread::sleep(Duration::from_secs(8));
        sleeper.start();
        std::thread::sleep(Duration::from_secs(8));
    }
    sleeper.stop();
    std::thread::sleep(Duration::from_secs(8));
    let spooled: Value =
        serde_json::from_slice(&std::fs::read(state.path().join("alerts.spool")).unwrap()).unwrap();
    let waiting = spooled["events"].as_array().unwrap();
    assert_eq!(
        waiting.len(),
        events,
        "raises and resolves wait in the spool: {spooled}"
    );
    assert!(
        waiting
            .windows(2)
            .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64()),
        "in order"
    );
    let raises = cycles + 1;
    // Two alerts (one ticket, reopened) before the outage, then one ticket per raise.
    let total = 2 + raises;
    let total_tickets = 1 + raises;
    sb.sandbox.set_faults(Faults {
        error_rate: 0.15,
        timeout_rate: 0.05,
        lost_reply_rate: 0.15,
        hang_ms: 200,
        burst_429: 3,
        retry_after_secs: 1,
        seed: Some(11),
        ..Faults::default()
    });
    let server = ServerProcess::start_at(&listen, &server_args);
    let outage = down.elapsed();
    // The events arrive and their tickets are written through the faults for 8 s; then the
    // faults stop and everything converges.
    std::thread::sleep(Duration::from_secs(8));
    sb.sandbox.set_faults(Faults::default());
    // Ticket jobs run side by side, so ConnectWise numbers the new tickets in any order: the
    // outage's tickets are all closed but one.
    let converged = |t: &[Value]| {
        t.len() == total_tickets
            && t[1..]
                .iter()
                .filter(|t| status(t) == MONITORING_CLOSED)
                .count()
                == total_tickets - 2
    };
    let started = Instant::now();
    while !converged(&monitoring_tickets(&sb)) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the spooled alerts did not become tickets: {:?}\n{}",
            monitoring_tickets(&sb)
                .iter()
                .map(|t| (t["id"].clone(), t["status"]["id"].clone()))
                .collect::<Vec<_>>(),
            admin(&d, &["alerts"])
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    sb.sandbox.set_faults(Faults::default());
    std::thread::sleep(Duration::from_secs(3));
    let tickets = monitoring_tickets(&sb);
    assert_eq!(tickets.len(), total_tickets, "none lost, none doubled");
    let spooled: Value =
        serde_json::from_slice(&std::fs::read(state.path().join("alerts.spool")).unwrap()).unwrap();
    assert_eq!(spooled["events"], json!([]), "the spool is empty");
    // The server took the events in order: the newest alert is the one still open.
    let alerts = admin(&d, &["alerts"]);
    assert_eq!(alerts.lines().count(), total, "{alerts}");
    let states: Vec<&str> = alerts
        .lines()
        .map(|l| l.split('\t').nth(4).unwrap_or(""))
        .collect();
    assert_eq!(states[0], "open", "{alerts}");
    assert!(states[1..].iter().all(|s| *s == "resolved"), "{alerts}");
    println!(
        "agent offline: server down {:.0} s while {events} alert events fired; all delivered in order, {raises} tickets opened for them, none doubled",
        outage.as_secs_f64()
    );

    // A help request: a ticket on the self-service board, named for the user, closed by them.
    let out = Command::new(binary("bindery-agent"))
        .args([
            "help",
            "The printer is jammed",
            "--details",
            "Second floor",
            "--state-dir",
            &state_dir,
        ])
        .env("USER", "jane.doe")
        .env_remove("SUDO_USER")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let number: i64 = printed
        .split_whitespace()
        .find_map(|w| w.strip_prefix('#'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no ticket number in {printed:?}"));
    let help = sb.sandbox.data().tickets.get(number).cloned().unwrap();
    assert_eq!(help["board"]["id"], SELF_SERVICE_BOARD);
    assert_eq!(status(&help), SELF_SERVICE_NEW);
    assert_eq!(help["summary"], "The printer is jammed");
    assert_eq!(help["contactName"], "jane.doe");
    assert!(
        sb.sandbox
            .data()
            .ticket_configurations
            .contains(&(number, config))
    );
    let (ok, printed, err) = run(
        "bindery-agent",
        &[
            "help",
            "--close",
            &number.to_string(),
            "--state-dir",
            &state_dir,
        ],
    );
    assert!(ok, "{err}");
    assert!(printed.contains(&format!("#{number}")), "{printed}");
    wait_for("the help ticket to close", 30, || {
        status(&sb.sandbox.data().tickets.get(number).cloned().unwrap()) == SELF_SERVICE_CLOSED
    });
    // The user sees where their requests stand.
    let (ok, listed, err) = run(
        "bindery-agent",
        &["help", "--list", "--state-dir", &state_dir],
    );
    assert!(ok, "{err}");
    let line = listed
        .lines()
        .find(|l| l.starts_with(&format!("#{number}\t")))
        .unwrap_or_else(|| panic!("no line for #{number} in {listed:?}"));
    assert!(
        line.contains("\tclosed") && line.ends_with("The printer is jammed"),
        "{line}"
    );

    drop(agent);
    drop(server);
    sb.stop().await;
}
