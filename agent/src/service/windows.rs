//! Windows: the agent as a service of the Service Control Manager. `service install` registers
//! `bindery-agent.exe run --service` (LocalSystem, automatic start, restarted 10 s after a
//! failure) and starts it; `run --service` hands the process to the SCM's dispatcher, reports
//! running, and stops when the SCM says so. Messages go to the Application event log.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
    ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

const SERVICE_NAME: &str = "bindery-agent";
const DISPLAY_NAME: &str = "Bindery agent";
const DESCRIPTION: &str = "Reports this machine's facts and alerts to the Bindery server and sends its users' help requests.";
/// ERROR_SERVICE_DOES_NOT_EXIST
const NO_SUCH_SERVICE: i32 = 1060;
/// ERROR_SERVICE_DATABASE_LOCKED
const DATABASE_LOCKED: i32 = 1055;
/// ERROR_INVALID_LEVEL: the service manager lacks that kind of setting.
const INVALID_LEVEL: i32 = 124;

/// Runs `op` again while the service database is locked (another installer holds it, or a
/// service manager still starting), for up to 30 s.
fn while_locked<T>(mut op: impl FnMut() -> windows_service::Result<T>) -> Result<T, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match op() {
            Err(windows_service::Error::Winapi(e))
                if e.raw_os_error() == Some(DATABASE_LOCKED) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(500));
            }
            other => return other.map_err(why),
        }
    }
}

/// The error with the Windows error under it (the crate's own text alone says only "IO error").
fn why(e: windows_service::Error) -> String {
    match std::error::Error::source(&e) {
        Some(inner) => format!("{e}: {inner}"),
        None => e.to_string(),
    }
}

fn manager(access: ServiceManagerAccess) -> Result<ServiceManager, String> {
    ServiceManager::local_computer(None::<&str>, access).map_err(|e| {
        format!(
            "cannot open the Service Control Manager: {} (run this as an Administrator)",
            why(e)
        )
    })
}

pub fn install() -> Result<String, String> {
    // The service reads the machine-wide state; without an enrollment it would only fail and be
    // restarted every 10 s.
    let state = crate::state::StateDir::resolve(None)?;
    if state.enrollment()?.is_none() {
        return Err(format!(
            "this machine is not enrolled ({} holds no enrollment): run `bindery-agent enroll` \
             first, or give the MSI SERVER_URL and ENROLL_TOKEN_FILE",
            state.path().display()
        ));
    }
    let binary = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    crate::state::windows_chain::program_chain(&binary)?;
    let info = ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: DISPLAY_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: binary,
        launch_arguments: vec!["run".into(), "--service".into()],
        dependencies: vec![],
        // LocalSystem: the firmware serial and every user's session are readable.
        account_name: None,
        account_password: None,
    };
    let scm = manager(ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE)?;
    let access = ServiceAccess::QUERY_STATUS | ServiceAccess::START | ServiceAccess::CHANGE_CONFIG;
    // Installing again (an upgrade to another path, say) updates the registration in place.
    let service = while_locked(|| match scm.open_service(SERVICE_NAME, access) {
        Ok(service) => service.change_config(&info).map(|()| service),
        Err(_) => scm.create_service(&info, access),
    })?;
    // The description and restart policy are settings of the registration: a service manager
    // without one of them (Wine's lacks some) still gets a working service, and says so.
    let mut missing = Vec::new();
    let mut optional = |what: &str, result: windows_service::Result<()>| match result {
        Err(windows_service::Error::Winapi(e)) if e.raw_os_error() == Some(INVALID_LEVEL) => {
            missing.push(what.to_owned());
            Ok(())
        }
        other => other.map_err(why),
    };
    optional("a description", service.set_description(DESCRIPTION))?;
    let restart = ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(10),
    };
    optional(
        "restarts after a failure",
        service.update_failure_actions(ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(86_400)),
            reboot_msg: None,
            command: None,
            actions: Some(vec![restart.clone(), restart.clone(), restart]),
        }),
    )?;
    // An error exit (not only a crash) restarts it too.
    optional(
        "restarts after an error exit",
        service.set_failure_actions_on_non_crash_failures(true),
    )?;
    if service.query_status().map_err(why)?.current_state != ServiceState::Running {
        while_locked(|| service.start(&[] as &[&OsStr]))?;
    }
    let mut done = format!(
        "installed and started the {DISPLAY_NAME} service ({SERVICE_NAME}); its state stays in \
         %ProgramData%\\Bindery\\Agent"
    );
    if !missing.is_empty() {
        done += &format!(
            " (this service manager cannot set {}: left out)",
            missing.join(", ")
        );
    }
    Ok(done)
}

