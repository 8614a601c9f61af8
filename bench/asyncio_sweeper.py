#!/usr/bin/env python3
"""A TLS certificate sweeper as a user would write it with asyncio: one
connection per (address, port) under a concurrency semaphore, fetching the
peer certificate. Standard library only. Prints the number of endpoints that
served a certificate.

usage: asyncio_sweeper.py CIDR PORTS CONCURRENCY
"""
import asyncio
import ipaddress
import ssl
import sys


async def probe(sem, ctx, host, port, found):
    async with sem:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=ctx), timeout=5)
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            if der:
                found.append((host, port))
            writer.close()
        except Exception:
            pass


async def main():
    network = ipaddress.ip_network(sys.argv[1])
    ports = [int(p) for p in sys.argv[2].split(",")]
    sem = asyncio.Semaphore(int(sys.argv[3]))
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    found = []
    await asyncio.gather(*(probe(sem, ctx, str(host), port, found)
                           for host in network for port in ports))
    print(len(found))


asyncio.run(main())
