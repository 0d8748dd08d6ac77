"""The client covers docs/openapi.yaml: every (method, path) there has a
client method, on both clients, and that method sends exactly that route."""
from __future__ import annotations

import asyncio
import inspect
import os
import unittest
from pathlib import Path

import yaml

from overseer_client import AsyncClient, Client
from overseer_client._http import ROUTES, Call, stream_url

OPENAPI = Path(os.environ.get("OVERSEER_OPENAPI", Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"))
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def openapi_routes() -> set[tuple[str, str]]:
    spec = yaml.safe_load(OPENAPI.read_text())
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item if method in METHODS}


class Sent(Exception):
    def __init__(self, call: Call[object]):
        self.call = call


def record(call: Call[object]) -> object:
    raise Sent(call)


def sample_args(method: object) -> list[object]:
    """A value for each required positional parameter: ids are strings, an upload a path, specs mappings."""
    args: list[object] = []
    for p in inspect.signature(method).parameters.values():  # type: ignore[arg-type]
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty:
            if p.name.endswith("_id"):
                args.append("job_01M880PHE1F1GN54T6TES72772")
            elif p.name == "name":
                args.append("noop")
            elif p.name == "data":
                args.append(__file__)  # a path: the name defaults to its base name
            else:
                args.append({"tool": "noop"})
    return args


class OpenApiCoverageTest(unittest.TestCase):
    def test_every_route_of_openapi_yaml_has_a_client_method_and_nothing_else_is_claimed(self) -> None:
        routes = openapi_routes()
        self.assertGreaterEqual(len(routes), 16, f"{OPENAPI} lists too few routes to be the API")
        self.assertEqual(set(ROUTES), routes, "ROUTES in _http.py and docs/openapi.yaml differ")
        for name in set(ROUTES.values()):
            self.assertTrue(callable(getattr(Client, name, None)), f"Client has no {name}")
            self.assertTrue(callable(getattr(AsyncClient, name, None)), f"AsyncClient has no {name}")

    def test_each_blocking_method_sends_the_route_it_is_listed_for(self) -> None:
        client = Client("http://127.0.0.1:9")
        client._transport.send = record  # type: ignore[assignment]
        for name in set(ROUTES.values()) - {"watch"}:
            method = getattr(client, name)
            with self.assertRaises(Sent, msg=name) as sent:
                method(*sample_args(method))
            call = sent.exception.call
            self.assertIn((call.method, call.route), {r for r, n in ROUTES.items() if n == name}, name)

    def test_each_async_method_sends_the_route_it_is_listed_for(self) -> None:
        client = AsyncClient("http://127.0.0.1:9")
        client._transport.send = record  # type: ignore[assignment]

        async def run() -> None:
            for name in set(ROUTES.values()) - {"watch"}:
                method = getattr(client, name)
                with self.assertRaises(Sent, msg=name) as sent:
                    await method(*sample_args(method))
                call = sent.exception.call
                self.assertIn((call.method, call.route), {r for r, n in ROUTES.items() if n == name}, name)
        asyncio.run(run())

    def test_run_and_the_long_poll_send_their_routes_with_a_wait(self) -> None:
        client = Client("http://127.0.0.1:9")
        client._transport.send = record  # type: ignore[assignment]
        for name, route, method, args, kwargs in (
                ("submit", "/v1/jobs", "POST", [{"tool": "noop"}], {}),
                ("run", "/v1/jobs", "POST", [{"tool": "noop"}], {"wait": 2.5}),
                ("get", "/v1/jobs/{id}", "GET", ["job_01M880PHE1F1GN54T6TES72772"], {"wait": 0.25})):
            with self.assertRaises(Sent, msg=name) as sent:
                getattr(client, name)(*args, **kwargs)
            call = sent.exception.call
            self.assertEqual((call.method, call.route), (method, route), name)
            self.assertIn((method, route), ROUTES, name)
            # submit says ?wait=0 so an immediate tool's submit answers at once too.
            self.assertEqual(dict(call.query)["wait"], {"submit": "0", "run": "2500ms", "get": "250ms"}[name], name)

    def test_watch_opens_the_stream_route(self) -> None:
        [(method, route)] = [r for r, n in ROUTES.items() if n == "watch"]
        self.assertEqual(method, "GET")
        self.assertEqual(stream_url("http://127.0.0.1:8080"), "ws://127.0.0.1:8080" + route)
        self.assertEqual(stream_url("https://example.org/overseer/"), "wss://example.org/overseer" + route)


if __name__ == "__main__":
    unittest.main()
