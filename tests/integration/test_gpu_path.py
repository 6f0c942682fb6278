#!/usr/bin/env python3
"""The GPU path: dmabuf windows, Prism's own dmabuf checks, damage, GLES2.

On the CPU (pixman, as in CI) a VM's dmabuf is a memfd sealed against
shrinking, standing in where no dmabuf exporter exists, or a real dmabuf
from udmabuf where the kernel offers it; prism maps LINEAR buffers. The
GLES2 tests need a DRM render node and say skipped without one.
"""

import glob
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from prismtest import (BACKGROUND, Prism, Skip, check, frame_colour, main,
                       require_tool, rgb, wait_for)
from test_compositor import check_frame
from wlraw import RawClient, i32, memfd, u32

# zwp_linux_dmabuf_v1 and zwp_linux_buffer_params_v1, from the XML.
CREATE_PARAMS = 1
PARAMS_ADD, PARAMS_CREATE, PARAMS_CREATE_IMMED = 1, 2, 3
EV_MODIFIER = 1
ALREADY_USED, PLANE_IDX, PLANE_SET, INCOMPLETE = 0, 1, 2, 3
INVALID_FORMAT, INVALID_DIMENSIONS, OUT_OF_BOUNDS = 4, 5, 6
INVALID_WL_BUFFER = 7

XRGB8888 = 0x34325258  # DRM_FORMAT_XRGB8888, 'XR24'
NV12 = 0x3231564e
LINEAR = 0
I915_X_TILED = (1 << 56) | 1

W, H = 64, 32
STRIDE = W * 4


def stats(p):
    out = p.ctl("stats").stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if line)


def render_node():
    nodes = sorted(glob.glob("/dev/dri/renderD*"))
    return nodes[0] if nodes else None


# --- dmabuf windows ----------------------------------------------------------

def test_dmabuf_window_is_shown_inside_its_vm_frame():
    with Prism() as p:
        p.test_client("work", title="dmabuf", colour="#12ab34",
                      size=(200, 120), extra=["--dmabuf"])
        p.test_client("personal", title="shm", colour="#3366cc")
        wins = {w["title"]: w for w in p.wait_windows(2)}
        img = p.screenshot()
        win = wins["dmabuf"]
        check_frame(img, win, frame_colour(p, win), content_colour="#12ab34")
        inside = (win["x"], win["y"], win["width"], win["height"])
        check(img.count(inside, rgb("#12ab34")) == win["width"] * win["height"],
              "the dmabuf's pixels do not fill its window")
        s = stats(p)
        check(s["dmabuf-version"] == "3" and s["dmabuf-import"] == "mapped",
              f"on pixman prism should offer version 3 and map: {s}")
        check(int(s["dmabuf-buffers-created"]) >= 1, f"{s}")


def test_dmabuf_fd_reaches_prism_as_the_same_file():
    """Through the VM socket and its proxy: passed, never copied."""
    p = Prism()
    p.start(args=("--debug",))
    try:
        c = p.test_client("work", title="same file", extra=["--dmabuf"])
        line = c.wait_line(lambda l: l.startswith("dmabuf-file "))
        sent = line.split()[1]
        p.wait_windows(1)
        log = p.read_log()
        got = re.findall(r"dmabuf: vm=work: buffer \d+x\d+ .* plane 0 file "
                         r"(\d+:\d+)", log)
        check(got, "prism logged no dmabuf buffer from vm=work")
        check(sent in got, f"the client sent file {sent}, prism received "
              f"{got}: the fd was not passed through as it was")
    finally:
        p.stop()


def test_udmabuf_window_is_shown():
    if not os.access("/dev/udmabuf", os.R_OK | os.W_OK):
        raise Skip("no /dev/udmabuf here: a real dmabuf needs the udmabuf "
                   "module (the memfd tests cover the CPU path)")
    with Prism() as p:
        p.test_client("work", title="udmabuf", colour="#a0b0c0",
                      extra=["--udmabuf"])
        (win,) = p.wait_windows(1)
        img = p.screenshot()
        check_frame(img, win, frame_colour(p, win),
                    content_colour="#a0b0c0")


# --- hostile parameters -------------------------------------------------------

