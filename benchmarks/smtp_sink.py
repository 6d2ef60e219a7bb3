"""An SMTP sink for the benchmark: accepts every message and writes the confirmation link it holds.

Run by ``benchmarks/run.py`` as a process of its own (so that parsing mail never competes with the load
driver for one interpreter lock)::

    python benchmarks/smtp_sink.py --port 8025 --out links.txt

Each message adds one line to ``--out``: the ``/confirm/`` link found in its text part, or ``-`` when it has
none (e.g. the "your signature is confirmed" mail). It prints ``ready`` once it listens.
"""

from __future__ import annotations

import argparse
import email
import re
import signal
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller

CONFIRM_LINK = re.compile(r"https?://\S+/confirm/[A-Za-z0-9_.\-]+(?:\?[^\s<>\"]*)?")


def confirm_link(raw: bytes) -> str | None:
    """The link in the message's text part. Parsed with the stdlib's compat32 parser: the modern API
    (``policy=email.policy.default``, ``get_body``, ``get_content``) took about 3 ms a message on the
    benchmark machine, ten times as much, and the sink shares the cores with the server it measures (a real
    mail server does not parse MIME at all)."""
    message = email.message_from_bytes(raw)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                return None
            found = CONFIRM_LINK.search(payload.decode(part.get_content_charset() or "utf-8", "replace"))
            return found.group(0) if found else None
    return None


class LinkHandler:
    def __init__(self, out: Any) -> None:
        self.out = out
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        link = confirm_link(envelope.original_content or envelope.content)
        with self.lock:
            self.out.write(f"{link or '-'}\n")
            self.out.flush()
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with open(args.out, "a", encoding="utf-8") as out:
        controller = Controller(LinkHandler(out), hostname="127.0.0.1", port=args.port)
        controller.start()
        print("ready", flush=True)
        try:
            stop.wait()
        finally:
            controller.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
