#!/usr/bin/env python3
"""prism-proxy against hostile guests, through a VM socket of a running prism.

Every case connects to VM "work" and breaks one rule of the wire protocol or
of the VM's policy. Each asserts that the offender got wl_display.error with
the expected reason and was disconnected, that prism is alive, that a client
of a second VM still round-trips, that the proxy did not die, and that the
proxy's open fds are back to their baseline.
"""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from prismtest import DATA_DIR, Prism, check, main, wait_for
from wlraw import RawClient, header, i32, memfd, message, string, u32

# Object ids and opcodes used below, from the protocol XML.
WL_DISPLAY, SYNC, GET_REGISTRY = 1, 0, 1
CREATE_SURFACE, CREATE_REGION = 0, 1  # wl_compositor
SHM_CREATE_POOL = 0
POOL_CREATE_BUFFER, POOL_DESTROY, POOL_RESIZE = 0, 1, 2
SURFACE_ATTACH, SURFACE_DAMAGE_BUFFER = 1, 9
REGION_DESTROY, REGION_ADD = 0, 1
GET_XDG_SURFACE = 2  # xdg_wm_base
SEAT_GET_TOUCH = 2

STRICT_PROFILE = """\
wl_compositor 4
wl_shm 1
wl_seat 7
deny wl_shm.create_pool
deny wl_seat.get_touch
"""


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def settled(pid):
    """The proxy is in its sandbox: start-up (and, in sanitizer builds, the
    leak check that runs before the sandbox, with fds of its own) is over,
    so its fd count is its steady one."""
    with open(f"/proc/{pid}/status") as f:
        return "Seccomp:\t2" in f.read()


def with_registry(c):
    c.get_registry()
    return c


def compositor(c, version=None):
    with_registry(c)
    return c.bind("wl_compositor", version)


def shm(c):
    with_registry(c)
    return c.bind("wl_shm")


def pool(c, size=4096, fd_size=None):
    s = shm(c)
    p = c.new_id()
    fd = memfd(size if fd_size is None else fd_size)
    c.request(s, SHM_CREATE_POOL, u32(p) + i32(size), fds=[fd])
    os.close(fd)
    c.sync()
    return p


# Each attack returns nothing; the harness then waits for the error.

def size_below_header(c):
    c.send(header(WL_DISPLAY, SYNC, 4) + u32(2))


def size_not_multiple_of_4(c):
    c.send(header(WL_DISPLAY, SYNC, 10) + u32(2) + b"\0\0\0\0")


def size_above_4096(c):
    c.send(header(WL_DISPLAY, SYNC, 4100) + b"\0" * 4092)


def unknown_object(c):
    c.request(55, 0, u32(2))


def object_id_zero(c):
    c.request(0, 0)


def opcode_out_of_range(c):
    c.request(WL_DISPLAY, 7, u32(2))


def request_newer_than_version(c):
    comp = compositor(c, version=3)
    surf = c.new_id()
    c.request(comp, CREATE_SURFACE, u32(surf))
    c.request(surf, SURFACE_DAMAGE_BUFFER, i32(0) * 4)


def string_length_near_uint32_max(c):
    with_registry(c)
    name = c.globals["wl_compositor"][0]
    c.request(c.registry, 0, u32(name) + u32(0xfffffffc) + b"wl_compositor\0\0\0"
              + u32(1) + u32(9))


def string_without_nul(c):
    with_registry(c)
    name = c.globals["wl_shm"][0]
    c.request(c.registry, 0, u32(name) + u32(6) + b"wl_shmXX" + u32(1) + u32(9))


def string_with_inner_nul(c):
    with_registry(c)
    name = c.globals["wl_shm"][0]
    c.request(c.registry, 0, u32(name) + u32(8) + b"wl\0shm\0\0" + u32(1) +
              u32(9))


def null_string(c):
    with_registry(c)
    name = c.globals["wl_shm"][0]
    c.request(c.registry, 0, u32(name) + u32(0) + u32(1) + u32(9))