def pipe_fd():
    r, w = os.pipe()
    os.close(w)
    return r


def sealed(size):
    return memfd(size, seal=True)


def socket_fd():
    a, b = socket.socketpair()
    fd = os.dup(a.fileno())
    a.close()
    b.close()
    return fd


def add(c, params, fd, plane=0, offset=0, stride=STRIDE, modifier=LINEAR):
    c.request(params, PARAMS_ADD, u32(plane) + u32(offset) + u32(stride) +
              u32(modifier >> 32) + u32(modifier & 0xffffffff), fds=[fd])
    os.close(fd)


def create_immed(c, params, width=W, height=H, fmt=XRGB8888, flags=0):
    c.request(params, PARAMS_CREATE_IMMED, u32(c.new_id()) + i32(width) +
              i32(height) + u32(fmt) + u32(flags))


def new_params(c):
    c.get_registry()
    dmabuf = c.bind("zwp_linux_dmabuf_v1", 3)
    params = c.new_id()
    c.request(dmabuf, CREATE_PARAMS, u32(params))
    return params


def good(c, params):
    add(c, params, sealed(STRIDE * H))


CASES = {
    # name: (attack, expected error code, words of the reason)
    "format_not_advertised": (
        lambda c, p: (good(c, p), create_immed(c, p, fmt=NV12)),
        INVALID_FORMAT, "was not advertised"),
    "modifier_not_advertised": (
        lambda c, p: (add(c, p, sealed(STRIDE * H), modifier=I915_X_TILED),
                      create_immed(c, p)),
        INVALID_FORMAT, "was not advertised"),
    "modifiers_differ_between_planes": (
        lambda c, p: (good(c, p), add(c, p, sealed(STRIDE * H), plane=1,
                                      modifier=I915_X_TILED)),
        INVALID_FORMAT, "another plane"),
    "too_many_planes_for_the_format": (
        lambda c, p: (good(c, p), add(c, p, sealed(STRIDE * H), plane=1),
                      create_immed(c, p)),
        INCOMPLETE, "has 1 plane, not 2"),
    "no_plane": (
        lambda c, p: create_immed(c, p),
        INCOMPLETE, "no plane was added"),
    "gap_in_planes": (
        lambda c, p: (add(c, p, sealed(STRIDE * H), plane=1),
                      create_immed(c, p)),
        INCOMPLETE, "plane 0 is missing"),
    "plane_index_4": (
        lambda c, p: add(c, p, sealed(STRIDE * H), plane=4),
        PLANE_IDX, "not below 4"),
    "plane_set_twice": (
        lambda c, p: (good(c, p), good(c, p)),
        PLANE_SET, "set twice"),
    "buffer_past_the_end_of_the_fd": (
        lambda c, p: (add(c, p, sealed(STRIDE * H - 1)), create_immed(c, p)),
        OUT_OF_BOUNDS, "past the fd"),
    "offset_past_the_end": (
        lambda c, p: (add(c, p, sealed(STRIDE * H), offset=4096),
                      create_immed(c, p)),
        OUT_OF_BOUNDS, "past the fd"),
    "stride_not_a_multiple_of_4": (
        lambda c, p: (add(c, p, sealed(STRIDE * H * 2), stride=STRIDE + 2),
                      create_immed(c, p)),
        OUT_OF_BOUNDS, "not a multiple of 4"),
    "stride_of_2_gib": (
        lambda c, p: (add(c, p, sealed(STRIDE * H), stride=0x80000000),
                      create_immed(c, p, height=1)),
        OUT_OF_BOUNDS, "not a multiple of 4 up to"),
    "stride_shorter_than_a_row": (
        lambda c, p: (add(c, p, sealed(STRIDE * H), stride=STRIDE - 4),
                      create_immed(c, p)),
        OUT_OF_BOUNDS, "less than a row"),
    "offset_and_stride_that_overflow_32_bits": (
        lambda c, p: (add(c, p, sealed(STRIDE * H), offset=0xfffffff0,
                          stride=131072),
                      create_immed(c, p, width=16384, height=16384)),
        OUT_OF_BOUNDS, "past the fd"),
    "zero_width": (
        lambda c, p: (good(c, p), create_immed(c, p, width=0)),
        INVALID_DIMENSIONS, "is not within"),
    "huge_height": (
        lambda c, p: (good(c, p), create_immed(c, p, height=1 << 30)),
        INVALID_DIMENSIONS, "is not within"),
    "unknown_flags": (
        lambda c, p: (good(c, p), create_immed(c, p, flags=0x100)),
        INVALID_FORMAT, "unknown flags"),
    "pipe_instead_of_a_dmabuf": (
        lambda c, p: add(c, p, pipe_fd()),
        INVALID_WL_BUFFER, "neither a dmabuf nor a memfd"),
    "socket_instead_of_a_dmabuf": (
        lambda c, p: add(c, p, socket_fd()),
        INVALID_WL_BUFFER, "neither a dmabuf nor a memfd"),
    "memfd_not_sealed_against_shrinking": (
        lambda c, p: add(c, p, memfd(STRIDE * H)),
        INVALID_WL_BUFFER, "sealed against shrinking"),
    "params_used_twice": (
        lambda c, p: (good(c, p), create_immed(c, p), create_immed(c, p)),
        ALREADY_USED, "already used"),
}


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def run_hostile(name, attack, code, words, via_vm):
    with Prism() as p:
        path = p.vm_socket("work") if via_vm else \
            os.path.join(p.runtime, "wayland-0")
        other = p.test_client("personal", title="bystander", extra=["--dmabuf"])
        p.wait_windows(1)
        baseline = fd_count(p.proc.pid)
        c = RawClient(path)
        params = new_params(c)
        attack(c, params)
        error, closed = c.expect_error()
        check(error is not None, f"{name}: no protocol error (closed: {closed})")
        c.close()
        if via_vm:
            # The proxy may see it first (plane index, plane twice, fd
            # kind): its error names the reason, not prism's code.
            check(words in error[2], f"{name}: {error!r} does not say "
                  f"{words!r}")
        else:
            check(error[0] == params and error[1] == code and
                  words in error[2],
                  f"{name}: expected code {code} on {params} saying "
                  f"{words!r}, got {error!r}")
        check(closed, f"{name}: the offender was not disconnected")
        check(p.alive(), f"{name}: prism died")
        # Every fd the offender sent is closed again.
        wait_for(lambda: fd_count(p.proc.pid) == baseline, timeout=5,
                 what=f"{name}: prism's fds to return to {baseline} "
                 f"(now {fd_count(p.proc.pid)})")
        check(other.alive(), f"{name}: a client of another VM died")
        # The bystander still works: a new dmabuf window maps.
        p.test_client("personal", title="after", extra=["--dmabuf"])
        p.wait_windows(2)
        if not via_vm:
            check(int(stats(p)["dmabuf-refused"]) == 1,
                  f"{name}: the refusal was not counted")
            check("dmabuf: host client: " in p.read_log(),
                  f"{name}: no log line for the refusal")


