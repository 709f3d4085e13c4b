"""Calls on networks that are not loopback, in the network lab (netlab.py):
`otter up` with its embedded relay in a "public" namespace, each Chromium in
a namespace of its own. The selected candidate pair read from `getStats`
proves the path each call took.

OTTER_LAB_MOVES sets how many address changes the network-change test makes
(default 3); it prints the recovery time of each and their median.
"""
import hashlib
import os
import statistics
import time

from selenium.webdriver.common.by import By

from netlab import lab, otter_binary  # noqa: F401  (fixture)
from lab_call import path_stats, start_call, wait_decoding
from otter_e2e import by_testid, peer_states, wait

RECOVERY_LIMIT_S = 20


def test_udp_blocked_for_one_browser_connects_through_the_relay_over_tcp(lab):
    server = lab.otter(otter_binary())
    a_site, b_site = lab.site("a"), lab.site("b")
    lab.block_udp(a_site)
    a, b = lab.browser(a_site), lab.browser(b_site)
    start_call(server.create_room()["url"], a, b)
    _, a_last = wait_decoding(a)
    _, b_last = wait_decoding(b)
    pa, pb = a_last["pair"], b_last["pair"]
    # Alice can only reach the relay over TCP; her side of the pair is a relay
    # candidate allocated over TCP, Bob's side sees that relay address.
    assert pa["local"] == "relay" and pa["relayProtocol"] == "tcp", (pa, a_last["candidates"])
    assert pb["remote"] == "relay" and pb["remoteAddress"] == "203.0.113.1", (pb, b_last["candidates"])
    print(f"UDP blocked for Alice: Alice {pa['local']}/{pa['relayProtocol']} → {pa['remote']} {pa['remoteAddress']}; "
          f"Bob {pb['local']} {pb['localProtocol']} {pb['localAddress']} → {pb['remote']} {pb['remoteAddress']}")
