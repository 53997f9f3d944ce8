//! The ConnectWise integration's settings as the server keeps them: the site and keys (the
//! private key sealed under the server key and never given back), and the choices made after a
//! connection test (boards, statuses, configuration types).

use connectwise_client::{Client, ClientConfig, Credentials, Error as CwError, PrivateKey, Site};
use serde::{Deserialize, Serialize};

use crate::sealing::{SealError, ServerKey};
use crate::store::{Store, StoreError};

const CREDENTIALS: &str = "cw.credentials";
const PRIVATE_KEY: &str = "cw.private_key";
pub const CHOICES: &str = "cw.choices";

/// Where and who: everything but the private key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
    credentials: &CwCredentials,
    private_key: Option<&str>,
) -> Result<(), IntegrationError> {
    credentials.check()?;
    if let Some(pk) = private_key {
        if pk.trim().is_empty() || pk.chars().any(char::is_control) {
            return Err(IntegrationError::Invalid(
                "the private key must not be empty".into(),
            ));
        }
        store
            .put_setting(PRIVATE_KEY, &key.seal(PRIVATE_KEY, pk.trim())?)
            .await?;
    } else if store.setting(PRIVATE_KEY).await?.is_none() {
        return Err(IntegrationError::Invalid(
            "a private key is needed the first time".into(),
        ));
    }
    let json =
        serde_json::to_string(credentials).map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    store.put_setting(CREDENTIALS, &json).await?;
    Ok(())
}

/// The saved credentials for display, or `None` before the first save.
pub async fn credentials(store: &Store) -> Result<Option<CwCredentialsView>, IntegrationError> {
    let Some(json) = store.setting(CREDENTIALS).await? else {
        return Ok(None);
    };
    let credentials: CwCredentials = serde_json::from_str(&json).map_err(|e| {
        IntegrationError::Invalid(format!("the stored ConnectWise settings are damaged: {e}"))
    })?;
    let private_key_set = store.setting(PRIVATE_KEY).await?.is_some();
    Ok(Some(CwCredentialsView {
        credentials,
        private_key_set,
    }))
}

