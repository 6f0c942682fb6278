#!/usr/bin/env python3
"""Hardening: the proxy's sandbox, per-VM limits, faults, floods and a soak.

The tests that measure something print it ("numbers:" lines), so that the
figures are in the test log; their pass criteria are generous bounds, never
a benchmark.
"""

import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from prismtest import DATA_DIR, Prism, Skip, check, exclusive, main, wait_for
from wlraw import RawClient, header, i32, memfd, message, string, u32
import test_proxy

BENCH = os.environ.get("PRISM_BENCH", "prism-bench")
PROXY = os.environ.get("PRISM_PROXY_BIN", "prism-proxy")
SANITIZED = os.environ.get("PRISM_SANITIZED") == "1"


def proxy_pid(p, vm="work"):
    return {v["name"]: v for v in p.vm_list()}[vm]["proxy_pid"]


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def numbers(text):
    print(f"numbers: {text}")


def forbidden_call_kills_the_proxy(call):
    if SANITIZED and call == "open":
        raise Skip("sanitizer builds let read-only opens through the "
                   "sandbox (their runtime reads /proc); the write-open "
                   "this test tries is still refused, but the build "
                   "differs, so the normal build is the one that counts")
    p = Prism()
    os.environ["PRISM_PROXY_SELFTEST"] = call
    try:
        p.start()
    finally:
        del os.environ["PRISM_PROXY_SELFTEST"]
    clean = False
    try:
        p.test_client("personal", title="other VM")
        old = proxy_pid(p)
        t0 = time.monotonic()
        os.kill(old, signal.SIGUSR1)
        wait_for(lambda: f"proxy (pid {old}) was killed by signal "
                 f"{int(signal.SIGSYS)}" in p.read_log(), timeout=5,
                 what=f"prism to report the proxy killed by SIGSYS for {call}")
        wait_for(lambda: proxy_pid(p) not in (0, old), timeout=5,
                 what="the proxy to be restarted")
        numbers(f"{call}: proxy back after {time.monotonic() - t0:.3f} s")
        p.test_client("work", title="after")
        titles = sorted(w["title"] for w in p.windows())
        check(titles == ["after", "other VM"], f"{titles}")
        clean = True
    finally:
        p.stop(expect_clean=clean)


def test_sandbox_kills_the_proxy_on_open():
    forbidden_call_kills_the_proxy("open")


def test_sandbox_kills_the_proxy_on_connect():
    forbidden_call_kills_the_proxy("connect")


def test_sandbox_kills_the_proxy_on_execve():
    forbidden_call_kills_the_proxy("execve")


def test_proxy_runs_confined_with_only_its_fds():
    with Prism() as p:
        pid = proxy_pid(p)
        status = open(f"/proc/{pid}/status").read()
        check("NoNewPrivs:\t1" in status, "no_new_privs is not set")
        check("Seccomp:\t2" in status, "no seccomp filter")
        targets = sorted(os.readlink(f"/proc/{pid}/fd/{fd}")
                         for fd in os.listdir(f"/proc/{pid}/fd"))
        kinds = [t.split(":")[0] if ":" in t else "file" for t in targets]
        # stderr (the log), the listening socket, the connector, epoll and
        # the signalfd: nothing else.
        check(len(targets) == 5 and kinds.count("socket") == 2 and
              "anon_inode" in kinds, f"unexpected fds: {targets}")


def test_standalone_proxy_is_confined_and_works():
    with Prism(vms=()) as p:
        sock = os.path.join(p.runtime, "standalone.sock")
        allowlist = os.path.join(DATA_DIR, "allowlist", "default.conf")
        proxy = subprocess.Popen([PROXY, "--listen", sock, "--upstream",
                                  os.path.join(p.runtime, "wayland-0"),
                                  "--allowlist", allowlist],
                                 env=p.env(), stderr=subprocess.PIPE)
        try:
            wait_for(lambda: os.path.exists(sock), what="the proxy socket")
            status = open(f"/proc/{proxy.pid}/status").read()
            check("Seccomp:\t2" in status and "NoNewPrivs:\t1" in status,
                  "the standalone proxy is not confined")
            c = p.spawn([os.environ["PRISM_TEST_CLIENT"], "--title", "via"],
                        extra_env={"WAYLAND_DISPLAY": sock})
            c.wait_mapped()
            check([w["title"] for w in p.windows()] == ["via"],
                  f"{p.windows()}")
        finally:
            proxy.terminate()
            proxy.wait()


def limited(extra):
    return Prism(vm_extra={"work": extra})


def other_vm_still_works(p):
    other = RawClient(p.vm_socket("personal"))
    other.sync()
    other.close()


