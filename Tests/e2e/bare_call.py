"""The bare-WebRTC baseline (fixtures/bare-call.html) against a running `otter up`:
the same signaling socket, camera and ICE servers as the app, no Otter SDK.
Scripts/bench-calls times it side by side with the app."""
import functools
import http.server
import json
import threading
import urllib.request
from pathlib import Path

import otter_e2e as E

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class FixtureServer:
    """Serves Tests/e2e/fixtures on a loopback port (a secure context, so the camera opens)."""

    def __init__(self):
        handler = functools.partial(_QuietHandler, directory=str(FIXTURES))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/bare-call.html"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def ice_servers(server, room):
    req = urllib.request.Request(f"{server.info['api_url'].rstrip('/')}/rooms/{room['roomId']}/ice-servers",
                                 headers={"authorization": f"Bearer {room['token']}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["iceServers"]


def signal_url(server):
    return server.info["api_url"].rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/signal"


def first_frame_ms(server, fixtures, a, b, relay, signal=None, ice=None):
    """A in the room first, then B joins; ms from B's join to B's first remote
    frame on screen, and the selected pair's local candidate on B."""
    room = server.create_room(max_peers=2)
    servers = ice if ice is not None else ice_servers(server, room)
    for d in (a, b):
        d.get(fixtures.url)
        d.set_script_timeout(30)
        d.execute_async_script("window.bare.prepare(arguments[0]).then(arguments[arguments.length - 1])",
                               {"iceServers": servers, "relay": relay})
    target = {"signalUrl": signal or signal_url(server), "token": room["token"]}
    a.execute_script("return window.bare.join(arguments[0])", target)
    # A's welcome first, so B finds A in the room (the app's A is in the call before B clicks too)
    E.wait(a, lambda d: d.execute_script("return window.bareJoined || window.bareError"), 10, "bare page: no welcome")
    b.execute_script("return window.bare.join(arguments[0])", target)
    ff = E.wait(b, lambda d: d.execute_script("return window.bareFirstFrame || (window.bareError && {error: window.bareError})"),
                30, "bare page: no remote frame")
    if "error" in ff:
        raise RuntimeError(f"bare page: signaling error {ff['error']}")
    pair = b.execute_async_script("window.bare.selectedPair().then(arguments[arguments.length - 1])")
    if relay and (not pair or pair["local"] != "relay"):
        raise RuntimeError(f"bare relay-only call did not use the relay: {pair}")
    for d in (a, b):
        d.get("about:blank")
    return ff["shown"], pair
