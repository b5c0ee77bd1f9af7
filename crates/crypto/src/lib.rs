//! The toolcap cryptographic core: canonical encoding, Ed25519 signatures, SHA3-256, sealing.
#![cfg_attr(not(test), warn(missing_docs))]
