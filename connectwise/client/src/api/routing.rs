//! Ticket routing lookups: each board's types, subtypes, items and the combinations it allows,
//! and the priorities and sources.

use crate::Error;
use crate::http::Client;
use crate::model::{Association, Lookup};

impl Client {
    /// The board's types (`kind`: `types`, `subtypes` or `items`), by name.
    pub async fn board_lookups(
        &self,
        board_id: i64,
        kind: BoardLookup,
    ) -> Result<Vec<Lookup>, Error> {
        let path = format!("service/boards/{board_id}/{}", kind.path());
        self.all(&path, "name asc").await
    }

    /// The type/subtype/item combinations the board allows.
    pub async fn board_associations(&self, board_id: i64) -> Result<Vec<Association>, Error> {
        let path = format!("service/boards/{board_id}/typeSubTypeItemAssociations");
        self.all(&path, "id asc").await
    }

    pub async fn priorities(&self) -> Result<Vec<Lookup>, Error> {
        self.all("service/priorities", "name asc").await
    }

    pub async fn sources(&self) -> Result<Vec<Lookup>, Error> {
        self.all("service/sources", "name asc").await
    }
}

/// What of a board's routing to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardLookup {
    Types,
    Subtypes,
    Items,
}

impl BoardLookup {
    fn path(self) -> &'static str {
        match self {
            BoardLookup::Types => "types",
            BoardLookup::Subtypes => "subtypes",
            BoardLookup::Items => "items",
        }
    }
}
