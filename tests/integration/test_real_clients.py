#!/usr/bin/env python3
"""Real applications from Debian, through a VM socket, framed by Prism."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from prismtest import Prism, check, frame_colour, main, require_tool
from test_compositor import allowlist, check_frame


def framed_app(argv, vm):
    require_tool(argv[0])
    with Prism() as p:
        app = p.spawn(argv, vm=vm)
        (win,) = p.wait_windows(1, timeout=20)
        check(app.alive(), f"{argv[0]} exited")
        check(win["vm"] == vm, f"{argv[0]} is not tagged with {vm}: {win}")
        check(win["width"] > 50 and win["height"] > 50, f"tiny window {win}")
        img = p.screenshot()
        check_frame(img, win, frame_colour(p, win))


def test_weston_simple_shm_is_framed_in_vm_colour():
    framed_app(["weston-simple-shm"], "work")


def test_foot_is_framed_in_vm_colour():
    framed_app(["foot", "--config=/dev/null", "sh", "-c", "sleep 600"],
               "personal")


def test_wayland_info_in_vm_lists_only_allowlisted_globals():
    require_tool("wayland-info")
    with Prism() as p:
        def interfaces(vm):
            res = subprocess.run(["wayland-info"], capture_output=True,
                                 text=True, timeout=30,
                                 env=p.env(p.display_for(vm)))
            check(res.returncode == 0, f"wayland-info failed: {res.stderr}")
            return set(re.findall(r"interface: '([^']+)'", res.stdout))
        host = interfaces(None)
        vm = interfaces("work")
        check(vm, "wayland-info saw no globals at all")
        check(vm == host & set(allowlist()),
              f"VM sees {sorted(vm)}; expected the allowlisted subset of "
              f"{sorted(host)}")


if __name__ == "__main__":
    sys.exit(main([
        test_weston_simple_shm_is_framed_in_vm_colour,
        test_foot_is_framed_in_vm_colour,
        test_wayland_info_in_vm_lists_only_allowlisted_globals,
    ]))