def make_hostile(name, case, via_vm):
    attack, code, words = case

    def test():
        run_hostile(name, attack, code, words, via_vm)
    test.__name__ = f"test_dmabuf_{'vm' if via_vm else 'host'}_{name}"
    return test


HOSTILE_TESTS = [make_hostile(n, c, False) for n, c in CASES.items()]
# Through a VM socket the proxy stands in front: a few of the same attacks
# show that both layers refuse them and nothing else is touched.
HOSTILE_TESTS += [make_hostile(n, CASES[n], True) for n in (
    "pipe_instead_of_a_dmabuf", "memfd_not_sealed_against_shrinking",
    "buffer_past_the_end_of_the_fd", "format_not_advertised",
    "plane_set_twice")]


def test_params_added_and_dropped_leave_no_fd_behind():
    """A client that adds planes and never makes a buffer, many times."""
    with Prism() as p:
        c = RawClient(os.path.join(p.runtime, "wayland-0"))
        c.get_registry()
        dmabuf = c.bind("zwp_linux_dmabuf_v1", 3)
        c.sync()
        baseline = fd_count(p.proc.pid)
        for _ in range(200):
            params = c.new_id()
            c.request(dmabuf, CREATE_PARAMS, u32(params))
            add(c, params, sealed(STRIDE * H), plane=0)
            add(c, params, sealed(STRIDE * H), plane=2)
            c.request(params, 0)  # destroy
        c.sync()
        check(c.error is None, f"{c.error}")
        now = fd_count(p.proc.pid)
        check(now == baseline, f"prism holds {now - baseline} more fds after "
              f"200 dropped parameter sets")
        c.close()