def argument_past_end(c):
    # wl_display.sync without its new_id argument.
    c.request(WL_DISPLAY, SYNC)


def trailing_bytes(c):
    c.request(WL_DISPLAY, SYNC, u32(2) + u32(0))


def wrong_object_type(c):
    comp = compositor(c)
    surf, region = c.new_id(), c.new_id()
    c.request(comp, CREATE_SURFACE, u32(surf))
    c.request(comp, CREATE_REGION, u32(region))
    c.request(surf, SURFACE_ATTACH, u32(region) + i32(0) + i32(0))


def null_object_not_nullable(c):
    with_registry(c)
    wm = c.bind("xdg_wm_base")
    c.request(wm, GET_XDG_SURFACE, u32(c.new_id()) + u32(0))


def new_id_reused(c):
    comp = compositor(c)
    surf = c.new_id()
    c.request(comp, CREATE_SURFACE, u32(surf))
    c.request(comp, CREATE_SURFACE, u32(surf))


def new_id_in_server_range(c):
    comp = compositor(c)
    c.request(comp, CREATE_SURFACE, u32(0xff000001))


def new_id_skips_ahead(c):
    comp = compositor(c)
    c.request(comp, CREATE_SURFACE, u32(1000))


def new_id_is_display(c):
    c.request(WL_DISPLAY, GET_REGISTRY, u32(WL_DISPLAY))


def missing_fd(c):
    s = shm(c)
    c.request(s, SHM_CREATE_POOL, u32(c.new_id()) + i32(4096))


def extra_fd(c):
    fd = memfd(64)
    c.request(WL_DISPLAY, SYNC, u32(c.new_id()), fds=[fd])
    os.close(fd)


def too_many_fds_at_once(c):
    fds = [memfd(16) for _ in range(40)]
    s = shm(c)
    c.request(s, SHM_CREATE_POOL, u32(c.new_id()) + i32(16), fds=fds)
    for fd in fds:
        os.close(fd)


def bind_hidden_global(c, hidden_name):
    with_registry(c)
    c.bind("zwlr_screencopy_manager_v1", version=1, name=hidden_name)


def bind_wrong_interface(c):
    with_registry(c)
    name = c.globals["wl_compositor"][0]
    c.bind("wl_compositor", version=1, name=name, as_iface="wl_shm")


def bind_version_too_high(c):
    with_registry(c)
    c.bind("wl_compositor", version=99)


def bind_version_zero(c):
    with_registry(c)
    c.bind("wl_compositor", version=0)


def shm_pool_smaller_than_declared(c):
    s = shm(c)
    fd = memfd(100)
    c.request(s, SHM_CREATE_POOL, u32(c.new_id()) + i32(65536), fds=[fd])
    os.close(fd)


def shm_pool_fd_not_a_file(c):
    s = shm(c)
    a, b = socket.socketpair()
    c.request(s, SHM_CREATE_POOL, u32(c.new_id()) + i32(4096),
              fds=[a.fileno()])
    a.close()
    b.close()


def shm_pool_negative_size(c):
    s = shm(c)
    fd = memfd(4096)
    c.request(s, SHM_CREATE_POOL, u32(c.new_id()) + i32(-4096), fds=[fd])
    os.close(fd)


def buffer_outside_pool(c):
    p = pool(c, size=4096)
    c.request(p, POOL_CREATE_BUFFER, u32(c.new_id()) + i32(0) + i32(64) +
              i32(64) + i32(256) + u32(0))


def buffer_negative_offset(c):
    p = pool(c, size=4096)
    c.request(p, POOL_CREATE_BUFFER, u32(c.new_id()) + i32(-256) + i32(8) +
              i32(8) + i32(32) + u32(0))


def pool_resize_shrinks(c):
    p = pool(c, size=4096)
    c.request(p, POOL_RESIZE, i32(1024))


def pool_resize_beyond_fd(c):
    p = pool(c, size=4096, fd_size=4096)
    c.request(p, POOL_RESIZE, i32(1 << 20))


