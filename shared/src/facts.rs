//! The device facts an agent reports, named after the ConnectWise configuration fields they fill.
//!
//! Every fact is optional: a fact the agent could not read is absent, and `absent` says why (for
//! the console and for `bindery-agent facts`). A value is never invented to fill a gap.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::normalize;

/// Every fact field, listed once: the `FactField` variant; the field of [`DeviceFacts`]; the
/// JSON name; the maximum length (for the first ten, ConnectWise's own for the configuration field
/// of that name, `Company.Configuration` in the public schema, counted in UTF-16 code units as the
/// .NET API counts them); a label for people. In the order people read them.
///
/// The first ten are the **configuration facts**: each fills the ConnectWise configuration field
/// of its own name. The others are **inventory facts** (maker, model, gateway, disks, firmware,
/// install date): the field map of each integration says which ConnectWise field, if any, each
/// one fills.
///
/// `with_fact_fields!(m)` hands the configuration facts to the macro `m`, so other crates derive
/// their own code from them (the server's configuration fields and its `fields=` list);
/// `with_fact_fields!(m, all)` hands `m` the inventory facts in brackets, then the configuration
/// facts.
#[macro_export]
macro_rules! with_fact_fields {
    ($m:ident) => {
        $crate::with_fact_fields! {@configuration $m}
    };
    (@configuration $m:ident $($inventory:tt)*) => {
        $m! {
            $($inventory)*
            (Name, name, "name", 100, "Name"),
            (DeviceIdentifier, device_identifier, "deviceIdentifier", 100, "Agent id"),
            (SerialNumber, serial_number, "serialNumber", 250, "Serial number"),
            (MacAddress, mac_address, "macAddress", 25, "MAC address"),
            (IpAddress, ip_address, "ipAddress", 50, "IP address"),
            (OsType, os_type, "osType", 250, "OS platform"),
            (OsInfo, os_info, "osInfo", 250, "OS version"),
            (CpuSpeed, cpu_speed, "cpuSpeed", 100, "CPU speed"),
            (Ram, ram, "ram", 25, "RAM"),
            (LastLoginName, last_login_name, "lastLoginName", 100, "Current user"),
        }
    };
    ($m:ident, all) => {
        $crate::with_fact_fields! {@configuration $m
            [
                (Manufacturer, manufacturer, "manufacturer", 100, "Manufacturer"),
                (Model, model, "model", 100, "Model"),
                (DefaultGateway, default_gateway, "defaultGateway", 50, "Default gateway"),
                (LocalHardDrives, local_hard_drives, "localHardDrives", 1000, "Local disks"),
                (BiosVersion, bios_version, "biosVersion", 100, "BIOS version"),
                (OsInstallDate, os_install_date, "osInstallDate", 20, "OS installed"),
            ]
        }
    };
}

/// `FactField`, `DeviceFacts` and the mapping between them, from the list above. (`$json` and
/// `$max` are `tt`s: utoipa's attribute parser does not see into a captured `literal`.)
macro_rules! define_facts {
    (
        [$(($iv:ident, $if:ident, $ij:tt, $im:tt, $il:literal)),* $(,)?]
        $(($cv:ident, $cf:ident, $cj:tt, $cm:tt, $cl:literal)),* $(,)?
    ) => {
        define_facts!(@all
            [$($cv),*] [$($iv),*]
            $(($cv, $cf, $cj, $cm, $cl),)* $(($iv, $if, $ij, $im, $il),)*
        );
    };
    (
        @all [$($configuration:ident),*] [$($inventory:ident),*]
        $(($variant:ident, $field:ident, $json:tt, $max:tt, $label:literal),)*
    ) => {
        /// One of the facts; a configuration fact is named as ConnectWise names the field it
        /// fills.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum FactField {
            $(#[serde(rename = $json)] $variant),*
        }

        impl FactField {
            /// Every field, in the order people read them.
            pub const ALL: [FactField; [$(FactField::$variant),*].len()] = [$(FactField::$variant),*];

            /// The configuration facts: each fills the ConnectWise configuration field of its
            /// own name.
            pub const CONFIGURATION: [FactField; [$(FactField::$configuration),*].len()] =
                [$(FactField::$configuration),*];

            /// The inventory facts: the field map says where each goes.
            pub const INVENTORY: [FactField; [$(FactField::$inventory),*].len()] =
                [$(FactField::$inventory),*];

            /// The fact's maximum length, in UTF-16 code units (ConnectWise's own for a
            /// configuration fact).
            pub const fn max_len(self) -> usize {
                match self {
                    $(FactField::$variant => $max),*
                }
            }

            /// The JSON and ConnectWise name of the field.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(FactField::$variant => $json),*
                }
            }

            /// A label for people (tables, the console).
            pub const fn label(self) -> &'static str {
                match self {
                    $(FactField::$variant => $label),*
                }
            }
        }

        /// A machine's facts as the agent reports them (`DeviceFacts` in docs/protocol.md).
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct DeviceFacts {
            $(
                #[serde(default, rename = $json, skip_serializing_if = "Option::is_none")]
                #[cfg_attr(feature = "openapi", schema(max_length = $max))]
                pub $field: Option<String>,
            )*
            /// Why each missing fact is missing. Keys a newer agent adds are dropped on reading.
            #[serde(
                default,
                skip_serializing_if = "BTreeMap::is_empty",
                deserialize_with = "known_fields_only"
            )]
            pub absent: BTreeMap<FactField, String>,
        }

        impl DeviceFacts {
            fn slot(&self, field: FactField) -> &Option<String> {
                match field {
                    $(FactField::$variant => &self.$field),*
                }
            }

            pub(crate) fn slot_mut(&mut self, field: FactField) -> &mut Option<String> {
                match field {
                    $(FactField::$variant => &mut self.$field),*
                }
            }
        }
    };
}

with_fact_fields!(define_facts, all);

impl FactField {
    pub fn from_name(name: &str) -> Option<FactField> {
        FactField::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl std::fmt::Display for FactField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DeviceFacts {
    pub fn get(&self, field: FactField) -> Option<&str> {
        self.slot(field).as_deref()
    }

    /// Sets a fact's value and forgets any earlier reason for its absence.
    pub fn set(&mut self, field: FactField, value: impl Into<String>) {
        *self.slot_mut(field) = Some(value.into());
        self.absent.remove(&field);
    }

    /// Records that a fact could not be read, and why.
    pub fn set_absent(&mut self, field: FactField, reason: impl Into<String>) {
        *self.slot_mut(field) = None;
        self.absent.insert(field, reason.into());
    }

    /// Sets the value when there is one, otherwise records the reason.
    pub fn set_result(&mut self, field: FactField, value: Result<String, String>) {
        match value {
            Ok(v) => self.set(field, v),
            Err(reason) => self.set_absent(field, reason),
        }
    }

    /// Why a fact is absent, if it is.
    pub fn absent_reason(&self, field: FactField) -> Option<&str> {
        self.absent.get(&field).map(String::as_str)
    }

    /// The facts made safe and bounded: see [`normalize::normalize_facts`].
    pub fn normalized(mut self) -> DeviceFacts {
        normalize::normalize_facts(&mut self);
        self
    }
}

fn known_fields_only<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<FactField, String>, D::Error> {
    let raw = BTreeMap::<String, String>::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .filter_map(|(k, v)| FactField::from_name(&k).map(|f| (f, v)))
        .collect())
}
