//! The all-in-one demo: the ConnectWise sandbox with its default seed, the server set up against
//! it (the settings and the choices an admin would make there, a policy linked to a sample company,
//! an admin login), and this machine's agent enrolled. `bindery-server demo` runs it; tests that
//! need a fully set-up server use `connect_to_sandbox`.

use crate::integration::{
    self, BoardUse, Catalog, Choices, CwCredentials, IntegrationError, TypeRuleChoice,
};
use crate::sealing::ServerKey;
use crate::store::Store;

mod agent;

use crate::ids::{CompanyId, IntegrationId};
use agent::{offer_agent, start_agent};

/// The sandbox seed's API member (see connectwise/sandbox's seed).
pub const SANDBOX_COMPANY: &str = "bindery";
pub const SANDBOX_PUBLIC_KEY: &str = "sandbox-public";
pub const SANDBOX_PRIVATE_KEY: &str = "sandbox-private";

/// Saves credentials for the sandbox at `url`, tests the connection, and saves the choices:
/// the Monitoring and Self Service boards with their New/Closed statuses, Active/Inactive, and
/// "Managed Workstation" by default with servers (an OS version naming "Server") as "Managed
/// Server".
pub async fn connect_to_sandbox(
    store: &Store,
    key: &ServerKey,
    url: &str,
) -> Result<Choices, IntegrationError> {
    connect_integration_to_sandbox(store, key, IntegrationId::FIRST, url).await
}

/// As `connect_to_sandbox`, for one integration (a server talking to several sandboxes).
pub async fn connect_integration_to_sandbox(
    store: &Store,
    key: &ServerKey,
    id: IntegrationId,
    url: &str,
) -> Result<Choices, IntegrationError> {
    let credentials = CwCredentials {
        site: url.to_owned(),
        company_id: SANDBOX_COMPANY.into(),
        public_key: SANDBOX_PUBLIC_KEY.into(),
        client_id: "bindery-demo".into(),
        allow_http: true,
    };
    integration::save_credentials(store, key, id, &credentials, Some(SANDBOX_PRIVATE_KEY)).await?;
    let config = integration::client_config(store, key, id).await?;
    let client = connectwise_client::Client::new(config)
        .map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    let catalog = integration::test_connection(&client)
        .await
        .map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    let choices = sandbox_choices(&catalog)?;
    integration::save_choices(store, id, &catalog, &choices).await?;
    Ok(choices)
}

fn sandbox_choices(catalog: &Catalog) -> Result<Choices, IntegrationError> {
    let missing = |what: &str| IntegrationError::Invalid(format!("the sandbox has no {what}"));
    let board = |name: &str| -> Result<BoardUse, IntegrationError> {
        let b = catalog
            .boards
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| missing(name))?;
        let open = b.statuses.iter().find(|s| !s.closed);
        let closed = b.statuses.iter().find(|s| s.closed);
        match (open, closed) {
            (Some(o), Some(c)) => Ok(BoardUse {
                board_id: b.id,
                open_status_id: o.id,
                closed_status_id: c.id,
                close_rule: Default::default(),
            }),
            _ => Err(missing("open and closed board status")),
        }
    };
    let status = |closed: bool| {
        catalog
            .configuration_statuses
            .iter()
            .find(|s| s.closed == closed)
            .map(|s| s.id)
            .ok_or_else(|| missing("configuration status"))
    };
    let kind = |name: &str| {
        catalog
            .configuration_types
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.id)
            .ok_or_else(|| missing(name))
    };
    Ok(Choices {
        answers: Vec::new(),
        monitoring: board("Monitoring")?,
        self_service: board("Self Service")?,
        active_status_id: status(false)?,
        inactive_status_id: status(true)?,
        default_type_id: kind("Managed Workstation")?,
        tickets: Default::default(),
        type_rules: vec![TypeRuleChoice {
            field: bindery_shared::FactField::OsInfo,
            pattern: "*Server*".into(),
            type_id: kind("Managed Server")?,
        }],
        adoption: Default::default(),
    })
}

/// What `bindery-server demo` runs with.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub listen: std::net::SocketAddr,
    pub sandbox_listen: std::net::SocketAddr,
    /// Kept after the demo when given; a temporary directory (removed at the end) otherwise.
    pub data_dir: Option<std::path::PathBuf>,
    /// The agent binary; by default `bindery-agent` beside this program.
    pub agent: Option<std::path::PathBuf>,
}

/// The demo's policy, and the sandbox company it is linked to.
pub const DEMO_POLICY: &str = "Demo office";
pub const DEMO_COMPANY_ID: i64 = 2;
pub const DEMO_ADMIN: &str = "admin";

