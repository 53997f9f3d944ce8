//! Typed ids, so that a device id passed where a policy id goes does not compile. Bindery's own
//! rows (devices, policies, tickets, alerts) and ConnectWise's records (companies,
//! configurations) each have their own type. On the wire (JSON, paths) and in the database they
//! are the plain integers they always were.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::any::{Any, AnyTypeInfo};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[derive(utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <i64 as Type<Any>>::type_info()
            }

            fn compatible(ty: &AnyTypeInfo) -> bool {
                <i64 as Type<Any>>::compatible(ty)
            }
        }

        impl Encode<'_, Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <Any as Database>::ArgumentBuffer,
            ) -> Result<IsNull, BoxDynError> {
                <i64 as Encode<'_, Any>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                <i64 as Decode<'r, Any>>::decode(value).map($name)
            }
        }
    )*};
}

ids! {
    /// A managed machine (`devices.id`).
    DeviceId;
    /// A policy (`policies.id`).
    PolicyId;
    /// A ConnectWise company.
    CompanyId;
    /// A ConnectWise configuration.
    ConfigurationId;
    /// Bindery's record of a ConnectWise ticket (`tickets.id`; the ticket's own number is
    /// ConnectWise's).
    TicketId;
    /// An alert a monitor raised (`alerts.id`).
    AlertId;
    /// A ConnectWise instance the server talks to (`integrations.id`).
    IntegrationId;
}

impl IntegrationId {
    /// The integration every server had before there could be several: what the settings
    /// became on upgrade, and what records written before then live in.
    pub const FIRST: IntegrationId = IntegrationId(1);

    /// For serde: payloads and bodies written before there were several mean the first.
    pub fn first() -> IntegrationId {
        IntegrationId::FIRST
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_as_plain_integers() {
        assert_eq!(serde_json::to_string(&DeviceId(7)).unwrap(), "7");
        assert_eq!(
            serde_json::from_str::<Option<PolicyId>>("12").unwrap(),
            Some(PolicyId(12))
        );
        assert_eq!("250".parse::<CompanyId>().unwrap(), CompanyId(250));
        assert!("x".parse::<ConfigurationId>().is_err());
        assert_eq!(TicketId(3).to_string(), "3");
    }
}
