//! `bindery-agent facts` as a person runs it: the real binary, checked against what Linux itself
//! says, and against fake roots holding DMI files.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn agent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bindery-agent"))
}

fn facts_json(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ip_json(args: &[&str]) -> Value {
    let out = Command::new("ip")
        .arg("-j")
        .args(args)
        .output()
        .expect("iproute2's ip");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn facts_match_what_linux_reports() {
    let state = tempfile::tempdir().unwrap();
    let facts = facts_json(
        agent()
            .args(["facts", "--json", "--state-dir"])
            .arg(state.path()),
    );

    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(facts["name"], hostname.trim());

    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(facts["ram"], format!("{:.1} GB", kib / 1024.0 / 1024.0));

    let os_release = std::fs::read_to_string("/etc/os-release").unwrap();
    let pretty = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .unwrap();
    assert_eq!(facts["osInfo"], pretty.trim_matches('"'));
    assert_eq!(facts["osType"], "Linux");

    // The default route's interface, its address and MAC, as iproute2 (netlink) sees them.
    let routes = ip_json(&["-4", "route", "show", "default"]);
    if let Some(route) = routes.as_array().and_then(|r| r.first()) {
        let dev = route["dev"].as_str().unwrap();
        let link = &ip_json(&["link", "show", "dev", dev])[0];
        assert_eq!(
            facts["macAddress"],
            link["address"].as_str().unwrap().to_uppercase()
        );
        let addrs = &ip_json(&["-4", "addr", "show", "dev", dev])[0]["addr_info"];
        let ours = facts["ipAddress"].as_str().unwrap();
        assert!(
            addrs.as_array().unwrap().iter().any(|a| a["local"] == ours),
            "{ours} is not an address of {dev}: {addrs}"
        );
    } else {
        assert!(
            facts["absent"]["ipAddress"].is_string(),
            "no default route here"
        );
    }

    // Whatever is absent says why; the agent id is a UUID that stays the same.
    let id = facts["deviceIdentifier"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    let again = facts_json(
        agent()
            .args(["facts", "--json", "--state-dir"])
            .arg(state.path()),
    );
    assert_eq!(again["deviceIdentifier"], id);
    for key in ["serialNumber", "cpuSpeed", "lastLoginName"] {
        assert!(
            facts[key].is_string() || facts["absent"][key].is_string(),
            "{key}: {facts}"
        );
    }
}

fn fake_root_with_dmi(product_serial: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dmi = root.path().join("sys/class/dmi/id");
    std::fs::create_dir_all(&dmi).unwrap();
    std::fs::write(dmi.join("product_serial"), product_serial).unwrap();
    std::fs::write(dmi.join("board_serial"), "/77NDZ12/CN70163475007C/\n").unwrap();
    let proc_dir = root.path().join("proc/sys/kernel");
    std::fs::create_dir_all(&proc_dir).unwrap();
    std::fs::write(proc_dir.join("hostname"), "fake-host\n").unwrap();
    root
}

#[test]
fn the_binary_reads_dmi_from_a_fake_root() {
    let root = fake_root_with_dmi("77NDZ12\n");
    let state = tempfile::tempdir().unwrap();
    let facts = facts_json(
        agent()
            .args(["facts", "--json", "--root"])
            .arg(root.path())
            .arg("--state-dir")
            .arg(state.path()),
    );
    assert_eq!(
        facts["serialNumber"], "77NDZ12",
        "the service tag, not the composite board serial"
    );
    assert_eq!(facts["name"], "fake-host");

    let junk = fake_root_with_dmi("To Be Filled By O.E.M.\n");
    std::fs::write(
        junk.path().join("sys/class/dmi/id/board_serial"),
        "Default string\n",
    )
    .unwrap();
    let facts = facts_json(
        agent()
            .args(["facts", "--json", "--root"])
            .arg(junk.path())
            .arg("--state-dir")
            .arg(state.path()),
    );
    assert!(
        facts.get("serialNumber").is_none(),
        "a placeholder is never a value: {facts}"
    );
    assert!(
        facts["absent"]["serialNumber"]
            .as_str()
            .unwrap()
            .contains("placeholder")
    );

    let table = agent()
        .args(["facts", "--root"])
        .arg(junk.path())
        .arg("--state-dir")
        .arg(state.path())
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("Serial number   - (the firmware holds a placeholder serial"),
        "{table}"
    );
}

/// A serial only root may read (mode 0400, as the kernel publishes it) gives a reason naming
/// root. As root, the agent is run as `nobody`, for whom the file really is unreadable.
#[test]
fn an_unprivileged_agent_says_the_serial_needs_root() {
    use std::os::unix::fs::PermissionsExt;
    let root = fake_root_with_dmi("77NDZ12\n");
    let open =
        |p: &Path| std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    open(root.path());
    let dmi = root.path().join("sys/class/dmi/id");
    for file in ["product_serial", "board_serial"] {
        std::fs::set_permissions(dmi.join(file), std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    let is_root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if is_root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_bindery-agent"),
        ]);
        c
    } else {
        for file in ["product_serial", "board_serial"] {
            std::fs::set_permissions(dmi.join(file), std::fs::Permissions::from_mode(0o000))
                .unwrap();
        }
        agent()
    };
    let facts = facts_json(
        cmd.args([
            "facts",
            "--json",
            "--state-dir",
            "/nonexistent/state",
            "--root",
        ])
        .arg(root.path()),
    );
    let reason = facts["absent"]["serialNumber"].as_str().unwrap();
    assert!(reason.contains("readable by root only"), "{reason}");
    assert!(
        facts["absent"]["deviceIdentifier"]
            .as_str()
            .unwrap()
            .contains("cannot"),
        "{facts}"
    );
}
