//! The toolcap tamper-evident audit log: an RFC 6962 Merkle log with signed checkpoints and crash-safe storage.
#![cfg_attr(not(test), warn(missing_docs))]
