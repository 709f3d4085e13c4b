"""The contract suite's view of an Otter implementation.

A *target* is one running Otter (the Lambda handlers on moto, or `otter up`).
The runner (runner.py) drives it only through this interface, so adding an
implementation means writing one subclass of Target and one of Socket and
registering it in TARGETS below. See README.md.
"""

import abc
import dataclasses
import importlib
import os


class Refused(Exception):
    """The WebSocket upgrade was refused before the socket opened."""

    def __init__(self, status):
        super().__init__(f"WebSocket upgrade refused with HTTP {status}")
        self.status = status


class Closed(Exception):
    """The server closed the socket and no unread message is left."""


@dataclasses.dataclass
class HttpResponse:
    status: int
    headers: dict  # lower-case names
    body: bytes


class Socket(abc.ABC):
    """One client WebSocket connection to the signaling endpoint."""

    @abc.abstractmethod
    def send_text(self, text: str) -> None:
        """Sends one text frame."""

    @abc.abstractmethod
    def receive(self, timeout: float) -> str:
        """The next text frame from the server, in order. Raises TimeoutError
        if none arrives within ``timeout`` seconds, Closed if the server has
        closed the socket and every frame it sent before closing was read."""

    @abc.abstractmethod
    def close(self) -> None:
        """Closes the socket from the client side (normal closure)."""


class Target(abc.ABC):
    """One Otter implementation under test."""

    #: seconds ws_expect waits for a message, and ws_expect_silence listens
    receive_timeout = 5.0
    silence_timeout = 0.3

    def start(self) -> None:
        """Called before each scenario."""

    def stop(self) -> None:
        """Called after each scenario (also when it failed)."""

    @abc.abstractmethod
    def api_key(self) -> str:
        """An API key that is valid when the scenario starts."""

    def key_rotated(self, new_key: str) -> None:
        """The scenario rotated the key: ``new_key`` is the valid one from now on."""

    @abc.abstractmethod
    def signing_secret(self) -> bytes | None:
        """The room-token signing secret, so the suite can mint tokens that are
        correctly signed but expired or for a room that does not exist. None:
        scenarios that need it are skipped."""

    @abc.abstractmethod
    def turn_secret(self) -> bytes | None:
        """The TURN REST shared secret, to check ICE credentials (None: skip that check)."""

    @abc.abstractmethod
    def http(self, method: str, path: str, headers: dict, body: bytes | None) -> HttpResponse:
        """One HTTP request to the REST API. ``path`` starts with "/" and is
        relative to the API's base URL."""

    @abc.abstractmethod
    def ws_connect(self, token: str | None) -> Socket:
        """Opens the signaling socket with ``?token=<token>`` (no query when
        None). Raises Refused(status) when the upgrade is refused."""


# name -> "module:Class"; modules live next to this file
TARGETS = {
    "lambda": "lambda_target:LambdaTarget",
    "local": "local_target:LocalTarget",
    "remote": "remote_target:RemoteTarget",
}


def target_from_env() -> Target:
    name = os.environ.get("OTTER_CONTRACT_TARGET", "lambda")
    if name not in TARGETS:
        raise SystemExit(f"OTTER_CONTRACT_TARGET={name!r}: known targets are {sorted(TARGETS)}")
    module, _, cls = TARGETS[name].partition(":")
    return getattr(importlib.import_module(module), cls)()