/// Changes whenever the saved credentials or private key change (a running client is rebuilt
/// then); `None` before the first save. A digest, so no secret is held in the clear.
pub async fn credentials_version(store: &Store) -> Result<Option<String>, IntegrationError> {
    let (Some(creds), Some(key)) = (
        store.setting(CREDENTIALS).await?,
        store.setting(PRIVATE_KEY).await?,
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
) -> Result<ClientConfig, IntegrationError> {
    let view = credentials(store)
        .await?
        .ok_or(IntegrationError::NotConfigured)?;
    let sealed = store
        .setting(PRIVATE_KEY)
        .await?
        .ok_or(IntegrationError::NotConfigured)?;
    let private_key = PrivateKey::new(key.open(PRIVATE_KEY, &sealed)?);
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

/// What a successful connection test found, for the admin to choose from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    pub version: Option<String>,
    pub boards: Vec<BoardChoice>,
    pub configuration_statuses: Vec<Named>,
    pub configuration_types: Vec<TypeChoice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    pub id: i64,
    pub name: String,
    /// A closed status (board statuses) or an inactive one (configuration statuses).
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardChoice {
    pub id: i64,
    pub name: String,
    pub statuses: Vec<Named>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeChoice {
    pub id: i64,
    pub name: String,
    /// Active questions that must be answered: a type with any cannot be chosen, since Bindery
    /// has no answers to give.
    pub required_questions: Vec<String>,
}

impl TypeChoice {
    /// Why this type cannot be chosen, if it cannot.
    pub fn refusal(&self) -> Option<String> {
        (!self.required_questions.is_empty()).then(|| {
            format!(
                "the configuration type {:?} has required questions ({}): Bindery cannot answer them, so choose another type",
                self.name,
                self.required_questions.join(", ")
            )
        })
    }
}

/// Connects with `config` and reads what the admin will choose from. The error says precisely
/// what failed: the host, the codebase (site or company id), the keys (401), or a missing
/// permission (403, naming its area).
pub async fn test_connection(config: ClientConfig) -> Result<Catalog, CwError> {
    let client = Client::new(config)?;
    client.company_info().await?;
    let info = client.system_info().await?;
    let mut boards = Vec::new();
    for b in client
        .boards()
        .await?
        .into_iter()
        .filter(|b| b.inactive_flag != Some(true))
    {
        let statuses = client
            .board_statuses(b.id)
            .await?
            .into_iter()
            .filter(|s| s.inactive != Some(true))
            .map(|s| Named {
                id: s.id,
                name: s.name,
                closed: s.closed_status == Some(true),
            })
            .collect();
        boards.push(BoardChoice {
            id: b.id,
            name: b.name,
            statuses,
        });
    }
    let configuration_statuses = client
        .configuration_statuses()
        .await?
        .into_iter()
        .map(|s| Named {
            id: s.id,
            name: s.description,
            closed: s.closed_flag == Some(true),
        })
        .collect();
    let mut configuration_types = Vec::new();
    for t in client
        .configuration_types()
        .await?
        .into_iter()
        .filter(|t| t.inactive_flag != Some(true))
    {
        let required_questions = client
            .configuration_type_questions(t.id)
            .await?
            .into_iter()
            .filter(|q| q.required_flag == Some(true) && q.inactive_flag != Some(true))
            .map(|q| q.question)
            .collect();
        configuration_types.push(TypeChoice {
            id: t.id,
            name: t.name,
            required_questions,
        });
    }
    Ok(Catalog {
        version: info.version,
        boards,
        configuration_statuses,
        configuration_types,
    })
}

/// A board and the statuses tickets take on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardUse {
    pub board_id: i64,
    pub open_status_id: i64,
    pub closed_status_id: i64,
}

/// A conditional type rule as the admin enters it (first match wins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeRuleChoice {
    /// A fact: `osType`, `osInfo`, `name`, …
    pub field: bindery_shared::FactField,
    /// Case-insensitive, `*` for any run of characters.
    pub pattern: String,
    pub type_id: i64,
}

/// What the admin chose from the [`Catalog`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    pub monitoring: BoardUse,
    pub self_service: BoardUse,
    pub active_status_id: i64,
    pub inactive_status_id: i64,
    pub default_type_id: i64,
    #[serde(default)]
    pub type_rules: Vec<TypeRuleChoice>,
    /// Which configurations made by others a device may adopt (serial, MAC, name: all on by
    /// default), and whether type rules apply to an adopted one (off: its type is kept).
    #[serde(default)]
    pub adoption: crate::reconcile::adoption::AdoptionSettings,
}

impl Choices {
    /// Every reason these choices do not fit what ConnectWise offers (empty when they fit).
    pub fn problems(&self, catalog: &Catalog) -> Vec<String> {
        let mut out = Vec::new();
        for (label, board) in [
            ("monitoring", &self.monitoring),
            ("self-service", &self.self_service),
        ] {
            let Some(b) = catalog.boards.iter().find(|b| b.id == board.board_id) else {
                out.push(format!(
                    "the {label} board does not exist (or is inactive) in ConnectWise"
                ));
                continue;
            };
            let status = |id: i64| b.statuses.iter().find(|s| s.id == id);
            match status(board.open_status_id) {
                Some(s) if !s.closed => {}
                Some(s) => out.push(format!(
                    "the {label} open status {:?} is a closed status of {:?}",
                    s.name, b.name
                )),
                None => out.push(format!(
                    "the {label} open status is not a status of {:?}",
                    b.name
                )),
            }
            match status(board.closed_status_id) {
                Some(s) if s.closed => {}
                Some(s) => out.push(format!(
                    "the {label} closed status {:?} does not close tickets on {:?}",
                    s.name, b.name
                )),
                None => out.push(format!(
                    "the {label} closed status is not a status of {:?}",
                    b.name
                )),
            }
        }
        let config_status = |id: i64| catalog.configuration_statuses.iter().find(|s| s.id == id);
        match config_status(self.active_status_id) {
            Some(s) if !s.closed => {}
            Some(s) => out.push(format!(
                "the active configuration status {:?} is a closed one",
                s.name
            )),
            None => out.push("the active configuration status does not exist".into()),
        }
        match config_status(self.inactive_status_id) {
            Some(s) if s.closed => {}
            Some(s) => out.push(format!(
                "the inactive configuration status {:?} is not a closed one",
                s.name
            )),
            None => out.push("the inactive configuration status does not exist".into()),
        }
        let types = std::iter::once((
            "the default configuration type".to_owned(),
            self.default_type_id,
        ))
        .chain(
            self.type_rules
                .iter()
                .enumerate()
                .map(|(i, r)| (format!("rule {}", i + 1), r.type_id)),
        );
        for (label, id) in types {
            match catalog.configuration_types.iter().find(|t| t.id == id) {
                Some(t) => out.extend(t.refusal().map(|r| format!("{label}: {r}"))),
                None => out.push(format!(
                    "{label}: the configuration type does not exist (or is inactive)"
                )),
            }
        }
        for (i, r) in self.type_rules.iter().enumerate() {
            if r.pattern.trim().is_empty()
                || r.pattern.chars().count() > 100
                || r.pattern.chars().any(char::is_control)
            {
                out.push(format!(
                    "rule {}: the pattern must be 1-100 characters",
                    i + 1
                ));
            }
        }
        out
    }

