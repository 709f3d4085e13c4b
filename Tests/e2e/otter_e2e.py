"""Fixtures and helpers for the browser end-to-end tests (no conftest.py, so
these tests can share one pytest run with other suites that have one).
Each test module imports the fixtures it uses from here.

Browser end-to-end tests: real `otter up`, Debian Chromium headless with a
fake camera and microphone, driven by selenium + Debian's chromedriver.

Environment:
  OTTER_BIN   the otter binary (default: <repo>/.build/debug/otter)
  E2E_OUTPUT  where screenshots go (default: <repo>/test-output/e2e)

They must run in a network namespace that holds only loopback
(Scripts/test puts them there through Scripts/loopback-only): left alone,
Chromium makes its direct calls over the machine's real interfaces.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tests" / "support"))
from otter_testing import OtterUp, otter_binary  # noqa: E402
WEBAPP = Path(os.environ.get("OTTER_WEB_DIR", REPO / "Templates" / "webapp"))
OUTPUT = Path(os.environ.get("E2E_OUTPUT", REPO / "test-output" / "e2e"))
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
CHROME_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required", "--window-size=1280,800",
    "--disable-dev-shm-usage",
    # host candidates on loopback, the only interface of the tests' namespace
    "--allow-loopback-in-peer-connection",
]


# Debian's Chromium opens its new tab page at start, which is the default search
# engine's page (https://start.duckduckgo.com/) and, that failing, a built-in
# one: a DNS lookup for a name no test may reach, and a navigation that in the
# network lab took 8 s to give up, racing the test's own. A blank page instead.
STARTUP_PREFS = {"session.restore_on_startup": 4, "session.startup_urls": ["about:blank"]}


def run_loopback_only():
    """For scripts (the benchmarks): runs this script again inside a network
    namespace holding only loopback, unless it is in one already."""
    if os.environ.get("OTTER_LOOPBACK_ONLY") != "1":
        os.execv(str(REPO / "Scripts" / "loopback-only"),
                 ["loopback-only", sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:]])


def require_loopback_only():
    """Fails unless this process sees no network interface but loopback."""
    others = [name for _, name in socket.if_nameindex() if name != "lo"]
    if others:
        pytest.fail("the browser tests may use no address but loopback, and this machine has "
                    f"{', '.join(others)}: run them through Scripts/test, or as "
                    "`Scripts/loopback-only python3 -m pytest Tests/e2e`", pytrace=False)


class OtterServer(OtterUp):
    """`otter up` serving this checkout's web app (--web-dir, whichever otter binary
    runs), on ports of its own: OtterUp starts again on new ports when one was taken.
    `info` holds the banner's links and API key."""

    def __init__(self, binary):
        self.tmp = tempfile.mkdtemp(prefix="otter-e2e-")
        super().__init__(data_dir=self.tmp, binary=binary, log_path=self.tmp + ".log")
        self.info = {}

    @property
    def relay_port(self):
        return self.relay

    def up_args(self):
        return ["--host", "127.0.0.1", "--web-dir", str(WEBAPP)]  # WEBAPP read now: bench-webapp-ab swaps it

    def command(self):
        # The e2e tests want otter's info lines in the log they print on failure.
        return [arg for arg in super().command() if arg not in ("--log-level", "warning")]

    def start(self, timeout=60):
        previous_key = self.info.get("api_key")
        super().start(timeout)
        self.info = {key: self.lines.get(line) for line, key in
                     (("API URL", "api_url"), ("API key", "api_key"), ("Web app", "web_app"),
                      ("Sample room", "sample_room"))}
        if not self.info["api_key"] or " " in self.info["api_key"]:
            # a restart on the same data dir does not show the key again
            key_file = Path(self.tmp) / "api-key"
            self.info["api_key"] = key_file.read_text().strip() if key_file.exists() else previous_key
        # the API answers
        for _ in range(100):
            try:
                urllib.request.urlopen(self.info["api_url"].rstrip("/") + "/healthz", timeout=2)
                return self
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("otter up never answered /healthz")

    def create_room(self, max_peers=2, ttl_seconds=None):
        body = {"maxPeers": max_peers}
        if ttl_seconds is not None:
            body["ttlSeconds"] = ttl_seconds
        req = urllib.request.Request(
            self.info["api_url"].rstrip("/") + "/rooms", data=json.dumps(body).encode(), method="POST",
            headers={"x-api-key": self.info["api_key"], "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 201, r.status
            return json.loads(r.read())

    def stop(self, keep_data=False):
        try:
            super().stop(timeout=10)
        finally:
            if not keep_data:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def restart(self, down_seconds=0.0):
        """Stops the process and starts it again on the same ports and data dir."""
        self.stop(keep_data=True)
        time.sleep(down_seconds)
        return self.start()


@pytest.fixture(scope="session")
def otter():
    binary = otter_binary()
    if not Path(binary).exists():
        pytest.fail(f"otter binary not found at {binary} (build it or set OTTER_BIN)")
    server = OtterServer(binary).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def output_dir():
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


# Adds width/height/frameRate limits to every getUserMedia video request that
# does not set them (deviceId and other constraints are kept).
CAMERA_JS = """
(() => {
  const md = navigator.mediaDevices, real = md.getUserMedia.bind(md);
  const limit = {width: {ideal: %d}, height: {ideal: %d}, frameRate: {ideal: %d, max: %d}};
  md.getUserMedia = (c = {}) => {
    if (c.video) c = {...c, video: Object.assign({}, limit, c.video === true ? {} : c.video)};
    return real(c);
  };
})();
"""


class Browsers:
    def __init__(self):
        self.drivers = []
        self.dirs = []

    def new(self, extra_flags=(), drop_flags=(), camera=None):
        """A headless Chromium. camera=(width, height, fps) asks getUserMedia for
        that much video (as a page could), for tests that run many browsers."""
        require_loopback_only()
        opts = Options()
        opts.binary_location = CHROMIUM
        profile = tempfile.mkdtemp(prefix="otter-chrome-")
        self.dirs.append(profile)
        for f in [f for f in CHROME_FLAGS if f not in drop_flags] + list(extra_flags) + [f"--user-data-dir={profile}"]:
            opts.add_argument(f)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        downloads = Path(profile) / "downloads"
        downloads.mkdir()
        opts.add_experimental_option("prefs", {
            **STARTUP_PREFS,
            "download.default_directory": str(downloads), "download.prompt_for_download": False,
            "safebrowsing.enabled": False})
        # Chromium's own log (its stderr, through chromedriver): page_state shows its errors
        chrome_log = Path(profile) / "chrome.log"
        d = webdriver.Chrome(service=Service(CHROMEDRIVER, service_args=["--enable-chrome-logs"],
                                             log_output=str(chrome_log)), options=opts)
        d.chrome_log = chrome_log
        d.set_page_load_timeout(90)
        d.set_script_timeout(60)
        d.downloads = downloads
        self.drivers.append(d)
        if camera:
            d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAMERA_JS % (camera[0], camera[1], camera[2], camera[2])})
        return d

    def close(self):
        for d in self.drivers:
            try:
                d.quit()
            except Exception:
                pass
        for p in self.dirs:
            shutil.rmtree(p, ignore_errors=True)


