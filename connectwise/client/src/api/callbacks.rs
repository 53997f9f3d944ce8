//! `/system/callbacks`: the URLs ConnectWise calls when records change.

use reqwest::Method;

use crate::Error;
use crate::http::{Call, Client};
use crate::model::CallbackEntry;

impl Client {
    pub async fn callbacks(&self) -> Result<Vec<CallbackEntry>, Error> {
        self.all("system/callbacks", "id asc").await
    }

    pub async fn create_callback(&self, entry: &CallbackEntry) -> Result<CallbackEntry, Error> {
        self.send(&Call::with_body(Method::POST, "system/callbacks", entry)?)
            .await?
            .json()
    }

    pub async fn delete_callback(&self, id: i64) -> Result<(), Error> {
        let path = format!("system/callbacks/{id}");
        let mut call = Call::get(&path);
        call.method = Method::DELETE;
        self.send(&call).await.map(|_| ())
    }
}
