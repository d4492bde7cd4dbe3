//! sea-orm entities, one module a table. Identifiers and JSON documents are
//! stored as text so that both backends hold the same bytes.

pub mod application;
pub mod assignment;
pub mod audit_log;
pub mod console_session;
pub mod decision;
pub mod evidence_snapshot;
pub mod registry_access;
pub mod round;
pub mod school_seat;
