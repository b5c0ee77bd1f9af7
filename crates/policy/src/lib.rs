//! The toolcap command safety engine: judging parsed commands by capability, arguments and targets, with layered user policy.
#![cfg_attr(not(test), warn(missing_docs))]
