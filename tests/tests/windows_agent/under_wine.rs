//! The Windows agent under Wine: its facts, its enrollment and check-ins, and its MSI.

use super::*;
use bindery_e2e::proxy::Proxy;

/// The password of the proxy the MSI-installed agent goes through.
const PROXY_PASSWORD: &str = "pr0xy-wine-5d1e";

#[test]
fn under_wine_the_windows_agent_reads_this_host_s_facts_through_win32() {
    let wine = Wine::new();
    let windows = json(&wine.ok(&["facts", "--json"]));
    let (ok, linux, err) = run("bindery-agent", &["facts", "--json"]);
    assert!(ok, "{err}");
    let linux = json(&linux);
    assert_eq!(windows["osType"], "Windows", "{windows}");
    assert!(
        windows["osInfo"].as_str().unwrap().starts_with("Windows"),
        "{windows}"
    );
    // The same machine: its name, and the default route's interface, MAC and address.
    let name = |v: &Value| v["name"].as_str().unwrap().to_lowercase();
    assert_eq!(name(&windows), name(&linux), "{windows}\n{linux}");
    for fact in ["macAddress", "ipAddress", "defaultGateway"] {
        assert_eq!(windows[fact], linux[fact], "{fact}: {windows}\n{linux}");
    }
    // Wine reports the memory Linux has (the Linux agent may prefer the firmware's figure).
    let (w, l) = (gb(&windows["ram"]), gb(&linux["ram"]));
    assert!((w - l).abs() / l < 0.1, "ram {w} vs {l}");
    assert!(
        windows["cpuSpeed"].as_str().unwrap().ends_with(" GHz"),
        "{windows}"
    );
    // Wine's registry says when "Windows" was installed.
    assert!(windows["osInstallDate"].as_str().is_some(), "{windows}");
    // The raw readings print too (how samples are recorded).
    let inventory = json(&wine.ok(&["facts", "--inventory"]));
    assert_eq!(inventory["mac"], windows["macAddress"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_wine_the_windows_agent_enrolls_checks_in_monitors_and_asks_for_help() {
    let (sb, data) = windows_fleet().await;
    let d = data.path().to_str().unwrap().to_owned();
    // Monitors: memory in use above 1 % (raised at once on any machine), a process that runs
    // (the agent itself), and a service no machine has (not running: raised).
    let monitors = data.path().join("monitors.json");
    let settings = serde_json::json!({"monitors": [
        {"id": "memory", "kind": "memoryUsed", "threshold": 1.0, "minDurationSecs": 0},
        {"id": "agent", "kind": "processRunning", "target": "bindery-agent.exe", "minDurationSecs": 0},
        {"id": "cpu", "kind": "cpuLoad", "threshold": 1000.0, "minDurationSecs": 0},
        {"id": "disk", "kind": "diskFree", "threshold": 0.0, "minDurationSecs": 0},
        {"id": "svc", "kind": "serviceRunning", "target": "bindery-no-such-service", "minDurationSecs": 0}
    ], "offlineAfterMins": 0});
    std::fs::write(&monitors, settings.to_string()).unwrap();
    admin(
        &d,
        &[
            "monitors-set",
            "--policy",
            "Windows fleet",
            monitors.to_str().unwrap(),
        ],
    );
    let token = admin(&d, &["token-create", "--policy", "Windows fleet"])
        .trim()
        .to_owned();
    let server = ServerProcess::start(&["--data-dir", &d, "--retry-base-ms", "100"]);

    let wine = Wine::new();
    let state = tempfile::tempdir().unwrap();
    let state_dir = Wine::path(state.path());
    wine.enroll(&server.url, &token, &state_dir);
    // The first check-in brings the monitors, the second reads them: every kind runs on
    // Windows, and what Wine cannot answer is left unknown, never a crash.
    wine.ok(&["run", "--once", "--state-dir", &state_dir]);
    wine.ok(&["run", "--once", "--state-dir", &state_dir]);
    let status = wine.ok(&["status", "--state-dir", &state_dir]);
    assert!(status.contains("last result ok"), "{status}");

    // The device's configuration in ConnectWise, with Windows facts.
    let agent_id = std::fs::read_to_string(state.path().join("agent-id"))
        .unwrap()
        .trim()
        .to_owned();
    bindery_e2e::wait_for("the Windows configuration", 60, || {
        sb.sandbox
            .data()
            .configurations
            .values()
            .any(|c| c["deviceIdentifier"] == agent_id.as_str())
    });
    let c = sb
        .sandbox
        .data()
        .configurations
        .values()
        .find(|c| c["deviceIdentifier"] == agent_id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(c["osType"], "Windows", "{c}");
    assert!(c["osInfo"].as_str().unwrap().starts_with("Windows"), "{c}");
    // The alerts the Windows agent raised, as monitoring tickets: memory and the missing
    // service; not the agent's own process, the CPU or the disks.
    let summaries = || -> Vec<String> {
        sb.sandbox
            .data()
            .tickets
            .values()
            .filter_map(|t| t["summary"].as_str().map(str::to_owned))
            .collect()
    };
    bindery_e2e::wait_for("the Windows agent's alerts as tickets", 60, || {
        let s = summaries();
        s.iter().any(|t| t.starts_with("Memory"))
            && s.iter().any(|t| t.contains("bindery-no-such-service"))
    });
    let raised = summaries();
    assert!(
        !raised.iter().any(|t| t.contains("bindery-agent.exe")
            || t.starts_with("CPU")
            || t.starts_with("Disk")),
        "{raised:?}"
    );

    // A help request from the Windows agent: a self-service ticket, listed back with its state.
    let out = wine.ok(&["help", "The printer is jammed", "--state-dir", &state_dir]);
    assert!(out.contains('#'), "{out}");
    let list = wine.ok(&["help", "--list", "--state-dir", &state_dir]);
    assert!(list.contains("The printer is jammed"), "{list}");
    drop(server);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_wine_the_msi_enrolls_runs_the_service_upgrades_in_place_and_uninstalls() {
    let (sb, data) = windows_fleet().await;
    let d = data.path().to_str().unwrap().to_owned();
    let token = admin(&d, &["token-create", "--policy", "Windows fleet"])
        .trim()
        .to_owned();
    let downloads = tempfile::tempdir().unwrap();
    let first = msi("0.1.0", downloads.path());
    let newer = msi("0.1.1", downloads.path());
    std::fs::copy(&first, downloads.path().join("bindery-agent-x86_64.msi")).unwrap();
    // Served over HTTPS with a certificate of the MSP's own CA, which the MSI is given.
    let tls = tempfile::tempdir().unwrap();
    let [ca, cert, key, _] = bindery_e2e::own_ca(tls.path());
    let server = ServerProcess::start(&[
        "--data-dir",
        &d,
        "--retry-base-ms",
        "100",
        "--downloads-dir",
        downloads.path().to_str().unwrap(),
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(server.url.starts_with("https://"), "{}", server.url);

    // The command an admin is shown for the MSI names the server's copy and its checksum, and
    // hands msiexec the token's file, not the token.
    let shown = admin(
        &d,
        &[
            "token-create",
            "--policy",
            "Windows fleet",
            "--server-url",
            &server.url,
        ],
    );
    assert!(
        shown.contains(&format!(
            "{}/downloads/bindery-agent-x86_64.msi",
            server.url
        )) && shown.contains("Start-Process msiexec")
            && shown.contains(&format!(
                "{}/downloads/bindery-agent-x86_64.msi.sha256",
                server.url
            ))
            && shown.contains(" ENROLL_TOKEN_FILE=")
            && !shown.contains("ENROLL_TOKEN=bdy_enr_"),
        "{shown}"
    );

    // The MSI as a machine gets it: downloaded from the server.
    let work = tempfile::tempdir().unwrap();
    let downloaded = work.path().join("bindery-agent-x86_64.msi");
    connectwise_client::install_tls_provider();
    let trusting = bindery_e2e::trusting(&ca).build().unwrap();
    let bytes = trusting
        .get(format!("{}/downloads/bindery-agent-x86_64.msi", server.url))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        bytes.as_ref(),
        std::fs::read(&first).unwrap(),
        "the served MSI"
    );
    std::fs::write(&downloaded, &bytes).unwrap();

    let wine = Wine::new();
    // Wine 8 lacks ProcessPrng (see packaging/windows/wine): the test's shim goes where every
    // program finds it, as a real Windows has it.
    wine.program("wineboot", &["--init"]);
    let shim = exe().with_file_name("bcryptprimitives.dll");
    std::fs::copy(
        &shim,
        wine.drive_c().join("windows/system32/bcryptprimitives.dll"),
    )
    .unwrap();
    let installed = wine
        .drive_c()
        .join("Program Files/Bindery/bindery-agent.exe");
    let state = wine.drive_c().join("ProgramData/Bindery/Agent");
    let msiexec = |args: &[&str]| {
        let out = wine.program("msiexec", args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // Without an enrollment token, a first install fails whole: nothing stays behind.
    let (code, _) = msiexec(&["/i", &Wine::path(&downloaded), "/qn"]);
    assert_ne!(code, Some(0), "installed without a token");
    assert!(!installed.exists() && !service(&wine).0);
    // The token itself as a property is not taken (it would be on command lines): the same.
    let (code, _) = msiexec(&[
        "/i",
        &Wine::path(&downloaded),
        "/qn",
        &format!("SERVER_URL={}", server.url),
        &format!("ENROLL_TOKEN={token}"),
        &format!("CA_CERT={}", Wine::path(&ca)),
    ]);
    assert_ne!(code, Some(0), "installed with the token as a property");
    assert!(!installed.exists() && !service(&wine).0);

    // Without the CA the server's certificate is refused: again nothing stays, and the token's
    // file stays for the next try.
    let token_file = work.path().join("bindery-enroll-token");
    std::fs::write(&token_file, format!("{token}\r\n")).unwrap();
    let (code, _) = msiexec(&[
        "/i",
        &Wine::path(&downloaded),
        "/qn",
        &format!("SERVER_URL={}", server.url),
        &format!("ENROLL_TOKEN_FILE={}", Wine::path(&token_file)),
    ]);
    assert_ne!(code, Some(0), "installed trusting an unknown CA");
    assert!(!installed.exists() && !service(&wine).0);
    assert!(
        token_file.exists(),
        "a failed enrollment keeps the token's file"
    );

    // Installed as the console's command does it, the token in a file, behind a proxy that
    // wants a password (in a file too): enrolled through the proxy, the service registered and
    // running. Every command line seen meanwhile is kept.
    let proxy = Proxy::start(work.path(), PROXY_PASSWORD);
    let proxy_file = work.path().join("bindery-proxy");
    std::fs::write(&proxy_file, proxy.url(PROXY_PASSWORD)).unwrap();
    let log = work.path().join("install.log");
    let watch = CommandLines::watch();
    let (code, err) = msiexec(&[
        "/i",
        &Wine::path(&downloaded),
        "/qn",
        "/l*v",
        &Wine::path(&log),
        &format!("SERVER_URL={}", server.url),
        &format!("ENROLL_TOKEN_FILE={}", Wine::path(&token_file)),
        &format!("CA_CERT={}", Wine::path(&ca)),
        &format!("PROXY_FILE={}", Wine::path(&proxy_file)),
    ]);
    let seen = watch.stop();
    assert_eq!(code, Some(0), "msiexec /i: {err}");
    assert!(installed.exists());
    let server_port = server.url.rsplit(':').next().unwrap().trim_end_matches('/');
    assert!(
        proxy
            .log()
            .contains(&format!("CONNECT 127.0.0.1:{server_port} ")),
        "the enrollment did not go through the proxy:\n{}",
        proxy.log()
    );
    assert!(
        !proxy_file.exists(),
        "the proxy's file is deleted once enrolled"
    );
    let with_password: Vec<&String> = seen.iter().filter(|c| c.contains(PROXY_PASSWORD)).collect();
    assert!(
        with_password.is_empty(),
        "command lines hold the proxy's password: {with_password:#?}"
    );
    let enrolling: Vec<&String> = seen.iter().filter(|c| c.contains("--token-file")).collect();
    assert!(
        !enrolling.is_empty(),
        "the enroll action was never seen running: {seen:#?}"
    );
    let holding: Vec<&String> = seen.iter().filter(|c| c.contains(&token)).collect();
    assert!(
        holding.is_empty(),
        "command lines hold the token: {holding:#?}"
    );
    assert!(
        !token_file.exists(),
        "the token file is deleted once enrolled"
    );
    let (known, query) = service(&wine);
    assert!(known, "{query}");
    let agent_id = std::fs::read_to_string(state.join("agent-id"))
        .unwrap()
        .trim()
        .to_owned();
    bindery_e2e::wait_for("the MSI-installed machine in ConnectWise", 60, || {
        sb.sandbox
            .data()
            .configurations
            .values()
            .any(|c| c["deviceIdentifier"] == agent_id.as_str() && c["osType"] == "Windows")
    });
    // Wine writes its MSI log in UTF-16 or UTF-8, depending on the version.
    let log_bytes = std::fs::read(&log).unwrap_or_default();
    let log_text = if log_bytes.starts_with(&[0xff, 0xfe]) {
        let units: Vec<u16> = log_bytes[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(&log_bytes).into_owned()
    };
    let leaks: Vec<String> = log_text
        .lines()
        .filter(|l| l.contains(&token))
        .map(|l| l.replace(&token, "<TOKEN>"))
        .collect();
    assert!(leaks.is_empty(), "the token is in the MSI log: {leaks:#?}");
    assert!(
        !log_text.contains(PROXY_PASSWORD),
        "the proxy's password is in the MSI log"
    );
    let status = || {
        let out = wine.program(installed.to_str().unwrap(), &["status"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The service checks in, over HTTPS to the own CA's certificate (and it would refuse a state
    // folder someone else owns).
    bindery_e2e::wait_for("the service's check-in", 60, || {
        status().contains("last result ok")
    });
    // The state folder's access list, as Windows builds it: SYSTEM and Administrators only. (Wine
    // keeps only Unix modes, so what the folder reports back is Wine's, not ours.)
    let shown = status();
    assert!(
        shown.contains("access      applies: SYSTEM and Administrators only (O:BAD:P"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("proxy       http://127.0.0.1:{}", proxy.port))
            && !shown.contains(PROXY_PASSWORD),
        "{shown}"
    );

    // An upgrade (no token needed) keeps the machine's identity: still one device.
    let (code, err) = msiexec(&["/i", &Wine::path(&newer), "/qn"]);
    assert_eq!(code, Some(0), "the upgrade: {err}");
    assert!(service(&wine).0, "the service after the upgrade");
    let after = std::fs::read_to_string(state.join("agent-id")).unwrap();
    assert_eq!(after.trim(), agent_id);
    let windows_devices = |sb: &connectwise_sandbox::Running| {
        sb.sandbox
            .data()
            .configurations
            .values()
            .filter(|c| c["osType"] == "Windows")
            .count()
    };
    assert_eq!(windows_devices(&sb), 1);

    // Uninstalled: the service and program are gone, the identity stays for a reinstall...
    let (code, err) = msiexec(&["/x", &Wine::path(&newer), "/qn"]);
    assert_eq!(code, Some(0), "msiexec /x: {err}");
    assert!(!service(&wine).0, "the service after uninstalling");
    assert!(!installed.exists());
    assert!(state.join("enrollment.json").exists(), "the state stays");
    // ...which needs no token, and PURGE=1 removes the state too.
    let (code, err) = msiexec(&["/i", &Wine::path(&newer), "/qn"]);
    assert_eq!(code, Some(0), "the reinstall: {err}");
    assert!(service(&wine).0);
    let (code, err) = msiexec(&["/x", &Wine::path(&newer), "/qn", "PURGE=1"]);
    assert_eq!(code, Some(0), "msiexec /x PURGE=1: {err}");
    assert!(!service(&wine).0 && !state.exists(), "purged");
    assert_eq!(windows_devices(&sb), 1);
    drop(server);
    sb.stop().await;
}