def test_a_huge_sparse_memfd_costs_no_address_space():
    """prism maps the rows of a buffer, not the whole fd it lives in."""
    with Prism() as p:
        def vm_size_kib():
            with open(f"/proc/{p.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmSize:"):
                        return int(line.split()[1])
            return 0
        c = RawClient(os.path.join(p.runtime, "wayland-0"))
        c.get_registry()
        dmabuf = c.bind("zwp_linux_dmabuf_v1", 3)
        c.sync()
        before = vm_size_kib()
        for _ in range(8):
            params = c.new_id()
            c.request(dmabuf, CREATE_PARAMS, u32(params))
            add(c, params, sealed(1 << 40), offset=(1 << 32) - 4096)
            create_immed(c, params)
        c.sync()
        check(c.error is None, f"{c.error}")
        grown = vm_size_kib() - before
        check(grown < 1 << 20, f"8 buffers in 1 TiB memfds grew prism's "
              f"address space by {grown} KiB")
        c.close()


def test_a_vm_has_a_dmabuf_buffer_limit():
    vm_extra = {"work": "max-dmabuf-buffers = 3"}
    with Prism(vm_extra=vm_extra) as p:
        def make(c, dmabuf):
            params = c.new_id()
            c.request(dmabuf, CREATE_PARAMS, u32(params))
            good(c, params)
            create_immed(c, params)
        for attempt in range(2):
            c = RawClient(p.vm_socket("work"))
            c.get_registry()
            dmabuf = c.bind("zwp_linux_dmabuf_v1", 3)
            for _ in range(3):
                make(c, dmabuf)
            c.sync()
            check(c.error is None, f"three buffers were refused: {c.error}")
            if attempt == 1:
                c.close()
                break
            make(c, dmabuf)
            error, closed = c.expect_error()
            check(error is not None and "max-dmabuf-buffers" in error[2] and
                  closed, f"a fourth buffer was not refused: {error}")
            c.close()
        # The limit is the VM's, and the other VM is not touched by it.
        p.test_client("personal", title="other", extra=["--dmabuf"])
        p.wait_windows(1)


def test_dmabuf_create_reports_created_for_good_params():
    """The two-step create: a good buffer is announced with created."""
    with Prism() as p:
        c = RawClient(os.path.join(p.runtime, "wayland-0"))
        params = new_params(c)
        good(c, params)
        c.request(params, PARAMS_CREATE, i32(W) + i32(H) + u32(XRGB8888) +
                  u32(0))
        events = c.sync()
        check(any(obj == params and op == 0 for obj, op, _ in events),
              f"no created event: {events}")
        check(c.error is None, f"{c.error}")
        c.close()


def test_vm_sees_only_checked_formats():
    """What a VM is offered: LINEAR, and only formats prism can check."""
    with Prism() as p:
        c = RawClient(p.vm_socket("work"))
        c.get_registry()
        check("zwp_linux_dmabuf_v1" in c.globals, f"{c.globals}")
        dmabuf = c.bind("zwp_linux_dmabuf_v1", 3)
        pairs = set()
        for obj, op, payload in c.sync():
            if obj == dmabuf and op == EV_MODIFIER:
                fmt, hi, lo = struct.unpack("=III", payload[:12])
                pairs.add((fmt, hi << 32 | lo))
        check((XRGB8888, LINEAR) in pairs, f"{pairs}")
        check(all(m == LINEAR for _, m in pairs),
              f"pixman can only map LINEAR buffers: {pairs}")
        check(len(pairs) == int(stats(p)["dmabuf-formats"]), f"{pairs}")
        c.close()


# --- damage -----------------------------------------------------------------

