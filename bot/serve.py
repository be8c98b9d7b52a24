"""``yinling serve``: the app on its public port, and the admin listener beside it.

Both are uvicorn servers of the same app in one process and one event loop: the public one
runs the lifespan (runtime, channels, jobs) and owns the signals; the admin one, bound to
``YINLING_ADMIN_LISTEN`` (127.0.0.1:8001 by default), starts once the app is up and stops
with it. Only there do ``/metrics`` and ``/model/parse`` answer (bot/app.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import structlog
import uvicorn

from bot.app import create_app
from bot.settings import Settings

__all__ = ["serve"]

log = structlog.get_logger("yinling.serve")


class _Follower(uvicorn.Server):
    """A server that leaves the signals to the public one, which stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM."""
    admin = settings.admin_address()
    if admin is not None and admin[1] == port:
        raise ValueError(f"YINLING_ADMIN_LISTEN ({settings.admin_listen}) must not be port {port}")
    app = create_app(settings)
    public = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None))
    if admin is None:
        await public.serve()
        return
    config = uvicorn.Config(app, host=admin[0], port=admin[1], lifespan="off", log_config=None)
    follower = _Follower(config)

    async def follow() -> None:
        while not public.started:  # the app's runtime is open from here on
            if public.should_exit:
                return
            await asyncio.sleep(0.05)
        try:
            await follower.serve()
        except (SystemExit, OSError):  # the port is taken: the app serves on without it
            log.error("admin_listener_failed", listen=settings.admin_listen)  # noqa: TRY400

    following = asyncio.create_task(follow())
    try:
        await public.serve()
    finally:
        follower.should_exit = True
        await following
