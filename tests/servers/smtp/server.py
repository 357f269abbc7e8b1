"""A real SMTP server (aiosmtpd, from PyPI) for Vigil's integration tests of alert routing
to e-mail: STARTTLS, then AUTH PLAIN or LOGIN as one user, then any mail is accepted and
appended to a JSON Lines file.

Started by start.sh beside this file; configured through the environment:

  SMTP_PORT                   port on 127.0.0.1
  SMTP_CERT, SMTP_KEY         server certificate chain and key (PEM)
  SMTP_USER, SMTP_PASSWORD    the one account
  SMTP_RECEIVED               file that gets one JSON object per accepted message
  SMTP_READY                  file written once the server answers
"""

import hmac
import json
import logging
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd 1.4 sets the deprecated Session.login_data itself on every successful AUTH,
# and logs a warning about it each time.
logging.getLogger("mail.log").addFilter(
    lambda record: "login_data is deprecated" not in record.getMessage())

PORT = int(os.environ["SMTP_PORT"])
USER = os.environ["SMTP_USER"].encode()
PASSWORD = os.environ["SMTP_PASSWORD"].encode()
RECEIVED = os.environ["SMTP_RECEIVED"]
READY = os.environ["SMTP_READY"]


def log(msg):
    print(f"[smtp] {msg}", file=sys.stderr, flush=True)


def authenticator(server, session, envelope, mechanism, auth_data):
    # A refusal is answered "535 5.7.8 Authentication credentials invalid".
    if (
        isinstance(auth_data, LoginPassword)
        and hmac.compare_digest(auth_data.login, USER)
        and hmac.compare_digest(auth_data.password, PASSWORD)
    ):
        return AuthResult(success=True, auth_data=auth_data.login.decode())
    log(f"{mechanism} refused for {auth_data.login!r} from {session.peer[0]}"
        if isinstance(auth_data, LoginPassword) else f"{mechanism} refused")
    return AuthResult(success=False, handled=False)


class Recorder:
    """Writes each accepted message before the server answers 250, so a client that saw
    its message accepted finds it in the file."""

    def __init__(self):
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        content = envelope.content
        if isinstance(content, bytes):
            content = content.decode("utf-8", errors="replace")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_user": session.auth_data,
            "data": content,
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "helo": session.host_name,
            "tls": session.ssl is not None,
            "peer": session.peer[0] if session.peer else None,
            "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.lock, open(RECEIVED, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        return "250 2.0.0 OK: message accepted"


def main():
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(os.environ["SMTP_CERT"], os.environ["SMTP_KEY"])

    controller = Controller(
        Recorder(),
        hostname="127.0.0.1",
        port=PORT,
        server_hostname="localhost",
        ident="Vigil test SMTP (aiosmtpd)",
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
        data_size_limit=10 * 1024 * 1024,
        ready_timeout=30,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()  # returns once the server answers a connection
    try:
        with open(READY + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(READY + ".tmp", READY)
        log(f"listening on 127.0.0.1:{PORT}")
        while not stop.wait(3600):
            pass
    finally:
        controller.stop()
        log("stopped")


if __name__ == "__main__":
    main()