def test_limit_connections_per_vm():
    with limited("max-connections = 3") as p:
        clients = [RawClient(p.vm_socket("work")) for _ in range(3)]
        for c in clients:
            c.sync()
        extra = RawClient(p.vm_socket("work"))
        extra.events(timeout=3)
        check(extra.closed, "a fourth connection was accepted")
        for c in clients:
            c.sync()
        check("refusing a connection: 3 connections is the limit" in
              p.read_log(), "no log line for the refused connection")
        other_vm_still_works(p)


def test_limit_objects_per_client():
    with limited("max-objects = 32") as p:
        c = RawClient(p.vm_socket("work"))
        comp = test_proxy.compositor(c)
        for _ in range(40):
            c.request(comp, 1, u32(c.new_id()))  # create_region
        error, closed = c.expect_error()
        check(error is not None and "too many objects" in error[2] and closed,
              f"{error}")
        other_vm_still_works(p)


def test_limit_fds_in_flight():
    with limited("max-fds-in-flight = 2") as p:
        c = RawClient(p.vm_socket("work"))
        s = test_proxy.shm(c)
        fds = [memfd(4096) for _ in range(3)]
        c.request(s, 0, u32(c.new_id()) + i32(4096), fds=fds)
        for fd in fds:
            os.close(fd)
        error, closed = c.expect_error()
        check(error is not None and "more than 2 fds in flight" in error[2],
              f"{error}")
        other_vm_still_works(p)


def test_limit_shm_pool_size():
    with limited("max-shm-pool-bytes = 65536") as p:
        c = RawClient(p.vm_socket("work"))
        s = test_proxy.shm(c)
        fd = memfd(1 << 20)
        c.request(s, 0, u32(c.new_id()) + i32(1 << 20), fds=[fd])
        os.close(fd)
        error, closed = c.expect_error()
        check(error is not None and "is not in 1..65536" in error[2], f"{error}")
        other_vm_still_works(p)


def test_limit_surfaces_per_vm():
    with limited("max-surfaces = 5") as p:
        first = RawClient(p.vm_socket("work"))
        comp = test_proxy.compositor(first)
        for _ in range(3):
            first.request(comp, 0, u32(first.new_id()))
        first.sync()
        second = RawClient(p.vm_socket("work"))
        comp2 = test_proxy.compositor(second)
        for _ in range(3):
            second.request(comp2, 0, u32(second.new_id()))
        error, closed = second.expect_error()
        check(error is not None and closed, f"the sixth surface was allowed")
        check("more than 5 surfaces in the VM" in p.read_log(), "no log line")
        first.sync()
        other_vm_still_works(p)


def test_client_that_stops_reading_is_disconnected():
    with limited("max-buffer-bytes = 65536") as p:
        other = RawClient(p.vm_socket("personal"))
        other.sync()
        lazy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lazy.connect(p.vm_socket("work"))
        lazy.settimeout(10)
        sent = 0
        t0 = time.monotonic()
        try:
            # wl_display.sync, over and over, never reading the answers.
            for i in range(200000):
                lazy.sendall(message(1, 0, u32(2 + i)))
                sent += 1
        except OSError:
            pass
        wait_for(lambda: "stopped reading its events" in p.read_log(),
                 timeout=10, what="the proxy to cut the lazy client off")
        numbers(f"lazy client cut off after {sent} requests "
                f"({time.monotonic() - t0:.2f} s)")
        other.sync()
        check(p.alive(), "prism died")
        lazy.close()


def run_bench(p, vm, mode, n):
    res = subprocess.run([BENCH, mode, str(n)], capture_output=True, text=True,
                         env=p.env(p.display_for(vm)), timeout=300)
    check(res.returncode == 0, f"prism-bench {mode}: {res.stderr}")
    return dict(kv.split("=") for kv in res.stdout.split()[1:])


@exclusive
def test_flooding_vm_does_not_slow_another_vm():
    with Prism() as p:
        quiet = run_bench(p, "personal", "latency", 500)
        # The flooding guest gets the lowest CPU priority, as a VM's own
        # work would on its own vCPUs: what is measured is prism and the
        # proxies serving both VMs, not two processes fighting for a core.
        flood = subprocess.Popen([BENCH, "flood", "3000000"],
                                 env=p.env(p.vm_socket("work")),
                                 stdout=subprocess.PIPE, text=True,
                                 preexec_fn=lambda: os.nice(19))
        time.sleep(0.3)
        busy = run_bench(p, "personal", "latency", 1000)
        flooding = flood.poll() is None
        flood.kill()
        flood.wait()
        numbers(f"round trip of VM personal, quiet: median "
                f"{quiet['median_us']} us p99 {quiet['p99_us']} us; while VM "
                f"work floods: median {busy['median_us']} us p99 "
                f"{busy['p99_us']} us")
        check(flooding, "the flood ended before the measurement did")
        check(float(busy["p99_us"]) < 5000,
              f"p99 round trip {busy['p99_us']} us under a flood")


