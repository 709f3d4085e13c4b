"""The Lambda handlers (on moto) behind a small real HTTP + WebSocket server on
127.0.0.1 — standing in for the two API Gateway endpoints, so the
RemoteTarget (real sockets) can be tested with the whole contract suite
before `otter up` exists. Standard library only (RFC 6455 framing by hand).

Everything runs under one lock: one API Gateway event at a time, then every
frame the handlers posted (read back from moto) is written to its socket; a
socket the handlers closed (DeleteConnection) gets a close frame.
"""

import base64
import hashlib
import json
import socket
import struct
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class _WsConn:
    def __init__(self, handler):
        self.sock = handler.connection
        self.rfile = handler.rfile
        self.lock = threading.Lock()
        self.open = True

    def send_frame(self, opcode, payload=b""):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self.lock:
            if self.open:
                try:
                    self.sock.sendall(head + payload)
                except OSError:
                    self.open = False

    def close(self, code=1000):
        if self.open:
            self.send_frame(0x8, struct.pack("!H", code))
            self.open = False
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def read_frame(self):
        """-> (opcode, payload) of one complete message (continuations joined), or None at EOF."""
        data, first_opcode = b"", None
        while True:
            hdr = self.rfile.read(2)
            if len(hdr) < 2:
                return None
            fin, opcode = hdr[0] & 0x80, hdr[0] & 0x0F
            masked, n = hdr[1] & 0x80, hdr[1] & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.rfile.read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if masked else b"\0\0\0\0"
            payload = bytearray(self.rfile.read(n))
            for i in range(len(payload)):
                payload[i] ^= mask[i % 4]
            if opcode >= 0x8:  # control frames may interleave
                return opcode, bytes(payload)
            if first_opcode is None:
                first_opcode = opcode
            data += bytes(payload)
            if fin:
                return first_opcode, data


class LambdaFront:
    def __init__(self, gateway):
        self.gw = gateway
        self.lock = threading.RLock()
        self.conns = {}  # connectionId -> _WsConn
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _http(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                with front.lock:
                    status, hdrs, raw = front.gw.http(self.command, self.path, headers, body)
                    front.flush()
                self.send_response(status)
                for k, v in hdrs.items():
                    if k != "content-length":
                        self.send_header(k, v)
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_POST = do_PUT = do_DELETE = _http

            def do_GET(self):
                if self.headers.get("upgrade", "").lower() != "websocket":
                    return self._http()
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                token = query.get("token", [None])[0]
                import otter_cloud
                with front.lock:
                    try:
                        cid = front.gw.connect(token)
                    except otter_cloud.Refused as r:
                        body = json.dumps({"message": "Unauthorized" if r.status == 401 else "Forbidden"}).encode()
                        self.send_response(r.status)
                        self.send_header("content-type", "application/json")
                        self.send_header("content-length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                        return
                    accept = base64.b64encode(hashlib.sha1(
                        (self.headers["sec-websocket-key"] + _GUID).encode()).digest()).decode()
                    self.send_response(101)
                    self.send_header("upgrade", "websocket")
                    self.send_header("connection", "Upgrade")
                    self.send_header("sec-websocket-accept", accept)
                    self.end_headers()
                    self.wfile.flush()
                    conn = _WsConn(self)
                    front.conns[cid] = conn
                self.close_connection = True
                front.serve_socket(cid, conn)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def signal_url(self):
        return f"ws://127.0.0.1:{self.port}/signal"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        for conn in list(self.conns.values()):
            conn.close(1001)

    def flush(self):
        """Writes every posted frame to its socket; closes sockets the handlers closed."""
        for cid, conn in list(self.conns.items()):
            for msg in self.gw.messages(cid):
                conn.send_frame(0x1, json.dumps(msg, separators=(",", ":")).encode())
            if self.gw.is_closed(cid) and conn.open:
                conn.close(1000)
                self.conns.pop(cid, None)

    def serve_socket(self, cid, conn):
        while True:
            frame = conn.read_frame()
            with self.lock:
                if frame is None or frame[0] == 0x8:
                    if not self.gw.is_closed(cid):
                        self.gw.close(cid)
                    conn.close(1000)
                    self.conns.pop(cid, None)
                    self.flush()
                    return
                opcode, payload = frame
                if opcode == 0x9:
                    conn.send_frame(0xA, payload)
                    continue
                if opcode == 0x1 and not self.gw.is_closed(cid):
                    self.gw.send(cid, payload.decode("utf-8", "replace"))
                    self.flush()
