//! A strict local emulator of the ConnectWise Manage endpoints Bindery uses (issue: "ConnectWise
//! Manage: a typed client, and a strict sandbox"). Not built yet.
