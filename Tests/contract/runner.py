"""Runs one data-driven scenario (scenarios/*.json) against a Target.

The scenario language is documented in README.md. The runner mints its own
tokens (stdlib HMAC) so forged/expired/alg-none tokens do not depend on either
implementation's JWT code.
"""

import base64
import hashlib
import hmac
import json
import re
import time

from adapter import Closed, Refused


class ScenarioSkipped(Exception):
    pass


class StepFailed(AssertionError):
    pass


# ------------------------------------------------------------------ tokens

def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _jwt(header, claims, key, digest=hashlib.sha256):
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = b"" if key is None else hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(sig)}"


# ------------------------------------------------------------------ patterns

_VAR = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")
_TYPES = {"string": str, "object": dict, "array": list, "boolean": bool}


class Runner:
    def __init__(self, target, scenario):
        self.t = target
        self.scenario = scenario
        self.vars = {}
        self.rooms = {}
        self.sockets = {}
        self.keys = {}

    # ---------- values
    def lookup(self, name):
        cur = self.vars
        for part in name.split("."):
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                raise StepFailed(f"unknown variable ${{{name}}}")
        return cur

    def interp(self, value):
        if isinstance(value, str):
            whole = _VAR.fullmatch(value)
            if whole:
                return self.lookup(whole.group(1))
            return _VAR.sub(lambda m: str(self.lookup(m.group(1))), value)
        if isinstance(value, list):
            return [self.interp(v) for v in value]
        if isinstance(value, dict):
            return {k: self.interp(v) for k, v in value.items()}
        return value

    def match(self, pattern, actual, where="$"):
        if isinstance(pattern, dict) and any(k.startswith("$") for k in pattern):
            for op, arg in pattern.items():
                if op == "$type":
                    if arg == "integer":
                        ok = isinstance(actual, int) and not isinstance(actual, bool)
                    elif arg == "number":
                        ok = isinstance(actual, (int, float)) and not isinstance(actual, bool)
                    else:
                        ok = isinstance(actual, _TYPES[arg])
                    if not ok:
                        raise StepFailed(f"{where}: expected {arg}, got {actual!r}")
                elif op == "$capture":
                    self.vars[arg] = actual
                elif op == "$regex":
                    if not isinstance(actual, str) or not re.fullmatch(self.interp(arg), actual):
                        raise StepFailed(f"{where}: {actual!r} does not match /{arg}/")
                elif op == "$endswith":
                    if not isinstance(actual, str) or not actual.endswith(self.interp(arg)):
                        raise StepFailed(f"{where}: {actual!r} does not end with {self.interp(arg)!r}")
                elif op == "$ne":
                    if actual == self.interp(arg):
                        raise StepFailed(f"{where}: must not be {actual!r}")
                elif op == "$gt":
                    if not actual > self.interp(arg):
                        raise StepFailed(f"{where}: {actual!r} is not > {self.interp(arg)!r}")
                elif op == "$between":
                    lo, hi = self.interp(arg)
                    if not (isinstance(actual, (int, float)) and lo <= actual <= hi):
                        raise StepFailed(f"{where}: {actual!r} not in [{lo}, {hi}]")
                elif op == "$unordered":
                    want = self.interp(arg)
                    if not isinstance(actual, list) or sorted(map(json.dumps, actual)) != sorted(map(json.dumps, want)):
                        raise StepFailed(f"{where}: {actual!r} is not {want!r} in any order")
                elif op == "$nonempty":
                    if not actual:
                        raise StepFailed(f"{where}: empty")
                elif op == "$each":
                    if not isinstance(actual, list):
                        raise StepFailed(f"{where}: not a list")
                    for i, item in enumerate(actual):
                        self.match(arg, item, f"{where}[{i}]")
                else:
                    raise StepFailed(f"unknown pattern operator {op}")
            return
        if isinstance(pattern, dict):
            if not isinstance(actual, dict):
                raise StepFailed(f"{where}: expected an object, got {actual!r}")
            for k, p in pattern.items():
                if p == {"absent": True}:
                    if k in actual:
                        raise StepFailed(f"{where}.{k}: must be absent")
                    continue
                if k not in actual:
                    raise StepFailed(f"{where}: missing {k!r} in {actual!r}")
                self.match(p, actual[k], f"{where}.{k}")
            return
        if isinstance(pattern, list):
            if not isinstance(actual, list) or len(actual) != len(pattern):
                raise StepFailed(f"{where}: expected {len(pattern)} items, got {actual!r}")
            for i, (p, a) in enumerate(zip(pattern, actual)):
                self.match(p, a, f"{where}[{i}]")
            return
        want = self.interp(pattern)
        if want != actual or type(want) is not type(actual) and not (
                isinstance(want, (int, float)) and isinstance(actual, (int, float))
                and not isinstance(want, bool) and not isinstance(actual, bool)):
            raise StepFailed(f"{where}: expected {want!r}, got {actual!r}")

    # ---------- credentials
    def api_key(self, spec):
        spec = "current" if spec is None else spec
        if spec == "current":
            return self.keys.get("current") or self.t.api_key()
        if spec == "none":
            return None
        if spec == "wrong":
            return "otk_" + _b64(b"\x00" * 32)
        if isinstance(spec, str) and spec.startswith("key:"):
            return self.keys[spec[4:]]
        return self.interp(spec)

    def signing_secret(self):
        s = self.t.signing_secret()
        if s is None:
            raise ScenarioSkipped("the target does not expose its signing secret")
        return s

    def token(self, spec):
        """A token spec: None/"none" (no token), "<room>" (its issued token),
        {"room": r, "forge": kind} or {"sub": id, "maxPeers": n, "ttl": s}."""
        if spec in (None, "none"):
            return None
        if isinstance(spec, str):
            if spec in self.rooms:
                return self.rooms[spec]["token"]
            return self.interp(spec)
        now = int(time.time())
        if "room" in spec:
            room = self.rooms[spec["room"]]
            claims = {"iss": "otter", "aud": "otter-room", "sub": room["roomId"], "iat": now,
                      "exp": now + 600, "maxPeers": room["maxPeers"]}
        else:
            claims = {"iss": "otter", "aud": "otter-room", "sub": self.interp(spec["sub"]), "iat": now,
                      "exp": now + spec.get("ttl", 600), "maxPeers": spec.get("maxPeers", 2)}
        claims.update(spec.get("claims", {}))
        forge = spec.get("forge", "valid")
        if forge == "valid":
            return _jwt({"alg": "HS256", "typ": "JWT"}, claims, self.signing_secret())
        if forge == "wrong-secret":
            return _jwt({"alg": "HS256", "typ": "JWT"}, claims, b"not-the-signing-secret")
        if forge == "alg-none":
            return _jwt({"alg": "none", "typ": "JWT"}, claims, None)
        if forge == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
            return _jwt({"alg": "HS256", "typ": "JWT"}, claims, self.signing_secret())
        if forge == "tampered":
            # the room's real token with its claims replaced (maxPeers raised), old signature kept
            h, _, s = self.rooms[spec["room"]]["token"].split(".")
            claims["maxPeers"] = 4
            return f"{h}.{_b64(json.dumps(claims).encode())}.{s}"
        if forge == "hs512":
            return _jwt({"alg": "HS512", "typ": "JWT"}, claims, self.signing_secret(), hashlib.sha512)
        raise StepFailed(f"unknown forge {forge}")

    # ---------- steps
    def run(self):
        for i, step in enumerate(self.scenario["steps"]):
            try:
                self.step(step)
            except ScenarioSkipped:
                raise
            except Exception as exc:
                raise StepFailed(f"step {i} {json.dumps(step)[:300]}: {exc}") from exc

    def step(self, step):
        if "repeat" in step:
            for i in range(step["repeat"]):
                self.vars["i"] = i
                for sub in step["steps"]:
                    self.step(sub)
            return
        kind = step["do"]
        getattr(self, "do_" + kind.replace("-", "_"))(step)

    def _http(self, step, method, path, headers=None, body=None):
        headers = dict(headers or {})
        resp = self.t.http(method, path, headers, body)
        try:
            data = json.loads(resp.body) if resp.body else None
        except ValueError:
            data = None
        self.vars["response"] = data
        expect = step.get("expect", {})
        if "status" in expect and resp.status != expect["status"]:
            raise StepFailed(f"{method} {path}: status {resp.status}, expected {expect['status']}: {resp.body[:300]!r}")
        if "json" in expect:
            if data is None:
                raise StepFailed(f"{method} {path}: body is not JSON: {resp.body[:200]!r}")
            self.match(expect["json"], data)
        if "error" in expect:
            # DESIGN's body exactly: {"error":{"code","message"}} and nothing else
            # (API Gateway's own refusals are {"message":"Forbidden"} and the like).
            self.match({"error": {"code": expect["error"], "message": {"$type": "string"}}}, data)
            if set(data) != {"error"} or set(data["error"]) != {"code", "message"} or not data["error"]["message"]:
                raise StepFailed(f"{method} {path}: the error body is not exactly DESIGN's {{error: {{code, message}}}}: {resp.body[:300]!r}")
        return resp.status, data

    def _key_headers(self, step):
        key = self.api_key(step.get("api_key"))
        return {} if key is None else {"x-api-key": key}

    def _token_headers(self, step):
        token = self.token(step.get("token"))
        return {} if token is None else {"authorization": f"Bearer {token}"}

    def _body(self, step):
        if "raw_body" in step:
            return step["raw_body"].encode()
        if "body_size" in step:
            pad = "x" * step["body_size"]
            return json.dumps({"maxPeers": 2, "pad": pad}).encode()
        if "body" in step:
            return json.dumps(self.interp(step["body"])).encode()
        return None

    def do_create_room(self, step):
        headers = {"content-type": "application/json", **self._key_headers(step)}
        status, data = self._http(step, "POST", "/rooms", headers, self._body(step))
        if status == 201 and "as" in step:
            self.rooms[step["as"]] = data
            self.vars[step["as"]] = data

    def _room_id(self, step):
        if "room" in step:
            return self.rooms[step["room"]]["roomId"]
        return self.interp(step["roomId"])

    def do_get_room(self, step):
        self._http(step, "GET", f"/rooms/{self._room_id(step)}", self._token_headers(step))

    def do_ice_servers(self, step):
        room_id = self._room_id(step)
        t0 = int(time.time())
        status, data = self._http(step, "GET", f"/rooms/{room_id}/ice-servers", self._token_headers(step))
        if status == 200 and step.get("check_credentials", True):
            ttl = data["ttlSeconds"]
            with_creds = [s for s in data["iceServers"] if "username" in s]
            if not with_creds:
                raise StepFailed("no ICE server with TURN credentials")
            secret = self.t.turn_secret()
            for s in with_creds:
                m = re.fullmatch(r"(\d+):(.+)", s["username"])
                if not m or m.group(2) != room_id:
                    raise StepFailed(f"TURN username {s['username']!r} is not <expiry>:<roomId>")
                if not t0 + ttl - 5 <= int(m.group(1)) <= int(time.time()) + ttl + 5:
                    raise StepFailed(f"TURN username expiry {m.group(1)} is not now + {ttl}")
                if secret is not None:
                    mac = hmac.new(secret, s["username"].encode(), hashlib.sha1).digest()
                    if s["credential"] != base64.b64encode(mac).decode():
                        raise StepFailed("TURN credential is not base64(HMAC-SHA1(secret, username))")
                if not all(re.match(r"^(turns?|stun):", u) for u in s["urls"]):
                    raise StepFailed(f"bad ICE URLs {s['urls']}")

    def do_rotate_key(self, step):
        status, data = self._http(step, "POST", "/keys/rotate", self._key_headers(step))
        if status == 200:
            old = self.api_key("current")
            self.keys.setdefault("initial", old)
            self.keys["previous"] = old
            self.keys["current"] = data["apiKey"]
            self.t.key_rotated(data["apiKey"])
            if "as" in step:
                self.keys[step["as"]] = data["apiKey"]

    def do_health(self, step):
        self._http(step, "GET", "/healthz")

    def do_http(self, step):
        headers = {**self.interp(step.get("headers", {}))}
        if "api_key" in step:
            headers.update(self._key_headers(step))
        if "token" in step:
            headers.update(self._token_headers(step))
        self._http(step, step["method"], self.interp(step["path"]), headers, self._body(step))

    # ---------- WebSocket
    def do_ws_connect(self, step):
        token = self.token(step.get("token"))
        expect = step.get("expect_status")
        try:
            sock = self.t.ws_connect(token)
        except Refused as r:
            if expect is None:
                raise StepFailed(f"connect refused with {r.status}")
            if r.status != expect:
                raise StepFailed(f"connect refused with {r.status}, expected {expect}")
            return
        if expect is not None:
            sock.close()
            raise StepFailed(f"connect was accepted, expected HTTP {expect}")
        self.sockets[step["peer"]] = sock

    def do_ws_send(self, step):
        sock = self.sockets[step["peer"]]
        if "raw" in step:
            text = self.interp(step["raw"])
        elif "pad_to" in step:
            frame = self.interp(step["frame"])
            frame["pad"] = ""
            base = len(json.dumps(frame, separators=(",", ":")).encode())
            frame["pad"] = "x" * (step["pad_to"] - base)
            text = json.dumps(frame, separators=(",", ":"))
            assert len(text.encode()) == step["pad_to"]
        else:
            text = json.dumps(self.interp(step["frame"]), separators=(",", ":"))
        sock.send_text(text)

    def do_ws_expect(self, step):
        sock = self.sockets[step["peer"]]
        try:
            text = sock.receive(step.get("timeout", self.t.receive_timeout))
        except TimeoutError:
            raise StepFailed(f"{step['peer']}: no message arrived") from None
        except Closed:
            raise StepFailed(f"{step['peer']}: socket closed, no message") from None
        self.match(step["message"], json.loads(text), f"{step['peer']}")

    def do_ws_expect_silence(self, step):
        sock = self.sockets[step["peer"]]
        try:
            text = sock.receive(self.t.silence_timeout)
        except (TimeoutError, Closed):
            return
        raise StepFailed(f"{step['peer']}: expected no message, got {text[:200]}")

    def do_ws_expect_closed(self, step):
        sock = self.sockets[step["peer"]]
        try:
            text = sock.receive(step.get("timeout", self.t.receive_timeout))
        except Closed:
            return
        except TimeoutError:
            raise StepFailed(f"{step['peer']}: socket still open") from None
        raise StepFailed(f"{step['peer']}: expected the socket to close, got {text[:200]}")

    def do_ws_close(self, step):
        self.sockets.pop(step["peer"]).close()

    def close_all(self):
        for sock in self.sockets.values():
            try:
                sock.close()
            except Exception:
                pass
