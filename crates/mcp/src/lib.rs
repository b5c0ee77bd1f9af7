//! The toolcap MCP server: command safety tools and descriptor resources over the Model Context Protocol.
#![cfg_attr(not(test), warn(missing_docs))]
