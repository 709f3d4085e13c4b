"""Events shaped like API Gateway's, after the AWS documentation:

- WebSocket API route events ($connect/$disconnect/message routes):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html
  (Lambda proxy integration: requestContext with routeKey, eventType,
  connectionId, domainName, stage, apiId, ...; body for messages).
- WebSocket $connect REQUEST authorizer input (type REQUEST, methodArn,
  headers, queryStringParameters, requestContext):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html
- HTTP API Lambda proxy payload format 2.0 (the HTTP routes have no authorizer):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
"""

import base64
import itertools
import secrets
import time
import urllib.parse
import uuid

ACCOUNT = "123456789012"
REGION = "us-east-1"
WS_API_ID = "wsapi12345"
HTTP_API_ID = "httpapi123"
WS_STAGE = "prod"
WS_DOMAIN = f"{WS_API_ID}.execute-api.{REGION}.amazonaws.com"
HTTP_DOMAIN = f"{HTTP_API_ID}.execute-api.{REGION}.amazonaws.com"
WS_ENDPOINT = f"https://{WS_DOMAIN}/{WS_STAGE}"

_counter = itertools.count(1)


def new_connection_id():
    # API Gateway connection ids look like "L0SM9cOFvHcCIhw=" (15 characters and "=").
    # No "/" or "+": moto's server cannot route a "/" inside the id.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(15)) + "="


def _request_time():
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())


def _ws_request_context(connection_id, route_key, event_type, connected_at, authorizer=None):
    rc = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": f"ext{next(_counter)}=",
        "requestTime": _request_time(),
        "messageDirection": "IN",
        "stage": WS_STAGE,
        "connectedAt": connected_at,
        "requestTimeEpoch": int(time.time() * 1000),
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "otter-tests"},
        "requestId": f"req{next(_counter)}=",
        "domainName": WS_DOMAIN,
        "connectionId": connection_id,
        "apiId": WS_API_ID,
    }
    if event_type == "MESSAGE":
        rc["messageId"] = f"msg{next(_counter)}="
    if authorizer is not None:
        rc["authorizer"] = authorizer
    return rc


def ws_authorizer_event(connection_id, token=None, connected_at=None):
    query = {} if token is None else {"token": token}
    headers = {
        "Host": WS_DOMAIN,
        "Sec-WebSocket-Key": base64.b64encode(uuid.uuid4().bytes).decode(),
        "Sec-WebSocket-Version": "13",
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{WS_API_ID}/{WS_STAGE}/$connect",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "stageVariables": {},
        "requestContext": _ws_request_context(connection_id, "$connect", "CONNECT",
                                              connected_at or int(time.time() * 1000)),
    }


def ws_connect_event(connection_id, token, authorizer, connected_at):
    ev = ws_authorizer_event(connection_id, token, connected_at)
    return {
        "headers": ev["headers"],
        "multiValueHeaders": ev["multiValueHeaders"],
        "queryStringParameters": ev["queryStringParameters"],
        "multiValueQueryStringParameters": ev["multiValueQueryStringParameters"],
        "requestContext": _ws_request_context(connection_id, "$connect", "CONNECT", connected_at, authorizer),
        "isBase64Encoded": False,
    }


def ws_message_event(connection_id, route_key, body, connected_at, authorizer=None):
    return {
        "requestContext": _ws_request_context(connection_id, route_key, "MESSAGE", connected_at, authorizer),
        "body": body,
        "isBase64Encoded": False,
    }


def ws_disconnect_event(connection_id, connected_at, authorizer=None, status=1000, reason="Client closed"):
    rc = _ws_request_context(connection_id, "$disconnect", "DISCONNECT", connected_at, authorizer)
    rc["disconnectStatusCode"] = status
    rc["disconnectReason"] = reason
    return {
        "headers": {"Host": WS_DOMAIN, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
        "multiValueHeaders": {},
        "requestContext": rc,
        "isBase64Encoded": False,
    }


def http_event(method, path, route_key, headers=None, body=None, path_parameters=None,
               is_base64=False, query=""):
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    headers.setdefault("host", HTTP_DOMAIN)
    headers.setdefault("user-agent", "otter-tests")
    if body is not None:
        headers.setdefault("content-length", str(len(body)))
    ev = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": HTTP_API_ID,
            "domainName": HTTP_DOMAIN,
            "domainPrefix": HTTP_API_ID,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": headers["user-agent"]},
            "requestId": f"http{next(_counter)}=",
            "routeKey": route_key,
            "stage": "$default",
            "time": _request_time(),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if query:
        ev["queryStringParameters"] = dict(urllib.parse.parse_qsl(query))
    if path_parameters:
        ev["pathParameters"] = dict(path_parameters)
    if body is not None:
        try:
            text = None if is_base64 else body.decode("utf-8")
        except UnicodeDecodeError:
            text = None  # API Gateway base64-encodes a body that is not text
        ev["isBase64Encoded"] = text is None
        ev["body"] = base64.b64encode(body).decode() if text is None else text
    return ev
