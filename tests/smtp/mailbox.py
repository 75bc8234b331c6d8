"""A real SMTP server for the notice tests (aiosmtpd), keeping each message
it accepts as a file <dir>/<n>.eml. Prints "listening on PORT" when ready.

While a file <dir>/stall exists, a message's DATA is never answered (the
sender hangs mid-send) and <dir>/stalled is written: the test kills the
sender then, to show that a message cut off mid-send goes out once.
"""

import asyncio
import itertools
import pathlib
import sys

from aiosmtpd.smtp import SMTP


class Mailbox:
    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        if (self.folder / "stall").exists():
            (self.folder / "stalled").write_text("yes")
            await asyncio.Event().wait()
        n = next(self.numbers)
        while (self.folder / f"{n}.eml").exists():
            n = next(self.numbers)
        tmp = self.folder / f"{n}.tmp"
        tmp.write_bytes(envelope.original_content)
        tmp.rename(self.folder / f"{n}.eml")
        return "250 Message accepted for delivery"


async def main(folder: pathlib.Path):
    folder.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    handler = Mailbox(folder)
    server = await loop.create_server(lambda: SMTP(handler, hostname="mail.lodge.test"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(pathlib.Path(sys.argv[1])))
