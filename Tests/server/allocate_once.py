"""One TURN Allocate against `otter up`'s embedded relay with the sample room's
ICE credentials (run by test_up_banner inside a network namespace of its own,
where the banner's addresses are reachable). Prints `relayed IP:PORT`.
Usage: allocate_once.py BANNER_FILE"""
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "relay"))
from turn_client import TurnClient  # noqa: E402

lines = dict(l.split(": ", 1) for l in Path(sys.argv[1]).read_text().splitlines() if ": " in l)
link = urllib.parse.urlparse(lines["Sample room"].strip())
room = urllib.parse.parse_qs(link.query)["room"][0]
token = link.fragment.split("token=", 1)[1]
api = lines["API URL"].strip()
req = urllib.request.Request(f"{api}/rooms/{room}/ice-servers", headers={"Authorization": f"Bearer {token}"})
body = json.load(urllib.request.urlopen(req, timeout=10))
turn = next(s for s in body["iceServers"] if "username" in s)
host, port = urllib.parse.urlparse(api).hostname, int(turn["urls"][0].split(":")[2].split("?")[0])
client = TurnClient(port, turn["username"], turn["credential"], host=host)
reply = client.allocate()
assert reply.success, reply
ip, rport = reply.relayed
print(f"relayed {ip}:{rport}")
