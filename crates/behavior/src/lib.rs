//! Behavioural baselines, masquerade detection and behaviour similarity for toolcap agents.
#![cfg_attr(not(test), warn(missing_docs))]
