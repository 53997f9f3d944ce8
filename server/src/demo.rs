//! The demo's ConnectWise: settings pointing at a local sandbox with its default seed, and the
//! choices an admin would make there. Used by `bindery-server demo` and by tests that need a
//! fully set-up server.

use crate::integration::{
    self, BoardUse, Catalog, Choices, CwCredentials, IntegrationError, TypeRuleChoice,
};
use crate::sealing::ServerKey;
use crate::store::Store;

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
    let credentials = CwCredentials {
        site: url.to_owned(),
        company_id: SANDBOX_COMPANY.into(),
        public_key: SANDBOX_PUBLIC_KEY.into(),
        client_id: "bindery-demo".into(),
        allow_http: true,
    };
    integration::save_credentials(store, key, &credentials, Some(SANDBOX_PRIVATE_KEY)).await?;
    let config = integration::client_config(store, key).await?;
    let catalog = integration::test_connection(config)
        .await
        .map_err(|e| IntegrationError::Invalid(e.to_string()))?;
    let choices = sandbox_choices(&catalog)?;
    integration::save_choices(store, &catalog, &choices).await?;
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
        monitoring: board("Monitoring")?,
        self_service: board("Self Service")?,
        active_status_id: status(false)?,
        inactive_status_id: status(true)?,
        default_type_id: kind("Managed Workstation")?,
        type_rules: vec![TypeRuleChoice {
            field: bindery_shared::FactField::OsInfo,
            pattern: "*Server*".into(),
            type_id: kind("Managed Server")?,
        }],
    })
}
