//! ConnectWise calling Bindery back. With a public URL, saving the ConnectWise settings
//! registers one ticket callback (Bindery's own changes suppressed); without one, or when
//! ConnectWise refuses it, Bindery says why and polls instead.
//!
//! A message is taken only when its signature checks out against the key from its
//! `Metadata.key_url`, and that URL is fetched only from the configured site (the client
//! refuses any other host unread). A message seen before (by `MessageId`) is dropped. The
//! message itself is only a hint: the ticket it names is re-read by a job before anything is
//! done (`ticket_watch`).

use connectwise_client::model::CallbackEntry;
use connectwise_client::{Client, Error as CwError};
use serde::{Deserialize, Serialize};

pub use super::callback_keys::{KeyCache, Refused, signature_matches};
use super::queue::ticket_check_job;
use crate::ids::{IntegrationId, TicketId};
use crate::integration::{CALLBACK_REGISTRATION as REGISTRATION, setting_name};
use crate::store::{Result, Store};

/// Where ConnectWise posts: the first integration here, another at `…/callback/{id}`.
pub const CALLBACK_PATH: &str = "/api/connectwise/v1/callback";

/// Where integration `id`'s instance posts (the first keeps the path it registered before
/// there could be several).
pub fn callback_path(id: IntegrationId) -> String {
    if id == IntegrationId::FIRST {
        CALLBACK_PATH.to_owned()
    } else {
        format!("{CALLBACK_PATH}/{id}")
    }
}

/// The largest callback body taken (a ticket as JSON inside JSON; ConnectWise's are a few KiB).
pub const MAX_BODY: usize = 256 * 1024;

