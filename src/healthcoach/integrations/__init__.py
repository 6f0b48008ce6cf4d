"""Reaching the agent ecosystem: guarded record look-ups that answer with records (ids, dates, sources),
shared by the MCP server (healthcoach.mcp) and the LangChain pieces (integrations.langchain)."""
