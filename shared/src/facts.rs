//! The device facts an agent reports, named after the ConnectWise configuration fields they fill.
//!
//! Every fact is optional: a fact the agent could not read is absent, and `absent` says why (for
//! the console and for `bindery-agent facts`). A value is never invented to fill a gap.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::normalize;

/// One of the ten facts, named as ConnectWise names the configuration field it fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FactField {
    Name,
    DeviceIdentifier,
    SerialNumber,
    MacAddress,
    IpAddress,
    OsType,
    OsInfo,
    CpuSpeed,
    Ram,
    LastLoginName,
}

impl FactField {
    /// Every field, in the order people read them.
    pub const ALL: [FactField; 10] = [
        FactField::Name,
        FactField::DeviceIdentifier,
        FactField::SerialNumber,
        FactField::MacAddress,
        FactField::IpAddress,
        FactField::OsType,
        FactField::OsInfo,
        FactField::CpuSpeed,
        FactField::Ram,
        FactField::LastLoginName,
    ];

    /// ConnectWise's maximum length for the field (`Company.Configuration` in the public schema),
    /// counted in UTF-16 code units as the .NET API counts them.
    pub const fn max_len(self) -> usize {
        match self {
            FactField::Name => 100,
            FactField::DeviceIdentifier => 100,
            FactField::SerialNumber => 250,
            FactField::MacAddress => 25,
            FactField::IpAddress => 50,
            FactField::OsType => 250,
            FactField::OsInfo => 250,
            FactField::CpuSpeed => 100,
            FactField::Ram => 25,
            FactField::LastLoginName => 100,
        }
    }

    /// The JSON and ConnectWise name of the field.
    pub const fn as_str(self) -> &'static str {
        match self {
            FactField::Name => "name",
            FactField::DeviceIdentifier => "deviceIdentifier",
            FactField::SerialNumber => "serialNumber",
            FactField::MacAddress => "macAddress",
            FactField::IpAddress => "ipAddress",
            FactField::OsType => "osType",
            FactField::OsInfo => "osInfo",
            FactField::CpuSpeed => "cpuSpeed",
            FactField::Ram => "ram",
            FactField::LastLoginName => "lastLoginName",
        }
    }

    /// A label for people (tables, the console).
    pub const fn label(self) -> &'static str {
        match self {
            FactField::Name => "Name",
            FactField::DeviceIdentifier => "Agent id",
            FactField::SerialNumber => "Serial number",
            FactField::MacAddress => "MAC address",
            FactField::IpAddress => "IP address",
            FactField::OsType => "OS platform",
            FactField::OsInfo => "OS version",
            FactField::CpuSpeed => "CPU speed",
            FactField::Ram => "RAM",
            FactField::LastLoginName => "Current user",
        }
    }

    pub fn from_name(name: &str) -> Option<FactField> {
        FactField::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl std::fmt::Display for FactField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A machine's facts as the agent reports them (`DeviceFacts` in docs/protocol.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceFacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_speed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_name: Option<String>,
    /// Why each missing fact is missing. Keys a newer agent adds are dropped on reading.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "known_fields_only"
    )]
    pub absent: BTreeMap<FactField, String>,
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

    fn slot(&self, field: FactField) -> &Option<String> {
        match field {
            FactField::Name => &self.name,
            FactField::DeviceIdentifier => &self.device_identifier,
            FactField::SerialNumber => &self.serial_number,
            FactField::MacAddress => &self.mac_address,
            FactField::IpAddress => &self.ip_address,
            FactField::OsType => &self.os_type,
            FactField::OsInfo => &self.os_info,
            FactField::CpuSpeed => &self.cpu_speed,
            FactField::Ram => &self.ram,
            FactField::LastLoginName => &self.last_login_name,
        }
    }

    pub(crate) fn slot_mut(&mut self, field: FactField) -> &mut Option<String> {
        match field {
            FactField::Name => &mut self.name,
            FactField::DeviceIdentifier => &mut self.device_identifier,
            FactField::SerialNumber => &mut self.serial_number,
            FactField::MacAddress => &mut self.mac_address,
            FactField::IpAddress => &mut self.ip_address,
            FactField::OsType => &mut self.os_type,
            FactField::OsInfo => &mut self.os_info,
            FactField::CpuSpeed => &mut self.cpu_speed,
            FactField::Ram => &mut self.ram,
            FactField::LastLoginName => &mut self.last_login_name,
        }
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
