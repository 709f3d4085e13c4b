"""HTTP API Lambda authorizer (payload 2.0, simple response) for ``x-api-key``.

The stored SHA-256 is read on every call (no caching, so a rotated key is
refused at once) and compared with hmac.compare_digest.
"""

import otter_common as c


@c.logged("http_key_authorizer")
def handler(event, context, record):
    try:
        c.require_api_key(event)
    except c.OtterError as err:
        record.update(status=403, code=err.code)
        return {"isAuthorized": False}
    record["status"] = 200
    return {"isAuthorized": True, "context": {"auth": "apiKey"}}
