//! The ConnectWise integration's settings as the server keeps them: the site and keys (the
//! private key sealed under the server key and never given back), and the choices made after a
//! connection test (boards, statuses, configuration types).

use connectwise_client::{ClientConfig, Credentials, PrivateKey, Site};
use serde::{Deserialize, Serialize};

use crate::ids::IntegrationId;
use crate::sealing::{SealError, ServerKey};
use crate::store::{Store, StoreError};

mod catalog;
mod choices;
mod field_map;
mod names;

pub use catalog::{BoardChoice, Catalog, Named, RequiredQuestion, TypeChoice, test_connection};
pub use choices::{
    AdoptionSettings, BoardUse, Choices, CloseRule, QuestionAnswer, TicketRules, TypeRuleChoice,
    choices, save_choices, save_ticket_rules,
};
pub use field_map::{
    FieldKey, FieldMap, FieldRule, MAX_RULES as MAX_FIELD_RULES, MapTarget, field_map,
    save_field_map,
};
pub use names::{
    CALLBACK_REGISTRATION, CHOICES, CONTACT_MAPPINGS, LAST_TICKET_POLL, ROUTING_RULES,
    setting_name, setting_names,
};
use names::{CREDENTIALS, PRIVATE_KEY};

/// Where and who: everything but the private key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CwCredentials {
    /// A host (`api-na.myconnectwise.net`) or base URL.
    pub site: String,
    pub company_id: String,
    pub public_key: String,
    pub client_id: String,
    /// Plain HTTP to the site (the local sandbox only).
    #[serde(default)]
    pub allow_http: bool,
}

/// The credentials as shown to an admin: the private key only as "set" or "not set".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CwCredentialsView {
    #[serde(flatten)]
    pub credentials: CwCredentials,
    pub private_key_set: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    #[error("ConnectWise is not set up yet: save the site, company id and keys first")]
    NotConfigured,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Sealing(#[from] SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CwCredentials {
    fn check(&self) -> Result<(), IntegrationError> {
        Site::parse(&self.site, self.allow_http)
            .map_err(|e| IntegrationError::Invalid(e.to_string()))?;
        // The keys go with every request: in clear only to this machine (a local sandbox).
        if self.allow_http && !self.site.trim().starts_with("https://") && !is_loopback(&self.site)
        {
            return Err(IntegrationError::Invalid(
                "plain http is only for a sandbox on this machine (127.0.0.1, ::1, localhost); use https".into(),
            ));
        }
        for (name, value, max) in [
            ("company id", &self.company_id, 100),
            ("public key", &self.public_key, 100),
            ("client id", &self.client_id, 100),
        ] {
            let v = value.trim();
            if v.is_empty()
                || v.chars().count() > max
                || v.chars().any(|c| c.is_control() || c == '+' || c == ':')
            {
                return Err(IntegrationError::Invalid(format!(
                    "the {name} must be 1-{max} characters, without '+', ':' or control characters"
                )));
            }
        }
        Ok(())
    }
}

/// Saves the credentials. The private key is write-only: `None` keeps the stored one.
pub async fn save_credentials(
    store: &Store,
    key: &ServerKey,
    id: IntegrationId,
    credentials: &CwCredentials,
    private_key: Option<&str>,
) -> Result<(), IntegrationError> {
    credentials.check()?;
    // Where the key goes, and whose it is, changes only with the key itself: a stolen session
    // cannot send the stored key to a host of its choosing.
    if private_key.is_none()
        && let Some(stored) = stored_credentials(store, id).await?
        && (stored.site.trim() != credentials.site.trim()
            || stored.company_id.trim() != credentials.company_id.trim()
            || stored.public_key.trim() != credentials.public_key.trim())
    {
        return Err(IntegrationError::Invalid(
            "changing the site, company id or public key needs the private key again".into(),
        ));
    }
    if let Some(pk) = private_key {
        if pk.trim().is_empty() || pk.chars().any(char::is_control) {
            return Err(IntegrationError::Invalid(
                "the private key must not be empty".into(),
            ));
        }
        let name = setting_name(id, PRIVATE_KEY);
        store
            .put_setting(&name, &key.seal(&name, pk.trim())?)
            .await?;
    } else if store
        .setting(&setting_name(id, PRIVATE_KEY))
        .await?
        .is_none()
    {
        return Err(IntegrationError::Invalid(
            "a private key is needed the first time".into(),
        ));
    }
    let json =
        serde_json::to_string(credentials).map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    store
        .put_setting(&setting_name(id, CREDENTIALS), &json)
        .await?;
    Ok(())
}

