//! End-to-end tests that start the real `bindery-server` and `bindery-agent` binaries; they live in
//! `tests/tests/` and arrive with the server.
