"""AWS clients, DynamoDB tables and Secrets Manager secrets (cached per container)."""

import json
import threading

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

import otter_common as common

_lock = threading.Lock()
_local = threading.local()
_generation = [0]


def _cache(name):
    """Per-container caches. A Lambda container runs one request at a time on
    one thread, so thread-local caches are per-container caches; tests that run
    several "containers" as threads get one each."""
    if getattr(_local, "generation", None) != _generation[0]:
        _local.generation = _generation[0]
        _local.clients = {}
        _local.secrets = {}
    return getattr(_local, name)


def reset_caches():
    """For tests: forget clients and secrets (a new container)."""
    with _lock:
        _generation[0] += 1


def client(service, endpoint_url=None):
    key = (service, endpoint_url)
    clients = _cache("clients")
    c = clients.get(key)
    if c is None:
        with _lock:  # client creation from the shared default session is not thread-safe
            cfg = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=5)
            kwargs = {"config": cfg}
            if endpoint_url:
                kwargs["endpoint_url"] = endpoint_url
            c = boto3.client(service, **kwargs)
        clients[key] = c
    return c


def table(env_name):
    name = common.env(env_name)
    if not name:
        raise RuntimeError(f"{env_name} is not set")
    clients = _cache("clients")
    key = ("table", name)
    t = clients.get(key)
    if t is None:
        with _lock:
            t = boto3.resource("dynamodb", config=Config(retries={"max_attempts": 3, "mode": "standard"})).Table(name)
        clients[key] = t
    return t


def secret(env_name):
    """The secret named by ``env_name`` (an ARN), read from Secrets Manager once per container.

    A plain SecretString is the secret; a JSON object string is accepted too
    (its ``secret`` key, or its only value).
    """
    arn = common.env(env_name)
    if not arn:
        raise RuntimeError(f"{env_name} is not set")
    cache = _cache("secrets")
    if arn in cache:
        return cache[arn]
    value = client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    try:
        obj = json.loads(value)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        if isinstance(obj.get("secret"), str):
            value = obj["secret"]
        elif len(obj) == 1 and isinstance(next(iter(obj.values())), str):
            value = next(iter(obj.values()))
    cache[arn] = value
    return value


def stored_api_key_hash():
    item = table("CONFIG_TABLE").get_item(Key={"id": "apiKey"}, ConsistentRead=True).get("Item")
    return item.get("hash") if item else None


def is_conditional_failure(error):
    code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
    return code == "ConditionalCheckFailedException"


def get_room(room_id, at=None):
    """The room item if it exists and has not expired (DynamoDB's TTL deletes late)."""
    if not common.ROOM_ID_RE.match(room_id or ""):
        return None
    item = table("ROOMS_TABLE").get_item(Key={"roomId": room_id}, ConsistentRead=True).get("Item")
    if not item:
        return None
    if int(item.get("expiresAt", 0)) <= (common.now() if at is None else at):
        return None
    return item

