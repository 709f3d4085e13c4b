"""Contract target: any running Otter reached over real HTTP and WebSocket.

Configured by arguments or environment:

    OTTER_API_URL         REST API base URL, e.g. http://127.0.0.1:8080 (no trailing slash needed)
    OTTER_SIGNAL_URL      signaling URL, e.g. ws://127.0.0.1:8080/signal
    OTTER_API_KEY         a valid API key
    OTTER_SIGNING_SECRET  optional: the room-token signing secret (mints expired / unknown-room tokens)
    OTTER_TURN_SECRET     optional: the TURN REST secret (checks ICE credentials)

    OTTER_CONTRACT_TARGET=remote python3 -m pytest Tests/contract -q

A target for `otter up` can subclass RemoteTarget: start the process in
start() (or once), then call RemoteTarget.__init__ with its URLs and secrets.
Uses urllib (stdlib) and websocket-client (PyPI `websocket-client`, import `websocket`).
"""

import os
import urllib.error
import urllib.parse
import urllib.request

from adapter import Closed, HttpResponse, Refused, Socket, Target


class RemoteSocket(Socket):
    def __init__(self, ws):
        self.ws = ws
        self.closed = False

    def send_text(self, text):
        self.ws.send(text)

    def receive(self, timeout):
        import websocket
        if self.closed:
            raise Closed()
        self.ws.settimeout(timeout if timeout > 0 else 0.001)
        try:
            while True:
                opcode, data = self.ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    return data.decode("utf-8")
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    self.closed = True
                    raise Closed()
                # ping/pong/binary: keep reading (websocket-client answers pings itself)
        except websocket.WebSocketTimeoutException:
            raise TimeoutError() from None
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError) as exc:
            if isinstance(exc, TimeoutError):
                raise
            self.closed = True
            raise Closed() from None

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


class RemoteTarget(Target):
    receive_timeout = 5.0
    silence_timeout = 0.3

    def __init__(self, api_url=None, signal_url=None, api_key=None, signing_secret=None, turn_secret=None):
        self.api_url = (api_url or os.environ.get("OTTER_API_URL", "")).rstrip("/")
        self.signal_url = signal_url or os.environ.get("OTTER_SIGNAL_URL", "")
        self._key = api_key or os.environ.get("OTTER_API_KEY")
        s = signing_secret if signing_secret is not None else os.environ.get("OTTER_SIGNING_SECRET")
        t = turn_secret if turn_secret is not None else os.environ.get("OTTER_TURN_SECRET")
        self._signing = s.encode() if isinstance(s, str) else s
        self._turn = t.encode() if isinstance(t, str) else t
        if not (self.api_url and self.signal_url and self._key):
            raise SystemExit("remote target: set OTTER_API_URL, OTTER_SIGNAL_URL and OTTER_API_KEY")

    def api_key(self):
        return self._key

    def key_rotated(self, new_key):
        self._key = new_key

    def signing_secret(self):
        return self._signing

    def turn_secret(self):
        return self._turn

    def http(self, method, path, headers, body):
        req = urllib.request.Request(self.api_url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return HttpResponse(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
        except urllib.error.HTTPError as err:
            return HttpResponse(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())

    def ws_connect(self, token):
        import websocket
        url = self.signal_url
        if token is not None:
            url += ("&" if "?" in url else "?") + "token=" + urllib.parse.quote(token, safe="")
        try:
            ws = websocket.create_connection(url, timeout=10, enable_multithread=True)
        except websocket.WebSocketBadStatusException as err:
            raise Refused(err.status_code) from None
        return RemoteSocket(ws)
