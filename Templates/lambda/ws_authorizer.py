"""$connect REQUEST authorizer of the WebSocket API.

The room token comes from the ``token`` query string parameter (browsers cannot
set headers on a WebSocket). HS256 only, signature checked before the claims
are read, ``exp`` required, ``aud`` = otter-room, ``iss`` = otter, and the room
must exist. Allowed: an IAM policy allowing this connect, with context
{roomId, maxPeers, tokenExp}. Refused: the exception "Unauthorized", which API
Gateway turns into HTTP 401 before the socket opens.
"""

import otter_common as c
import otter_store
import otter_tokens


def _policy(principal, effect, resource, context=None):
    out = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context is not None:
        out["context"] = context
    return out


@c.logged("ws_authorizer")
def handler(event, context, record):
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        claims = otter_tokens.verify_token(token, otter_store.secret("SIGNING_SECRET_ARN"))
        room = otter_store.get_room(claims["sub"])
        if room is None:
            raise c.OtterError("not-found", c.message("room-not-found"), 401)
    except c.OtterError as err:
        record.update(status=401, code=err.code)
        raise Exception("Unauthorized") from None  # API Gateway answers 401
    record.update(status=200, roomId=claims["sub"])
    return _policy(
        f"room:{claims['sub']}", "Allow", event.get("methodArn", "*"),
        {"roomId": claims["sub"], "maxPeers": int(claims["maxPeers"]), "tokenExp": int(claims["exp"])},
    )
