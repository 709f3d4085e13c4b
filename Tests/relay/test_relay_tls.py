"""TURN over TLS: coturn's client with `-S -t` against `otter relay`.

turnutils_uclient's `-S` means TLS only together with `-t`; alone it means
DTLS over UDP, which otter relay does not serve (browsers use TLS over TCP
for turns: URLs) and says so at start-up. The client picks a random TLS
method per connection (any, 1.0, 1.1, 1.2) and retries when a handshake
fails, so refusing TLS 1.0/1.1 (as coturn 4.6 with OpenSSL 3 does) costs
retries, not messages.
"""
import socket
import subprocess
import time

import pytest

from test_relay_interop import REST, SECRET, assert_no_loss, uclient


@pytest.fixture
def certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True, timeout=60)
    return cert, key


def start_tls_relay(start_relay, certificate, *extra):
    cert, key = certificate
    relay = start_relay(*REST, "--tls-listening-port={tls}", f"--cert={cert}", f"--pkey={key}", *extra)
    return relay, relay.ports["tls"]


def handshake(port, version):
    """openssl s_client with one TLS version; returns (exit code, output)."""
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", f"-{version}",
                          "-cipher", "DEFAULT@SECLEVEL=0"],
                         input="", capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout + out.stderr


def test_uclient_over_tls(start_relay, echo_peer, certificate):
    relay, tls_port = start_tls_relay(start_relay, certificate)
    out = uclient(tls_port, echo_peer, "-S", "-t", "-W", SECRET, "-m", "4", "-n", "60", "-l", "170")
    assert "method=TLSv1.2" in out or "method=TLSv1.3" in out, out[-2000:]
    assert_no_loss(out, 4 * 60)


def test_uclient_over_tls_with_channels_off(start_relay, echo_peer, certificate):
    relay, tls_port = start_tls_relay(start_relay, certificate)
    assert_no_loss(uclient(tls_port, echo_peer, "-S", "-t", "-c", "-W", SECRET, "-m", "2", "-n", "40", "-l", "120"), 80)


def test_tls_on_the_plain_tcp_port_like_coturn(start_relay, echo_peer, certificate):
    relay, _ = start_tls_relay(start_relay, certificate)
    # TLS and plain TCP on the listening port at once.
    assert_no_loss(uclient(relay.port, echo_peer, "-S", "-t", "-W", SECRET, "-m", "2", "-n", "40", "-l", "120"), 80)
    assert_no_loss(uclient(relay.port, echo_peer, "-t", "-W", SECRET, "-m", "2", "-n", "40", "-l", "120"), 80)


def test_tls_versions_and_dtls_warning(start_relay, certificate):
    relay, tls_port = start_tls_relay(start_relay, certificate)
    code, out = handshake(tls_port, "tls1_2")
    assert code == 0 and "TLSv1.2" in out, out[-2000:]
    for old in ("tls1", "tls1_1"):
        code, out = handshake(tls_port, old)
        assert code != 0, f"{old} was accepted:\n{out[-2000:]}"
    assert "DTLS is not served" in relay.output()


def test_no_dtls_silences_the_warning(start_relay, certificate):
    relay, _ = start_tls_relay(start_relay, certificate, "--no-dtls")
    assert "DTLS is not served" not in relay.output()


def test_tls_connection_without_handshake_is_closed(start_relay, certificate):
    relay, tls_port = start_tls_relay(start_relay, certificate, "--max-allocate-timeout=1")
    with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as s:
        t0 = time.monotonic()
        assert s.recv(100) == b""
        assert time.monotonic() - t0 < 8
