"""A large file between two Chromiums: picked from disk, streamed over the
DataChannel, verified by SHA-256 on arrival, downloaded by the receiver and
checked again on disk. OTTER_E2E_BIG_MIB sets the size (default 256 MiB; the
node test Tests/webapp/files.test.mjs covers the memory bound of the chunker
and the reassembly)."""
import hashlib
import os
import threading
import time
from pathlib import Path

from selenium.webdriver.common.by import By

from otter_e2e import browsers, otter, output_dir  # noqa: F401  (fixtures)
from otter_e2e import by_testid, error_text, join, wait, wait_connected

BIG_MIB = int(os.environ.get("OTTER_E2E_BIG_MIB", "256"))


def tree_rss(pid):
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(p.name))
    total, todo = 0, [pid]
    while todo:
        q = todo.pop()
        try:
            for line in Path(f"/proc/{q}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
        todo.extend(children.get(q, []))
    return total


def test_a_large_file_arrives_with_the_same_sha256(otter, browsers, tmp_path):
    size = BIG_MIB * 1024 * 1024 + 4321
    path = tmp_path / "large-file.bin"
    want = hashlib.sha256()
    block = os.urandom(4 * 1024 * 1024)
    with open(path, "wb") as f:
        written = 0
        i = 0
        while written < size:
            # every 4 MiB differs (a counter in front), so a misplaced chunk changes the hash
            part = (i.to_bytes(8, "big") + block)[: size - written]
            f.write(part)
            want.update(part)
            written += len(part)
            i += 1
    want = want.hexdigest()

    room = otter.create_room(max_peers=2)
    a, b = browsers.new(), browsers.new()
    join(a, room["url"], "Alice")
    assert a.execute_script("return document.body.dataset.screen") == "call", error_text(a)
    join(b, room["url"], "Bob")
    assert b.execute_script("return document.body.dataset.screen") == "call", error_text(b)
    wait_connected(a, 1, timeout=40)
    wait_connected(b, 1, timeout=40)
    a.find_element(By.ID, "tab-files").click()
    b.find_element(By.ID, "tab-files").click()

    # the receiving browser's memory (all its processes) while the file moves
    pid = b.service.process.pid
    base = tree_rss(pid)
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(pid))
            stop.wait(0.25)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    started = time.time()
    by_testid(a, "file-input").send_keys(str(path))
    li = '[data-testid="file-list"] li[data-direction="receive"]'
    try:
        wait(b, lambda d: d.execute_script(f"const li=document.querySelector('{li}'); return li && li.dataset.state"), 30,
             "the receiver never saw the offer")
        wait(b, lambda d: d.execute_script(f"return document.querySelector('{li}').dataset.state") in ("done", "failed", "cancelled"),
             max(200, BIG_MIB), "the file never finished")  # ≥ 1 MiB/s; this VM does 4-6
    finally:
        stop.set()
        sampler.join()
    elapsed = time.time() - started
    assert b.execute_script(f"return document.querySelector('{li}').dataset.state") == "done", b.find_element(By.CSS_SELECTOR, li).text
    assert b.find_element(By.CSS_SELECTOR, li).get_attribute("data-sha256") == want
    wait(a, lambda d: d.execute_script(
        "const li=document.querySelector('[data-testid=\"file-list\"] li[data-direction=\"send\"]'); return li && li.dataset.state === 'done'"),
        30, "the sender never saw it verified")
    growth = peak[0] - base
    # the receiver keeps the file once (its Blob); a second copy (one big
    # ArrayBuffer, a concatenation) would make the browser grow by 2x the size
    assert growth < 1.6 * size, f"the receiving browser grew by {growth / 2**20:.0f} MiB for a {BIG_MIB} MiB file"
    print(f"{BIG_MIB} MiB in {elapsed:.1f} s = {BIG_MIB / elapsed:.1f} MiB/s; receiving browser grew by at most "
          f"{growth / 2**20:.0f} MiB (from {base / 2**20:.0f} MiB)")

    # Bob saves it, as a person would, and the file on disk is the same
    link = b.find_element(By.CSS_SELECTOR, f"{li} a[download]")
    assert link.get_attribute("download") == "large-file.bin"
    link.click()
    target = b.downloads / "large-file.bin"
    deadline = time.time() + 60
    while time.time() < deadline and not (target.exists() and target.stat().st_size == size):
        time.sleep(0.3)
    assert target.exists() and target.stat().st_size == size, list(b.downloads.iterdir())
    got = hashlib.sha256()
    with open(target, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            got.update(chunk)
    assert got.hexdigest() == want