def test_closing_mid_message_with_fds_leaks_nothing():
    with Prism() as p:
        pid = proxy_pid(p)
        prism_pid = p.proc.pid
        warm = RawClient(p.vm_socket("work"))
        warm.sync()
        warm.close()
        time.sleep(0.2)
        proxy_base, prism_base = fd_count(pid), fd_count(prism_pid)
        for _ in range(20):
            # The guest end hangs up in the middle of create_pool, its fd
            # already sent.
            c = RawClient(p.vm_socket("work"))
            s = test_proxy.shm(c)
            fd = memfd(4096)
            whole = message(s, 0, u32(c.new_id()) + i32(4096))
            c.send(whole[:10], fds=[fd])
            os.close(fd)
            c.close()
            # The compositor end hangs up on a client that has a pool (and
            # so an fd) open: acknowledging a configure of an xdg_surface
            # without a role is an error the proxy lets prism find.
            c = RawClient(p.vm_socket("work"))
            test_proxy.pool(c)
            comp = c.bind("wl_compositor", version=4)
            wm = c.bind("xdg_wm_base", version=1)
            surf, xs = c.new_id(), c.new_id()
            c.request(comp, 0, u32(surf))
            c.request(wm, 2, u32(xs) + u32(surf))
            c.request(xs, 4, u32(12345))
            error, closed = c.expect_error()
            check(error is not None and closed, f"{error}")
            c.close()
        wait_for(lambda: fd_count(pid) == proxy_base and
                 fd_count(prism_pid) == prism_base, timeout=5,
                 what=f"fd counts to return: proxy {fd_count(pid)} "
                 f"(was {proxy_base}), prism {fd_count(prism_pid)} "
                 f"(was {prism_base})")
        numbers(f"after 40 broken connections: proxy fds {fd_count(pid)} "
                f"(baseline {proxy_base}), prism fds {fd_count(prism_pid)} "
                f"(baseline {prism_base})")


@exclusive
def test_soak_10000_client_lives_leave_fds_and_memory_flat():
    with Prism() as p:
        pid, prism_pid = proxy_pid(p), p.proc.pid
        run_bench(p, "work", "soak", 500)  # warm up caches and allocators
        time.sleep(0.3)
        start = (fd_count(prism_pid), rss_kib(prism_pid), fd_count(pid),
                 rss_kib(pid))
        result = run_bench(p, "work", "soak", 10000)
        time.sleep(0.3)
        end = (fd_count(prism_pid), rss_kib(prism_pid), fd_count(pid),
               rss_kib(pid))
        numbers(f"soak of {result['cycles']} cycles in {result['seconds']} s: "
                f"prism fds {start[0]} -> {end[0]}, RSS {start[1]} -> "
                f"{end[1]} KiB; proxy fds {start[2]} -> {end[2]}, RSS "
                f"{start[3]} -> {end[3]} KiB")
        check(result["failed"] == "0", f"{result['failed']} cycles failed")
        check(end[0] == start[0] and end[2] == start[2], "fds leaked")
        # AddressSanitizer keeps freed memory in quarantine (up to 256 MiB),
        # so resident memory says nothing in those builds; LeakSanitizer
        # speaks for leaks there.
        if not SANITIZED:
            check(end[1] - start[1] < 4096 and end[3] - start[3] < 1024,
                  "memory grew over the soak")
        check(p.windows() == [], f"windows left behind: {p.windows()}")


if __name__ == "__main__":
    sys.exit(main([
        test_sandbox_kills_the_proxy_on_open,
        test_sandbox_kills_the_proxy_on_connect,
        test_sandbox_kills_the_proxy_on_execve,
        test_proxy_runs_confined_with_only_its_fds,
        test_standalone_proxy_is_confined_and_works,
        test_limit_connections_per_vm,
        test_limit_objects_per_client,
        test_limit_fds_in_flight,
        test_limit_shm_pool_size,
        test_limit_surfaces_per_vm,
        test_client_that_stops_reading_is_disconnected,
        test_flooding_vm_does_not_slow_another_vm,
        test_closing_mid_message_with_fds_leaks_nothing,
        test_soak_10000_client_lives_leave_fds_and_memory_flat,
    ]))