/// Runs the whole product on this machine until `shutdown`: the ConnectWise sandbox, the
/// server (SQLite) set up against it with a policy linked to a sample company, and this
/// machine's agent enrolled into that policy.
pub async fn run(
    options: DemoOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let (data_dir, temporary) = match &options.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("bindery-demo-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let sandbox = connectwise_sandbox::spawn(
        options.sandbox_listen,
        connectwise_sandbox::Seed::default_seed(),
        true,
    )
    .await
    .map_err(|e| {
        format!(
            "cannot start the ConnectWise sandbox on {}: {e}",
            options.sandbox_listen
        )
    })?;
    let (store, key, company_name) = set_up_store(&data_dir, &sandbox).await?;
    let policy = link_demo_policy(&store, &company_name).await?;
    let password = fresh_admin_password(&store).await?;
    let (_, token) = store
        .create_token(
            policy.id,
            "demo agent",
            Some(crate::store::now_ms() + 86_400_000),
            None,
        )
        .await
        .map_err(|e| e.to_string())?;

    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let downloads = offer_agent(options.agent.as_deref(), &data_dir);
    let (stop_server, server) = serve(store.clone(), key, downloads, listener);
    let server_url = format!("http://{addr}");

    let agent_dir = data_dir.join("agent");
    let agent = start_agent(options.agent.as_deref(), &server_url, &token, &agent_dir).await;
    let data_note = format!(
        "{}{}",
        data_dir.display(),
        if temporary {
            " (removed at the end)"
        } else {
            ""
        }
    );
    print_banner(
        &server_url,
        &password,
        &sandbox.url(),
        &company_name,
        &agent_note(&agent, &agent_dir),
        &data_note,
    );
    println!("Press Ctrl-C to stop.");

    shutdown.await;
    println!("Stopping…");
    if let Ok(mut child) = agent {
        let _ = child.kill().await;
    }
    let _ = stop_server.send(());
    let _ = server.await;
    sandbox.stop().await;
    store.pool().close().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    Ok(())
}

/// The demo's store, its server key, and ConnectWise set up against the sandbox; with the
/// sample company's name.
async fn set_up_store(
    data_dir: &std::path::Path,
    sandbox: &connectwise_sandbox::Running,
) -> Result<(Store, std::sync::Arc<ServerKey>, String), String> {
    let store = Store::open_in_dir(data_dir)
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let key = std::sync::Arc::new(
        ServerKey::load_or_create(&data_dir.join("server.key")).map_err(|e| e.to_string())?,
    );
    connect_to_sandbox(&store, &key, &sandbox.url())
        .await
        .map_err(|e| format!("cannot set up ConnectWise against the sandbox: {e}"))?;
    let company_name = sandbox
        .sandbox
        .data()
        .companies
        .get(DEMO_COMPANY_ID)
        .and_then(|c| c["name"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "the sample company".into());
    Ok((store, key, company_name))
}

/// The server with its engine, on `listener`, until the returned sender is used.
fn serve(
    store: Store,
    key: std::sync::Arc<ServerKey>,
    downloads_dir: Option<std::path::PathBuf>,
    listener: tokio::net::TcpListener,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let public_url = listener
        .local_addr()
        .ok()
        .map(|addr| format!("http://{addr}"));
    let mut settings = crate::settings::Settings::default().reached_at(public_url);
    settings.web.checkin_interval_secs = 30;
    settings.web.downloads_dir = downloads_dir;
    // The demo's ConnectWise is the sandbox, plain http on this machine.
    settings.web.connectwise_allow_http = true;
    let (_, state) = crate::settings::assemble(store, key, &settings);
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::app::launch(state, listener, async move {
        let _ = server_stopped.await;
    }));
    (stop_server, server)
}

/// The demo policy, made when missing, linked to the sample company (its devices queued).
async fn link_demo_policy(
    store: &Store,
    company_name: &str,
) -> Result<crate::store::Policy, String> {
    let e = |e: crate::store::StoreError| e.to_string();
    let existing = store
        .policies()
        .await
        .map_err(e)?
        .into_iter()
        .find(|p| p.name == DEMO_POLICY);
    let policy = match existing {
        Some(p) => p,
        None => store.create_policy(DEMO_POLICY).await.map_err(e)?,
    };
    store
        .link_policy(policy.id, Some((CompanyId(DEMO_COMPANY_ID), company_name)))
        .await
        .map_err(e)?;
    crate::reconcile::queue::policy_linked(store, policy.id)
        .await
        .map_err(e)?;
    Ok(policy)
}

/// The admin login for the console and the admin API: a new password for every run.
async fn fresh_admin_password(store: &Store) -> Result<String, String> {
    let e = |e: crate::store::StoreError| e.to_string();
    let password: String = crate::secrets::random_secret("")
        .map_err(|e| e.to_string())?
        .chars()
        .take(20)
        .collect();
    let hash = crate::secrets::hash_password(&password)?;
    if store.admin_by_name(DEMO_ADMIN).await.map_err(e)?.is_some() {
        store
            .set_admin_password(DEMO_ADMIN, &hash)
            .await
            .map_err(e)?;
    } else {
        let owner = crate::access::Role::Owner;
        store
            .create_admin(DEMO_ADMIN, &hash, owner)
            .await
            .map_err(e)?;
    }
    Ok(password)
}

/// Whether this machine's agent runs, for the banner.
fn agent_note<T>(agent: &Result<T, String>, agent_dir: &std::path::Path) -> String {
    match agent {
        Ok(_) => format!(
            "This machine's agent is enrolled (state in {}); its configuration appears in the sandbox within seconds.",
            agent_dir.display()
        ),
        Err(e) => format!("No agent for this machine: {e}"),
    }
}

/// What is running and where, for the person who started the demo.
fn print_banner(
    server_url: &str,
    password: &str,
    sandbox_url: &str,
    company_name: &str,
    agent_note: &str,
    data_note: &str,
) {
    println!("Bindery demo is running.");
    println!("  Console: {server_url}/console (sign in below)");
    println!(
        "  Server: {server_url} (admin API: {server_url}/api/admin/v1, OpenAPI at /api/admin/v1/openapi.json)"
    );
    println!("  Admin login: {DEMO_ADMIN} / {password}");
    println!(
        "  ConnectWise sandbox: {sandbox_url} (everything it holds: {sandbox_url}/_sandbox/state)"
    );
    println!(
        "  Policy {DEMO_POLICY:?} is linked to {company_name} (company id {DEMO_COMPANY_ID})."
    );
    println!("  {agent_note}");
    println!("  Data: {data_note}");
}