def test_idle_desktop_renders_no_frames():
    with Prism() as p:
        p.test_client("work", title="a")
        p.test_client("personal", title="b")
        p.wait_windows(2)
        time.sleep(0.5)
        before = int(stats(p)["frames"])
        # A counter that never moves would make the check below pass.
        check(before > 0, "no frame was counted while the windows mapped")
        time.sleep(1.5)
        after = int(stats(p)["frames"])
        check(after == before, f"{after - before} frames rendered in 1.5 s "
              f"of an idle desktop")


def test_a_change_redraws_only_where_it_happened():
    with Prism() as p:
        c = p.test_client("work", title="a", size=(100, 80))
        p.test_client("personal", title="b", size=(100, 80))
        p.wait_windows(2)
        time.sleep(0.3)
        before = int(stats(p)["frames"])
        c.kill()
        wait_for(lambda: len(p.windows()) == 1, what="the window to close")
        wait_for(lambda: int(stats(p)["frames"]) > before, timeout=5,
                 what="a frame after the window closed")
        damage = int(stats(p)["last-damage-pixels"])
        full = 1280 * 720
        check(0 < damage < full // 4, f"closing a 100x80 window redrew "
              f"{damage} of {full} pixels")


# --- the GLES2 renderer (a DRM render node) -----------------------------------

def require_render_node():
    node = render_node()
    if node is None:
        raise Skip("no DRM render node (/dev/dri/renderD*): the GLES2 path "
                   "and EGL dmabuf import need a GPU")
    return node


def test_gles2_draws_frames_with_prisms_program():
    require_render_node()
    with Prism(renderer="gles2") as p:
        p.test_client("work", title="gl", colour="#3366cc")
        p.test_client("personal", title="gl2", colour="#cc6633")
        wins = p.wait_windows(2)
        img = p.screenshot()
        for win in wins:
            check_frame(img, win, frame_colour(p, win))
        s = stats(p)
        check(s["frame-path"] == "gles2 frame program", f"{s}")
        check(s["dmabuf-version"] == "4" and s["dmabuf-import"] == "egl",
              f"{s}")
        check(img.px(1279, 719) == rgb(BACKGROUND), "background")


def test_gles2_dmabuf_windows_through_a_vm():
    require_render_node()
    with Prism(renderer="gles2") as p:
        p.test_client("work", title="memfd", colour="#12ab34",
                      extra=["--dmabuf"])
        kinds = ["memfd"]
        if os.access("/dev/udmabuf", os.R_OK | os.W_OK):
            p.test_client("personal", title="udmabuf", colour="#a0b0c0",
                          extra=["--udmabuf"])
            kinds.append("udmabuf")
        wins = {w["title"]: w for w in p.wait_windows(len(kinds))}
        img = p.screenshot()
        colours = {"memfd": "#12ab34", "udmabuf": "#a0b0c0"}
        for kind in kinds:
            win = wins[kind]
            check_frame(img, win, frame_colour(p, win),
                        content_colour=colours[kind])


def test_weston_simple_dmabuf_egl_through_a_vm_is_framed():
    require_render_node()
    exe = require_tool("weston-simple-dmabuf-egl")
    with Prism(renderer="gles2") as p:
        p.spawn([exe], vm="work", name="weston-simple-dmabuf-egl")
        (win,) = p.wait_windows(1)
        img = p.screenshot()
        check_frame(img, win, frame_colour(p, win))
        check(int(stats(p)["dmabuf-buffers"]) >= 1,
              "weston-simple-dmabuf-egl drew without a dmabuf")


if __name__ == "__main__":
    sys.exit(main([
        test_dmabuf_window_is_shown_inside_its_vm_frame,
        test_dmabuf_fd_reaches_prism_as_the_same_file,
        test_udmabuf_window_is_shown,
        test_dmabuf_create_reports_created_for_good_params,
        test_params_added_and_dropped_leave_no_fd_behind,
        test_a_huge_sparse_memfd_costs_no_address_space,
        test_a_vm_has_a_dmabuf_buffer_limit,
        test_vm_sees_only_checked_formats,
        *HOSTILE_TESTS,
        test_idle_desktop_renders_no_frames,
        test_a_change_redraws_only_where_it_happened,
        test_gles2_draws_frames_with_prisms_program,
        test_gles2_dmabuf_windows_through_a_vm,
        test_weston_simple_dmabuf_egl_through_a_vm_is_framed,
    ]))