def request_to_destroyed_object(c):
    comp = compositor(c)
    region = c.new_id()
    c.request(comp, CREATE_REGION, u32(region))
    c.request(region, REGION_DESTROY)
    c.request(region, REGION_ADD, i32(0) * 4)


def garbage_after_valid(c):
    c.sync()
    c.send(os.urandom(8) + b"\xff" * 64)


def denied_request(c):
    s = shm(c)
    fd = memfd(4096)
    c.request(s, SHM_CREATE_POOL, u32(c.new_id()) + i32(4096), fds=[fd])
    os.close(fd)


def denied_request_creating_object(c):
    with_registry(c)
    seat = c.bind("wl_seat", version=7)
    c.request(seat, SEAT_GET_TOUCH, u32(c.new_id()))


# name, attack, expected reason (substring), needs
CASES = [
    ("size_below_header", size_below_header, "smaller than its header"),
    ("size_not_multiple_of_4", size_not_multiple_of_4, "not a multiple of 4"),
    ("size_above_4096", size_above_4096, "above 4096"),
    ("unknown_object", unknown_object, "unknown object 55"),
    ("object_id_zero", object_id_zero, "unknown object 0"),
    ("opcode_out_of_range", opcode_out_of_range, "has no request 7"),
    ("request_newer_than_version", request_newer_than_version,
     "needs version 4"),
    ("string_length_near_uint32_max", string_length_near_uint32_max,
     "runs past the message"),
    ("string_without_nul", string_without_nul, "not NUL-terminated"),
    ("string_with_inner_nul", string_with_inner_nul, "NUL inside"),
    ("null_string", null_string, "null string"),
    ("argument_past_end", argument_past_end, "ends before argument"),
    ("trailing_bytes", trailing_bytes, "after the last argument"),
    ("wrong_object_type", wrong_object_type, "is a wl_region, not a wl_buffer"),
    ("null_object_not_nullable", null_object_not_nullable, "null object"),
    ("new_id_reused", new_id_reused, "already in use"),
    ("new_id_in_server_range", new_id_in_server_range,
     "not in the client's range"),
    ("new_id_skips_ahead", new_id_skips_ahead, "skips ahead"),
    ("new_id_is_display", new_id_is_display, "not in the client's range"),
    ("missing_fd", missing_fd, "none was sent"),
    ("extra_fd", extra_fd, "messages that take none"),
    ("too_many_fds_at_once", too_many_fds_at_once, "control data truncated"),
    ("bind_hidden_global", bind_hidden_global, "never advertised"),
    ("bind_wrong_interface", bind_wrong_interface, "but it is wl_compositor"),
    ("bind_version_too_high", bind_version_too_high, "above the allowed"),
    ("bind_version_zero", bind_version_zero, "above the allowed"),
    ("shm_pool_smaller_than_declared", shm_pool_smaller_than_declared,
     "smaller than the declared"),
    ("shm_pool_fd_not_a_file", shm_pool_fd_not_a_file,
     "not a regular file or memfd"),
    ("shm_pool_negative_size", shm_pool_negative_size, "is not in 1.."),
    ("buffer_outside_pool", buffer_outside_pool, "outside its pool"),
    ("buffer_negative_offset", buffer_negative_offset, "outside its pool"),
    ("pool_resize_shrinks", pool_resize_shrinks, "is not allowed"),
    ("pool_resize_beyond_fd", pool_resize_beyond_fd,
     "smaller than the declared"),
    ("request_to_destroyed_object", request_to_destroyed_object,
     "to unknown object"),
    ("garbage_after_valid", garbage_after_valid, ""),
    ("denied_request", denied_request, "denied by this VM's policy"),
    ("denied_request_creating_object", denied_request_creating_object,
     "denied by this VM's policy"),
]
STRICT_CASES = {"denied_request", "denied_request_creating_object"}


