//! Typed async client for the ConnectWise Manage REST API (issue: "ConnectWise Manage: a typed
//! client, and a strict sandbox"). Not built yet.
