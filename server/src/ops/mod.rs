//! The admin actions, each written once: the admin API, the console and the CLI parse their
//! input, call these, and render the result. None of them imports another.
//!
//! One file per noun, as `cli/`:
//! - `policies`: create, rename, delete, "Retry Pending";
//! - `links`: link a policy to a company (with its preview), unlink, and company suggestions;
//! - `tokens`: enrollment tokens, with one rule for their label and lifetime, and revoking;
//! - `devices`: move and retire; `identity`: possible reinstalls, a person's choice of
//!   configuration, auto-approval;
//! - `monitoring`: a policy's monitors, closing an alert or a help request;
//! - `maintenance`: a policy's maintenance windows;
//! - `tickets`: the manual contact mappings and the ticket rules; `routing`: ticket routing
//!   rules, checked with ConnectWise, and their dry run;
//! - `integrations`: the ConnectWise instances (add, rename, remove);
//! - `settings`: an instance's credentials, the connection test, the choices, "Sync now";
//! - `accounts`: admin accounts, their roles and passwords; `api_tokens`: personal API tokens;
//!   `audit`: the audit trail.
//!
//! Every change is made by an actor (`access::Actor`: the signed-in account, its API token, or
//! the command line): `allow` refuses an act the actor's role may not do, and `audited` records
//! each change made, once (the front ends pass the actor; they never check roles themselves).
//!
//! The front ends may not call the store's writes themselves (`tests/layout.rs` checks it).

pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod billing;
pub mod dashboard;
pub mod devices;
pub mod field_map;
pub mod identity;
pub mod integrations;
pub mod links;
pub mod maintenance;
pub mod monitoring;
pub mod policies;
pub mod routing;
pub mod settings;
pub mod suggest;
pub mod tickets;
pub mod tokens;

use std::sync::LazyLock;

use connectwise_client::{Client, Error as CwError};

use crate::access::{Act, Actor};
use crate::ids::IntegrationId;
use crate::integration::{self, IntegrationError};
use crate::reconcile::Engine;
use crate::reconcile::job_error::JobError;
use crate::reconcile::plan::BindingSettings;
use crate::sealing::ServerKey;
use crate::store::{Store, StoreError};

/// What an action needs: the store, and for ConnectWise the server key and, in a serving
/// process, the engine (whose client, and so whose rate budget, every path shares).
#[derive(Clone, Copy)]
pub struct Ops<'a> {
    pub store: &'a Store,
    key: Option<&'a ServerKey>,
    engine: Option<&'a Engine>,
    /// Whether ConnectWise settings may use plain http (to a sandbox on this machine): only
    /// when the server was started so (`--connectwise-allow-http`), never from a session alone.
    plain_http: bool,
    /// How ConnectWise reaches this server (its callbacks); none: it cannot.
    public_url: Option<&'a str>,
    /// Who acts: the command line unless a front end says who signed in.
    actor: &'a Actor,
}

/// The command line's actor (an owner: whoever runs it holds the data).
static COMMAND_LINE: LazyLock<Actor> = LazyLock::new(Actor::command_line);

/// Why an action did not happen; each caller renders it its own way.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Integration(#[from] IntegrationError),
    #[error(transparent)]
    ConnectWise(#[from] CwError),
    /// The request itself is wrong; `field` names the part at fault.
    #[error("{message}")]
    Invalid {
        field: Option<&'static str>,
        message: String,
    },
    /// As `Invalid`, at a place within a list (`[3].login`).
    #[error("{message}")]
    InvalidAt { at: String, message: String },
    /// ConnectWise (or the server's own key) could not serve the action now.
    #[error("{0}")]
    Unavailable(String),
    /// The actor's role may not do this.
    #[error("{0}")]
    Forbidden(String),
}

impl From<JobError> for OpError {
    fn from(e: JobError) -> OpError {
        OpError::Unavailable(e.message().to_owned())
    }
}

impl OpError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> OpError {
        OpError::Invalid {
            field: Some(field),
            message: message.into(),
        }
    }
}

