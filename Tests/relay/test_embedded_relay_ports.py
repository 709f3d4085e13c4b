"""`otter up`'s relay on more than one port: `--relay-tcp-port` (a second TCP
port, e.g. 443 where only HTTPS gets out) and `--relay-tls-cert/--relay-tls-key`
(TURN over TLS on `--relay-tls-port`). Browsers learn them from the room's ICE
servers; coturn's client relays through each with the room's credentials.
`kill -HUP` restarts the relay alone: signaling stays up, and a renewed
certificate is served from then on."""
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

import pytest

from conftest import otter_binary
from otter_testing import free_port
from test_embedded_relay_peers import Up, up  # noqa: F401  (fixture)
from test_relay_interop import assert_no_loss

HOST = "127.0.0.1"


def make_certificate(folder, name):
    cert, key = os.path.join(folder, f"{name}.pem"), os.path.join(folder, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=IP:{HOST}"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def served_subject(port):
    out = subprocess.run(["openssl", "s_client", "-connect", f"{HOST}:{port}", "-brief"], input="",
                         capture_output=True, text=True, timeout=30)
    return out.stdout + out.stderr


def ice_urls(u):
    url = urllib.parse.urlparse(u.lines["Sample room"])
    room = urllib.parse.parse_qs(url.query)["room"][0]
    req = urllib.request.Request(f"http://{HOST}:{u.port}/rooms/{room}/ice-servers",
                                 headers={"Authorization": f"Bearer {url.fragment.removeprefix('token=')}"})
    body = json.loads(urllib.request.urlopen(req, timeout=10).read())
    return [x for s in body["iceServers"] for x in s["urls"]]


def uclient(u, port, peer_port, *args):
    user, password = u.credentials()
    cmd = ["turnutils_uclient", "-e", HOST, "-r", str(peer_port), "-p", str(port), "-u", user, "-w", password,
           "-m", "2", "-n", "30", "-l", "120", *args, HOST]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return out.stdout + out.stderr


@pytest.fixture
def certificates():
    folder = tempfile.mkdtemp(prefix="otter-relay-cert-")
    return folder, make_certificate(folder, "first"), make_certificate(folder, "second")


@pytest.fixture
def up_with_ports(certificates):
    _, (cert, key), _ = certificates
    for attempt in range(5):
        tcp, tls = free_port(), free_port()
        try:
            u = Up("--relay-tcp-port", str(tcp), "--relay-tls-cert", cert, "--relay-tls-key", key, "--relay-tls-port", str(tls))
            break
        except AssertionError as e:  # an extra port was taken meanwhile: new ones (Up moves only its own two)
            if attempt == 4 or "Pick another --relay-port" not in str(e):
                raise
    yield u, tcp, tls
    u.stop()


def test_ice_servers_list_the_extra_tcp_port_and_turns(up_with_ports):
    u, tcp, tls = up_with_ports
    urls = ice_urls(u)
    assert urls[-2:] == [f"turn:{HOST}:{tcp}?transport=tcp", f"turns:{HOST}:{tls}?transport=tcp"], urls
    assert f"turn:{HOST}:{u.relay}?transport=udp" in urls and f"turn:{HOST}:{u.relay}?transport=tcp" in urls
    # the banner names them too
    assert f"turns:{HOST}:{tls}?transport=tcp" in u.lines["Relay"]


def test_relaying_through_the_extra_tcp_port_and_tls(up_with_ports, echo_peer):
    u, tcp, tls = up_with_ports
    assert_no_loss(uclient(u, tcp, echo_peer, "-t"), 60)
    out = uclient(u, tls, echo_peer, "-t", "-S")
    assert "method=TLSv1.2" in out or "method=TLSv1.3" in out, out[-2000:]
    assert_no_loss(out, 60)


def test_without_the_flags_only_the_relay_port_is_offered(up):
    u = up()
    urls = ice_urls(u)
    assert not [x for x in urls if x.startswith("turns:")], urls
    assert sorted(x for x in urls if x.startswith("turn:")) == [
        f"turn:{HOST}:{u.relay}?transport=tcp", f"turn:{HOST}:{u.relay}?transport=udp"], urls


def test_sighup_restarts_the_relay_alone_and_reads_the_certificate_again(up_with_ports, certificates, echo_peer):
    u, tcp, tls = up_with_ports
    _, (cert, key), (new_cert, new_key) = certificates
    assert "CN = first" in served_subject(tls)
    # a renewal replaces the files in place
    os.replace(new_cert, cert)
    os.replace(new_key, key)
    assert "CN = first" in served_subject(tls), "the certificate changed before SIGHUP"
    pid = u.proc.pid
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + 15
    subject = ""
    while time.monotonic() < deadline:
        subject = served_subject(tls)
        if "CN = second" in subject:
            break
        time.sleep(0.2)
    assert "CN = second" in subject, subject[-2000:]
    # the same process: signaling and the API never went away
    assert u.proc.poll() is None and u.proc.pid == pid
    assert ice_urls(u)
    assert_no_loss(uclient(u, u.relay, echo_peer), 60)
    assert_no_loss(uclient(u, tcp, echo_peer, "-t"), 60)


@pytest.mark.parametrize("args, message", [
    (["--relay-tls-cert", "/nonexistent/cert.pem", "--relay-tls-key", "/nonexistent/key.pem"], "cannot read"),
    (["--relay-tls-cert", "/etc/hostname"], "go together"),
    (["--relay-tcp-port", "0"], "--relay-tcp-port must be 1-65535"),
])
def test_bad_relay_options_are_refused_with_a_reason(args, message):
    out = subprocess.run([otter_binary(), "up", "--data-dir", tempfile.mkdtemp(prefix="otter-up-bad-"), *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and message in out.stderr, out.stderr

