//! Who may do what: the four roles, the person (or token, or the local command line) acting,
//! and every change an account can make with the least role that may make it. The operations
//! layer (`ops/`) asks `Act::least` before each change and records it in the audit trail after,
//! so the console, the admin API and the CLI share one rule.

use serde::{Deserialize, Serialize};

/// An account's role, least to most.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything, changes nothing.
    Viewer,
    /// Closes alerts and help requests, retries pending devices, answers for devices that wait
    /// for a person, moves a device between policies.
    Technician,
    /// Policies, links, enrollment tokens, billing, monitors, rules, the field map, the choices.
    Admin,
    /// The ConnectWise instances and their keys, and the accounts.
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Technician, Role::Admin, Role::Owner];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Technician => "technician",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an actor reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A console or API session (signed in with a password).
    Session,
    /// A personal API token (its id).
    Token(i64),
    /// `bindery-server admin` on the server's machine: whoever can run it holds the data.
    CommandLine,
}

/// Who is acting: the account (none for the command line), its name as the audit trail shows
/// it, its role, how it came, and from which address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub account_id: Option<i64>,
    pub name: String,
    pub role: Role,
    pub via: Via,
    pub address: Option<String>,
}

impl Actor {
    /// The local command line: an owner, named after the operating-system user running it.
    pub fn command_line() -> Actor {
        let user = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".into());
        Actor {
            account_id: None,
            name: format!("cli:{}", crate::logged::escaped(&user, 40)),
            role: Role::Owner,
            via: Via::CommandLine,
            address: None,
        }
    }

    /// How the audit trail names the way the actor came: `session`, `token 4`, `cli`.
    pub fn via_text(&self) -> String {
        match self.via {
            Via::Session => "session".into(),
            Via::Token(id) => format!("token {id}"),
            Via::CommandLine => "cli".into(),
        }
    }
}

/// Declares every act once: its name in the audit trail and the least role that may do it.
macro_rules! acts {
    ($($act:ident => $name:literal, $role:ident;)*) => {
        /// Every change an account can make.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Act {
            $($act),*
        }

        impl Act {
            pub const ALL: &[Act] = &[$(Act::$act),*];

            /// Its name in the audit trail (`policy.create`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Act::$act => $name),*
                }
            }

            /// The least role that may do it.
            pub const fn least(self) -> Role {
                match self {
                    $(Act::$act => Role::$role),*
                }
            }
        }
    };
}

acts! {
    // The technician's day.
    RetryPending => "policy.retry_pending", Technician;
    CloseAlert => "alert.close", Technician;
    CloseHelp => "help.close", Technician;
    AnswerReinstall => "device.answer_reinstall", Technician;
    ChooseConfiguration => "device.choose_configuration", Technician;
    MoveDevice => "device.move", Technician;
    MapContact => "contact.map", Technician;
    // Running the service desk.
    CreatePolicy => "policy.create", Admin;
    RenamePolicy => "policy.rename", Admin;
    DeletePolicy => "policy.delete", Admin;
    PreviewLink => "policy.preview_link", Admin;
    Link => "policy.link", Admin;
    Unlink => "policy.unlink", Admin;
    RetireDevice => "device.retire", Admin;
    AutoApprove => "identity.auto_approve", Admin;
    CreateEnrollmentToken => "enrollment_token.create", Admin;
    RevokeEnrollmentToken => "enrollment_token.revoke", Admin;
    SetMonitors => "policy.monitors", Admin;
    SetMaintenance => "policy.maintenance", Admin;
    SetContactMappings => "contact.mappings", Admin;
    SetTicketRules => "tickets.rules", Admin;
    SetRouting => "routing.save", Admin;
    SetFieldMap => "field_map.save", Admin;
    SetBilling => "billing.set", Admin;
    ClearBilling => "billing.clear", Admin;
    SetBillingRules => "billing.rules", Admin;
    ApproveBilling => "billing.approve", Admin;
    ChooseAddition => "billing.choose", Admin;
    SaveChoices => "integration.choices", Admin;
    TestConnection => "integration.test", Admin;
    SyncNow => "integration.sync_now", Admin;
    // The instances, their keys and the accounts.
    AddIntegration => "integration.add", Owner;
    RenameIntegration => "integration.rename", Owner;
    SetIntegrationBudget => "integration.budget", Owner;
    RemoveIntegration => "integration.remove", Owner;
    SaveCredentials => "integration.credentials", Owner;
    RegisterCallbacks => "integration.callbacks", Owner;
    CreateAccount => "account.create", Owner;
    SetAccountRole => "account.role", Owner;
    SetAccountPassword => "account.password", Owner;
    RevokeApiToken => "api_token.revoke", Owner;
    // Any account, for itself (checked by the operation).
    CreateApiToken => "api_token.create", Viewer;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_named_once() {
        assert!(Role::Viewer < Role::Technician && Role::Admin < Role::Owner);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        let mut names: Vec<&str> = Act::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Act::ALL.len(), "each act has its own name");
    }
}
