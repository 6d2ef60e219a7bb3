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
import email.policy
import re
import signal
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller

CONFIRM_LINK = re.compile(r"https?://\S+/confirm/[A-Za-z0-9_.\-]+(?:\?[^\s<>\"]*)?")


def confirm_link(raw: bytes) -> str | None:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    if body is None:
        return None
    found = CONFIRM_LINK.search(body.get_content())
    return found.group(0) if found else None


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
