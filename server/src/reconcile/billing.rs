//! Billing by device count, decided: how many devices of each class count for an agreement's
//! products, and what to do with an addition's quantity. Pure; the job that reads and writes
//! ConnectWise is `jobs/bill_agreement.rs`.
//!
//! A bill is never cut by accident: the first quantity Bindery writes for an addition, and any
//! drop to zero or by more than the rules' share (20 % unless set) in one step, waits for a
//! person (an outage of Bindery, or a policy unlinked by mistake, looks exactly like devices
//! leaving). Otherwise the quantity follows the count (live) or the month's highest count, at
//! most once an hour.

use std::collections::BTreeMap;

use bindery_shared::{DeviceFacts, FactField};

use crate::store::{BilledAddition, BilledDevice, PolicyBilling};

/// A quantity changes at most this often (a person's approval aside).
pub const MIN_WRITE_GAP_MS: i64 = 3_600_000;

/// How quantities follow the count, server-wide (`billing.rules`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BillingRules {
    pub counting: Counting,
    /// A drop by more than this percentage in one step waits for a person (1-100; 100: only a
    /// drop to zero does).
    pub max_drop_percent: u32,
}

/// What a quantity is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Counting {
    /// The devices that count now.
    Live,
    /// The most devices that counted at once this calendar month (UTC): a device that leaves
    /// mid-month is billed to its end.
    MonthHigh,
}

impl Default for BillingRules {
    fn default() -> BillingRules {
        BillingRules {
            counting: Counting::Live,
            max_drop_percent: 20,
        }
    }
}

/// The setting holding the rules (JSON).
pub const RULES: &str = "billing.rules";

impl BillingRules {
    /// The rules as stored; the defaults when none are (or what is stored no longer reads).
    pub fn from_stored(json: Option<&str>) -> BillingRules {
        json.and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default()
    }

    /// Why these rules cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        (!(1..=100).contains(&self.max_drop_percent))
            .then(|| "maxDropPercent is 1 to 100".to_owned())
    }
}

/// The month (UTC) `ms` falls in, as `2026-12`.
pub fn month_of(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%Y-%m")
                .to_string()
        })
        .unwrap_or_default()
}

/// The quantity to bill for `count` devices under `rules`, and the month's highest count to
/// keep (`month`, `high`) in `rec`.
pub fn billed_count(
    count: i64,
    rec: &mut BilledAddition,
    rules: &BillingRules,
    month: &str,
) -> i64 {
    if rec.month.as_deref() != Some(month) {
        rec.month = Some(month.to_owned());
        rec.month_high = None;
    }
    let high = rec.month_high.unwrap_or(0).max(count);
    rec.month_high = Some(high);
    match rules.counting {
        Counting::Live => count,
        Counting::MonthHigh => high,
    }
}

/// What a device is billed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Workstation,
    Server,
}

/// A server runs a server OS (`Windows Server 2022`, `Ubuntu Server`); anything else is a
/// workstation.
pub fn class_of(facts: &DeviceFacts) -> Class {
    let says_server = [FactField::OsInfo, FactField::OsType]
        .into_iter()
        .filter_map(|f| facts.get(f))
        .any(|v| v.to_ascii_lowercase().contains("server"));
    if says_server {
        Class::Server
    } else {
        Class::Workstation
    }
}

/// How many devices count for each product (by product id): each device as its policy bills
/// its class. Every product a policy names is present, at zero when no device counts.
pub fn counts(policies: &[PolicyBilling], devices: &[BilledDevice]) -> BTreeMap<i64, i64> {
    let mut out = BTreeMap::new();
    for p in policies {
        for product in [&p.workstation_product, &p.server_product]
            .into_iter()
            .flatten()
        {
            out.entry(product.id).or_insert(0);
        }
    }
    for d in devices {
        let Some(p) = policies.iter().find(|p| p.policy_id == d.policy_id) else {
            continue;
        };
        let product = match class_of(&d.facts) {
            Class::Workstation => &p.workstation_product,
            Class::Server => &p.server_product,
        };
        if let Some(product) = product {
            *out.entry(product.id).or_insert(0) += 1;
        }
    }
    out
}

