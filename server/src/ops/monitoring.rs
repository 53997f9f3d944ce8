//! Monitoring: a policy's monitor settings (validated once, whoever sends them), and an
//! admin closing an alert or a help request (its ticket gets the closed status and a note).

use super::{OpError, Ops};
use crate::access::Act;
use crate::ids::{AlertId, PolicyId};
use crate::monitoring;
use crate::monitoring::settings::MonitorSettings;
use crate::store::{Alert, HelpRequest};

impl Ops<'_> {
    /// Gives the policy these monitor settings (`None`: back to the defaults); a setting that
    /// does not hold is refused with every problem named.
    pub async fn set_monitors(
        &self,
        policy_id: PolicyId,
        settings: Option<&MonitorSettings>,
    ) -> Result<(), OpError> {
        self.allow(Act::SetMonitors)?;
        let json = match settings {
            Some(s) => {
                let problems = s.problems();
                if !problems.is_empty() {
                    return Err(OpError::Invalid {
                        field: None,
                        message: problems.join("; "),
                    });
                }
                Some(serde_json::to_string(s).map_err(|e| OpError::Unavailable(e.to_string()))?)
            }
            None => None,
        };
        self.store
            .set_policy_monitors(policy_id, json.as_deref())
            .await?;
        let detail = json.as_deref().unwrap_or("the defaults");
        self.audited(
            Act::SetMonitors,
            format!("policy {policy_id}"),
            Some(detail),
        )
        .await;
        Ok(())
    }

    /// Closes an open alert as `who`; its ticket gets the closed status and a note. `None`
    /// when there is no such alert.
    pub async fn close_alert(
        &self,
        alert_id: AlertId,
        who: &str,
    ) -> Result<Option<Alert>, OpError> {
        self.allow(Act::CloseAlert)?;
        let a = monitoring::close_alert(self.store, alert_id, who).await?;
        self.wake();
        if a.is_some() {
            self.audited(Act::CloseAlert, format!("alert {alert_id}"), None)
                .await;
        }
        Ok(a)
    }

    /// Closes a help request as `who` (its self-service ticket is closed with a note saying
    /// so). `None` when there is no such request.
    pub async fn close_help(
        &self,
        help_id: i64,
        who: &str,
    ) -> Result<Option<HelpRequest>, OpError> {
        self.allow(Act::CloseHelp)?;
        let h = monitoring::close_help_as_admin(self.store, help_id, who).await?;
        self.wake();
        if h.is_some() {
            self.audited(Act::CloseHelp, format!("help request {help_id}"), None)
                .await;
        }
        Ok(h)
    }
}
