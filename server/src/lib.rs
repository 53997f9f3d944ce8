//! Bindery's server (issue: "bindery-server: enrollment, policies, linking and the binding
//! engine"). Not built yet.
