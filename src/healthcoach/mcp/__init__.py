"""The MCP server (healthcoach.mcp.server, needs the `mcp` extra): record look-ups and the guarded coach
as tools for AI assistants, over stdio or streamable HTTP with the API's bearer tokens."""
