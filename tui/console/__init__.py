"""The Textual console: the settings screen, dialogs and help. The only package that imports Textual."""
