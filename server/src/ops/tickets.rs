//! How tickets are handled beyond the boards: the manual login-to-contact mappings (which win
//! over automatic matching) and the ticket rules (reopen window, polling, close rules), each with
//! one set of rules whoever changes them.

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::IntegrationId;
use crate::integration::{self, Choices, CloseRule, TicketRules};
use crate::reconcile::contact_lookup;

/// The most manual mappings kept.
pub const MAX_CONTACT_MAPPINGS: usize = 10_000;

/// A login as a mapping keeps it, or why it is refused: 1 to 200 characters, no control
/// characters.
fn login(raw: &str) -> Result<String, String> {
    let login = raw.trim();
    let n = login.chars().count();
    if n == 0 || n > 200 || login.chars().any(char::is_control) {
        return Err("a login is 1 to 200 characters, none of them control characters".into());
    }
    Ok(login.to_owned())
}

impl Ops<'_> {
    /// An instance's manual mappings, as (login, contact id): contact ids are its own.
    pub async fn contact_mappings(&self, id: IntegrationId) -> Vec<(String, i64)> {
        contact_lookup::manual(self.store, id).await
    }

    /// Replaces every manual mapping; `Invalid` names the first mapping at fault
    /// (`[i].login`).
    pub async fn replace_contact_mappings(
        &self,
        id: IntegrationId,
        mappings: &[(String, i64)],
    ) -> Result<Vec<(String, i64)>, OpError> {
        self.allow(Act::SetContactMappings)?;
        if mappings.len() > MAX_CONTACT_MAPPINGS {
            return Err(OpError::Invalid {
                field: None,
                message: format!("at most {MAX_CONTACT_MAPPINGS} mappings"),
            });
        }
        let mut kept = Vec::with_capacity(mappings.len());
        for (i, (raw, id)) in mappings.iter().enumerate() {
            let l = login(raw).map_err(|message| OpError::InvalidAt {
                at: format!("[{i}].login"),
                message,
            })?;
            kept.push((l, *id));
        }
        self.save_contact_mappings(id, &kept).await?;
        let detail = format!("{} mappings", kept.len());
        self.audited(
            Act::SetContactMappings,
            format!("integration {id}"),
            Some(&detail),
        )
        .await;
        Ok(kept)
    }

    /// Maps one login to a contact (`None`: removes its mapping); the others stay.
    pub async fn map_contact(
        &self,
        id: IntegrationId,
        raw_login: &str,
        contact_id: Option<i64>,
    ) -> Result<Vec<(String, i64)>, OpError> {
        self.allow(Act::MapContact)?;
        let l = login(raw_login).map_err(|m| OpError::invalid("login", m))?;
        let mut maps = self.contact_mappings(id).await;
        maps.retain(|(known, _)| !known.eq_ignore_ascii_case(&l));
        if let Some(id) = contact_id {
            if maps.len() >= MAX_CONTACT_MAPPINGS {
                return Err(OpError::invalid(
                    "login",
                    format!("at most {MAX_CONTACT_MAPPINGS} mappings"),
                ));
            }
            maps.push((l.clone(), id));
        }
        self.save_contact_mappings(id, &maps).await?;
        let detail = match contact_id {
            Some(c) => format!("{l} -> contact {c}"),
            None => format!("{l}: mapping removed"),
        };
        self.audited(Act::MapContact, format!("integration {id}"), Some(&detail))
            .await;
        Ok(maps)
    }

    async fn save_contact_mappings(
        &self,
        id: IntegrationId,
        maps: &[(String, i64)],
    ) -> Result<(), OpError> {
        self.store.integration(id).await?;
        let json = serde_json::to_string(maps).map_err(|e| OpError::Unavailable(e.to_string()))?;
        let name = integration::setting_name(id, contact_lookup::MANUAL);
        self.store.put_setting(&name, &json).await?;
        Ok(())
    }

    /// Changes the ticket rules and each board's close rule in the saved choices.
    pub async fn set_ticket_rules(
        &self,
        id: IntegrationId,
        rules: TicketRules,
        (monitoring, self_service): (CloseRule, CloseRule),
    ) -> Result<Choices, OpError> {
        self.allow(Act::SetTicketRules)?;
        let saved =
            integration::save_ticket_rules(self.store, id, rules, monitoring, self_service).await?;
        self.audited(Act::SetTicketRules, format!("integration {id}"), None)
            .await;
        Ok(saved)
    }
}
