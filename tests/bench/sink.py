#!/usr/bin/env python3
"""sink.py - an HTTP sink that notes, per request, the wall-clock time it
arrived (microseconds) and its webhook-id, for the latency figure.
nginx's $msec is cached per event-loop turn, too coarse for milliseconds.

usage: sink.py LOG PORTFILE   (answers 200 to everything; SIGTERM ends it)
"""
import asyncio
import os
import signal
import sys
import time


async def serve(reader, writer, log):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            t = time.time()
            wid, n = b"-", 0
            for line in head.split(b"\r\n"):
                k, _, v = line.partition(b":")
                k = k.strip().lower()
                if k == b"webhook-id":
                    wid = v.strip()
                elif k == b"content-length":
                    n = int(v)
            if n:
                await reader.readexactly(n)
            log.write("%.6f %s\n" % (t, wid.decode()))
            log.flush()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError,
            asyncio.CancelledError):
        writer.close()


async def main():
    log = open(sys.argv[1], "a")
    srv = await asyncio.start_server(lambda r, w: serve(r, w, log),
                                     "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


asyncio.run(main())