    /// What the planner needs.
    pub fn binding_settings(&self) -> crate::reconcile::plan::BindingSettings {
        crate::reconcile::plan::BindingSettings {
            active_status_id: self.active_status_id,
            inactive_status_id: self.inactive_status_id,
            default_type_id: self.default_type_id,
            type_rules: self
                .type_rules
                .iter()
                .map(|r| crate::reconcile::plan::TypeRule {
                    field: r.field,
                    pattern: r.pattern.clone(),
                    type_id: r.type_id,
                })
                .collect(),
            adoption: self.adoption,
        }
    }
}

/// Saves the choices when they fit the catalog; otherwise changes nothing and lists every problem.
pub async fn save_choices(
    store: &Store,
    catalog: &Catalog,
    choices: &Choices,
) -> Result<(), IntegrationError> {
    let problems = choices.problems(catalog);
    if !problems.is_empty() {
        return Err(IntegrationError::Invalid(problems.join("; ")));
    }
    let json =
        serde_json::to_string(choices).map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    store.put_setting(CHOICES, &json).await?;
    Ok(())
}

pub async fn choices(store: &Store) -> Result<Option<Choices>, IntegrationError> {
    let Some(json) = store.setting(CHOICES).await? else {
        return Ok(None);
    };
    serde_json::from_str(&json).map(Some).map_err(|e| {
        IntegrationError::Invalid(format!("the stored ConnectWise choices are damaged: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_private_key_is_sealed_write_only_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in_dir(dir.path()).await.unwrap();
        let key = ServerKey::load_or_create(&dir.path().join("server.key")).unwrap();
        assert!(matches!(
            client_config(&store, &key).await,
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
                save_credentials(&store, &key, &creds, None).await,
                Err(IntegrationError::Invalid(_))
            ),
            "a key the first time"
        );
        save_credentials(&store, &key, &creds, Some("sandbox-private"))
            .await
            .unwrap();

        let view = credentials(&store).await.unwrap().unwrap();
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
        save_credentials(&store, &key, &renamed, None)
            .await
            .unwrap();
        let config = client_config(&store, &key).await.unwrap();
        assert_eq!(config.credentials.private_key.expose(), "sandbox-private");
        assert_eq!(config.credentials.client_id, "other");
        assert!(!format!("{config:?}").contains("sandbox-private"));

        for bad in [
            CwCredentials {
                site: "http://cw.example.com".into(),
                allow_http: false,
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
                save_credentials(&store, &key, &bad, Some("k")).await,
                Err(IntegrationError::Invalid(_))
            ));
        }
        assert_eq!(
            credentials(&store)
                .await
                .unwrap()
                .unwrap()
                .credentials
                .client_id,
            "other",
            "a refused save changes nothing"
        );
        let wrong = ServerKey::from_bytes(&[9u8; 32]).unwrap();
        assert!(matches!(
            client_config(&store, &wrong).await,
            Err(IntegrationError::Sealing(SealError::WrongKey))
        ));
    }
}
