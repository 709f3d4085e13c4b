"""Calls from networks that let only TCP out, in the network lab (netlab.py):
Alice's site may open TCP connections to the server's HTTP port (the API and
signaling; a real deployment serves them on 443 behind its proxy) and to one
relay port, nothing else: no UDP at all, no TCP to 3478. Bob's network is
open. The selected candidate pair from `getStats` says which relay URL and
transport carried the call.

- UDP blocked, only TCP 443: `otter up --relay-tcp-port 443` (the cloud's
  NLB 443 listener): Alice relays over TCP through `turn:…:443`.
- TURN over TLS: `otter up --relay-tls-cert/--relay-tls-key`: Alice relays
  over TLS through `turns:…:5349`. The test CA is trusted the way a test can
  make Chromium trust it: `--ignore-certificate-errors-spki-list` with the
  certificate's SPKI hash.
"""
from netlab import SERVER_ADDRESS, lab, otter_binary  # noqa: F401  (fixture)
from lab_call import start_call, wait_decoding
from lab_paths import TLS_PORT, allow_only_tcp, relay_tls_cert

# The selected pair's local candidate with the URL of the ICE server it came from.
LOCAL_URL_JS = """
const done = arguments[arguments.length - 1];
const c = window.otterCall, pc = c.connectionTo(c.peers[0].peerId);
pc.getStats().then(stats => {
  let id = null;
  stats.forEach(s => { if (s.type === 'transport' && s.selectedCandidatePairId) id = s.selectedCandidatePairId; });
  const pair = id && stats.get(id), l = pair && stats.get(pair.localCandidateId);
  done(l ? {type: l.candidateType, relayProtocol: l.relayProtocol, url: l.url} : null);
}, () => done(null));
"""


def call_through(lab, server, site_a, site_b, extra_flags=()):
    a, b = lab.browser(site_a, extra_flags), lab.browser(site_b)
    start_call(server.create_room()["url"], a, b)
    _, a_last = wait_decoding(a)
    _, b_last = wait_decoding(b)
    return a, a_last, b_last, a.execute_async_script(LOCAL_URL_JS)


def test_udp_blocked_and_only_tcp_443_connects_through_the_relay_on_443(lab):
    server = lab.otter(otter_binary(), ["--relay-tcp-port", "443"])
    assert f"turn:{SERVER_ADDRESS}:443?transport=tcp" in server.info["relay"], server.info
    a_site, b_site = lab.site("a"), lab.site("b")
    allow_only_tcp(lab, a_site, 443)
    # the wall holds: the relay's usual port is closed to Alice, UDP too
    probe = lab.run(a_site.ns, "timeout", "3", "bash", "-c", f"echo > /dev/tcp/{SERVER_ADDRESS}/3478 && echo open",
                    check=False)
    assert "open" not in probe
    _, a_last, b_last, local = call_through(lab, server, a_site, b_site)
    pa = a_last["pair"]
    assert pa["local"] == "relay" and pa["relayProtocol"] == "tcp", (pa, a_last["candidates"])
    assert local["url"] == f"turn:{SERVER_ADDRESS}:443?transport=tcp", local
    assert b_last["pair"]["remote"] == "relay", b_last["pair"]
    print(f"only TCP 443 for Alice: local {pa['local']} via {pa['relayProtocol']} from {local['url']}; "
          f"Bob {b_last['pair']['local']} → {b_last['pair']['remote']} {b_last['pair']['remoteAddress']}")


def test_turn_over_tls_when_only_the_tls_port_is_allowed(lab, tmp_path):
    cert, key, trust = relay_tls_cert(tmp_path)
    server = lab.otter(otter_binary(), ["--relay-tls-cert", str(cert), "--relay-tls-key", str(key),
                                        "--relay-tls-port", str(TLS_PORT)])
    assert f"turns:{SERVER_ADDRESS}:{TLS_PORT}?transport=tcp" in server.info["relay"], server.info
    a_site, b_site = lab.site("a"), lab.site("b")
    allow_only_tcp(lab, a_site, TLS_PORT)
    _, a_last, b_last, local = call_through(lab, server, a_site, b_site,
                                            [trust])
    pa = a_last["pair"]
    assert pa["local"] == "relay" and pa["relayProtocol"] == "tls", (pa, a_last["candidates"])
    assert local["url"] == f"turns:{SERVER_ADDRESS}:{TLS_PORT}?transport=tcp", local
    print(f"only TLS {TLS_PORT} for Alice: local {pa['local']} via {pa['relayProtocol']} from {local['url']}; "
          f"Bob {b_last['pair']['local']} → {b_last['pair']['remote']} {b_last['pair']['remoteAddress']}")


