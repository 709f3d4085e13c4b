"""A minimal TURN client over UDP (RFC 8656 long-term credentials), written from
the RFCs so the tests can make exactly the requests they mean: one allocation
per client socket, Refresh, CreatePermission, ChannelBind and ChannelData."""
import base64
import hashlib
import hmac
import os
import socket
import struct
import time

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION, CHANNEL_BIND = 0x003, 0x004, 0x008, 0x009
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, LIFETIME = 0x0006, 0x0008, 0x0009, 0x000D
XOR_PEER_ADDRESS, REALM, NONCE, XOR_RELAYED_ADDRESS = 0x0012, 0x0014, 0x0015, 0x0016
CHANNEL_NUMBER, REQUESTED_TRANSPORT = 0x000C, 0x0019


def rest_credentials(secret, user, ttl=3600):
    """coturn's use-auth-secret scheme: `expiry:user`, base64(HMAC-SHA1(secret, username))."""
    username = f"{int(time.time()) + ttl}:{user}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def _attr(kind, value):
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def xor_address(ip, port):
    packed = socket.inet_aton(ip)
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + bytes(a ^ b for a, b in zip(packed, struct.pack("!I", MAGIC)))


def _unxor_address(value):
    port = struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
    ip = socket.inet_ntoa(bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", MAGIC))))
    return ip, port


class Reply:
    def __init__(self, data):
        kind, length = struct.unpack("!HH", data[:4])
        self.success = kind & 0x0110 == 0x0100
        self.attrs = {}
        at = 20
        while at + 4 <= 20 + length:
            t, n = struct.unpack("!HH", data[at:at + 4])
            self.attrs.setdefault(t, data[at + 4:at + 4 + n])
            at += 4 + n + (-n % 4)
        e = self.attrs.get(ERROR_CODE)
        self.code = e[2] * 100 + e[3] if e else 0
        self.reason = e[4:].decode(errors="replace") if e else ""

    @property
    def relayed(self):
        return _unxor_address(self.attrs[XOR_RELAYED_ADDRESS])

    def __repr__(self):
        return "success" if self.success else f"{self.code} {self.reason}"


class TurnClient:
    def __init__(self, port, username, password, host="127.0.0.1", timeout=2.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(timeout)
        self.server = (host, port)
        self.username, self.password = username, password
        self.realm = self.nonce = None

    def close(self):
        self.sock.close()

    def _message(self, method, attrs):
        tid = os.urandom(12)
        body = b"".join(_attr(k, v) for k, v in attrs)
        if self.nonce is not None:
            body += _attr(USERNAME, self.username.encode()) + _attr(REALM, self.realm) + _attr(NONCE, self.nonce)
            key = hashlib.md5(self.username.encode() + b":" + self.realm + b":" + self.password.encode()).digest()
            header = struct.pack("!HHI", method, len(body) + 24, MAGIC) + tid
            body += _attr(MESSAGE_INTEGRITY, hmac.new(key, header + body, hashlib.sha1).digest())
        return struct.pack("!HHI", method, len(body), MAGIC) + tid + body, tid

    def _exchange(self, method, attrs):
        message, tid = self._message(method, attrs)
        for _ in range(3):  # UDP: retransmit on loss
            self.sock.sendto(message, self.server)
            deadline = time.monotonic() + self.sock.gettimeout()
            while time.monotonic() < deadline:
                try:
                    data, _ = self.sock.recvfrom(65536)
                except socket.timeout:
                    break
                if len(data) >= 20 and data[8:20] == tid:
                    return Reply(data)
        raise TimeoutError(f"no answer to method {method:#x} from {self.server}")

    def request(self, method, attrs=()):
        """Sends one request; answers a 401/438 challenge with the credentials once."""
        reply = self._exchange(method, list(attrs))
        if reply.code in (401, 438) and REALM in reply.attrs and NONCE in reply.attrs:
            fresh = (reply.attrs[REALM], reply.attrs[NONCE]) != (self.realm, self.nonce)
            self.realm, self.nonce = reply.attrs[REALM], reply.attrs[NONCE]
            if fresh:
                reply = self._exchange(method, list(attrs))
        return reply

    def allocate(self):
        return self.request(ALLOCATE, [(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))])

    def refresh(self, lifetime):
        return self.request(REFRESH, [(LIFETIME, struct.pack("!I", lifetime))])

    def create_permission(self, ip, port=9):
        return self.request(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, xor_address(ip, port))])

    def channel_bind(self, number, ip, port):
        return self.request(CHANNEL_BIND, [(CHANNEL_NUMBER, struct.pack("!HH", number, 0)),
                                           (XOR_PEER_ADDRESS, xor_address(ip, port))])

    def send_channel_data(self, number, payload):
        self.sock.sendto(struct.pack("!HH", number, len(payload)) + payload, self.server)