/// The integration a request names (checked to exist), or (none named) the default one: the
/// oldest. A read anyone may make.
pub async fn integration_or_default(
    store: &Store,
    named: Option<IntegrationId>,
) -> Result<IntegrationId, OpError> {
    if let Some(id) = named {
        store.integration(id).await?;
        return Ok(id);
    }
    store
        .default_integration()
        .await?
        .ok_or_else(|| OpError::Invalid {
            field: Some("integrationId"),
            message: "add a ConnectWise integration first".into(),
        })
}

impl<'a> Ops<'a> {
    pub fn new(
        store: &'a Store,
        key: Option<&'a ServerKey>,
        engine: Option<&'a Engine>,
    ) -> Ops<'a> {
        Ops {
            store,
            key,
            engine,
            plain_http: false,
            public_url: None,
            actor: &COMMAND_LINE,
        }
    }

    /// As `new`, acting as `actor` (a signed-in account or its token).
    pub fn acting_as(self, actor: &'a Actor) -> Ops<'a> {
        Ops { actor, ..self }
    }

    /// Who acts.
    pub fn actor(&self) -> &Actor {
        self.actor
    }

    /// Refuses `act` unless the actor's role may do it.
    pub fn allow(&self, act: Act) -> Result<(), OpError> {
        if self.actor.role >= act.least() {
            return Ok(());
        }
        Err(OpError::Forbidden(format!(
            "{} needs the {} role; {} is {}",
            act.name(),
            act.least(),
            self.actor.name,
            self.actor.role
        )))
    }

    /// Records a change made (the audit trail). A failure to record is logged, never undoes
    /// the change.
    pub async fn audited(&self, act: Act, object: impl std::fmt::Display, detail: Option<&str>) {
        let a = self.actor;
        let recorded = self
            .store
            .record_audit(
                &a.name,
                &a.via_text(),
                a.address.as_deref(),
                act.name(),
                &object.to_string(),
                detail,
            )
            .await;
        if let Err(e) = recorded {
            tracing::warn!(action = act.name(), error = %e, "cannot record a change in the audit trail");
        }
    }

    /// As `new`, registering ConnectWise's ticket callback at this public URL on save.
    pub fn with_public_url(self, public_url: Option<&'a str>) -> Ops<'a> {
        Ops { public_url, ..self }
    }

    /// As `new`, allowing ConnectWise settings with plain http (to a sandbox on this machine).
    pub fn allowing_plain_http(self, allowed: bool) -> Ops<'a> {
        Ops {
            plain_http: allowed,
            ..self
        }
    }

    /// The ConnectWise client for an integration's saved credentials: the engine's where one
    /// runs (one rate budget per instance for the whole server), else one made for this action
    /// (the CLI).
    pub async fn client(&self, id: IntegrationId) -> Result<Client, OpError> {
        self.store.integration(id).await?;
        if let Some(engine) = self.engine {
            return Ok(engine.shared_client(id).await?);
        }
        let config = integration::client_config(self.store, self.server_key()?, id).await?;
        Ok(Client::new(config)?)
    }

    /// The integration a request names, or (none named) the default one: the oldest.
    pub async fn integration_or_default(
        &self,
        named: Option<IntegrationId>,
    ) -> Result<IntegrationId, OpError> {
        integration_or_default(self.store, named).await
    }

    /// Has the engine look for the jobs an action queued now, not at its next poll.
    pub fn wake(&self) {
        if let Some(engine) = self.engine {
            engine.wake();
        }
    }

    /// The ConnectWise budget full re-syncs are paced by: the serving engine's, or (from an
    /// admin command) the default.
    fn cw_requests_per_minute(&self) -> u32 {
        self.engine.map_or_else(
            || crate::reconcile::runner::EngineConfig::default().cw_requests_per_minute,
            Engine::cw_requests_per_minute,
        )
    }

    /// The binding choices, which previews and links need.
    pub async fn binding_settings(&self, id: IntegrationId) -> Result<BindingSettings, OpError> {
        let field_map = integration::field_map(self.store, id).await?;
        integration::choices(self.store, id)
            .await?
            .map(|c| BindingSettings {
                field_map,
                ..BindingSettings::from_choices(&c)
            })
            .ok_or_else(|| OpError::Invalid {
                field: None,
                message:
                    "choose the configuration statuses and type in the ConnectWise settings first"
                        .into(),
            })
    }
}
