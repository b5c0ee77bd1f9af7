//! Fleet aggregation for toolcap that survives Byzantine nodes: verifiable hierarchy, robust merge, quorum certificates.
#![cfg_attr(not(test), warn(missing_docs))]