/// Re-seals every sealed setting from `old` to `new`; one that `new` already opens is left as it
/// is, so running it again after an interruption finishes the job. Returns how many changed.
pub async fn reseal(
    store: &Store,
    old: &ServerKey,
    new: &ServerKey,
) -> Result<usize, IntegrationError> {
    let mut changed = 0;
    // Every setting sealed under the server key: each integration's private key, sealed for
    // its own name.
    for integration in store.integrations().await? {
        let name = setting_name(integration.id, PRIVATE_KEY);
        let Some(sealed) = store.setting(&name).await? else {
            continue;
        };
        if new.open(&name, &sealed).is_ok() {
            continue;
        }
        let plain = old.open(&name, &sealed)?;
        store.put_setting(&name, &new.seal(&name, &plain)?).await?;
        changed += 1;
    }
    Ok(changed)
}

/// True for `http://127.0.0.1…`, `http://[::1]…` or `http://localhost…`.
fn is_loopback(site: &str) -> bool {
    let rest = site.trim().trim_start_matches("http://");
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => rest.split([':', '/']).next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn stored_credentials(
    store: &Store,
    id: IntegrationId,
) -> Result<Option<CwCredentials>, IntegrationError> {
    let Some(json) = store.setting(&setting_name(id, CREDENTIALS)).await? else {
        return Ok(None);
    };
    serde_json::from_str(&json).map(Some).map_err(|e| {
        IntegrationError::Invalid(format!("the stored ConnectWise settings are damaged: {e}"))
    })
}

/// The saved credentials for display, or `None` before the first save.
pub async fn credentials(
    store: &Store,
    id: IntegrationId,
) -> Result<Option<CwCredentialsView>, IntegrationError> {
    let Some(credentials) = stored_credentials(store, id).await? else {
        return Ok(None);
    };
    let private_key_set = store
        .setting(&setting_name(id, PRIVATE_KEY))
        .await?
        .is_some();
    Ok(Some(CwCredentialsView {
        credentials,
        private_key_set,
    }))
}

/// Changes whenever the saved credentials or private key change (a running client is rebuilt
/// then); `None` before the first save. A digest, so no secret is held in the clear.
pub async fn credentials_version(
    store: &Store,
    id: IntegrationId,
) -> Result<Option<String>, IntegrationError> {
    let (Some(creds), Some(key)) = (
        store.setting(&setting_name(id, CREDENTIALS)).await?,
        store.setting(&setting_name(id, PRIVATE_KEY)).await?,
    ) else {
        return Ok(None);
    };
    Ok(Some(crate::secrets::hash_secret(&format!(
        "{creds}\n{key}"
    ))))
}

/// A ConnectWise client configuration from the saved settings, the private key unsealed.
pub async fn client_config(
    store: &Store,
    key: &ServerKey,
    id: IntegrationId,
) -> Result<ClientConfig, IntegrationError> {
    let view = credentials(store, id)
        .await?
        .ok_or(IntegrationError::NotConfigured)?;
    let name = setting_name(id, PRIVATE_KEY);
    let sealed = store
        .setting(&name)
        .await?
        .ok_or(IntegrationError::NotConfigured)?;
    let private_key = PrivateKey::new(key.open(&name, &sealed)?);
    let c = view.credentials;
    let site =
        Site::parse(&c.site, c.allow_http).map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    Ok(ClientConfig::new(
        site,
        Credentials {
            company_id: c.company_id,
            public_key: c.public_key,
            private_key,
            client_id: c.client_id,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: IntegrationId = IntegrationId::FIRST;

    #[tokio::test]
    async fn the_private_key_is_sealed_write_only_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let key = ServerKey::load_or_create(&dir.path().join("server.key")).unwrap();
        assert!(matches!(
            client_config(&store, &key, FIRST).await,
            Err(IntegrationError::NotConfigured)
        ));
        let creds = CwCredentials {
            site: "http://127.0.0.1:8701".into(),
            company_id: "bindery".into(),
            public_key: "sandbox-public".into(),
            client_id: "3f1b".into(),
            allow_http: true,
        };
        assert!(
            matches!(
                save_credentials(&store, &key, FIRST, &creds, None).await,
                Err(IntegrationError::Invalid(_))
            ),
            "a key the first time"
        );
        save_credentials(&store, &key, FIRST, &creds, Some("sandbox-private"))
            .await
            .unwrap();

        let view = credentials(&store, FIRST).await.unwrap().unwrap();
        assert!(view.private_key_set);
        let shown = serde_json::to_string(&view).unwrap();
        assert!(!shown.contains("sandbox-private"), "{shown}");
        let rows: Vec<(String,)> = sqlx::query_as("SELECT value FROM settings")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert!(
            rows.iter().all(|(v,)| !v.contains("sandbox-private")),
            "never stored in the clear"
        );

        // Saving again without a key keeps it.
        let renamed = CwCredentials {
            client_id: "other".into(),
            ..creds.clone()
        };
        save_credentials(&store, &key, FIRST, &renamed, None)
            .await
            .unwrap();
        let config = client_config(&store, &key, FIRST).await.unwrap();
        assert_eq!(config.credentials.private_key.expose(), "sandbox-private");
        assert_eq!(config.credentials.client_id, "other");
        assert!(!format!("{config:?}").contains("sandbox-private"));

        for bad in [
            CwCredentials {
                site: "http://cw.example.com".into(),
                allow_http: false,
                ..creds.clone()
            },
            // Plain http only to this machine, even when allowed.
            CwCredentials {
                site: "http://cw.example.com".into(),
                ..creds.clone()
            },
            CwCredentials {
                site: "http://127.0.0.1.evil.example".into(),
                ..creds.clone()
            },
            CwCredentials {
                company_id: "".into(),
                ..creds.clone()
            },
            CwCredentials {
                public_key: "a+b".into(),
                ..creds.clone()
            },
        ] {
            assert!(matches!(
                save_credentials(&store, &key, FIRST, &bad, Some("k")).await,
                Err(IntegrationError::Invalid(_))
            ));
        }
        assert_eq!(
            credentials(&store, FIRST)
                .await
                .unwrap()
                .unwrap()
                .credentials
                .client_id,
            "other",
            "a refused save changes nothing"
        );
        // Where the stored key goes changes only with the key itself.
        for moved in [
            CwCredentials {
                site: "http://localhost:9999".into(),
                ..renamed.clone()
            },
            CwCredentials {
                company_id: "other-co".into(),
                ..renamed.clone()
            },
            CwCredentials {
                public_key: "other-public".into(),
                ..renamed.clone()
            },
        ] {
            let refused = save_credentials(&store, &key, FIRST, &moved, None).await;
            assert!(
                matches!(&refused, Err(IntegrationError::Invalid(m)) if m.contains("private key again")),
                "{refused:?}"
            );
        }
        let moved = CwCredentials {
            site: "http://[::1]:9999".into(),
            ..renamed.clone()
        };
        save_credentials(&store, &key, FIRST, &moved, Some("new-private"))
            .await
            .unwrap();
        assert_eq!(
            client_config(&store, &key, FIRST)
                .await
                .unwrap()
                .credentials
                .private_key
                .expose(),
            "new-private"
        );
        let wrong = ServerKey::from_bytes(&[9u8; 32]).unwrap();
        assert!(matches!(
            client_config(&store, &wrong, FIRST).await,
            Err(IntegrationError::Sealing(SealError::WrongKey))
        ));
    }
}
