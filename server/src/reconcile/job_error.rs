//! Why a job did not finish: the one error type of the job runner, binding and tickets.

use connectwise_client::Error as CwError;
use std::time::Duration;

use crate::integration::IntegrationError;
use crate::store::StoreError;

/// Why a job did not finish.
#[derive(Debug)]
pub enum JobError {
    /// Try again later without anyone changing anything.
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Waits for a person (or a settings change, which queues it again): something only a
    /// person can decide or fix (ConnectWise refused the data, a choice is missing).
    Permanent(String),
    /// Bindery's own fault, not the data's or the settings' (a job this server cannot read):
    /// logged as an error and tried again at the longest backoff, so that a fixed server
    /// carries it out, never parked waiting for a person who can do nothing about it.
    Fault(String),
}

impl From<CwError> for JobError {
    fn from(e: CwError) -> JobError {
        if e.is_transient() {
            JobError::Transient {
                retry_after: e.retry_after(),
                message: e.to_string(),
            }
        } else {
            JobError::Permanent(e.to_string())
        }
    }
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> JobError {
        JobError::Transient {
            message: e.to_string(),
            retry_after: None,
        }
    }
}

impl From<IntegrationError> for JobError {
    fn from(e: IntegrationError) -> JobError {
        match e {
            IntegrationError::Store(e) => e.into(),
            other => JobError::Permanent(other.to_string()),
        }
    }
}

impl JobError {
    pub fn message(&self) -> &str {
        match self {
            JobError::Transient { message, .. }
            | JobError::Permanent(message)
            | JobError::Fault(message) => message,
        }
    }

    /// True when the work cannot go on until something changes (a person, the settings, or a
    /// fixed server): the device or ticket shows it as failed.
    pub fn is_failure(&self) -> bool {
        !matches!(self, JobError::Transient { .. })
    }
}
