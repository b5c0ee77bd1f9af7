//! Shell command-line analysis for toolcap: every simple command a line would run, wrappers unwrapped.
#![cfg_attr(not(test), warn(missing_docs))]