@pytest.fixture
def browsers(request, output_dir):
    failed_before = request.session.testsfailed
    b = Browsers()
    yield b
    # the call phase has been reported by now: keep evidence when it failed
    if request.session.testsfailed > failed_before:
        for i, d in enumerate(b.drivers):
            try:
                d.save_screenshot(str(output_dir / f"FAILED-{request.node.name}-{i}.png"))
                (output_dir / f"FAILED-{request.node.name}-{i}.log").write_text(
                    "\n".join(str(e) for e in browser_log(d)))
            except Exception:
                pass
    b.close()


# ---------------------------------------------------------------- helpers

def wait(driver, cond, timeout=20, message=""):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(cond, message)


def by_testid(driver, testid):
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def page_state(driver):
    """What a failed wait saw: the page's address, load state, screen, visibility,
    whether its timers still fire, every completed request, error and last console
    lines (a timeout alone says nothing about why)."""
    try:
        seen = driver.execute_script(
            "return {url: location.href, ready: document.readyState,"
            " screen: document.body ? document.body.dataset.screen : null,"
            " status: (document.querySelector('[data-testid=status]') || {}).textContent || null,"
            # a hidden or frozen page runs its timers late or never: the SDK's bounds are timers
            " visibility: document.visibilityState, ms: Math.round(performance.now()),"
            # every request that completed, with its HTTP status (0: none, or not known), start and
            # milliseconds: one missing is one that hung; a module that failed stops the whole app
            " requests: performance.getEntriesByType('resource').map(r => r.name.replace(location.origin, '') + ' '"
            " + (r.responseStatus || 0) + ' ' + Math.round(r.startTime) + '+' + Math.round(r.duration))}")
    except Exception as e:  # the page itself may be what hangs
        seen = f"page did not answer: {e.__class__.__name__}"
    return (f"page {seen}, timers {timer_check(driver)}, error {error_text(driver)!r}, console {console_tail(driver)}, "
            f"chromium {chrome_log_tail(driver)}")


