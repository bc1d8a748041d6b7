"""A local mail catcher for `make run`: an SMTP server on loopback that saves each message.

Not for production: there the outbox talks to the municipality's own SMTP relay.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


class _Saver:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{time.monotonic_ns()}.eml"
        path = self.folder / name
        path.write_bytes(envelope.content)
        path.chmod(0o600)
        print(f"devmail: message to {len(envelope.rcpt_tos)} recipient(s) saved as {name}")
        return "250 OK"


def main(argv: list[str]) -> int:
    """`python -m intake.devmail HOST PORT FOLDER`."""
    from aiosmtpd.controller import Controller

    host, port, folder = argv[0], int(argv[1]), Path(argv[2])
    controller = Controller(_Saver(folder), hostname=host, port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
