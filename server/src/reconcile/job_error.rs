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
    /// Waits for a person (or a settings change, which queues it again).
    Permanent(String),
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
            JobError::Transient { message, .. } | JobError::Permanent(message) => message,
        }
    }
}
