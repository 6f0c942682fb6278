#!/usr/bin/env python3
"""Isolation between VMs on one desktop: the invariants I1, I2, I3, I5, I6.

Each test drives a headless prism with real clients (wl-clipboard), the test
client (hostile subsurfaces and popups, activation tokens, fullscreen) and
prismctl, and checks the result the way a user would see it: screenshots,
the window list, what each client received.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from prismtest import (BORDER, Prism, check, dimmed, frame_colour, main,
                       require_tool, rgb, wait_for)
from test_compositor import check_frame
from wlraw import RawClient, string, u32

WORK, PERSONAL = "#cc3333", "#33aa55"
KEY_C, KEY_V, KEY_X, KEY_Y = 46, 47, 45, 21  # evdev codes


def focused_title(p):
    wins = [w for w in p.windows() if w["focused"]]
    return wins[0]["title"] if wins else None


def focus(p, title):
    """Alt+Tab until the window with this title has the keyboard."""
    for _ in range(6):
        if focused_title(p) == title:
            return
        p.key("Alt+Tab")
    check(focused_title(p) == title, f"could not focus {title!r}")


def wait_log(p, text, timeout=10):
    wait_for(lambda: text in p.read_log(), timeout=timeout,
             what=f"the log line {text!r}")


def wl_paste(p, vm):
    """Run wl-paste in a VM; its own surface takes focus only if that VM's
    window has it. Returns (status, text)."""
    res = subprocess.run(["wl-paste", "--no-newline"], capture_output=True,
                         text=True, env=p.env(p.display_for(vm)), timeout=20)
    return res.returncode, res.stdout


def indicator_height(img, colour):
    n = 0
    while n < img.height and img.px(img.width - 1, n) == colour:
        n += 1
    return n


def test_I5_clipboard_crosses_vms_only_by_the_users_keys():
    require_tool("wl-copy")
    require_tool("wl-paste")
    secret = "correct horse battery staple"
    with Prism() as p:
        a = p.test_client("work", title="A", extra=["--print-keys"])
        p.test_client("personal", title="B", extra=["--print-keys"])
        check(focused_title(p) == "A", f"{p.windows()}")

        # VM work copies a secret; it can paste it itself.
        copier = p.spawn(["wl-copy", "--foreground", secret], vm="work")
        status, text = wait_for(lambda: (lambda r: r if r[1] == secret
                                         else None)(wl_paste(p, "work")),
                                what="VM work to hold its own copy")
        check(copier.alive(), "wl-copy exited")

        # VM personal cannot read it, not even with the keyboard.
        focus(p, "B")
        status, text = wl_paste(p, "personal")
        check(secret not in text, f"VM personal read VM work's clipboard: "
              f"{text!r}")

        # The user copies in A and pastes in B: exactly the text, once.
        focus(p, "A")
        a.lines_now()
        p.key("Ctrl+Shift+c")
        wait_log(p, f"vm=work: copied {len(secret)} bytes to the global "
                 f"clipboard")
        seen_by_a = a.lines_now()
        check(f"key {KEY_C} pressed" not in seen_by_a,
              f"the copy key reached the client: {seen_by_a}")
        focus(p, "B")
        p.key("Ctrl+Shift+v")
        wait_log(p, f"vm=personal: offered {len(secret)} bytes")
        status, text = wl_paste(p, "personal")
        check(status == 0 and text == secret,
              f"VM personal did not get the text: {status} {text!r}")

        # Once: the global clipboard is empty now.
        focus(p, "A")
        p.key("Ctrl+Shift+v")
        wait_log(p, "vm=work: paste: the global clipboard is empty")


def test_I5_host_keeps_its_own_clipboard():
    require_tool("wl-copy")
    require_tool("wl-paste")
    with Prism() as p:
        p.test_client(None, title="host window")
        p.spawn(["wl-copy", "--foreground", "host only"], vm=None)
        time.sleep(1)
        p.test_client("work", title="vm window")
        focus(p, "vm window")
        status, text = wl_paste(p, "work")
        check("host only" not in text, f"a VM read the host clipboard: "
              f"{text!r}")


def test_I6_keys_go_only_to_the_focused_window():
    with Prism() as p:
        a = p.test_client("work", title="A", extra=["--print-keys"])
        b = p.test_client("personal", title="B", extra=["--print-keys"])
        a.wait_line(lambda l: l == "keyboard-enter")
        a.lines_now()
        b.lines_now()
        p.key("x")
        a.read_until(lambda l: l == f"key {KEY_X} pressed")
        check(not any(l.startswith("key ") for l in b.lines_now()),
              "an unfocused VM saw a key")
        focus(p, "B")
        b.read_until(lambda l: l == "keyboard-enter")
        a_lines = a.lines_now()
        check("keyboard-leave" in a_lines, f"A kept the keyboard: {a_lines}")
        p.key("y")
        b.read_until(lambda l: l == f"key {KEY_Y} pressed")
        check(not any(l.startswith("key ") for l in a.lines_now()),
              "the window that lost focus still saw a key")


def test_I6_activation_only_from_the_focused_window_of_the_same_vm():
    with Prism() as p:
        w1 = p.test_client("work", title="W1")
        w2 = p.test_client("work", title="W2")
        b = p.test_client("personal", title="B")
        check(focused_title(p) == "W2", f"{p.windows()}")

        # A token from the focused window hands focus within its VM.
        w2.tell("token")
        _, lines = w2.read_until(lambda l: l.startswith("token "))
        token = lines[-1].split()[1]
        w1.tell(f"activate {token}")
        wait_for(lambda: focused_title(p) == "W1", what="W1 to be activated")

        # The same kind of token offered to another VM: refused, urgent.
        w1.tell("token")
        _, lines = w1.read_until(lambda l: l.startswith("token "))
        b.tell(f"activate {lines[-1].split()[1]}")
        wait_log(p, "vm=personal: window 3 asked for focus: refused (the "
                 "token belongs to another VM)")
        wins = {w["title"]: w for w in p.windows()}
        check(wins["W1"]["focused"] and not wins["B"]["focused"], f"{wins}")
        check(wins["B"]["urgent"], f"B is not marked urgent: {wins}")

        # A token made by a window that no longer has focus: refused.
        w2.tell("token-without-input")
        _, lines = w2.read_until(lambda l: l.startswith("token "))
        w2.tell(f"activate {lines[-1].split()[1]}")
        wait_log(p, "window 2 asked for focus: refused (the token was not "
                 "made by the focused window)")
        check(focused_title(p) == "W1", f"{p.windows()}")

        # One made by the focused window, but not from the user's input.
        w1.tell("token-without-input")
        _, lines = w1.read_until(lambda l: l.startswith("token "))
        w2.tell(f"activate {lines[-1].split()[1]}")
        wait_log(p, "window 2 asked for focus: refused (the token does not "
                 "come from the user's input)")
        check(focused_title(p) == "W1", f"{p.windows()}")

        # With an input serial but without focus, wlroots itself hands out
        # a token nobody knows: nothing happens.
        w2.tell("token")
        _, lines = w2.read_until(lambda l: l.startswith("token "))
        w2.tell(f"activate {lines[-1].split()[1]}")
        w2.read_until(lambda l: l == "activation-requested")
        time.sleep(0.3)
        check(focused_title(p) == "W1", f"{p.windows()}")

        # A forged token is not even recognised.
        b.tell("activate forged-token-123")
        b.read_until(lambda l: l == "activation-requested")
        time.sleep(0.3)
        check(focused_title(p) == "W1", f"a forged token moved focus: "
              f"{p.windows()}")

        # The user's own hand clears the mark.
        focus(p, "B")
        check(not {w["title"]: w for w in p.windows()}["B"]["urgent"],
              "focus did not clear urgency")


def test_I1_subsurface_over_a_neighbours_frame_is_cut_at_its_own():
    with Prism() as p:
        magenta = "#ff00ff"
        p.test_client("personal", title="neighbour", colour="#00ff00",
                      size=(200, 150))
        p.test_client("work", title="hostile", colour="#0000ff",
                      size=(200, 150),
                      extra=["--subsurface", f"-400,-80,900x400,{magenta}"])
        wins = {w["title"]: w for w in p.wait_windows(2)}
        img = p.screenshot()
        hostile, neighbour = wins["hostile"], wins["neighbour"]
        inside = (hostile["x"], hostile["y"], hostile["width"],
                  hostile["height"])
        total = img.count((0, 0, img.width, img.height), rgb(magenta))
        check(img.count(inside, rgb(magenta)) == total > 0,
              "VM content escaped its content box")
        # I2: the neighbour's frame and the indicator are intact.
        check_frame(img, neighbour, frame_colour(p, neighbour), "#00ff00")
        check_frame(img, hostile, frame_colour(p, hostile))


def test_I2_popup_cannot_cover_the_indicator():
    with Prism() as p:
        c = p.test_client("work", title="popup owner",
                          extra=["--popup", "0,-400,300x200"])
        c.read_until(lambda l: l == "popup-mapped")
        (win,) = p.wait_windows(1)
        img = p.screenshot()
        strip = indicator_height(img, rgb(WORK))
        check(strip >= 10, f"no indicator in VM work's colour ({strip} rows)")
        yellow = (255, 255, 0)
        check(img.count((0, 0, img.width, strip), yellow) == 0,
              "popup pixels drawn over the trusted indicator")
        rows = [y for y in range(img.height)
                if img.count((0, y, img.width, 1), yellow)]
        check(rows, "the popup is not drawn at all")
        check(rows[0] > strip, f"the popup starts at row {rows[0]}, at or "
              f"inside the indicator ({strip} rows), leaving no room for its "
              f"border")
        # Its own border, in the VM's colour, just above its first row.
        cols = [x for x in range(img.width) if img.px(x, rows[0]) == yellow]
        check(img.px(cols[0], rows[0] - 1) == rgb(WORK),
              f"the popup has no border in the VM's colour: "
              f"{img.px(cols[0], rows[0] - 1)}")


def test_I2_indicator_shows_the_focused_vm():
    with Prism() as p:
        p.test_client("work", title="A")
        p.test_client("personal", title="B")
        img = p.screenshot()
        check(indicator_height(img, rgb(WORK)) >= 10,
              "the indicator does not show VM work")
        focus(p, "B")
        img = p.screenshot()
        check(indicator_height(img, rgb(PERSONAL)) >= 10,
              "the indicator does not follow focus to VM personal")


def test_I2_fullscreen_refused_by_policy_becomes_maximise():
    with Prism() as p:
        c = p.test_client("work", title="wants fullscreen",
                          extra=["--fullscreen"])
        c.wait_line(lambda l: l.startswith("configure") and
                    "maximized=1" in l)
        (win,) = p.windows()
        check(not win["fullscreen"], f"{win}")
        img = p.screenshot()
        check_frame(img, win, frame_colour(p, win))
        wait_log(p, "asked for fullscreen; the VM's policy maximises it")


def test_I2_fullscreen_allowed_keeps_the_indicator():
    with Prism(vm_extra={"work": "fullscreen = yes"}) as p:
        c = p.test_client("work", title="movie", colour="#123456",
                          extra=["--fullscreen"])
        c.wait_line(lambda l: l.startswith("configure") and
                    "fullscreen=1" in l)
        wait_for(lambda: p.windows()[0]["fullscreen"] and
                 p.windows()[0]["width"] == 1280, what="fullscreen")
        (win,) = p.windows()
        img = p.screenshot()
        strip = indicator_height(img, rgb(WORK))
        check(strip >= 10 and win["y"] == strip and win["x"] == 0 and
              win["height"] == 720 - strip,
              f"fullscreen does not stop at the indicator: {win}, strip {strip}")
        check(img.px(640, strip + 5) == rgb("#123456"), "content not shown")
        p.key("Super+f")
        wait_for(lambda: not p.windows()[0]["fullscreen"],
                 what="Super+F to leave fullscreen")


def test_I3_label_is_the_hosts_whatever_the_title_says():
    with Prism() as p:
        override = "\u202e"
        hostile = [
            ("Personal", "Personal"),
            (f"[Personal] {override}gnp.exe", "[Personal] gnp.exe"),
            ("Per\u200bsonal\u2066", "Personal"),
        ]
        for title, shown in hostile:
            p.test_client("work", title=title)
        wins = p.wait_windows(len(hostile))
        img = p.screenshot()
        for w in wins:
            check(w["vm"] == "work", f"{w}")
            check(w["title"] in {s for _, s in hostile}, f"title not "
                  f"sanitised: {w['title']!r}")
            check_frame(img, w, frame_colour(p, w))


def test_I3_oversized_titles_are_capped_or_refused():
    with Prism() as p:
        c = RawClient(p.vm_socket("work"))
        c.get_registry()
        comp = c.bind("wl_compositor", version=4)
        wm = c.bind("xdg_wm_base", version=1)
        surf, xs, top = c.new_id(), c.new_id(), c.new_id()
        c.request(comp, 0, u32(surf))
        c.request(wm, 2, u32(xs) + u32(surf))
        c.request(xs, 1, u32(top))
        # The longest title the wire allows: capped by prism.
        c.request(top, 2, string("W" * 4000))
        c.request(surf, 6)  # commit
        c.sync()
        check(p.alive(), "prism died")
        # 100 kB cannot even be a Wayland message: the proxy cuts it off.
        big = RawClient(p.vm_socket("work"))
        try:
            big.send(u32(1) + u32((0xffff << 16) | 0) + b"X" * 100000)
        except OSError:
            pass  # the proxy hung up before taking it all
        error, closed = big.expect_error()
        check(error is not None and closed, f"{error}")
        check(p.alive(), "prism died")


def test_vm_window_count_is_capped():
    with Prism(vm_extra={"work": "max-windows = 2"}) as p:
        p.test_client("work", title="one")
        p.test_client("work", title="two")
        third = p.test_client("work", title="three", wait=False)
        wait_log(p, "vm=work: window 3 refused: the VM already shows 2 windows")
        wait_for(lambda: not third.alive(), what="the refused client to close")
        check(sorted(w["title"] for w in p.windows()) == ["one", "two"],
              f"{p.windows()}")
        p.test_client("personal", title="other VM")
        check(len(p.windows()) == 3, "the other VM was limited too")


def test_vm_window_size_is_capped():
    with Prism(vm_extra={"work": "max-window-size = 300x200"}) as p:
        p.test_client("work", title="huge", colour="#ff8800", size=(700, 500))
        (win,) = p.wait_windows(1)
        check(win["width"] <= 300 and win["height"] <= 200, f"{win}")
        img = p.screenshot()
        orange = img.count((0, 0, img.width, img.height), rgb("#ff8800"))
        check(0 < orange <= 300 * 200, f"{orange} content pixels shown")
        wait_log(p, "above the VM's limit of 300x200")


def test_I6_pointer_lock_and_shortcut_inhibit_are_per_vm_policy():
    """Off by default; a VM gets them only when its profile lists them."""
    import tempfile
    from prismtest import DATA_DIR
    gated = {"zwp_pointer_constraints_v1", "zwp_relative_pointer_manager_v1",
             "zwp_keyboard_shortcuts_inhibit_manager_v1"}
    d = tempfile.mkdtemp(prefix="prism-allowlist-")
    with open(os.path.join(DATA_DIR, "allowlist", "default.conf")) as f:
        default = f.read()
    with open(os.path.join(d, "default.conf"), "w") as f:
        f.write(default)
    with open(os.path.join(d, "game.conf"), "w") as f:
        f.write(default + "".join(f"{g} 1\n" for g in sorted(gated)))
    with Prism(vm_extra={"personal": "allowlist = game"},
               allowlist_dir=d) as p:
        host = set(p.globals_seen(None))
        check(gated <= host, f"the host lacks {gated - host}")
        check(not gated & set(p.globals_seen("work")),
              "the default profile lets a VM lock the pointer")
        check(gated <= set(p.globals_seen("personal")),
              "a profile that lists them does not get them")


if __name__ == "__main__":
    sys.exit(main([
        test_I5_clipboard_crosses_vms_only_by_the_users_keys,
        test_I5_host_keeps_its_own_clipboard,
        test_I6_keys_go_only_to_the_focused_window,
        test_I6_activation_only_from_the_focused_window_of_the_same_vm,
        test_I1_subsurface_over_a_neighbours_frame_is_cut_at_its_own,
        test_I2_popup_cannot_cover_the_indicator,
        test_I2_indicator_shows_the_focused_vm,
        test_I2_fullscreen_refused_by_policy_becomes_maximise,
        test_I2_fullscreen_allowed_keeps_the_indicator,
        test_I3_label_is_the_hosts_whatever_the_title_says,
        test_I3_oversized_titles_are_capped_or_refused,
        test_vm_window_count_is_capped,
        test_vm_window_size_is_capped,
        test_I6_pointer_lock_and_shortcut_inhibit_are_per_vm_policy,
    ]))
