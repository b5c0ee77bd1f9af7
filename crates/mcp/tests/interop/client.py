"""Interoperability client: the official Python MCP SDK against `toolcap mcp` (stdio) or
`toolcap serve` (streamable HTTP at /mcp).

    python client.py stdio /path/to/toolcap
    python client.py http http://127.0.0.1:PORT/mcp

Prints one JSON object: the negotiated protocol version, the tool names, two decision records,
whether a bad call was refused, and a resource read back. The Rust tests assert on it.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


async def exercise(read, write):
    async with ClientSession(read, write) as session:
        init = await session.initialize()
        tools = await session.list_tools()
        deny = await session.call_tool("analyze_command_safety", {"command": "rm -rf /"})
        allow = await session.call_tool("analyze_command_safety", {"command": "ls -la"})
        try:
            bad = await session.call_tool("analyze_command_safety", {})
            refused = bool(getattr(bad, "is_error", False))
        except Exception:  # a JSON-RPC error surfaces as an exception
            refused = True
        # The server must keep serving after the bad call.
        again = await session.call_tool("get_safe_alternative", {"command": "rm -rf /"})
        resource = await session.read_resource("tcp://family/git")
        text = next(c.text for c in resource.contents if getattr(c, "text", None) is not None)
        return {
            "protocol_version": str(init.protocol_version),
            "server": init.server_info.name,
            "tools": [t.name for t in tools.tools],
            "read_only": all(t.annotations and t.annotations.read_only_hint for t in tools.tools),
            "deny": deny.structured_content,
            "allow": allow.structured_content,
            "bad_arguments_is_error": refused,
            "after_bad": again.structured_content,
            "resource": json.loads(text),
        }


async def main():
    mode, target = sys.argv[1], sys.argv[2]
    if mode == "stdio":
        params = StdioServerParameters(command=target, args=["mcp"])
        async with stdio_client(params) as (read, write):
            report = await exercise(read, write)
    elif mode == "http":
        async with streamable_http_client(target) as (read, write):
            report = await exercise(read, write)
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
