"""The test message: building and checking it, and sending it through the diagnostics engine's authenticated session."""
