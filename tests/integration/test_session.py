#!/usr/bin/env python3
"""Prism as a daily session: reload, VMs at run time, outputs, bindings, GTK."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from prismtest import (BORDER, Prism, check, dimmed, frame_colour, main,
                       read_png, require_tool, rgb, wait_for)
from test_compositor import check_frame
from wlraw import RawClient, u32

KEY_Q = 16


def vms(p):
    return {v["name"]: v for v in p.vm_list()}


def rewrite(p, text):
    with open(p.config_path, "w") as f:
        f.write(text)


def test_reload_applies_a_good_file_whole():
    with Prism() as p:
        p.test_client("work", title="stays", colour="#101010")
        gone = p.test_client("personal", title="goes")
        p.wait_windows(2)
        rewrite(p, Prism.make_config(
            (("work", "Work", "#3355ff"), ("extra", "Extra", "#aa8800")),
            "", {}).replace(f"border-width = {BORDER}", "border-width = 6"))
        res = p.ctl("reload", check_status=False)
        check(res.returncode == 0, f"reload failed: {res.stderr}")
        now = vms(p)
        check(set(now) == {"work", "extra"}, f"{now}")
        check(now["work"]["colour"] == "#3355ff", f"{now}")
        wait_for(lambda: not gone.alive(), what="the removed VM's client to go")
        (win,) = p.wait_windows(1)
        check(win["title"] == "stays", f"{win}")
        img = p.screenshot()
        x, y = win["x"], win["y"] + win["height"] // 2
        check(img.px(x - 6, y) == rgb("#3355ff") and
              img.px(x - 7, y) != rgb("#3355ff"),
              "the frame did not take the new colour and border width")
        check("configuration reloaded from" in p.read_log(), "no log line")


def test_reload_of_a_bad_file_keeps_the_running_config():
    with Prism() as p:
        before = vms(p)
        p.test_client("work", title="w")
        rewrite(p, "[general]\nborder-width = 4\n[vm:work]\nlabel = Work\n"
                   "colour = not-a-colour\n")
        res = p.ctl("reload", check_status=False)
        check(res.returncode != 0 and f"{p.config_path}:5: colour" in res.stderr,
              f"a bad file was not reported with FILE:LINE: {res.stderr!r}")
        os.kill(p.proc.pid, signal.SIGHUP)
        wait_for(lambda: p.read_log().count("the running configuration stays")
                 >= 2, what="SIGHUP to report the error too")
        check(vms(p).keys() == before.keys(), "the running config changed")
        check(len(p.windows()) == 1, "a window went")
        img = p.screenshot()
        (win,) = p.windows()
        check_frame(img, win, frame_colour(p, win))


def test_vms_added_and_removed_at_run_time():
    with Prism() as p:
        p.test_client("work", title="untouched")
        p.wait_windows(1)
        base_fds = len(os.listdir(f"/proc/{p.proc.pid}/fd"))
        res = p.ctl("vm", "add", "extra", "--label", "Extra", "--colour",
                    "#3355ff")
        sock = res.stdout.strip()
        check(sock == p.vm_socket("extra") and os.path.exists(sock),
              f"no socket: {res.stdout!r}")
        info = vms(p)["extra"]
        check(info["runtime"] and info["proxy_pid"] > 0 and
              info["label"] == "Extra", f"{info}")
        proxy_pid = info["proxy_pid"]
        client = p.test_client("extra", title="temporary", colour="#00ff00")
        wins = {w["title"]: w for w in p.wait_windows(2)}
        check(wins["temporary"]["vm"] == "extra", f"{wins}")
        img = p.screenshot()
        temp = wins["temporary"]
        check_frame(img, temp, rgb("#3355ff") if temp["focused"] else
                    dimmed("#3355ff"))

        for bad, why in [(["extra", "--label", "X", "--colour", "#000000"],
                          "exists"),
                         (["other", "--label", "Work", "--colour", "#000000"],
                          "label"),
                         (["bad/name", "--label", "Y", "--colour", "#000000"],
                          "not valid"),
                         (["other", "--label", "Z", "--colour", "blue"],
                          "colour")]:
            res = p.ctl("vm", "add", *bad, check_status=False)
            check(res.returncode != 0 and why in res.stderr,
                  f"vm add {bad} was not refused for {why!r}: {res.stderr!r}")

        p.ctl("vm", "remove", "extra")
        wait_for(lambda: not client.alive(), what="its client to go")
        check([w["title"] for w in p.windows()] == ["untouched"],
              f"{p.windows()}")
        check(not os.path.exists(sock), "the socket is still there")
        check(not os.path.exists(f"/proc/{proxy_pid}"),
              "the proxy is still running")
        check("extra" not in vms(p), f"{vms(p)}")
        wait_for(lambda: len(os.listdir(f"/proc/{p.proc.pid}/fd")) == base_fds,
                 what="prism's fds to return to their count")
        res = p.ctl("vm", "remove", "extra", check_status=False)
        check(res.returncode != 0, "removing it twice succeeded")


def test_denials_are_counted_per_vm():
    with Prism() as p:
        c = RawClient(p.vm_socket("work"))
        c.request(55, 0, u32(2))
        error, closed = c.expect_error()
        check(error is not None and closed, f"{error}")
        wait_for(lambda: vms(p)["work"]["denials"] == 1,
                 what=f"the denial to be counted: {vms(p)}")
        check(vms(p)["personal"]["denials"] == 0, f"{vms(p)}")


def test_two_outputs_with_different_scales():
    config = Prism.make_config(
        (("work", "Work", "#cc3333"),), "", {}) + \
        "\n[output:HEADLESS-2]\nmode = 2560x1440\nscale = 2\n" \
        "position = 1280,0\n"
    with Prism(config_text=config, outputs=2) as p:
        p.ctl("pointer", "move", "1500", "300")
        p.test_client("work", title="hidpi", colour="#123456",
                      size=(200, 100))
        (win,) = p.wait_windows(1)
        check(win["x"] >= 1280, f"the window is not on HEADLESS-2: {win}")
        p.ctl("screenshot", "--output", "HEADLESS-2",
              os.path.join(p.tmp, "out2.png"))
        shot = read_png(os.path.join(p.tmp, "out2.png"))
        check((shot.width, shot.height) == (2560, 1440),
              f"HEADLESS-2 is {shot.width}x{shot.height}, not at scale 2")
        x = (win["x"] - 1280) * 2
        y = (win["y"] + win["height"] // 2) * 2
        colour = rgb("#cc3333")
        check(shot.px(x - 1, y) == colour and shot.px(x - 2 * BORDER, y) ==
              colour and shot.px(x - 2 * BORDER - 1, y) != colour,
              "the border is not twice as wide on the scale-2 output")
        check(shot.px(x + 5, y) == rgb("#123456"), "content missing")
        # The strip and title text are drawn for scale 2 too.
        check(shot.px(shot.width - 1, 0) == colour, "no indicator")


def test_bindings_come_from_the_config():
    marker = "/tmp/prism-binding-test-%d" % os.getpid()
    if os.path.exists(marker):
        os.unlink(marker)
    with Prism(general="", vm_extra={}) as p:
        rewrite(p, Prism.make_config((("work", "Work", "#cc3333"),), "", {}) +
                f"\n[bindings]\nSuper+t = exec touch {marker}\n"
                "Super+q = none\n")
        p.ctl("reload")
        c = p.test_client("work", title="keeps q", extra=["--print-keys"])
        p.key("Super+t")
        wait_for(lambda: os.path.exists(marker), what="the exec binding")
        os.unlink(marker)
        c.lines_now()
        p.key("Super+q")
        c.read_until(lambda l: l == f"key {KEY_Q} pressed")
        time.sleep(0.3)
        check(c.alive() and len(p.windows()) == 1,
              "an unbound Super+Q still closed the window")


def test_terminal_binding_runs_the_host_terminal():
    client = os.environ["PRISM_TEST_CLIENT"]
    with Prism(general=f"terminal = {client} --title host-terminal") as p:
        p.key("Super+Return")
        (win,) = p.wait_windows(1)
        check(win["title"] == "host-terminal" and win["vm"] is None, f"{win}")


def test_exit_asks_for_confirmation():
    p = Prism()
    p.start()
    try:
        p.key("Super+Shift+e")
        time.sleep(0.5)
        check(p.alive(), "one press was enough to exit")
        p.key("Super+Shift+e")
        wait_for(lambda: not p.alive(), what="the second press to exit")
        check(p.proc.returncode == 0, f"status {p.proc.returncode}")
    finally:
        p.stop(expect_clean=False)


def gtk_app(argv, vm):
    require_tool(argv[0])
    env = {"GDK_BACKEND": "wayland", "NO_AT_BRIDGE": "1",
           "GTK_A11Y": "none", "GSK_RENDERER": "cairo"}
    # The widget factory wants more room than 1280x720.
    config = Prism.make_config((("work", "Work", "#cc3333"),
                                ("personal", "Personal", "#33aa55")), "", {}) \
        + "\n[output:HEADLESS-1]\nmode = 1920x1200\n"
    with Prism(config_text=config) as p:
        app = p.spawn(argv, vm=vm, extra_env=env)
        try:
            wins = p.wait_windows(1, timeout=60)
        finally:
            if not app.alive():
                print(app.proc.stderr.read()[-3000:])
        check(app.alive(), f"{argv[0]} exited")
        win = wins[0]
        check(win["vm"] == vm and win["width"] > 100, f"{win}")
        img = p.screenshot()
        check_frame(img, win, frame_colour(p, win))


def test_gtk3_widget_factory_is_framed():
    gtk_app(["gtk3-widget-factory"], "work")


def test_gtk4_demo_is_framed():
    gtk_app(["gtk4-demo"], "personal")


def test_vmm_helper_hands_the_vm_socket_to_the_vmm():
    helper = os.path.join(os.path.dirname(__file__), "..", "..", "data",
                          "prism-vmm")
    with Prism() as p:
        record = os.path.join(p.tmp, "vmm-args")
        fake = os.path.join(p.tmp, "fake-vmm")
        with open(fake, "w") as f:
            f.write(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {record}\n")
        os.chmod(fake, 0o755)
        env = p.env("wayland-0")
        env["PRISMCTL"] = os.environ["PRISMCTL"]
        res = subprocess.run([helper, "work", "--", fake, "run",
                              "--wayland-sock", "{socket}", "--mem", "2048",
                              "arg with spaces"], env=env, capture_output=True,
                             text=True, timeout=30)
        check(res.returncode == 0, f"prism-vmm failed: {res.stderr}")
        with open(record) as f:
            args = f.read().splitlines()
        check(args == ["run", "--wayland-sock", p.vm_socket("work"), "--mem",
                       "2048", "arg with spaces"], f"the VMM got {args}")
        env["PRISM_VMM_WAIT"] = "1"
        res = subprocess.run([helper, "nosuch", "--", fake], env=env,
                             capture_output=True, text=True, timeout=60)
        check(res.returncode != 0 and "no VM 'nosuch'" in res.stderr,
              f"{res.returncode} {res.stderr!r}")


def test_meson_install_puts_everything_in_place():
    import tempfile
    build = os.environ.get("PRISM_BUILD_ROOT")
    if not build:
        from prismtest import Skip
        raise Skip("PRISM_BUILD_ROOT is not set (run through meson test)")
    dest = tempfile.mkdtemp(prefix="prism-install-")
    res = subprocess.run(["meson", "install", "-C", build, "--destdir", dest,
                          "--no-rebuild", "--quiet"], capture_output=True,
                         text=True, timeout=120)
    check(res.returncode == 0, f"meson install failed: {res.stderr}")
    found = set()
    for root, _, files in os.walk(dest):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), dest))
    for wanted in ["bin/prism", "bin/prism-proxy", "bin/prismctl",
                   "bin/prism-vmm", "share/man/man1/prism.1",
                   "share/man/man1/prism-proxy.1", "share/man/man1/prismctl.1",
                   "share/man/man5/prism.ini.5",
                   "share/wayland-sessions/prism.desktop",
                   "share/prism/allowlist/default.conf",
                   "etc/prism/prism.ini", "etc/prism/allowlist/default.conf"]:
        check(any(f.endswith(wanted) for f in found),
              f"{wanted} is not installed: {sorted(found)}")
    import shutil
    shutil.rmtree(dest)


if __name__ == "__main__":
    sys.exit(main([
        test_reload_applies_a_good_file_whole,
        test_reload_of_a_bad_file_keeps_the_running_config,
        test_vms_added_and_removed_at_run_time,
        test_denials_are_counted_per_vm,
        test_two_outputs_with_different_scales,
        test_bindings_come_from_the_config,
        test_terminal_binding_runs_the_host_terminal,
        test_exit_asks_for_confirmation,
        test_gtk3_widget_factory_is_framed,
        test_gtk4_demo_is_framed,
        test_vmm_helper_hands_the_vm_socket_to_the_vmm,
        test_meson_install_puts_everything_in_place,
    ]))
