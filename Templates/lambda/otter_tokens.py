"""Room tokens (HS256 JWT), API keys, TURN REST credentials and random ids."""

import base64
import hashlib
import hmac
import json
import re
import secrets

import otter_common as common

# ---------------------------------------------------------------- base64url, JWT (HS256 pinned)

_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if not isinstance(text, str) or not _B64URL_RE.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret_bytes(secret):
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def sign_token(claims, secret):
    header = b64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    sig = hmac.new(_secret_bytes(secret), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url_encode(sig)}"


def make_room_token(room_id, max_peers, issued_at, expires_at, secret):
    claims = {"iss": common.ISSUER, "aud": common.AUDIENCE, "sub": room_id, "iat": int(issued_at),
              "exp": int(expires_at), "maxPeers": int(max_peers)}
    return sign_token(claims, secret)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def verify_token(token, secret, at=None):
    """Returns the claims of a valid room token or raises OtterError(401).

    Order: shape, header ``alg`` == HS256 exactly, signature (constant time),
    and only then the claims are decoded: iss, aud, sub, exp (required), maxPeers.
    """
    bad = common.OtterError("bad-token", common.message("token-invalid"), 401)
    not_jwt = common.OtterError("bad-token", common.message("token-not-jwt"), 401)
    if not isinstance(token, str) or not token or len(token) > common.MAX_TOKEN_CHARS:
        raise not_jwt
    parts = token.split(".")
    if len(parts) != 3:
        raise not_jwt
    try:
        header = json.loads(b64url_decode(parts[0]))
    except (ValueError, UnicodeDecodeError):
        raise not_jwt from None
    if not isinstance(header, dict) or header.get("alg") != "HS256" or "crit" in header:
        raise common.OtterError("bad-token", common.message("token-not-hs256"), 401)
    try:
        signature = b64url_decode(parts[2])
    except ValueError:
        raise bad from None
    expected = hmac.new(_secret_bytes(secret), f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise bad
    # The signature holds: only now are the claims read.
    try:
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(claims, dict):
        raise bad
    aud = claims.get("aud")
    aud_ok = aud == common.AUDIENCE or (isinstance(aud, list) and common.AUDIENCE in aud)
    sub = claims.get("sub")
    exp = claims.get("exp")
    max_peers = claims.get("maxPeers")
    if (claims.get("iss") != common.ISSUER or not aud_ok
            or not isinstance(sub, str) or not common.ROOM_ID_RE.match(sub)
            or not isinstance(exp, (int, float)) or isinstance(exp, bool)
            or not is_int(max_peers) or not common.MIN_PEERS <= max_peers <= common.MAX_PEERS):
        raise bad
    t = common.now() if at is None else at
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, (int, float)) or nbf > t):
        raise bad
    if t >= exp:
        raise common.OtterError("token-expired", common.message("token-expired"), 401)
    return claims



# ---------------------------------------------------------------- API keys, TURN REST credentials, ids

def new_api_key():
    """32 random bytes, base64url, prefixed like OtterCore's keys."""
    return "otk_" + b64url_encode(secrets.token_bytes(32))


def hash_api_key(key):
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_key_matches(presented, stored_hash):
    if not isinstance(presented, str) or not presented or not isinstance(stored_hash, str):
        return False
    return hmac.compare_digest(hash_api_key(presented).encode("ascii"), stored_hash.encode("ascii", "replace"))


def turn_credentials(turn_secret, room_id, ttl=common.ICE_TTL, at=None):
    expiry = int(common.now() if at is None else at) + ttl
    username = f"{expiry}:{room_id}"
    mac = hmac.new(_secret_bytes(turn_secret), username.encode("utf-8"), hashlib.sha1).digest()
    return username, base64.b64encode(mac).decode("ascii")


def new_room_id():
    return b64url_encode(secrets.token_bytes(16))


def new_peer_id():
    return b64url_encode(secrets.token_bytes(9))


# ---------------------------------------------------------------- seat takeover (DESIGN.md "Seat takeover")

RESUME_CLAIM_MAX = 128  # longest peerId or key a claim may carry (OtterCore's ResumeClaim.maxLength)


def new_resume_key():
    """128 random bits, base64url (22 characters): sent in one socket's welcome only."""
    return b64url_encode(secrets.token_bytes(16))


def hash_resume_key(key):
    """What the connections table keeps: SHA-256 (hex) of the key. The key has
    128 random bits, so a fast hash is as strong as a slow one."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def resume_key_matches(presented, stored_hash):
    """Constant time in the presented key (compares digests of equal length)."""
    if not isinstance(presented, str) or not presented or not isinstance(stored_hash, str):
        return False
    return hmac.compare_digest(hash_resume_key(presented).encode("ascii"), stored_hash.encode("ascii", "replace"))

