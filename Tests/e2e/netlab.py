"""The network lab: `otter up` and each Chromium in network namespaces of their
own, joined by veth pairs, so a test can give one browser a network that is
not loopback — UDP dropped, a NAT in front, a thin link, a new address.

    "public" namespace (the internet, and the router between the sites)
        203.0.113.1 on lo: `otter up` (API, signaling, embedded relay)
        198.51.100.{4i+1}/30 on a veth to site i
    site i, direct:   the browser's namespace, 198.51.100.{4i+2}/30, default route to public
    site i, nat=True: a router namespace (198.51.100.{4i+2} to public, 10.0.i.1/24 inside,
                      nftables masquerade with fully random ports) and the
                      browser's namespace behind it, 10.0.i.2/24

Only documentation ranges and 10.x, and only inside these namespaces. The
relay's default deny list (private, loopback, ...) leaves the documentation
ranges alone, so `otter up` runs here with its default peer policy.

The test process stays in its loopback-only namespace; it reaches a browser's
chromedriver and the public API through a small TCP forwarder whose outgoing
sockets are made inside the target namespace (setns(2) on the forwarding
thread). Needs root (CI is root): `ip netns add`, veth, nftables, tbf.

Namespaces are named `otl<pid>-<role>` (/run/netns is shared with the
machine); `Lab.close()` ends every process it started and deletes every
namespace, and a lab removes the namespaces of earlier test processes that
are gone (a run killed before its cleanup).

API (kept stable; other tests use it):
    lab = Lab()                                  # or the `lab` fixture
    site = lab.site("a", nat=False)              # Site: .ns, .router, .address, .uplink
    server = lab.otter(binary)                   # LabOtter: .create_room(), .info, .lines, .stop(); web_dir=
    driver = lab.browser(site)                   # selenium WebDriver, Chromium in site.ns
    lab.nft(ns, ruleset)                         # `nft -f -` in that namespace
    lab.block_udp(site)                          # drop every UDP datagram in/out of the site's uplink
    lab.shape(site, "300kbit")                   # tbf both ways on the site's link to public
    lab.readdress(site)                          # move the site's uplink to a new /30; returns the address
    lab.run(ns, *argv) / lab.popen(ns, *argv)    # anything else inside a namespace
    lab.close()
"""
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chromium.remote_connection import ChromiumRemoteConnection
from selenium.webdriver.remote.file_detector import UselessFileDetector

from otter_e2e import STARTUP_PREFS, browser_log, CHROME_FLAGS, CHROMEDRIVER, CHROMIUM, OUTPUT, REPO, WEBAPP, require_loopback_only

SERVER_ADDRESS = "203.0.113.1"
API_PORT = 8080
RELAY_PORT = 3478
CLONE_NEWNET = 0x40000000
PREFIX = "otl"
# The lab's browsers have a real uplink: loopback candidates would only pair
# with themselves.
LAB_CHROME_FLAGS = [f for f in CHROME_FLAGS if f != "--allow-loopback-in-peer-connection"] + [
    # the camera needs a secure context: plain http to the lab's address is
    # one only when the browser is told so (as loopback is by default)
    f"--unsafely-treat-insecure-origin-as-secure=http://{SERVER_ADDRESS}:{API_PORT}"]

_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(ns):
    """Moves the calling thread (only it) into namespace `ns`."""
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into {ns}: {os.strerror(err)}")
    finally:
        os.close(fd)


def connect_in(ns, host, port, timeout=5.0):
    """A TCP connection made from inside namespace `ns` (on a thread of its own,
    so this thread's namespace does not change)."""
    out = {}

    def go():
        try:
            enter_netns(ns)
            out["sock"] = socket.create_connection((host, port), timeout=timeout)
            out["sock"].settimeout(None)
        except OSError as e:
            out["error"] = e
    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["sock"]


class Forwarder:
    """127.0.0.1:<port> in this namespace → host:port inside namespace `ns`."""

    def __init__(self, ns, host, port):
        self.target = (ns, host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            upstream = connect_in(*self.target)
        except OSError:
            client.close()
            return
        self.conns += [client, upstream]

        def pump(src, dst):
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)
        client.close()
        upstream.close()

    def close(self):
        self.closed = True
        self.listener.close()
        for s in self.conns:
            try:
                s.close()
            except OSError:
                pass