def timer_check(driver, wait_s=5):
    """How late a 50 ms setTimeout fires in the page, or that it did not in `wait_s`."""
    script_timeout = driver.timeouts.script
    try:
        driver.set_script_timeout(wait_s)
        late = driver.execute_async_script(
            "const done = arguments[arguments.length - 1], t0 = performance.now();"
            " setTimeout(() => done(Math.round(performance.now() - t0 - 50)), 50);")
        return f"fire {late} ms late"
    except Exception as e:
        return f"did not fire in {wait_s} s ({e.__class__.__name__})"
    finally:
        try:
            driver.set_script_timeout(script_timeout)
        except Exception:
            pass


# Chromium logs these on every start here (no D-Bus, no GPU, no sandbox): not news
CHROME_LOG_NOISE = re.compile(r"dbus/|D-Bus|bluez|vaapi|sandbox_linux|gpu_init|viz_main|command_buffer|angle|capture_device_ranking|audio_manager_linux")
CHROME_LOG_LINE = re.compile(r"^\[\d+:\d+:\d+/[\d.]+:(ERROR|WARNING|FATAL):")


def chrome_log_tail(driver, n=10):
    """The last errors and warnings Chromium itself logged (what the page cannot see:
    its network service, WebRTC threads, renderer crashes)."""
    path = getattr(driver, "chrome_log", None)
    try:
        lines = Path(path).read_text(errors="replace").splitlines() if path else []
    except OSError:
        return []
    return [line[:300] for line in lines if CHROME_LOG_LINE.match(line) and not CHROME_LOG_NOISE.search(line)][-n:]


def browser_log(driver):
    """The page's console since the last call (Chromium's log endpoint). A remote
    driver (the network lab's) has no get_log(): the command itself works on both."""
    return driver.execute("getLog", {"type": "browser"})["value"]


def console_tail(driver, n=8):
    try:
        return [e.get("message", str(e)) for e in browser_log(driver)][-n:]
    except Exception as e:
        return [f"(console not readable: {e.__class__.__name__})"]


def open_lobby(driver, url, timeout=60):
    driver.get(url)
    try:
        wait(driver, lambda d: d.execute_script("return document.body.dataset.screen") in ("lobby", "error"), timeout)
    except TimeoutException:
        raise AssertionError(f"neither lobby nor an error screen appeared in {timeout} s: {page_state(driver)}") from None


def join(driver, url, name):
    open_lobby(driver, url)
    assert driver.execute_script("return document.body.dataset.screen") == "lobby", error_text(driver)
    wait(driver, lambda d: d.execute_script("const v=document.getElementById('preview'); return v && v.videoWidth > 0"), 60,
         "camera preview never showed")
    name_box = driver.find_element(By.ID, "name")
    name_box.clear()
    name_box.send_keys(name)
    by_testid(driver, "join").click()
    wait(driver, lambda d: d.execute_script("return document.body.dataset.screen") in ("call", "error"), 60,
         "neither the call nor an error screen appeared")


def error_text(driver):
    try:
        e = by_testid(driver, "error")
        return f"[{e.get_attribute('data-code')}] {e.text}"
    except Exception:
        return ""


def remote_peer_ids(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('video[data-testid^=\"video-\"]')].map(v => v.dataset.testid.slice(6))")


PEER_STATES_JS = """
const c = window.otterCall;
if (!c) return null;
const out = {me: c.peerId, signaling: c.signalingState, peers: {}};
for (const p of c.peersById.values()) {
  const pc = p.pc;
  out.peers[p.id] = {polite: p.neg.polite, signaling: pc.signalingState, ice: pc.iceConnectionState, connection: pc.connectionState,
    local: pc.localDescription && pc.localDescription.type, remote: pc.remoteDescription && pc.remoteDescription.type,
    negotiation: p.neg.stats, iceRestarts: p.neg.restarts, dataChannel: p.dc.readyState, recovering: p.neg.recovering};
}
return out;
"""


