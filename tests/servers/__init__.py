"""Real third-party mail servers for the tests (Postfix with Dovecot SASL on 127.0.0.1) and a stand-in of
LogicalDOC's sender (Jakarta Mail with LogicalDOC's properties) used as the oracle for outmail's verdict.

- `tests.servers.mailservers.MailServers`: our own Postfix and Dovecot instances, each listener described there.
- `tests.servers.standin.run_logicaldoc_sender`: what LogicalDOC's `EMailSender` does with given settings.
- The session fixture `mail_servers` lives in `tests/verdict/conftest.py`.
"""
