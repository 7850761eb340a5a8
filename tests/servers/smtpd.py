#!/usr/bin/python3
"""smtpd.py - a real SMTP server on loopback for the tests (aiosmtpd).

usage: smtpd.py DIR [--tls CERT KEY] [--implicit-tls] [--no-starttls]
                    [--auth USER PASSWORD] [--script FILE] [--stall]
                    [--discard]

Listens on 127.0.0.1, on a port the kernel picks, and writes the port to
DIR/port and its pid to DIR/pid (each written beside and renamed, so a
reader never sees half a number).  Every message accepted is stored as
DIR/NNNN.eml (the bytes as received, dot-unstuffed) and DIR/NNNN.json
(mail_from, rcpt_tos, tls, login), the .json renamed in last.  Every MAIL
command is noted in DIR/mail.log with whether the session was encrypted,
so a test can prove nothing was sent in clear.

--tls CERT KEY    offer STARTTLS with this certificate, and require it
                  before MAIL and AUTH
--implicit-tls    TLS from the first byte (smtps://) instead of STARTTLS
--no-starttls     no TLS at all (to show a client refuses to go on)
--auth USER PW    AUTH PLAIN and LOGIN with these credentials, required
--script FILE     JSON: {"rcpt": {"bad@example.com": "550 5.1.1 no"},
                  "data": "451 4.3.0 try later"}: answer RCPT of an
                  address, or the end of DATA, with this reply instead
--stall           accept connections and never answer (for timeouts)
--discard         keep nothing, count messages in DIR/count, and take
                  messages of any size (for the benchmark)

Debian's python3-aiosmtpd installs for /usr/bin/python3 only: run it with
that interpreter.
"""
import asyncio
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult

DATA_LIMIT = 64 * 1024 * 1024


def put(path, data):
    """Writes data beside path and renames it into place."""
    tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path))
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


class Handler:
    def __init__(self, out, script, implicit):
        self.out, self.script, self.implicit = out, script, implicit
        self.count = 0
        self.discard = False

    def encrypted(self, session):
        return self.implicit or session.ssl is not None

    async def handle_MAIL(self, server, session, envelope, address, options):
        with open(os.path.join(self.out, "mail.log"), "a") as f:
            f.write("MAIL %s tls=%d\n" % (address,
                                         self.encrypted(session)))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        code = self.script.get("rcpt", {}).get(address.lower())
        if code:
            return code
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.script.get("data"):
            return self.script["data"]
        self.count += 1
        if self.discard:
            put(os.path.join(self.out, "count"), b"%d\n" % self.count)
            return "250 2.0.0 discarded"
        base = os.path.join(self.out, "%04d" % self.count)
        login = getattr(session.auth_data, "login", None)
        meta = {"mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "mail_options": envelope.mail_options,
                "tls": self.encrypted(session),
                "login": login.decode() if login else None}
        put(base + ".eml", envelope.original_content)
        put(base + ".json", json.dumps(meta).encode())
        return "250 2.0.0 queued as %04d" % self.count


def parse(args):
    opts = {"tls": None, "implicit": False, "plain": False, "auth": None,
            "script": {}, "stall": False, "discard": False}
    if not args:
        sys.exit(__doc__)
    opts["out"] = args.pop(0)
    while args:
        a = args.pop(0)
        if a == "--tls":
            opts["tls"] = (args.pop(0), args.pop(0))
        elif a == "--implicit-tls":
            opts["implicit"] = True
        elif a == "--no-starttls":
            opts["plain"] = True
        elif a == "--discard":
            opts["discard"] = True
        elif a == "--stall":
            opts["stall"] = opts["plain"] = True
        elif a == "--auth":
            opts["auth"] = (args.pop(0).encode(), args.pop(0).encode())
        elif a == "--script":
            with open(args.pop(0)) as f:
                opts["script"] = json.load(f)
        else:
            sys.exit("smtpd: unknown argument " + a)
    if opts["tls"] is None and not opts["plain"]:
        sys.exit("smtpd: --tls CERT KEY or --no-starttls")
    return opts


def main():
    o = parse(sys.argv[1:])
    ctx = None
    if o["tls"] and not o["plain"]:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*o["tls"])
    handler = Handler(o["out"], o["script"], o["implicit"])
    handler.discard = o["discard"]

    def check(server, session, envelope, mechanism, data):
        ok = (data.login, data.password) == o["auth"]
        # handled=False: aiosmtpd itself answers a failure with 535.
        return AuthResult(success=ok, handled=False,
                          auth_data=data if ok else None)

    starttls = ctx if ctx is not None and not o["implicit"] else None
    kw = {"hostname": "smtpd.test",
          "data_size_limit": None if o["discard"] else DATA_LIMIT,
          "tls_context": starttls, "require_starttls": bool(starttls),
          # Implicit TLS is encryption too; aiosmtpd only counts STARTTLS.
          "auth_require_tls": not o["implicit"]}
    if o["auth"]:
        kw.update(authenticator=check, auth_required=True)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if o["stall"]:
        factory = asyncio.Protocol	# holds the connection, says nothing
    else:
        def factory():
            return SMTP(handler, loop=loop, **kw)
    srv = loop.run_until_complete(loop.create_server(
        factory, "127.0.0.1", 0, ssl=ctx if o["implicit"] else None))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    port = srv.sockets[0].getsockname()[1]
    put(os.path.join(o["out"], "pid"), b"%d\n" % os.getpid())
    put(os.path.join(o["out"], "port"), b"%d\n" % port)
    loop.run_forever()


if __name__ == "__main__":
    main()
