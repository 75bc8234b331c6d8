"""A real SMTP server for the notice tests (aiosmtpd), keeping each message
it accepts as a file <dir>/<n>.eml. Prints "listening on PORT" when ready.

While a file <dir>/stall exists, a message's DATA is never answered (the
sender hangs mid-send) and <dir>/stalled is written: the test kills the
sender then, to show that a message cut off mid-send goes out once.

With --tls CERT KEY it speaks TLS: --mode starttls (STARTTLS required
before anything else) or --mode implicit (TLS from the first byte, as on
port 465). With --login USER PASSWORD a sender must log in (over TLS) or
is refused.
"""

import argparse
import asyncio
import itertools
import pathlib
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


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


async def main(args):
    folder = pathlib.Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    handler = Mailbox(folder)
    context = None
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
    implicit = args.mode == "implicit"
    options = {}
    if args.login:
        user, password = (v.encode() for v in args.login)

        def authenticator(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login == user and data.password == password
            # Not "handled": aiosmtpd then answers the refusal itself (535).
            return AuthResult(success=ok, handled=False)

        # Over implicit TLS the whole connection is encrypted already.
        options = dict(auth_required=True, auth_require_tls=not implicit, authenticator=authenticator)
    if context is not None and not implicit:
        options.update(tls_context=context, require_starttls=True)

    def factory():
        return SMTP(handler, hostname="mail.lodge.test", **options)

    server = await loop.create_server(factory, "127.0.0.1", 0, ssl=context if implicit else None)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--mode", choices=["starttls", "implicit"], default="starttls")
    parser.add_argument("--login", nargs=2, metavar=("USER", "PASSWORD"))
    asyncio.run(main(parser.parse_args()))
