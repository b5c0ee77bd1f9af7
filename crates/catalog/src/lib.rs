//! The built-in catalog of command descriptors for toolcap, compiled into the binary.
#![cfg_attr(not(test), warn(missing_docs))]
