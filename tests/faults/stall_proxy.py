"""A TCP proxy that can stop forwarding without closing anything: a hung broker.

    python -m tests.faults.stall_proxy LISTEN_PORT TARGET_HOST TARGET_PORT

SIGUSR1 stalls it: open connections stay open but no byte moves either way,
and new connections are accepted but get nothing. SIGUSR2 lets bytes flow
again. It prints ``listening`` once it accepts connections.
"""

from __future__ import annotations

import asyncio
import signal
import sys

CHUNK = 65536


class StallingProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.flowing = asyncio.Event()
        self.flowing.set()

    async def pump(self, reader, writer) -> None:
        try:
            while True:
                await self.flowing.wait()
                data = await reader.read(CHUNK)
                if not data:
                    break
                await self.flowing.wait()  # what was read while stalling waits
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def connect(self, client_reader, client_writer) -> None:
        await self.flowing.wait()
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            self.pump(client_reader, server_writer),
            self.pump(server_reader, client_writer),
        )


async def main(listen_port: int, target_host: str, target_port: int) -> None:
    proxy = StallingProxy(target_host, target_port)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.flowing.clear)
    loop.add_signal_handler(signal.SIGUSR2, proxy.flowing.set)
    server = await asyncio.start_server(proxy.connect, "127.0.0.1", listen_port)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    port, host, target = sys.argv[1:4]
    asyncio.run(main(int(port), host, int(target)))
