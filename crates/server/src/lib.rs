//! The toolcap node: HTTP decision server, event ingest, alerts, audit endpoints and cluster links.
#![cfg_attr(not(test), warn(missing_docs))]
