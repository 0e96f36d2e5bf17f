"""The sandbox's one override of aiohttp internals (`sandbox.server._Handler`, the request-head deadline) is
written against aiohttp 3.14's RequestHandler: an upgrade fails here first, naming what to re-check. The
behaviour itself is pinned by the timeout tests of tests/sandbox/test_hygiene.py."""

from __future__ import annotations

import ast
import asyncio
import inspect

import aiohttp
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from coupon_harness.sandbox import server


def test_the_aiohttp_version_is_the_one_the_head_deadline_was_written_for() -> None:
    assert server.AIOHTTP_PINNED == "3.14"
    assert aiohttp.__version__.startswith(server.AIOHTTP_PINNED + "."), (
        f"aiohttp {aiohttp.__version__}: sandbox/server.py's _Handler reads RequestHandler's _request_count, "
        "_messages and _request_in_progress as of aiohttp 3.14. Check they still mean the same (and whether "
        "aiohttp now has a public head timeout), run tests/sandbox/test_hygiene.py, then update AIOHTTP_PINNED.")


def test_the_internals_it_reads_are_there() -> None:
    async def fresh() -> RequestHandler:
        async def answer(request: web.BaseRequest) -> web.Response:
            return web.Response()

        return RequestHandler(web.Server(answer), loop=asyncio.get_running_loop())

    handler = asyncio.run(fresh())
    assert handler._request_count == 0
    assert len(handler._messages) == 0
    assert handler._request_in_progress is False
    assert handler.transport is None
    # data_received counts each parsed head in _request_count and queues it in _messages.
    source = inspect.getsource(RequestHandler.data_received)
    assert "self._request_count += 1" in source and "self._messages.append" in source


def test_the_override_stays_minimal() -> None:
    """Only asyncio's protocol methods are extended; nothing of RequestHandler's own is replaced."""
    own = {name for name in vars(server._Handler) if not name.startswith("__")}
    overridden = {name for name in own if hasattr(RequestHandler, name)}
    assert overridden == {"connection_made", "data_received", "connection_lost"}
    # The private attributes of aiohttp it reads: these three, and no other.
    tree = ast.parse(inspect.getsource(server._Handler))
    private = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
               and isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr.startswith("_")}
    assert private - own - set(server._Handler.__slots__) == {"_request_count", "_messages", "_request_in_progress"}
