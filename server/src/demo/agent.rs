//! This machine's agent in the demo: offered at /downloads/ for the install scripts, and started
//! enrolled into the demo policy.

/// The agent binary: the one given, or `bindery-agent` beside this program.
fn agent_program(agent: Option<&std::path::Path>) -> Result<std::path::PathBuf, String> {
    Ok(match agent {
        Some(p) => p.to_path_buf(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name(format!("bindery-agent{}", std::env::consts::EXE_SUFFIX)),
    })
}

/// A downloads folder offering this machine's agent build to the install scripts, as a packaged
/// server does; none when there is no agent to offer.
pub(super) fn offer_agent(
    agent: Option<&std::path::Path>,
    data_dir: &std::path::Path,
) -> Option<std::path::PathBuf> {
    let program = agent_program(agent).ok().filter(|p| p.exists())?;
    let dir = data_dir.join("downloads");
    let name = format!(
        "bindery-agent-{}-{}{}",
        std::env::consts::OS,
        std::env::consts::ARCH,
        std::env::consts::EXE_SUFFIX
    );
    if !crate::downloads::is_agent_build(&name) {
        return None;
    }
    let offered = dir.join(name);
    // The one from an earlier run may be a link to this very file: copying onto it would
    // truncate the agent itself. It goes first.
    let _ = std::fs::remove_file(&offered);
    let made = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::hard_link(&program, &offered)
            .or_else(|_| std::fs::copy(&program, &offered).map(drop))
    });
    made.ok().map(|()| dir)
}

/// Enrolls this machine with the real agent binary and starts it checking in.
pub(super) async fn start_agent(
    agent: Option<&std::path::Path>,
    server_url: &str,
    token: &str,
    state_dir: &std::path::Path,
) -> Result<tokio::process::Child, String> {
    let program = agent_program(agent)?;
    if !program.exists() {
        return Err(format!(
            "{} is missing (build it: cargo build -p bindery-agent)",
            program.display()
        ));
    }
    let state = state_dir.to_string_lossy().into_owned();
    let enrolled = tokio::process::Command::new(&program)
        .args(["enroll", "--server", server_url, "--state-dir", &state])
        .env("BINDERY_ENROLL_TOKEN", token)
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if !enrolled.status.success() {
        return Err(format!(
            "the agent could not enroll: {}",
            String::from_utf8_lossy(&enrolled.stderr).trim()
        ));
    }
    tokio::process::Command::new(&program)
        .args(["run", "--state-dir", &state])
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start the agent: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn offering_the_agent_again_keeps_the_agent_whole() {
        let dir = tempfile::tempdir().unwrap();
        let agent = dir.path().join("bindery-agent");
        std::fs::write(&agent, b"the agent").unwrap();
        let data = dir.path().join("data");
        for _ in 0..2 {
            let offered = super::offer_agent(Some(&agent), &data).unwrap();
            let name = format!(
                "bindery-agent-{}-{}{}",
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::env::consts::EXE_SUFFIX
            );
            assert_eq!(std::fs::read(offered.join(name)).unwrap(), b"the agent");
        }
        assert_eq!(std::fs::read(&agent).unwrap(), b"the agent");
    }
}