pub fn uninstall() -> Result<String, String> {
    let scm = manager(ServiceManagerAccess::CONNECT)?;
    let access = ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE;
    let service = match scm.open_service(SERVICE_NAME, access) {
        Ok(service) => service,
        Err(windows_service::Error::Winapi(e)) if e.raw_os_error() == Some(NO_SUCH_SERVICE) => {
            return Ok(format!("the {SERVICE_NAME} service is not installed"));
        }
        Err(e) => return Err(why(e)),
    };
    if service.query_status().map_err(why)?.current_state != ServiceState::Stopped {
        service.stop().map_err(why)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while service.query_status().map_err(why)?.current_state != ServiceState::Stopped {
            if Instant::now() > deadline {
                return Err(format!(
                    "the {SERVICE_NAME} service did not stop within 30 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    service.delete().map_err(why)?;
    Ok(format!(
        "removed the {SERVICE_NAME} service; the agent's state (its identity) stays in \
         %ProgramData%\\Bindery\\Agent"
    ))
}

/// Set when the SCM asks the service to stop; `stop_requested` waits for it.
static STOP: LazyLock<tokio::sync::watch::Sender<bool>> =
    LazyLock::new(|| tokio::sync::watch::channel(false).0);
/// `run --service --state-dir DIR`, for the dispatcher's thread.
static STATE_DIR: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Completes once the SCM has asked the service to stop (at once if it already has).
pub async fn stop_requested() {
    let mut stopped = STOP.subscribe();
    let _ = stopped.wait_for(|stop| *stop).await;
}

define_windows_service!(ffi_service_main, service_main);

/// Hands this process to the SCM, which calls `service_main` on a thread of its own; returns
/// when the service has stopped.
pub fn run_as_service(state_dir: Option<PathBuf>) -> Result<(), String> {
    if let Ok(mut dir) = STATE_DIR.lock() {
        *dir = state_dir;
    }
    service_dispatcher::start(SERVICE_NAME, ffi_service_main).map_err(|e| {
        format!(
            "not started by the Service Control Manager ({}): `run --service` is for the \
             service; run `bindery-agent run` instead",
            why(e)
        )
    })
}

fn service_main(_arguments: Vec<OsString>) {
    if let Err(e) = serve() {
        crate::log::error(&e);
    }
}

fn serve() -> Result<(), String> {
    let handler = |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            STOP.send_replace(true);
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let status = service_control_handler::register(SERVICE_NAME, handler).map_err(why)?;
    let report = |state: ServiceState, exit: u32| {
        let accepted = if state == ServiceState::Running {
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
        } else {
            ServiceControlAccept::empty()
        };
        status.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: accepted,
            exit_code: ServiceExitCode::Win32(exit),
            checkpoint: 0,
            wait_hint: Duration::default(),
            process_id: None,
        })
    };
    report(ServiceState::Running, 0).map_err(why)?;
    let state_dir = STATE_DIR.lock().ok().and_then(|mut d| d.take());
    let result =
        crate::cli::runtime().and_then(|rt| rt.block_on(crate::cli::run::run(state_dir, false)));
    // A non-zero exit makes the SCM apply the failure actions (restart in 10 s).
    let exit = if result.is_ok() { 0 } else { 1 };
    if result.is_ok() {
        crate::log::info("stopped");
    }
    report(ServiceState::Stopped, exit).map_err(why)?;
    result
}