/// What to do with one addition's quantity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// ConnectWise already bills the count.
    InLine,
    /// Set the quantity (creating the addition when there is none).
    Write(i64),
    /// Wait for a person, and why.
    Hold(i64, String),
    /// Changed, but written less than an hour ago: at a later run.
    Later,
}

/// The decision for `count` devices against the addition's `current` quantity (`None`: no
/// addition yet), given Bindery's record of it and the drop a person must approve.
pub fn decide(
    count: i64,
    current: Option<i64>,
    rec: &BilledAddition,
    max_drop_percent: u32,
    now_ms: i64,
) -> Decision {
    if rec.approved_quantity == Some(count) {
        return if current == Some(count) {
            Decision::InLine
        } else {
            Decision::Write(count)
        };
    }
    if current == Some(count) {
        return Decision::InLine;
    }
    let was = current.unwrap_or(0);
    if rec.written_ms.is_none() {
        let what = match current {
            Some(_) => format!("the first quantity Bindery sets on this addition: {was} → {count}"),
            None => format!("a new addition for {count}"),
        };
        return Decision::Hold(count, format!("{what}; confirm it"));
    }
    let steep = was > 0 && (was - count) * 100 > was * i64::from(max_drop_percent);
    if count < was && (count == 0 || steep) {
        return Decision::Hold(
            count,
            format!(
                "a drop from {was} to {count} (more than {max_drop_percent} %) waits for a \
                 person: devices may only be out of reach"
            ),
        );
    }
    match rec.written_ms {
        Some(at) if now_ms - at < MIN_WRITE_GAP_MS => Decision::Later,
        _ => Decision::Write(count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CompanyId, PolicyId};
    use crate::store::Product;

    fn facts(os: &str) -> DeviceFacts {
        let mut f = DeviceFacts::default();
        f.set(FactField::OsInfo, os);
        f
    }

    #[test]
    fn devices_count_as_their_policy_bills_their_class() {
        assert_eq!(
            class_of(&facts("Windows Server 2022 Standard")),
            Class::Server
        );
        assert_eq!(class_of(&facts("Windows 11 Pro")), Class::Workstation);
        assert_eq!(class_of(&DeviceFacts::default()), Class::Workstation);
        let policy = |id: i64, ws: Option<i64>, srv: Option<i64>| PolicyBilling {
            policy_id: PolicyId(id),
            integration_id: crate::ids::IntegrationId::FIRST,
            company_id: CompanyId(2),
            agreement_id: 1,
            agreement_name: "A".into(),
            workstation_product: ws.map(|id| Product {
                id,
                identifier: format!("P{id}"),
            }),
            server_product: srv.map(|id| Product {
                id,
                identifier: format!("P{id}"),
            }),
            bill_customer: "Billable".into(),
            cover_configurations: false,
        };
        let policies = [policy(1, Some(10), Some(20)), policy(2, Some(10), None)];
        let device = |policy: i64, os: &str| BilledDevice {
            policy_id: PolicyId(policy),
            facts: facts(os),
            configuration_id: None,
        };
        let devices = [
            device(1, "Windows 11 Pro"),
            device(1, "Windows Server 2022"),
            device(2, "macOS 15"),
            // Policy 2 bills no servers; policy 3 is not billed here.
            device(2, "Ubuntu Server 24.04"),
            device(3, "Windows 11 Pro"),
        ];
        let counted = counts(&policies, &devices);
        assert_eq!(counted, BTreeMap::from([(10, 2), (20, 1)]));
        assert_eq!(counts(&policies, &[]), BTreeMap::from([(10, 0), (20, 0)]));
    }

    #[test]
    fn the_first_write_and_steep_drops_wait_and_changes_follow_at_most_hourly() {
        let now = 10 * MIN_WRITE_GAP_MS;
        let fresh = BilledAddition::default();
        assert!(matches!(
            decide(12, Some(10), &fresh, 20, now),
            Decision::Hold(12, _)
        ));
        assert!(matches!(
            decide(3, None, &fresh, 20, now),
            Decision::Hold(3, _)
        ));
        assert_eq!(decide(10, Some(10), &fresh, 20, now), Decision::InLine);
        let approved = BilledAddition {
            approved_quantity: Some(12),
            ..BilledAddition::default()
        };
        assert_eq!(
            decide(12, Some(10), &approved, 20, now),
            Decision::Write(12)
        );
        assert_eq!(decide(12, None, &approved, 20, now), Decision::Write(12));
        // Approved 12, but the count moved since: decided afresh.
        assert!(matches!(
            decide(13, Some(10), &approved, 20, now),
            Decision::Hold(13, _)
        ));

        let written = BilledAddition {
            written_ms: Some(now - 2 * MIN_WRITE_GAP_MS),
            ..BilledAddition::default()
        };
        assert_eq!(decide(12, Some(10), &written, 20, now), Decision::Write(12));
        assert_eq!(
            decide(9, Some(10), &written, 20, now),
            Decision::Write(9),
            "10 %"
        );
        assert!(
            matches!(decide(7, Some(10), &written, 20, now), Decision::Hold(7, _)),
            "30 %"
        );
        assert!(matches!(
            decide(0, Some(1), &written, 20, now),
            Decision::Hold(0, _)
        ));
        let recent = BilledAddition {
            written_ms: Some(now - 60_000),
            ..BilledAddition::default()
        };
        assert_eq!(decide(12, Some(10), &recent, 20, now), Decision::Later);
        // A person raised it by hand in ConnectWise: brought back to the count, never held for
        // being a drop of Bindery's own making.
        assert_eq!(decide(12, Some(14), &written, 20, now), Decision::Write(12));
    }

    #[test]
    fn the_month_s_high_bills_a_leaver_to_the_month_s_end_and_the_drop_share_is_a_setting() {
        let month_high = BillingRules {
            counting: Counting::MonthHigh,
            max_drop_percent: 20,
        };
        let mut rec = BilledAddition::default();
        assert_eq!(billed_count(5, &mut rec, &month_high, "2026-12"), 5);
        assert_eq!(billed_count(2, &mut rec, &month_high, "2026-12"), 5);
        assert_eq!(billed_count(7, &mut rec, &month_high, "2026-12"), 7);
        // A new month starts from the count of its first run.
        assert_eq!(billed_count(2, &mut rec, &month_high, "2027-01"), 2);
        assert_eq!(rec.month.as_deref(), Some("2027-01"));
        let live = BillingRules::default();
        assert_eq!(billed_count(1, &mut rec, &live, "2027-01"), 1);
        assert_eq!(
            rec.month_high,
            Some(2),
            "the high is kept under either rule"
        );
        assert_eq!(month_of(1_796_083_200_000), "2026-12");

        let written = BilledAddition {
            written_ms: Some(0),
            ..BilledAddition::default()
        };
        let now = 10 * MIN_WRITE_GAP_MS;
        assert_eq!(decide(6, Some(10), &written, 50, now), Decision::Write(6));
        assert!(matches!(
            decide(4, Some(10), &written, 50, now),
            Decision::Hold(4, _)
        ));
        assert_eq!(decide(1, Some(10), &written, 100, now), Decision::Write(1));
        assert!(matches!(
            decide(0, Some(10), &written, 100, now),
            Decision::Hold(0, _)
        ));
        assert!(
            BillingRules {
                max_drop_percent: 0,
                ..live
            }
            .problem()
            .is_some()
        );
        assert!(
            BillingRules {
                max_drop_percent: 101,
                ..live
            }
            .problem()
            .is_some()
        );
        assert_eq!(BillingRules::from_stored(Some("not json")), live);
    }
}
