//! `bindery-agent run`: check in on the server's schedule, read the monitors between check-ins
//! and send their alerts as they happen, until stopped. The service runs this.

use std::path::PathBuf;
use std::time::Duration;

use bindery_shared::protocol::{AlertBatch, CheckIn, MonitorKind, MonitorSpec, MonitorState};

use super::{VERSION, now_ms};
use crate::facts;
use crate::log;
use crate::monitors::{Evaluator, Sampler};
use crate::server::{ServerClient, ServerError};
use crate::spool::Spool;
use crate::state::{Enrolled, StateDir};

/// How often monitors are read between check-ins (at each check-in when those come sooner).
const SAMPLE_EVERY_SECS: u32 = 15;

/// What the agent watches, and what it has to send about it.
struct Monitoring {
    specs: Vec<MonitorSpec>,
    sampler: Sampler,
    evaluator: Evaluator,
    spool: Spool,
    /// Each monitor's state at the last reading, for the next check-in.
    states: Vec<MonitorState>,
}

impl Monitoring {
    /// Reads the monitors once; new alert events go to the spool.
    fn sample(&mut self) {
        if self.specs.is_empty() && self.evaluator.open().is_empty() {
            return;
        }
        let readings = self.sampler.sample(&self.specs);
        let (events, states) = self.evaluator.observe(&self.specs, &readings, now_ms());
        self.states = states;
        let open = self.evaluator.open();
        if (!events.is_empty() || open.as_slice() != self.spool.open_alerts())
            && let Err(e) = self.spool.push(events, open)
        {
            log::error(&format!("cannot spool alert events: {e}"));
        }
    }

    /// Sends the spooled events, oldest first, until the spool is empty or the server cannot
    /// take them (they wait for the next try).
    async fn deliver(
        &mut self,
        client: &ServerClient,
        cred: &bindery_shared::protocol::DeviceCredential,
    ) {
        while self.spool.len() > 0 {
            let events = self.spool.batch();
            let last = events.last().map_or(0, |e| e.seq);
            match client.alerts(cred, &AlertBatch { events }).await {
                Ok(ack) => {
                    if let Err(e) = self.spool.ack(ack.acked_through) {
                        log::warning(&e.to_string());
                        return;
                    }
                    if ack.acked_through < last {
                        return; // the server kept part of it: try the rest later
                    }
                }
                Err(ServerError::Rejected { status, message }) => {
                    // Sending the same again would be refused again and block the spool.
                    log::error(&format!(
                        "the server refused alert events ({status}: {message}); dropping them"
                    ));
                    if let Err(e) = self.spool.discard_through(last) {
                        log::warning(&e.to_string());
                    }
                    return;
                }
                Err(e) => {
                    log::warning(&format!("alert events wait in the spool: {e}"));
                    return;
                }
            }
        }
    }
}

/// Takes over the agent id the server named, in the id file and the enrollment.
fn adopt_identity(state: &StateDir, enrolled: &mut Enrolled, id: &str) -> Result<(), String> {
    state.adopt_agent_id(id)?;
    enrolled.agent_id = id.to_owned();
    state.save_enrollment(enrolled)
}

/// Checks in until stopped (once with `once`: then the check-in's outcome is the result).
pub async fn run(state_dir: Option<PathBuf>, once: bool) -> Result<(), String> {
    let state = StateDir::resolve(state_dir)?;
    let mut enrolled = state.enrollment()?.ok_or(
        "this machine is not enrolled: run `bindery-agent enroll --server URL --token TOKEN` first",
    )?;
    let client = ServerClient::of(&enrolled)?;
    let mut credential = enrolled.credential();
    if !once {
        log::info(&format!(
            "agent {} {VERSION} reporting to {}",
            enrolled.agent_id, enrolled.server
        ));
    }
    let mut status = state.status().unwrap_or_default();
    let mut interval = status.next_checkin_secs.max(10);
    let spool = Spool::open(state.dir()?, now_ms())?;
    let mut watch = Monitoring {
        specs: Vec::new(),
        sampler: Sampler::new(),
        evaluator: Evaluator::with_open(spool.open_alerts()),
        spool,
        states: Vec::new(),
    };
    loop {
        let facts = facts::collect(&facts::Source::default(), Ok(enrolled.agent_id.clone()))?;
        let dropped = watch.spool.dropped();
        let report = CheckIn {
            agent_version: VERSION.into(),
            facts,
            monitors: watch.states.clone(),
            spool_dropped: dropped,
        };
        status.last_attempt_ms = now_ms();
        let outcome = client.checkin(&credential, &report).await;
        match &outcome {
            Ok(reply) => {
                interval = reply.next_checkin_secs.max(1);
                watch.specs = reply
                    .monitors
                    .iter()
                    .filter(|m| m.kind != MonitorKind::Unsupported)
                    .cloned()
                    .collect();
                if let Err(e) = watch.spool.reported_dropped(dropped) {
                    log::warning(&e.to_string());
                }
                status.last_success_ms = Some(status.last_attempt_ms);
                status.last_result = "ok".into();
                if let Some(id) = reply
                    .agent_id
                    .as_deref()
                    .filter(|id| *id != enrolled.agent_id)
                {
                    // An admin approved this machine as a reinstall of a device the server knew:
                    // it carries on under that device's agent id, with the same secret.
                    match adopt_identity(&state, &mut enrolled, id) {
                        Ok(()) => {
                            credential = enrolled.credential();
                            log::info(&format!("this machine is now agent {id}"));
                        }
                        Err(e) => log::warning(&e),
                    }
                }
            }
            Err(e) => {
                log::warning(&format!("check-in failed: {e}"));
                status.last_result = e.to_string();
            }
        }
        status.next_checkin_secs = interval;
        if let Err(e) = state.save_status(&status) {
            log::warning(&e.to_string());
        }
        watch.sample();
        watch.deliver(&client, &credential).await;
        if once {
            return outcome.map(drop).map_err(|e| e.to_string());
        }
        // Up to 10 % jitter so a fleet restarted together does not check in together.
        let jitter = fastrand::f64() * 0.1 * f64::from(interval);
        let next_checkin =
            tokio::time::Instant::now() + Duration::from_secs_f64(f64::from(interval) + jitter);
        let sample_every = Duration::from_secs(u64::from(SAMPLE_EVERY_SECS.min(interval)));
        loop {
            let next_sample = (tokio::time::Instant::now() + sample_every).min(next_checkin);
            tokio::select! {
                _ = tokio::time::sleep_until(next_sample) => {}
                _ = shutdown_signal() => return Ok(()),
            }
            if tokio::time::Instant::now() >= next_checkin {
                break;
            }
            // Alerts go out when they happen, not at the next check-in.
            watch.sample();
            watch.deliver(&client, &credential).await;
        }
    }
}

/// Ctrl-C, or SIGTERM from the service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
    #[cfg(windows)]
    {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = crate::service::stop_requested() => {}
        }
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