def strict_prism():
    """A prism whose VM "work" uses a profile with deny rules."""
    import tempfile
    d = tempfile.mkdtemp(prefix="prism-allowlist-")
    with open(os.path.join(DATA_DIR, "allowlist", "default.conf")) as f:
        default = f.read()
    with open(os.path.join(d, "default.conf"), "w") as f:
        f.write(default)
    with open(os.path.join(d, "strict.conf"), "w") as f:
        f.write(STRICT_PROFILE)
    p = Prism(vm_extra={"work": "allowlist = strict"}, allowlist_dir=d)
    return p


def run_case(name, attack, expected):
    p = strict_prism() if name in STRICT_CASES else Prism()
    with p:
        proxy_pid = {v["name"]: v for v in p.vm_list()}["work"]["proxy_pid"]
        wait_for(lambda: settled(proxy_pid), what="the proxy's sandbox")
        other = RawClient(p.vm_socket("personal"))
        other.sync()
        baseline = fd_count(proxy_pid)
        c = RawClient(p.vm_socket("work"))
        if attack is bind_hidden_global:
            host = RawClient(os.path.join(p.runtime, "wayland-0"))
            host.get_registry()
            attack(c, host.globals["zwlr_screencopy_manager_v1"][0])
            host.close()
        else:
            attack(c)
        error, closed = c.expect_error()
        check(error is not None, f"{name}: no wl_display.error "
              f"(closed: {closed})")
        check(expected in error[2], f"{name}: error {error!r} does not say "
              f"{expected!r}")
        check(closed, f"{name}: the offender was not disconnected")
        c.close()
        check(p.alive(), f"{name}: prism died")
        other.sync()
        wait_for(lambda: fd_count(proxy_pid) == baseline, timeout=5,
                 what=f"the proxy's fds to return to {baseline} "
                 f"(now {fd_count(proxy_pid)})")
        now = {v["name"]: v for v in p.vm_list()}["work"]["proxy_pid"]
        check(now == proxy_pid, f"{name}: the proxy was restarted")
        log = p.read_log()
        check(f"prism-proxy: vm=work client=" in log and
              (expected or "") in log,
              f"{name}: no 'vm=work client=N: reason' log line")
        other.close()


def make_test(name, attack, expected):
    def test():
        run_case(name, attack, expected)
    test.__name__ = f"test_hostile_{name}"
    return test


HOSTILE_TESTS = [make_test(*case) for case in CASES]


def test_I7_hostile_vm_only_disconnects_the_offender():
    """I7: a VM's malformed input ends that client alone; its own VM's other
    clients, other VMs' clients and host windows carry on."""
    with Prism() as p:
        p.test_client("work", title="work window")
        p.test_client("personal", title="personal window")
        p.test_client(None, title="host window")
        before = p.wait_windows(3)
        same_vm = RawClient(p.vm_socket("work"))
        same_vm.sync()
        for attack in (size_above_4096, wrong_object_type, missing_fd,
                       bind_version_too_high, buffer_outside_pool):
            c = RawClient(p.vm_socket("work"))
            attack(c)
            error, closed = c.expect_error()
            check(error is not None and closed, f"{attack.__name__}: {error}")
            c.close()
        same_vm.sync()
        after = p.windows()
        check(sorted(w["id"] for w in after) ==
              sorted(w["id"] for w in before),
              f"windows changed: {before} -> {after}")
        check(p.alive(), "prism died")


