"""Diagnostics: the step engine (token, connect, EHLO, STARTTLS, AUTH, QUIT), hints, redaction. No Textual.

Start at `tui.diagnostics.engine` (its docstrings are the API). Importing this package stays light: msal, requests,
PyJWT and aiosmtplib load only inside the steps.
"""
