"""The LogicalDOC bridge: read and write conf/context.properties (no Textual here)."""
