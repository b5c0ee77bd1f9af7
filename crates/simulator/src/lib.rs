//! The toolcap fleet attack simulator: runs the attacks against the real protocol code.
#![cfg_attr(not(test), warn(missing_docs))]
