"""The network lab's paths (netlab.py) as named setups, for the lab tests and
Scripts/bench-calls: each opens `otter up` with the flags the path needs, the
two sites, their walls, and one Chromium in each. "b" is the side the path
restricts (the benchmark's joiner, whose first frame it times); "a" is open.

    path = open_path(lab, "tcp443", binary, web_dir=None)
    path.server, path.a, path.b, path.relay (iceTransportPolicy relay), path.check(pair)
"""
import base64
import hashlib
import subprocess
import tempfile
from pathlib import Path

from netlab import API_PORT, SERVER_ADDRESS

TLS_PORT = 5349

# name: what the path is, for the report
PATHS = {
    "direct": "two open sites, host candidates over the lab's links",
    "relay": "two open sites, iceTransportPolicy relay (TURN over UDP)",
    "udp-blocked": "B's site drops all UDP: B relays over TURN/TCP (3478)",
    "tcp443": "B's site lets out only TCP to the API and 443: B relays through turn:…:443?transport=tcp",
    "tls": "B's site lets out only TCP to the API and 5349: B relays over TURN over TLS (turns:)",
    "nat": "both sites behind a NAT with per-destination mappings: only the relay connects them",
    "thin": "B's link shaped to 300 kbit/s both ways (tbf)",
}


def allow_only_tcp(lab, site, port):
    """The site's uplink passes TCP to the server's HTTP port and to `port` (and
    what comes back on those connections); everything else is dropped."""
    lab.nft(site.uplink_ns, f"""
        table inet tcponly {{
          chain outgoing {{ type filter hook output priority filter; policy accept;
            oifname "{site.uplink}" ip daddr {SERVER_ADDRESS} tcp dport {{ {API_PORT}, {port} }} accept
            oifname "{site.uplink}" drop
          }}
          chain incoming {{ type filter hook input priority filter; policy accept;
            iifname "{site.uplink}" ct state established,related accept
            iifname "{site.uplink}" drop
          }}
        }}""")


def relay_tls_cert(directory):
    """A self-signed certificate for the relay's lab address; returns (cert,
    key, flag) where flag makes a Chromium trust it (its SPKI hash)."""
    cert, key = Path(directory) / "relay.pem", Path(directory) / "relay.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=otter lab relay",
                    "-addext", f"subjectAltName=IP:{SERVER_ADDRESS}"], check=True, capture_output=True, timeout=60)
    der = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"], check=True, capture_output=True).stdout
    spki = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=der, check=True, capture_output=True).stdout
    spki_hash = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    return cert, key, f"--ignore-certificate-errors-spki-list={spki_hash}"


class LabPath:
    def __init__(self, name, server, a, b, relay, check):
        self.name, self.server, self.a, self.b, self.relay, self.check = name, server, a, b, relay, check


def _no_relay(pair):
    return "relay" not in (pair["local"], pair["remote"])


def open_path(lab, name, binary, web_dir=None):
    if name not in PATHS:
        raise ValueError(f"unknown lab path {name!r}: one of {', '.join(PATHS)}")
    args, flags, relay = [], [], False
    if name == "tcp443":
        args = ["--relay-tcp-port", "443"]
    elif name == "tls":
        cert_dir = tempfile.mkdtemp(prefix="otter-lab-tls-")
        lab.dirs.append(Path(cert_dir))
        cert, key, flag = relay_tls_cert(cert_dir)
        args = ["--relay-tls-cert", str(cert), "--relay-tls-key", str(key), "--relay-tls-port", str(TLS_PORT)]
        flags = [flag]
    server = lab.otter(binary, args, web_dir=web_dir)
    nat = name == "nat"
    a_site, b_site = lab.site("a", nat=nat), lab.site("b", nat=nat)
    check = _no_relay
    if name == "relay":
        relay = True
        check = lambda p: p["local"] == "relay"  # noqa: E731
    elif name == "udp-blocked":
        lab.block_udp(b_site)
        check = lambda p: p["local"] == "relay" and p["relayProtocol"] == "tcp"  # noqa: E731
    elif name == "tcp443":
        allow_only_tcp(lab, b_site, 443)
        check = lambda p: p["local"] == "relay" and p["url"] == f"turn:{SERVER_ADDRESS}:443?transport=tcp"  # noqa: E731
    elif name == "tls":
        allow_only_tcp(lab, b_site, TLS_PORT)
        check = lambda p: p["local"] == "relay" and p["relayProtocol"] == "tls"  # noqa: E731
    elif name == "nat":
        check = lambda p: "relay" in (p["local"], p["remote"])  # noqa: E731
    elif name == "thin":
        lab.shape(b_site, "300kbit")
    a, b = lab.browser(a_site), lab.browser(b_site, flags)
    return LabPath(name, server, a, b, relay, check)