def peer_states(driver):
    """The SDK's view of every peer connection (for failure messages)."""
    try:
        return driver.execute_script(PEER_STATES_JS)
    except Exception as e:  # the page may be gone
        return f"unavailable: {e}"


RECORD_EVENTS_JS = """
const c = window.otterCall;
if (!c || window.otterEvents) return;
window.otterEvents = [];
const t0 = performance.now();
for (const type of ["peer-joined", "peer-left", "peer-rekeyed", "connection-state", "error"]) {
  c.on(type, (e) => window.otterEvents.push([Math.round(performance.now() - t0), type, JSON.stringify(e).slice(0, 160)]));
}
"""


def record_events(driver):
    """From now on the page keeps the call's membership and connection events (see event_log)."""
    driver.execute_script(RECORD_EVENTS_JS)


def event_log(driver):
    try:
        return driver.execute_script("return window.otterEvents || null")
    except Exception as e:  # the page may be gone
        return f"unavailable: {e}"


def wait_connected(driver, n, timeout=30, also=()):
    """Waits until n remote peers are connected (per the SDK) and returns their ids.
    On failure the message holds this page's connections and those of the pages in `also`
    (the other ends), with the events of any page that recorded them (record_events)."""
    try:
        wait(driver, lambda d: d.execute_script(
            "const c = window.otterCall; return !!c && c.peers.filter(p => p.state === 'connected').length >= arguments[0]", n),
            timeout)
    except TimeoutException:
        sides = "; ".join(f"page {i}: {peer_states(d)}, events {event_log(d)}" for i, d in enumerate((driver, *also)))
        raise AssertionError(f"{n} peer connection(s) never reached 'connected' in {timeout} s: {sides}") from None
    return driver.execute_script("return window.otterCall.peers.filter(p => p.state === 'connected').map(p => p.peerId)")


STATS_JS = """
const [peerId, done] = [arguments[0], arguments[arguments.length - 1]];
const pc = window.otterCall && window.otterCall.connectionTo(peerId);
if (!pc) { done(null); return; }
pc.getStats().then(stats => {
  const out = {video: null, audio: null, pair: null};
  let selected = null;
  stats.forEach(s => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.video = {framesDecoded: s.framesDecoded || 0, bytes: s.bytesReceived || 0};
    if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audio = {energy: s.totalAudioEnergy || 0, samples: s.totalSamplesReceived || 0, bytes: s.bytesReceived || 0};
    if (s.type === 'transport' && s.selectedCandidatePairId) selected = s.selectedCandidatePairId;
  });
  if (selected) {
    const p = stats.get(selected);
    const l = p && stats.get(p.localCandidateId), r = p && stats.get(p.remoteCandidateId);
    out.pair = {local: l && l.candidateType, remote: r && r.candidateType, state: p && p.state,
                localAddress: l && l.address, remoteAddress: r && r.address};
  }
  done(out);
}, () => done(null));
"""


def stats(driver, peer_id):
    return driver.execute_async_script(STATS_JS, peer_id)


def wait_media_flowing(driver, peer_id, timeout=20):
    """framesDecoded and audio samples/energy must rise between two reads."""
    first = None
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = stats(driver, peer_id)
        if s and s["video"] and s["audio"]:
            if first is None:
                first = s
            elif (s["video"]["framesDecoded"] > first["video"]["framesDecoded"] + 5
                  and s["audio"]["samples"] > first["audio"]["samples"]
                  and s["audio"]["energy"] > first["audio"]["energy"]):
                return first, s
        time.sleep(0.3)
    raise AssertionError(f"media from {peer_id} did not flow: first={first} last={s}")


def start_relay_only_call(server, browsers, names=("Alice", "Bob")):
    """Two browsers in a new two-seat room whose link forces relay-only ICE,
    connected with media flowing both ways. Returns (drivers, peer ids as each
    side sees the other)."""
    room = server.create_room(max_peers=2)
    url = room["url"].replace("?room=", "?relay=1&room=")
    drivers = [browsers.new(), browsers.new()]
    for d, name in zip(drivers, names):
        join(d, url, name)
        assert d.execute_script("return document.body.dataset.screen") == "call", error_text(d)
    a, b = drivers
    [b_id] = wait_connected(a, 1, timeout=40)
    [a_id] = wait_connected(b, 1, timeout=40)
    wait_media_flowing(a, b_id)
    wait_media_flowing(b, a_id)
    return drivers, (b_id, a_id)
