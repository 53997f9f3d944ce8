//! Every kind of job, one file each: its payload, its stored name, whether it is urgent, its
//! dedupe key, and how it is carried out (`process`). A kind is declared once, in its file, and
//! listed once, in `kinds!` below: the stored name, the allow-list of kinds a server reads and
//! the dispatch all come from that list, so adding a kind is one new file and one line.
//!
//! What the runner leases is a stored row (`store::Job`); [`Work::from_job`] turns it back into
//! its kind's payload.

mod bill_agreement;
mod bind_device;
mod poll_tickets;
mod sync_company;
mod ticket;
mod ticket_check;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use bill_agreement::BillAgreement;
pub use bind_device::{BindDevice, Snapshot, WRITE_VISIBLE_AFTER_MS};
pub use poll_tickets::PollTickets;
pub use sync_company::SyncCompany;
pub use ticket::TicketWork;
pub use ticket_check::TicketCheck;

use super::Engine;
use super::job_error::JobError;
use crate::ids::IntegrationId;
use crate::store::{NewJob, now_ms};

/// A dedupe key for something of one ConnectWise instance (`sync:250`, `sync:2:250`): the
/// first integration's keep the form they had before there could be several, so a job queued
/// by an older server is still found.
pub fn scoped_key(prefix: &str, integration: IntegrationId, id: impl std::fmt::Display) -> String {
    if integration == IntegrationId::FIRST {
        format!("{prefix}:{id}")
    } else {
        format!("{prefix}:{integration}:{id}")
    }
}

/// One kind of job.
pub trait JobKind: Serialize + DeserializeOwned {
    /// The kind as stored. It never changes: servers read the jobs older ones wrote.
    const KIND: &'static str;
    /// Leased before every job that is not (a person waits for it).
    const URGENT: bool = false;

    /// At most one live job per key (a company's sync, a device's binding, a ticket).
    fn dedupe_key(&self) -> String;

    /// Carries the job out; `attempts` counts this one.
    fn process(
        self,
        engine: &Engine,
        attempts: i64,
    ) -> impl Future<Output = Result<(), JobError>> + Send;

    /// The row to store, due now.
    fn job(&self) -> NewJob {
        NewJob {
            kind: Self::KIND.into(),
            dedupe_key: Some(self.dedupe_key()),
            // Plain structs of numbers and strings always encode.
            payload: serde_json::to_string(self).unwrap_or_default(),
            run_after_ms: now_ms(),
            urgent: Self::URGENT,
        }
    }
}

/// Declares `Work`, one variant per kind, and everything that goes from a stored kind to its
/// code.
macro_rules! kinds {
    ($($variant:ident($payload:ty)),* $(,)?) => {
        /// A job of any kind, with its payload.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Work {
            $($variant($payload)),*
        }

        impl Work {
            /// Every kind this server knows, as stored.
            pub const KINDS: &'static [&'static str] = &[$(<$payload as JobKind>::KIND),*];

            pub fn kind(&self) -> &'static str {
                match self {
                    $(Work::$variant(_) => <$payload as JobKind>::KIND),*
                }
            }

            /// The row to store, due now.
            pub fn to_job(&self) -> NewJob {
                match self {
                    $(Work::$variant(p) => p.job()),*
                }
            }

            /// A stored job's work; a kind this server does not know (written by a newer one)
            /// or a damaged payload is an error saying which.
            pub fn from_job(kind: &str, payload: &str) -> Result<Work, String> {
                $(
                    if kind == <$payload as JobKind>::KIND {
                        return serde_json::from_str::<$payload>(payload)
                            .map(Work::$variant)
                            .map_err(|e| format!("the job's payload is damaged: {e}"));
                    }
                )*
                Err(format!("unknown job kind {kind:?} (written by a newer server?)"))
            }

            /// Carries the job out with its kind's `process`.
            pub(crate) async fn process(self, engine: &Engine, attempts: i64) -> Result<(), JobError> {
                match self {
                    $(Work::$variant(p) => p.process(engine, attempts).await),*
                }
            }
        }

        $(
            impl From<$payload> for Work {
                fn from(p: $payload) -> Work {
                    Work::$variant(p)
                }
            }
        )*
    };
}

kinds! {
    SyncCompany(SyncCompany),
    BindDevice(BindDevice),
    Ticket(TicketWork),
    TicketCheck(TicketCheck),
    PollTickets(PollTickets),
    BillAgreement(BillAgreement),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CompanyId, DeviceId, IntegrationId, TicketId};

    #[test]
    fn stored_jobs_read_back_as_the_work_they_were() {
        let works: [Work; 7] = [
            SyncCompany {
                integration: IntegrationId::FIRST,
                company_id: CompanyId(250),
            }
            .into(),
            SyncCompany {
                integration: IntegrationId(2),
                company_id: CompanyId(250),
            }
            .into(),
            BindDevice {
                device_id: DeviceId(7),
                snapshot: None,
            }
            .into(),
            TicketWork {
                ticket_id: TicketId(3),
            }
            .into(),
            TicketCheck {
                ticket_id: TicketId(4),
            }
            .into(),
            PollTickets {
                integration: IntegrationId(3),
            }
            .into(),
            BillAgreement {
                integration: IntegrationId::FIRST,
                agreement_id: 9,
            }
            .into(),
        ];
        for work in works {
            let job = work.to_job();
            assert_eq!(job.kind, work.kind());
            assert_eq!(job.urgent, job.kind == TicketWork::KIND, "{}", job.kind);
            assert_eq!(Work::from_job(&job.kind, &job.payload).unwrap(), work);
        }
        // The kinds and payloads older servers wrote.
        assert_eq!(
            Work::KINDS,
            [
                "cw.sync_company",
                "cw.bind_device",
                "cw.ticket",
                "cw.ticket_check",
                "cw.poll_tickets",
                "cw.bill_agreement"
            ]
        );
        assert_eq!(
            Work::from_job("cw.bind_device", r#"{"deviceId":9}"#).unwrap(),
            Work::BindDevice(BindDevice {
                device_id: DeviceId(9),
                snapshot: None
            })
        );
        // Payloads from before there were several instances mean the first.
        assert_eq!(
            Work::from_job("cw.sync_company", r#"{"companyId":250}"#).unwrap(),
            Work::SyncCompany(SyncCompany {
                integration: IntegrationId::FIRST,
                company_id: CompanyId(250)
            })
        );
        let keys = [
            SyncCompany {
                integration: IntegrationId::FIRST,
                company_id: CompanyId(250),
            }
            .job(),
            SyncCompany {
                integration: IntegrationId(2),
                company_id: CompanyId(250),
            }
            .job(),
            BindDevice {
                device_id: DeviceId(7),
                snapshot: None,
            }
            .job(),
            TicketWork {
                ticket_id: TicketId(3),
            }
            .job(),
        ]
        .map(|j| j.dedupe_key.unwrap());
        assert_eq!(keys, ["sync:250", "sync:2:250", "bind:7", "ticket:3"]);
    }

    #[test]
    fn unknown_kinds_and_damaged_payloads_say_which() {
        let e = Work::from_job("cw.frobnicate", "{}").unwrap_err();
        assert!(e.contains("cw.frobnicate") && e.contains("newer"), "{e}");
        let e = Work::from_job("cw.ticket", "{not json").unwrap_err();
        assert!(e.contains("damaged"), "{e}");
        let e = Work::from_job("cw.ticket", r#"{"deviceId":1}"#).unwrap_err();
        assert!(e.contains("damaged"), "{e}");
    }
}
