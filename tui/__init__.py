"""outmail: a terminal console for LogicalDOC's Outgoing Email settings with Microsoft 365 SMTP OAuth 2.0."""

__version__ = "0.1.0"