class Site:
    """One browser's place in the lab."""

    def __init__(self, name, index, ns, router, address, uplink_ns, uplink, public_end, public_address):
        self.name, self.index = name, index
        self.ns = ns                  # where the browser runs
        self.router = router          # the NAT's namespace (None for a direct site)
        self.address = address        # the browser's own address
        self.uplink_ns = uplink_ns    # the namespace holding the site's end of the link to public
        self.uplink = uplink          # that interface's name
        self.public_end = public_end  # the public namespace's end of the link
        self.public_address = public_address  # the site's address as public sees it
        self.moves = 0


class Lab:
    def __init__(self):
        require_loopback_only()
        if os.geteuid() != 0:
            raise LabUnavailable("the network lab needs root (ip netns add, veth pairs, nftables, tbf); "
                                 "CI runs as root")
        for tool in ("ip", "nft", "tc"):
            if not shutil.which(tool):
                raise LabUnavailable(f"`{tool}` is missing (Scripts/setup installs iproute2 and nftables)")
        self.tag = f"{PREFIX}{os.getpid()}"
        self.namespaces = []
        self.procs = []
        self.forwarders = []
        self.drivers = []
        self.dirs = []
        self.sites = []
        self._remove_stale()
        self.public = self._netns("pub")
        self.run(self.public, "ip", "addr", "add", f"{SERVER_ADDRESS}/32", "dev", "lo")
        self.run(self.public, "sysctl", "-qw", "net.ipv4.ip_forward=1")

    # ------------------------------------------------------------ plumbing

    @staticmethod
    def _remove_stale():
        """Namespaces of lab runs whose process is gone (killed before cleanup)."""
        try:
            names = os.listdir("/run/netns")
        except OSError:
            return
        for name in names:
            m = re.fullmatch(PREFIX + r"(\d+)-.+", name)
            if m and not Path(f"/proc/{m.group(1)}").exists():
                subprocess.run(["ip", "netns", "del", name], capture_output=True)

    def _netns(self, role):
        ns = f"{self.tag}-{role}"
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, text=True)
        self.namespaces.append(ns)
        # No IPv6: a veth brought up gets its IPv6 link-local address a second or
        # two later (duplicate address detection), and Chromium, seeing an address
        # change, fails whatever is loading with net::ERR_NETWORK_CHANGED: a lab
        # page whose module failed so never ran (CI: "no lobby in 60 s", the
        # console full of ERR_NETWORK_CHANGED). The lab is IPv4 only anyway.
        self.run(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
        self.run(ns, "ip", "link", "set", "lo", "up")
        return ns

    def run(self, ns, *argv, check=True):
        r = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise RuntimeError(f"in {ns}: {' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def popen(self, ns, *argv, **kw):
        p = subprocess.Popen(["ip", "netns", "exec", ns, *argv], **kw)
        self.procs.append(p)
        return p

    def _veth(self, ns_a, name_a, ns_b, name_b):
        tmp_a, tmp_b = f"{self.tag[-8:]}a{len(self.namespaces)}", f"{self.tag[-8:]}b{len(self.namespaces)}"
        subprocess.run(["ip", "link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b], check=True)
        for tmp, ns, name in ((tmp_a, ns_a, name_a), (tmp_b, ns_b, name_b)):
            subprocess.run(["ip", "link", "set", tmp, "netns", ns], check=True)
            self.run(ns, "ip", "link", "set", tmp, "name", name)
            self.run(ns, "ip", "link", "set", name, "up")

    # ------------------------------------------------------------ topology

    def site(self, name, nat=False):
        """A browser's namespace joined to public: directly, or behind a NAT
        (masquerade, fully random ports: a mapping per destination, like a
        symmetric NAT, so only the relay connects two such sites)."""
        i = len(self.sites) + 1
        pub_end, site_end = f"198.51.100.{4 * i + 1}", f"198.51.100.{4 * i + 2}"
        ns = self._netns(name)
        public_end = f"to-{name}"
        if not nat:
            self._veth(self.public, public_end, ns, "eth0")
            self.run(self.public, "ip", "addr", "add", f"{pub_end}/30", "dev", public_end)
            self.run(ns, "ip", "addr", "add", f"{site_end}/30", "dev", "eth0")
            self.run(ns, "ip", "route", "add", "default", "via", pub_end)
            s = Site(name, i, ns, None, site_end, ns, "eth0", public_end, site_end)
        else:
            router = self._netns(f"{name}-nat")
            self._veth(self.public, public_end, router, "wan")
            self.run(self.public, "ip", "addr", "add", f"{pub_end}/30", "dev", public_end)
            self.run(router, "ip", "addr", "add", f"{site_end}/30", "dev", "wan")
            self.run(router, "ip", "route", "add", "default", "via", pub_end)
            self.run(router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            self._veth(router, "lan", ns, "eth0")
            self.run(router, "ip", "addr", "add", f"10.0.{i}.1/24", "dev", "lan")
            self.run(ns, "ip", "addr", "add", f"10.0.{i}.2/24", "dev", "eth0")
            self.run(ns, "ip", "route", "add", "default", "via", f"10.0.{i}.1")
            self.nft(router, """
                table ip nat {
                  chain post { type nat hook postrouting priority srcnat; oifname "wan" masquerade random,fully-random; }
                }""")
            s = Site(name, i, ns, router, f"10.0.{i}.2", router, "wan", public_end, site_end)
        self.sites.append(s)
        return s

    def nft(self, ns, ruleset):
        r = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=ruleset, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"nft in {ns}: {r.stderr.strip()}\n{ruleset}")

    def block_udp(self, site):
        """Every UDP datagram into or out of the site is dropped (a network that allows only TCP)."""
        self.nft(site.uplink_ns, f"""
            table inet noudp {{
              chain outgoing {{ type filter hook output priority filter; oifname "{site.uplink}" meta l4proto udp drop; }}
              chain incoming {{ type filter hook input priority filter; iifname "{site.uplink}" meta l4proto udp drop; }}
              chain forwarded {{ type filter hook forward priority filter; meta l4proto udp drop; }}
            }}""")

    def shape(self, site, rate="300kbit", burst="8kb", latency="200ms"):
        """A token bucket of `rate` on both ends of the site's link to public
        (what the site sends and what it receives)."""
        for ns, dev in ((site.uplink_ns, site.uplink), (self.public, site.public_end)):
            self.run(ns, "tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", rate, "burst", burst, "latency", latency)

    def unshape(self, site):
        for ns, dev in ((site.uplink_ns, site.uplink), (self.public, site.public_end)):
            self.run(ns, "tc", "qdisc", "del", "dev", dev, "root", check=False)

    def readdress(self, site):
        """The site's uplink moves to a new /30 (as a laptop moving to another
        network): its old address is gone at once, the new one routes. Returns
        the new address."""
        site.moves += 1
        base = 64 + 64 * (site.moves % 3) + 4 * site.index  # 128.., 192.., 64.., over and over
        pub_end, site_end = f"198.51.100.{base + 1}", f"198.51.100.{base + 2}"
        self.run(self.public, "ip", "addr", "flush", "dev", site.public_end)
        self.run(self.public, "ip", "addr", "add", f"{pub_end}/30", "dev", site.public_end)
        self.run(site.uplink_ns, "ip", "addr", "flush", "dev", site.uplink)
        self.run(site.uplink_ns, "ip", "addr", "add", f"{site_end}/30", "dev", site.uplink)
        self.run(site.uplink_ns, "ip", "route", "replace", "default", "via", pub_end)
        site.public_address = site_end
        if site.router is None:
            site.address = site_end
        return site_end

    # ------------------------------------------------------------ programs

    def otter(self, binary, extra_args=(), web_dir=None):
        """`otter up` in the public namespace on 203.0.113.1, serving `web_dir`
        (default: this checkout's web app)."""
        return LabOtter(self, binary, extra_args, web_dir).start()

    def browser(self, site, extra_flags=()):
        """Headless Chromium inside the site's namespace, driven through its
        own chromedriver there."""
        port = 9515
        log = open(Path(tempfile.mkdtemp(prefix="otter-lab-")) / "chromedriver.log", "w")
        self.dirs.append(Path(log.name).parent)
        # Chromium's stderr goes to the log too (page_state shows its errors);
        # OTTER_LAB_CHROMEDRIVER_VERBOSE=1 adds every DevTools command, to trace a navigation
        verbose = ["--verbose"] if os.environ.get("OTTER_LAB_CHROMEDRIVER_VERBOSE") == "1" else []
        driver_proc = self.popen(site.ns, CHROMEDRIVER, f"--port={port}", "--enable-chrome-logs", *verbose,
                                 stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                connect_in(site.ns, "127.0.0.1", port, timeout=1).close()
                break
            except OSError:
                if driver_proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"chromedriver did not start in {site.ns}: {Path(log.name).read_text()[-2000:]}")
                time.sleep(0.1)
        fwd = Forwarder(site.ns, "127.0.0.1", port)
        self.forwarders.append(fwd)
        opts = Options()
        opts.binary_location = CHROMIUM
        profile = tempfile.mkdtemp(prefix="otter-chrome-")
        self.dirs.append(Path(profile))
        for f in LAB_CHROME_FLAGS + list(extra_flags) + [f"--user-data-dir={profile}"]:
            opts.add_argument(f)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        opts.add_experimental_option("prefs", STARTUP_PREFS)
        conn = ChromiumRemoteConnection(f"http://127.0.0.1:{fwd.port}", vendor_prefix="goog", browser_name="chrome")
        d = webdriver.Remote(command_executor=conn, options=opts)
        # the browser shares this machine's files: paths as they are, no upload
        d.file_detector = UselessFileDetector()
        d.set_page_load_timeout(90)
        d.set_script_timeout(60)
        d.lab_site = site
        d.chrome_log = Path(log.name)  # Chromium's own log, for page_state
        self.drivers.append(d)
        return d

    def save_evidence(self, name):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        for i, d in enumerate(self.drivers):
            try:
                d.save_screenshot(str(OUTPUT / f"FAILED-{name}-{i}.png"))
                (OUTPUT / f"FAILED-{name}-{i}.log").write_text("\n".join(str(e) for e in browser_log(d)))
            except Exception:
                pass

    def close(self):
        for d in self.drivers:
            try:
                d.quit()
            except Exception:
                pass
        for f in self.forwarders:
            f.close()
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        for ns in self.namespaces:
            # anything still in it (a Chromium left behind by its chromedriver)
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)


class LabUnavailable(Exception):
    pass


class LabOtter:
    """`otter up` in the lab's public namespace: links and relay URLs name
    203.0.113.1, which every site routes to; the test process reaches the API
    through a forwarder."""

    def __init__(self, lab, binary, extra_args=(), web_dir=None):
        self.lab, self.binary, self.extra_args = lab, binary, list(extra_args)
        self.web_dir = web_dir or WEBAPP
        self.tmp = tempfile.mkdtemp(prefix="otter-lab-up-")
        lab.dirs.append(Path(self.tmp))
        self.lines, self.info, self.proc = [], {}, None
        self.api = Forwarder(lab.public, SERVER_ADDRESS, API_PORT)
        lab.forwarders.append(self.api)

    @property
    def local_api(self):
        return f"http://127.0.0.1:{self.api.port}"

    def start(self, timeout=60):
        self.lines, self.info = [], {}
        args = [self.binary, "up", "--host", SERVER_ADDRESS, "--port", str(API_PORT), "--relay-port", str(RELAY_PORT),
                "--data-dir", self.tmp, "--web-dir", str(self.web_dir), *self.extra_args]
        self.proc = self.lab.popen(self.lab.public, *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.tmp)
        got = threading.Event()
        wanted = {"API URL": "api_url", "API key": "api_key", "Relay": "relay"}

        def pump():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                for prefix, key in wanted.items():
                    if line.startswith(prefix + ": ") and key not in self.info:
                        self.info[key] = line[len(prefix) + 2:].strip()
                if all(k in self.info for k in wanted.values()):
                    got.set()
        threading.Thread(target=pump, daemon=True).start()
        deadline = time.time() + timeout
        while not got.wait(0.2):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("otter up did not start in the lab:\n" + "\n".join(self.lines[-40:]))
        assert self.info["api_url"] == f"http://{SERVER_ADDRESS}:{API_PORT}", self.info
        for _ in range(100):
            try:
                urllib.request.urlopen(self.local_api + "/healthz", timeout=2)
                return self
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("otter up in the lab never answered /healthz")

    def create_room(self, max_peers=2):
        import json
        req = urllib.request.Request(
            self.local_api + "/rooms", data=json.dumps({"maxPeers": max_peers}).encode(), method="POST",
            headers={"x-api-key": self.info["api_key"], "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 201, r.status
            return json.loads(r.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def lab(request):
    """A fresh lab per test, torn down whatever happens (the test's failure included)."""
    failed_before = request.session.testsfailed
    try:
        the_lab = Lab()
    except LabUnavailable as e:
        pytest.skip(f"network lab unavailable on this machine: {e}")
    try:
        yield the_lab
    finally:
        if request.session.testsfailed > failed_before:
            the_lab.save_evidence(request.node.name)
        the_lab.close()


def otter_binary():
    binary = os.environ.get("OTTER_BIN", str(REPO / ".build" / "debug" / "otter"))
    if not Path(binary).exists():
        pytest.fail(f"otter binary not found at {binary} (build it or set OTTER_BIN)")
    return binary
