"""A server that accepts TCP connections, reads what the client sends, and never answers.

To a wss:// client it is a TLS server that stalls mid-handshake (the ClientHello arrives, no
ServerHello comes back); to a client configured with it as its proxy, a proxy that never
answers CONNECT.

Prints ``PORT <n>`` once listening on 127.0.0.1 and exits when its standard input closes.
"""

from __future__ import annotations

import asyncio
import sys


async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while await reader.read(65536):
        pass
    writer.close()


async def main() -> None:
    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    async with server:
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