def test_I4_vm_sees_only_allowlisted_globals_through_the_proxy():
    """I4: what the proxy shows is the allowlist, capped at its versions, and
    binding anything else is refused."""
    with Prism() as p:
        host = RawClient(os.path.join(p.runtime, "wayland-0"))
        host.get_registry()
        vm = RawClient(p.vm_socket("work"))
        vm.get_registry()
        allowed = {}
        with open(os.path.join(DATA_DIR, "allowlist", "default.conf")) as f:
            for line in f:
                words = line.split("#")[0].split()
                if len(words) == 2 and words[0] != "deny":
                    allowed[words[0]] = int(words[1])
        expected = {i: min(v, allowed[i]) for i, (_, v) in host.globals.items()
                    if i in allowed}
        seen = {i: v for i, (_, v) in vm.globals.items()}
        check(seen == expected, f"VM sees {seen}, expected {expected}")
        for hidden in ("prism_control_v1", "zwlr_screencopy_manager_v1",
                       "zwlr_data_control_manager_v1"):
            check(hidden in host.globals and hidden not in vm.globals,
                  f"{hidden} visibility is wrong")
        vm.bind("prism_control_v1", version=1,
                name=host.globals["prism_control_v1"][0])
        error, closed = vm.expect_error()
        check(error is not None and closed and "never advertised" in error[2],
              f"binding the control protocol was not refused: {error}")


def test_shm_seal_required_by_vm_policy():
    """require-shm-seal: an unsealed pool is refused, a sealed one is not."""
    with Prism(vm_extra={"work": "require-shm-seal = yes"}) as p:
        good = RawClient(p.vm_socket("work"))
        s = shm(good)
        fd = memfd(4096, seal=True)
        good.request(s, SHM_CREATE_POOL, u32(good.new_id()) + i32(4096),
                     fds=[fd])
        os.close(fd)
        good.sync()
        bad = RawClient(p.vm_socket("work"))
        s = shm(bad)
        fd = memfd(4096, seal=False)
        bad.request(s, SHM_CREATE_POOL, u32(bad.new_id()) + i32(4096), fds=[fd])
        os.close(fd)
        error, closed = bad.expect_error()
        check(error is not None and "not sealed" in error[2] and closed,
              f"an unsealed pool was not refused: {error}")
        good.sync()
        # Another VM without the option takes unsealed pools.
        other = RawClient(p.vm_socket("personal"))
        s = shm(other)
        fd = memfd(4096, seal=False)
        other.request(s, SHM_CREATE_POOL, u32(other.new_id()) + i32(4096),
                      fds=[fd])
        os.close(fd)
        other.sync()


def test_killed_proxy_is_respawned_and_other_vms_carry_on():
    """prism supervises its proxies: a dead one takes its VM's clients with
    it, is logged, and comes back; the other VM does not notice."""
    import signal
    import time
    with Prism() as p:
        work = p.test_client("work", title="doomed")
        personal = p.test_client("personal", title="survivor")
        p.wait_windows(2)
        old = {v["name"]: v for v in p.vm_list()}["work"]["proxy_pid"]
        os.kill(old, signal.SIGKILL)
        t0 = time.monotonic()
        new = wait_for(lambda: [v for v in p.vm_list() if v["name"] == "work"
                                and v["proxy_pid"] not in (0, old)],
                       timeout=5, what="the proxy to come back")
        back_after = time.monotonic() - t0
        check(back_after < 1.0, f"the proxy took {back_after:.2f}s to return")
        wins = wait_for(lambda: [w["title"] for w in p.windows()] ==
                        ["survivor"] and p.windows(), timeout=5,
                        what="the dead proxy's windows to go")
        check(wins[0]["vm"] == "personal", f"{wins}")
        check(personal.alive(), "the other VM's client died")
        wait_for(lambda: not work.alive(), what="the orphaned client to exit")
        check(f"vm=work: proxy (pid {old}) was killed by signal 9" in
              p.read_log(), "no log line about the dead proxy")
        p.test_client("work", title="reborn")
        titles = sorted(w["title"] for w in p.wait_windows(2))
        check(titles == ["reborn", "survivor"], f"{titles}")
        check(new[0]["proxy_pid"] > 0, f"{new}")


if __name__ == "__main__":
    sys.exit(main(HOSTILE_TESTS + [
        test_I7_hostile_vm_only_disconnects_the_offender,
        test_I4_vm_sees_only_allowlisted_globals_through_the_proxy,
        test_shm_seal_required_by_vm_policy,
        test_killed_proxy_is_respawned_and_other_vms_carry_on,
    ]))
