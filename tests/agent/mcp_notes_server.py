"""A small real stdio MCP server for the tests (mcp 2's `MCPServer`, FastMCP's successor).

`shout(text)` answers the text upper-cased; `note(text)` also appends it to `notes.txt`
in the server's working directory (the session's workspace), so a test can tell a
call that ran from one that did not. It writes its pid to `mcp-server.pid` there, so
a test can check that it was stopped. `--http PORT` serves it over streamable HTTP.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("notes")


@server.tool()
def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper() + "!"


@server.tool()
def note(text: str) -> str:
    """Append a line to notes.txt."""
    with Path("notes.txt").open("a") as f:
        f.write(text + "\n")
    return f"noted: {text}"


@server.tool()
def fail(text: str) -> str:
    """Always fails, as a tool reports a failure it saw coming."""
    raise ToolError(f"cannot {text}")


if __name__ == "__main__":
    Path("mcp-server.pid").write_text(str(os.getpid()))
    if len(sys.argv) == 3 and sys.argv[1] == "--http":  # streamable HTTP at /mcp on PORT
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
