"""A real SMTP server for tests: aiosmtpd in a process of its own, keeping
each message it accepts as a file before it answers 250, so a test reads what
arrived and can kill the server (SIGKILL) mid-run and start it again.

    python -m tests.smtp_sink PORT FOLDER
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class SmtpSink:
    """Start, kill and read the server of ``python -m tests.smtp_sink``."""

    def __init__(self, folder: Path, port: int):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> SmtpSink:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.smtp_sink", str(self.port), str(self.folder)],
            cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while True:  # answering: its greeting arrives
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1) as s:
                    if s.recv(3) == b"220":
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: whatever it was doing stops there."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(path.read_bytes(), policy=default)
            for path in sorted(self.folder.glob("*.eml"))
        ]

    def message_ids(self) -> Counter:
        return Counter(m["Message-ID"] for m in self.messages())

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if m["To"] == address]


class Keep:
    """aiosmtpd handler: a message is on disk before the server says 250."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.numbers = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{os.getpid()}-{next(self.numbers)}"
        partial = self.folder / f"{name}.part"
        with open(partial, "wb") as out:
            out.write(envelope.original_content or envelope.content)
            out.flush()
            os.fsync(out.fileno())
        partial.rename(self.folder / f"{name}.eml")
        return "250 Message accepted for delivery"


def main() -> None:
    from aiosmtpd.controller import Controller

    port, folder = int(sys.argv[1]), Path(sys.argv[2])
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # the server's thread too
    controller = Controller(Keep(folder), hostname="127.0.0.1", port=port)
    controller.start()
    signal.sigwait(stop)
    controller.stop()


if __name__ == "__main__":
    main()
