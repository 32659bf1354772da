"""End to end: the installed `outmail demo` in tmux at 80x24 with TERM=xterm and NO_COLOR=1; F10 opens the Explain
dialog, a LogicalDOC stack trace pasted with tmux's bracketed paste is explained with the settings on screen, the
pasted client secret never shows below the text area, ctrl+o copies and says so; the palette opens it too."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.tmuxrun import OUTMAIL, Tmux, base_env

PASTED_SECRET = "Xy58Q~AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
STACK_TRACE = f"""\
2024-05-02 10:15:03,123 ERROR [EMailSender] Unable to send the email
jakarta.mail.AuthenticationFailedException: 535 5.7.3 Authentication unsuccessful [BN0PR04CA0123.namprd04.prod.outlook.com 2024-05-02T10:15:03.000Z 08DC6A4E]
\tat org.eclipse.angus.mail.smtp.SMTPTransport$Authenticator.authenticate(SMTPTransport.java:954)
\tat com.logicaldoc.core.communication.EMailSender.send(EMailSender.java:412)
2024-05-02 10:15:04,001 DEBUG [TokenCache] token request (client_secret={PASTED_SECRET}) failed: AADSTS7000215: Invalid client secret provided.

2024-05-02 10:16:11,500 ERROR [EMailSender] Unable to send the email
jakarta.mail.MessagingException: Could not convert socket to TLS;
  nested exception is:
\tjavax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target
\tat org.eclipse.angus.mail.smtp.SMTPTransport.startTLS(SMTPTransport.java:2155)
"""


def flat(screen: str) -> str:
    """The screen's rows joined by spaces, the dialog's border taken off: a wrapped sentence reads as one."""
    return " ".join(line.strip().strip("│").strip() for line in screen.splitlines())


def below_text_area(screen: str) -> str:
    """The dialog from its status line down: what outmail shows, not what the admin pasted."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if "errors found" in line or "error found" in line)
    return "\n".join(lines[start:])


def test_f10_explains_a_pasted_stack_trace(tmux: Tmux, tmp_path: Path) -> None:
    env = base_env(TERM="xterm", NO_COLOR="1")
    tmux.start(["sh", "-c", f"cd {tmp_path} && exec {OUTMAIL} demo"], env)
    tmux.wait_for("✔ no problems")
    screen = tmux.wait_for("F7 Sandbox")
    port = re.search(r"^ Port\s+(\d+)", screen, re.MULTILINE)
    assert port, screen

    tmux.keys("F10")
    tmux.wait_for("Explain an error: its cause, setup step and fix (tenant default)")
    tmux.wait_for("Paste the error text above")
    paste = tmp_path / "paste.txt"
    paste.write_text(STACK_TRACE)
    tmux.run("load-buffer", str(paste))
    tmux.run("paste-buffer", "-p", "-t", "e2e")  # bracketed paste, as a terminal pastes over SSH
    screen = tmux.wait_for("✔ 3 errors found, each explained")
    shown = below_text_area(screen)
    assert "[1] ✔ explained: line 2, SMTP reply (permanent)" in shown, screen
    assert "│ jakarta.mail.AuthenticationFailedException: 535 5.7.3 Authentication" in shown
    assert "Why: Exchange refuses the token (535 5.7.3)" in flat(shown)
    assert "Setup step: S5 Exchange service principal" in flat(shown)
    assert "Copy fix (ctrl+o)" in screen and "Close (Esc)" in screen

    # PgDn scrolls the explanation from the text area: the AADSTS line with the secret redacted, then PKIX
    seen = shown
    for _ in range(12):
        if "[3] ✔ explained" in shown and "Import the CA" in flat(seen):  # [3] seen, and its fix now
            break
        tmux.keys("PageDown")
        before = seen
        seen = below_text_area(tmux.wait_until("a page down", lambda sc: below_text_area(sc) != before))
        shown += "\n" + seen
    words = flat(shown)
    assert "[2] ✔ explained: line 5, Entra ID error" in shown, shown
    assert "client_secret=<redacted>" in words and "Setup step: S2 Client secret" in words
    assert "[3] ✔ explained: line 10, Java exception" in shown
    # the demo's server (the paste names none), and LogicalDOC's Java trust store, not outmail's ca_file
    assert f"Why: LogicalDOC checks the certificate of 127.0.0.1:{port.group(1)} against its Java trust store" in words
    assert "Setup step: S9 Network and TLS" in words
    assert PASTED_SECRET not in shown and "Xy58Q~" not in shown

    tmux.keys("C-o")
    screen = tmux.wait_for("Copied")
    # on the dialog's own status line (no toast over its buttons), the buttons still on screen
    assert "✔ Copied the PowerShell for [1], the fix for [2] and the fix for [3] to the clipboard (OSC 52)" in \
        flat(screen), screen
    assert "▌" not in screen and "Close (Esc)" in screen
    tmux.keys("Escape")
    tmux.wait_for("F5 Diagnose")

    # the palette: ctrl+p, "Explain an error"; ctrl+g closes
    tmux.keys("C-p")
    tmux.wait_for("Search for commands")
    tmux.keys("-l", "Explain an")
    tmux.wait_for("Explain an error")
    tmux.keys("Enter")
    tmux.wait_for("Paste the error text above")
    tmux.keys("C-g")
    tmux.wait_for("F5 Diagnose")
    tmux.keys("C-q")
    tmux.wait_for("OUTMAIL-EXIT=0", timeout=15)
