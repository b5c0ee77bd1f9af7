//! Agent hook adapters for toolcap: Claude Code and GitHub Copilot pre-tool-use hooks.
#![cfg_attr(not(test), warn(missing_docs))]
