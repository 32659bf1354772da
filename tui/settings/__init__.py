"""Outgoing Email settings: the field table, the immutable model, validation and lints, load and save."""
