#!/usr/bin/env python3
"""Prism's proxy benchmark, run on demand: ./tests/bench/run-bench.py BUILD_DIR

In one run, against one headless prism, it measures each path side by side:
direct to the host socket, through a standalone prism-proxy, through a VM
socket (prism's own proxy), and through waypipe (uncompressed) when it is
installed; plus a bare Unix-socket ping-pong as the floor. Rounds rotate the
paths so that noise on this shared machine falls on all of them alike, and
the median round is reported. It prints one table and the ratios.

Then the compositor itself: the time prism takes to compose a frame (from
prismctl stats) while 1 and then 20 framed VM windows redraw themselves on
every frame callback, side by side in the same rounds.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

ROUNDS = 3
WORK = {"latency": 2000, "flood": 200000, "shm": 200, "dmabuf": 200}
ANIMATE_FRAMES = 180
WINDOW_COUNTS = (1, 20)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    os.environ.setdefault("PRISM", f"{build}/compositor/prism")
    os.environ.setdefault("PRISMCTL", f"{build}/compositor/prismctl")
    os.environ.setdefault("PRISM_TEST_CLIENT", f"{build}/tests/prism-test-client")
    import prismtest
    from prismtest import Prism
    from wlraw import RawClient

    bench = f"{build}/tests/prism-bench"
    proxy_bin = f"{build}/proxy/prism-proxy"
    allowlist = os.path.join(prismtest.DATA_DIR, "allowlist", "default.conf")

    # PRISM_BENCH_RENDERER=gles2 on a machine with a GPU; PRISM_BENCH_ONLY=
    # compose skips the proxy measurements (tools/gpu-check).
    renderer = os.environ.get("PRISM_BENCH_RENDERER", "pixman")
    compose_only = os.environ.get("PRISM_BENCH_ONLY") == "compose"
    work = {} if compose_only else WORK
    p = Prism(vms=(("bench", "Bench", "#336699"),), renderer=renderer).start()
    procs = []
    try:
        rt = p.runtime
        proxy_sock = os.path.join(rt, "proxy.sock")
        proxy = subprocess.Popen([proxy_bin, "--listen", proxy_sock,
                                  "--upstream", os.path.join(rt, "wayland-0"),
                                  "--allowlist", allowlist, "--vm", "bench"],
                                 env=p.env(), stderr=subprocess.DEVNULL)
        procs.append(proxy)
        paths = {
            "direct": ("wayland-0", None),
            "prism-proxy": (proxy_sock, None),
            "VM socket": (p.vm_socket("bench"), None),
        }
        if shutil.which("waypipe"):
            wp_sock = os.path.join(rt, "waypipe.sock")
            client = subprocess.Popen(["waypipe", "-n", "-c", "none", "-s",
                                       wp_sock, "client"],
                                      env=p.env("wayland-0"),
                                      stderr=subprocess.DEVNULL)
            procs.append(client)
            paths["waypipe"] = (None, wp_sock)
        prismtest.wait_for(lambda: os.path.exists(proxy_sock), what="proxy")

        def run(path, mode):
            display, wp_sock = paths[path]
            argv = [bench, mode, str(work[mode])]
            if wp_sock is not None:
                prismtest.wait_for(lambda: os.path.exists(wp_sock),
                                   what="waypipe")
                argv = ["waypipe", "-n", "-c", "none", "-s", wp_sock,
                        "server", "--"] + argv
                env = p.env("wayland-0")
            else:
                env = p.env(display)
            out = subprocess.run(argv, capture_output=True, text=True,
                                 env=env, timeout=600)
            line = [l for l in out.stdout.splitlines() if l.startswith(mode)]
            if out.returncode != 0 or not line:
                return None
            return dict(kv.split("=") for kv in line[0].split()[1:])

        results = {(path, mode): [] for path in paths for mode in work}
        floor = []
        for _ in range(0 if compose_only else ROUNDS):
            out = subprocess.run([bench, "pingpong", str(WORK["latency"])],
                                 capture_output=True, text=True)
            floor.append(dict(kv.split("=") for kv in
                              out.stdout.split()[1:]))
            for mode in work:
                for path in paths:
                    r = run(path, mode)
                    if r is not None:
                        results[(path, mode)].append(r)

        def stats():
            out = p.ctl("stats").stdout
            return dict(line.split(" ", 1) for line in out.splitlines()
                        if line)

        def frame_time(count):
            before = stats()
            clients = [subprocess.Popen([bench, "animate",
                                         str(ANIMATE_FRAMES)],
                                        env=p.env(p.vm_socket("bench")),
                                        stdout=subprocess.DEVNULL)
                       for _ in range(count)]
            for c in clients:
                c.wait(timeout=600)
            after = stats()
            frames = int(after["frames"]) - int(before["frames"])
            total = float(after["render-us-total"]) - \
                float(before["render-us-total"])
            return total / frames / 1000.0 if frames else None

        frame_times = {k: [] for k in WINDOW_COUNTS}
        for _ in range(ROUNDS):
            for k in WINDOW_COUNTS:
                t = frame_time(k)
                if t is not None:
                    frame_times[k].append(t)
        frame_path = stats()["frame-path"]

        # Proxy memory: idle, then with 20 connected clients.
        idle = rss_kib(proxy.pid)
        clients = [RawClient(proxy_sock) for _ in range(20)]
        for c in clients:
            c.get_registry()
        busy = rss_kib(proxy.pid)
        for c in clients:
            c.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
        p.stop(expect_clean=False)

    def med(path, mode, key):
        values = [float(r[key]) for r in results[(path, mode)]]
        return statistics.median(values) if values else None

    print(f"compose time per frame ({frame_path}, one 1280x720 output, "
          f"320x240 windows redrawing on every frame callback):")
    for k in WINDOW_COUNTS:
        if frame_times[k]:
            print(f"  {k:>2} window{'s' if k > 1 else ' '}: "
                  f"{statistics.median(frame_times[k]):.2f} ms")
        else:
            print(f"  {k:>2} windows: no frame measured")
    if all(frame_times[k] for k in WINDOW_COUNTS):
        a, b = (statistics.median(frame_times[k]) for k in WINDOW_COUNTS)
        print(f"  {WINDOW_COUNTS[1]} windows cost {b / a:.2f}x "
              f"{WINDOW_COUNTS[0]} window")
    if compose_only:
        return
    print()
    floor_median = statistics.median(float(f["median_us"]) for f in floor)
    floor_p99 = statistics.median(float(f["p99_us"]) for f in floor)
    print(f"{'path':<14} {'rtt median us':>14} {'rtt p99 us':>11} "
          f"{'flood req/s':>12} {'1080p shm commits/s':>20} "
          f"{'1080p dmabuf commits/s':>23}")
    print(f"{'socket floor':<14} {floor_median:>14.1f} {floor_p99:>11.1f} "
          f"{'':>12} {'':>20} {'':>23}")
    for path in paths:
        cells = [med(path, "latency", "median_us"),
                 med(path, "latency", "p99_us"),
                 med(path, "flood", "requests_per_s"),
                 med(path, "shm", "commits_per_s"),
                 med(path, "dmabuf", "commits_per_s")]
        text = [f"{c:.1f}" if c is not None else "failed" for c in cells]
        print(f"{path:<14} {text[0]:>14} {text[1]:>11} "
              f"{text[2]:>12} {text[3]:>20} {text[4]:>23}")

    direct_rtt = med("direct", "latency", "median_us")
    print()
    for path in paths:
        if path == "direct":
            continue
        rtt = med(path, "latency", "median_us")
        flood = med(path, "flood", "requests_per_s")
        shm = med(path, "shm", "commits_per_s")
        if None in (rtt, flood, shm):
            print(f"{path}: a measurement failed")
            continue
        print(f"{path}: added round trip {rtt - direct_rtt:.1f} us "
              f"({(rtt - direct_rtt) / floor_median:.2f}x the bare ping-pong); "
              f"flood {flood / med('direct', 'flood', 'requests_per_s'):.2f}x "
              f"direct; shm commits "
              f"{shm / med('direct', 'shm', 'commits_per_s'):.2f}x direct")
    if "waypipe" in paths and med("waypipe", "shm", "commits_per_s"):
        print(f"prism-proxy shm commits are "
              f"{med('prism-proxy', 'shm', 'commits_per_s') / med('waypipe', 'shm', 'commits_per_s'):.1f}x "
              f"waypipe's")
    for path in paths:
        shm, dma = med(path, "shm", "commits_per_s"), \
            med(path, "dmabuf", "commits_per_s")
        if shm and dma:
            print(f"{path}: dmabuf commits {dma / shm:.2f}x shm commits")
    print(f"prism-proxy RSS: {idle} KiB idle, {busy} KiB with 20 clients "
          f"({(busy - idle) / 20:.0f} KiB per connection)")


if __name__ == "__main__":
    main()