/// Whether ConnectWise calls Bindery back, and if not, why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackStatus {
    pub registered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why there is no callback (Bindery polls instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub async fn status(store: &Store, integration: IntegrationId) -> Result<CallbackStatus> {
    Ok(store
        .setting(&setting_name(integration, REGISTRATION))
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_else(|| CallbackStatus {
            reason: Some("the ConnectWise settings are not saved yet".into()),
            ..CallbackStatus::default()
        }))
}

/// Registers Bindery's ticket callback at `public_url` (replacing the one registered before),
/// or records why there is none. Never fails the save that calls it.
pub async fn register(
    store: &Store,
    client: &Client,
    integration: IntegrationId,
    public_url: Option<&str>,
) -> CallbackStatus {
    let before = status(store, integration).await.unwrap_or_default();
    if let Some(old) = before.callback_id {
        match client.delete_callback(old).await {
            Ok(()) | Err(CwError::NotFound { .. }) => {}
            Err(e) => tracing::warn!(error = %e, "cannot remove the earlier callback"),
        }
    }
    let now = match public_url.map(|u| u.trim_end_matches('/')) {
        None | Some("") => CallbackStatus {
            reason: Some(
                "no public URL is set (public_url), so ConnectWise cannot reach this server; \
                 Bindery polls ticket statuses instead"
                    .into(),
            ),
            ..CallbackStatus::default()
        },
        Some(base) => {
            let url = format!("{base}{}?recordId=", callback_path(integration));
            let entry = CallbackEntry {
                description: Some("Bindery: tickets closed or deleted by people".into()),
                url: url.clone(),
                object_id: 0,
                kind: "ticket".into(),
                level: "owner".into(),
                is_self_suppressed_flag: Some(true),
                ..CallbackEntry::default()
            };
            match client.create_callback(&entry).await {
                Ok(made) => CallbackStatus {
                    registered: true,
                    callback_id: made.id,
                    url: Some(url),
                    reason: None,
                },
                Err(e) => CallbackStatus {
                    reason: Some(match e {
                        CwError::Forbidden { .. } => format!(
                            "{e} (System: Callbacks); Bindery polls ticket statuses instead"
                        ),
                        other => format!(
                            "ConnectWise did not register the callback ({other}); Bindery polls \
                             ticket statuses instead"
                        ),
                    }),
                    ..CallbackStatus::default()
                },
            }
        }
    };
    save(store, integration, &now).await;
    now
}

/// Removes Bindery's callback (if any) and records that it polls.
pub async fn unregister(
    store: &Store,
    client: &Client,
    integration: IntegrationId,
) -> CallbackStatus {
    let before = status(store, integration).await.unwrap_or_default();
    if let Some(id) = before.callback_id {
        match client.delete_callback(id).await {
            Ok(()) | Err(CwError::NotFound { .. }) => {}
            Err(e) => {
                return CallbackStatus {
                    reason: Some(format!("cannot remove the callback: {e}")),
                    ..before
                };
            }
        }
    }
    let now = CallbackStatus {
        reason: Some("callbacks were turned off; Bindery polls ticket statuses".into()),
        ..CallbackStatus::default()
    };
    save(store, integration, &now).await;
    now
}

async fn save(store: &Store, integration: IntegrationId, status: &CallbackStatus) {
    let json = serde_json::to_string(status).unwrap_or_default();
    let name = setting_name(integration, REGISTRATION);
    if let Err(e) = store.put_setting(&name, &json).await {
        tracing::warn!(error = %e, "cannot record the callback's state");
    }
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Taken {
    /// The ticket it names is re-read.
    Queued(TicketId),
    /// Seen before (its `MessageId`).
    Replay,
    /// Not about a ticket of Bindery's.
    Ignored(&'static str),
}

/// The parts of a callback body Bindery reads.
#[derive(Deserialize)]
struct Message {
    #[serde(rename = "MessageId")]
    message_id: String,
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "ID")]
    id: i64,
    #[serde(rename = "Metadata")]
    metadata: Metadata,
}

#[derive(Deserialize)]
struct Metadata {
    key_url: String,
}

/// Verifies one message and queues the re-read of the ticket it names.
pub async fn take(
    store: &Store,
    client: &Client,
    (integration, keys): (IntegrationId, &KeyCache),
    body: &[u8],
    signature: Option<&str>,
) -> std::result::Result<Taken, Refused> {
    let msg: Message = serde_json::from_slice(body)
        .map_err(|e| Refused::Malformed(format!("not a ConnectWise callback: {e}")))?;
    let signature =
        signature.ok_or_else(|| Refused::Unverified("no x-content-signature header".into()))?;
    keys.verify(client, &msg.metadata.key_url, body, signature)
        .await?;
    let stored = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "cannot record a ConnectWise callback");
        Refused::Unavailable("Bindery cannot record it now; send it again".into())
    };
    if !store
        .take_callback_message(&crate::reconcile::jobs::scoped_key(
            "message",
            integration,
            &msg.message_id,
        ))
        .await
        .map_err(stored)?
    {
        return Ok(Taken::Replay);
    }
    if !msg.kind.eq_ignore_ascii_case("ticket") {
        return Ok(Taken::Ignored("not about a ticket"));
    }
    let Some(ticket) = store
        .ticket_by_cw_id(integration, msg.id)
        .await
        .map_err(stored)?
    else {
        return Ok(Taken::Ignored("not a ticket of Bindery's"));
    };
    store
        .enqueue(&ticket_check_job(ticket))
        .await
        .map_err(stored)?;
    Ok(Taken::Queued(ticket))
}

impl super::Engine {
    /// Takes a ConnectWise callback message (see `callbacks::take`) and starts its job.
    pub async fn take_callback(
        &self,
        integration: IntegrationId,
        body: &[u8],
        signature: Option<&str>,
    ) -> std::result::Result<Taken, Refused> {
        let instance = self.instance(integration).await.map_err(|e| {
            Refused::Unavailable(format!("ConnectWise is not configured: {}", e.message()))
        })?;
        let keys = (integration, &*instance.callback_keys);
        let taken = take(&self.store, &instance.client, keys, body, signature).await?;
        self.wake();
        Ok(taken)
    }
}
