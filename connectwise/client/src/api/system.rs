use crate::Error;
use crate::http::{Call, Client};
use crate::model::SystemInfo;

impl Client {
    /// `GET /system/info`: a cheap probe that the site, codebase and keys all work.
    pub async fn system_info(&self) -> Result<SystemInfo, Error> {
        self.get(Call::get("system/info")).await
    }
}
