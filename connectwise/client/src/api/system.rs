use crate::Error;
use crate::http::{Call, Client};
use crate::model::SystemInfo;

impl Client {
    /// One cheap read of `path` (a count, or a list of one): `Ok(false)` when ConnectWise answers
    /// 403 (the API member's role lacks the area), `Ok(true)` for any answer that shows access
    /// (a 404 for a record that does not exist included).
    pub async fn can_read(&self, path: &str) -> Result<bool, Error> {
        let mut call = Call::get(path);
        if !path.ends_with("/count") {
            call.query = vec![("pageSize", "1".to_owned())];
        }
        match self.send(&call).await {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(true),
            Err(Error::Forbidden { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `GET /system/info`: a cheap probe that the site, codebase and keys all work.
    pub async fn system_info(&self) -> Result<SystemInfo, Error> {
        self.get(Call::get("system/info")).await
    }
}
