#!/usr/bin/env python3
"""The compositor with two VMs and the host: tagging, frames, globals, input."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from prismtest import (BORDER, BACKGROUND, HOST_COLOUR, Prism, check, dimmed,
                       frame_colour, main, rgb, wait_for, wl_message, PRISM)

PRIVILEGED = {"prism_control_v1", "zwlr_screencopy_manager_v1",
              "zwlr_data_control_manager_v1", "zwlr_layer_shell_v1",
              "zwp_virtual_keyboard_manager_v1",
              "zwlr_virtual_pointer_manager_v1", "zwlr_output_manager_v1",
              "zwlr_gamma_control_manager_v1"}


def allowlist(profile="default"):
    from prismtest import DATA_DIR
    names = {}
    with open(os.path.join(DATA_DIR, "allowlist", f"{profile}.conf")) as f:
        for line in f:
            words = line.split("#")[0].split()
            if len(words) == 2 and words[0] != "deny":
                names[words[0]] = int(words[1])
    return names


def text_colour(frame):
    """The contrasting title text colour Prism picks (WCAG luminance)."""
    def lin(c):
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    lum = 0.2126 * lin(frame[0]) + 0.7152 * lin(frame[1]) + \
        0.0722 * lin(frame[2])
    return (0, 0, 0) if lum > 0.179 else (255, 255, 255)


def title_bar_height(img, win, colour):
    """Frame rows above the content, measured at the right of the title bar."""
    x = win["x"] + win["width"] - 2
    y = win["y"] - 1
    n = 0
    while y - n >= 0 and img.px(x, y - n) == colour:
        n += 1
    return n


def check_frame(img, win, colour, content_colour=None):
    """The frame of one window, as the user sees it in a screenshot."""
    x, y, w, h = win["x"], win["y"], win["width"], win["height"]
    name = f"window {win['id']} ({win['vm'] or 'host'})"
    for px, py, where in [(x - 1, y + h // 2, "left"),
                          (x - BORDER, y + h // 2, "left"),
                          (x + w, y + h // 2, "right"),
                          (x + w + BORDER - 1, y + h // 2, "right"),
                          (x + w // 2, y + h, "bottom"),
                          (x + w // 2, y + h + BORDER - 1, "bottom")]:
        check(img.px(px, py) == colour,
              f"{name}: {where} border pixel ({px}, {py}) is "
              f"{img.px(px, py)}, expected {colour}")
    for px, py, where in [(x - BORDER - 1, y + h // 2, "left"),
                          (x + w + BORDER, y + h // 2, "right"),
                          (x + w // 2, y + h + BORDER, "bottom")]:
        if not (0 <= px < img.width and 0 <= py < img.height):
            continue
        check(img.px(px, py) != colour,
              f"{name}: the frame is wider than {BORDER}px on the {where}")
    bar = title_bar_height(img, win, colour)
    check(bar >= BORDER + 10,
          f"{name}: no title bar above the content ({bar} rows of frame)")
    region = (x, y - bar + BORDER, min(w, 120), bar - BORDER)
    ink = region[2] * region[3] - img.count(region, colour)
    solid = img.count(region, text_colour(colour))
    check(ink >= 20 and solid >= 1,
          f"{name}: no title text in the title bar ({ink} pixels differ "
          f"from the frame, {solid} in the text colour)")
    if content_colour is not None:
        centre = img.px(x + w // 2, y + h // 2)
        check(centre == rgb(content_colour),
              f"{name}: content is {centre}, expected {rgb(content_colour)}")
    return bar


def test_vm_windows_are_tagged_with_their_vm():
    with Prism() as p:
        p.test_client("work", title="from work")
        p.test_client("personal", title="from personal")
        p.test_client(None, title="from host")
        wins = p.wait_windows(3)
        by_title = {w["title"]: w for w in wins}
        check(by_title["from work"]["vm"] == "work", f"{wins}")
        check(by_title["from personal"]["vm"] == "personal", f"{wins}")
        check(by_title["from host"]["vm"] is None, f"{wins}")
        for w in wins:
            check(set(w) >= {"id", "vm", "title", "x", "y", "width", "height",
                             "focused"}, f"missing JSON fields in {w}")
        vms = {v["name"]: v for v in p.vm_list()}
        check(vms["work"]["windows"] == 1 and vms["personal"]["windows"] == 1,
              f"{vms}")
        check(vms["work"]["colour"] == "#cc3333", f"{vms}")


def test_frames_show_vm_colour_and_label():
    with Prism() as p:
        p.test_client("work", title="w", colour="#102030")
        p.test_client("personal", title="p", colour="#405060")
        wins = p.wait_windows(2)
        img = p.screenshot()
        for win in wins:
            check_frame(img, win, frame_colour(p, win),
                        "#102030" if win["vm"] == "work" else "#405060")


def test_host_window_has_neutral_frame():
    with Prism() as p:
        p.test_client(None, title="host", colour="#204060")
        (win,) = p.wait_windows(1)
        check(win["vm"] is None and win["focused"], f"{win}")
        img = p.screenshot()
        check_frame(img, win, rgb(HOST_COLOUR), "#204060")


def test_focus_changes_frame_brightness_not_hue():
    with Prism() as p:
        p.test_client("work", title="a")
        p.test_client("work", title="b")
        wins = p.wait_windows(2)
        focused = [w for w in wins if w["focused"]]
        check(len(focused) == 1, f"exactly one window is focused: {wins}")
        img = p.screenshot()
        for w in wins:
            colour = rgb("#cc3333") if w["focused"] else dimmed("#cc3333")
            check_frame(img, w, colour)
        # Same hue: the unfocused colour is the focused one scaled.
        full, dim = rgb("#cc3333"), dimmed("#cc3333")
        ratios = {round(d / f, 2) for d, f in zip(dim, full) if f}
        check(len(ratios) == 1, f"hue changed: {full} vs {dim}")


def test_vm_client_sees_only_allowlisted_globals():
    with Prism() as p:
        host = p.globals_seen(None)
        vm = p.globals_seen("work")
        allowed = allowlist()
        check(set(vm) == set(host) & set(allowed),
              f"VM globals {sorted(vm)} are not the host's "
              f"{sorted(host)} filtered by the allowlist {sorted(allowed)}")
        leaked = set(vm) & PRIVILEGED
        check(not leaked, f"privileged globals reached a VM: {leaked}")


def test_host_client_sees_control_and_screencopy():
    with Prism() as p:
        host = p.globals_seen(None)
        vm = p.globals_seen("personal")
        for name in ("prism_control_v1", "zwlr_screencopy_manager_v1"):
            check(name in host, f"host client does not see {name}")
            check(name not in vm, f"VM client sees {name}")


def test_vm_disconnect_mid_message_leaves_prism_and_others():
    with Prism() as p:
        p.test_client("personal", title="survivor", colour="#00ff00")
        p.test_client(None, title="host survivor", colour="#0000ff")
        before = p.wait_windows(2)
        # Half a header, then a header promising more than is sent, then
        # a message whose size field is not a multiple of 4.
        payloads = [
            wl_message(1, 1, b"\x02\x00\x00\x00")[:6],
            wl_message(1, 1, b"\x02\x00\x00\x00" * 8)[:20],
            b"\x01\x00\x00\x00\x01\x00\x0b\x00",
        ]
        for data in payloads:
            s = p.raw_connect("work")
            s.sendall(data)
            s.close()
        # The VM's socket still works for a well-behaved client.
        p.test_client("work", title="after", colour="#ff0000")
        check(p.alive(), "prism died")
        after = p.wait_windows(3)
        kept = {(w["id"], w["title"]) for w in before}
        check(kept <= {(w["id"], w["title"]) for w in after},
              f"windows lost: before {before}, after {after}")
        img = p.screenshot()
        for w in after:
            if w["title"] == "survivor":
                check(img.px(w["x"] + 5, w["y"] + 5) == rgb("#00ff00"),
                      "the other VM's window is no longer drawn")


def test_new_window_of_other_vm_does_not_take_focus():
    with Prism() as p:
        p.test_client("work", title="typing here")
        p.test_client("personal", title="intruder")
        wins = {w["title"]: w for w in p.wait_windows(2)}
        check(wins["typing here"]["focused"], f"{wins}")
        check(not wins["intruder"]["focused"], f"{wins}")


def test_alt_tab_cycles_and_super_q_closes():
    with Prism() as p:
        p.test_client("work", title="one")
        c2 = p.test_client("work", title="two")
        wins = {w["title"]: w for w in p.wait_windows(2)}
        check(wins["two"]["focused"], f"newest same-VM window has focus: {wins}")
        p.key("Alt+Tab")
        wins = {w["title"]: w for w in p.windows()}
        check(wins["one"]["focused"] and not wins["two"]["focused"],
              f"Alt+Tab did not move focus: {wins}")
        p.key("Alt+Tab")
        wins = {w["title"]: w for w in p.windows()}
        check(wins["two"]["focused"], f"Alt+Tab did not come back: {wins}")
        p.key("Super+q")
        wait_for(lambda: not c2.alive(), what="Super+Q to close the window")
        wins = p.wait_windows(1)
        check(wins[0]["title"] == "one" and wins[0]["focused"],
              f"focus did not return to the remaining window: {wins}")


def test_key_rejects_unknown_combination():
    with Prism() as p:
        res = p.ctl("key", "Hyper+Nonsense", check_status=False)
        check(res.returncode != 0 and res.stderr.strip(),
              f"an impossible combination was accepted: {res}")
        check(p.alive(), "prism died")


def test_subsurface_is_clipped_to_the_frame():
    with Prism() as p:
        magenta = "#ff00ff"
        p.test_client("work", title="neighbour", colour="#00ff00",
                      size=(200, 150))
        p.test_client("work", title="hostile", colour="#0000ff",
                      size=(200, 150),
                      extra=["--subsurface", f"-60,-60,400x400,{magenta}"])
        wins = {w["title"]: w for w in p.wait_windows(2)}
        img = p.screenshot()
        hostile = wins["hostile"]
        inside = (hostile["x"], hostile["y"], hostile["width"],
                  hostile["height"])
        total = img.count((0, 0, img.width, img.height), rgb(magenta))
        within = img.count(inside, rgb(magenta))
        check(within > 0, "the subsurface is not drawn at all")
        check(total == within,
              f"{total - within} subsurface pixels escaped the content box")
        check_frame(img, hostile, frame_colour(p, hostile))


def pointer(p, *args):
    p.ctl("pointer", *[str(a) for a in args])


def test_click_focuses_and_raises():
    with Prism() as p:
        p.test_client("work", title="A")
        p.test_client("personal", title="B")
        wins = {w["title"]: w for w in p.wait_windows(2)}
        check(wins["A"]["focused"], f"{wins}")
        b = wins["B"]
        pointer(p, "move", b["x"] + 10, b["y"] + 10)
        pointer(p, "click")
        wins = p.windows()
        check(wins[0]["title"] == "B" and wins[0]["focused"],
              f"B is not focused and on top: {wins}")


def test_dragging_the_title_bar_moves_the_window():
    with Prism() as p:
        p.test_client("work", title="A")
        (win,) = p.wait_windows(1)
        x, y = win["x"] + 20, win["y"] - 8  # inside the title bar
        pointer(p, "move", x, y)
        pointer(p, "press")
        pointer(p, "move", x + 100, y + 60)
        pointer(p, "release")
        (moved,) = p.windows()
        check((moved["x"], moved["y"]) == (win["x"] + 100, win["y"] + 60),
              f"{win} -> {moved}")


def test_dragging_a_border_resizes_the_window():
    with Prism() as p:
        p.test_client("work", title="A", size=(160, 120))
        (win,) = p.wait_windows(1)
        x = win["x"] + win["width"] + BORDER // 2  # the right border
        y = win["y"] + win["height"] // 2
        pointer(p, "move", x, y)
        pointer(p, "press")
        pointer(p, "move", x + 60, y + 40)
        pointer(p, "release")
        wait_for(lambda: p.windows()[0]["width"] == 220,
                 what=f"the window to grow to 220 wide: {p.windows()}")
        check(p.windows()[0]["height"] == 120 and
              p.windows()[0]["x"] == win["x"], f"{p.windows()}")


def test_command_runs_and_its_status_is_returned():
    p = Prism(vms=())
    try:
        env = p.env()
        res = subprocess.run([PRISM, "--config", p.config_path, "--", "sh",
                              "-c", 'test -S "$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY"'
                              ' && exit 7'], env=env, capture_output=True,
                             timeout=60)
        check(res.returncode == 7,
              f"expected status 7, got {res.returncode}: {res.stderr[-2000:]}")
    finally:
        p.stop(expect_clean=False)


def test_bad_config_is_rejected_with_line_and_status_2():
    p = Prism(config_text="[general]\nborder-width = 4\n\n[vm:work]\n"
                          "label = Work\ncolour = red\n")
    try:
        res = subprocess.run([PRISM, "--config", p.config_path], env=p.env(),
                             capture_output=True, text=True, timeout=30)
        check(res.returncode == 2, f"status {res.returncode}, expected 2")
        check(f"{p.config_path}:6: colour" in res.stderr,
              f"no FILE:LINE: reason in {res.stderr!r}")
        check(not os.path.exists(os.path.join(p.runtime, "prism")),
              "a rejected config was half-applied: VM sockets exist")
    finally:
        p.stop(expect_clean=False)


if __name__ == "__main__":
    sys.exit(main([
        test_vm_windows_are_tagged_with_their_vm,
        test_frames_show_vm_colour_and_label,
        test_host_window_has_neutral_frame,
        test_focus_changes_frame_brightness_not_hue,
        test_vm_client_sees_only_allowlisted_globals,
        test_host_client_sees_control_and_screencopy,
        test_vm_disconnect_mid_message_leaves_prism_and_others,
        test_new_window_of_other_vm_does_not_take_focus,
        test_alt_tab_cycles_and_super_q_closes,
        test_key_rejects_unknown_combination,
        test_subsurface_is_clipped_to_the_frame,
        test_click_focuses_and_raises,
        test_dragging_the_title_bar_moves_the_window,
        test_dragging_a_border_resizes_the_window,
        test_command_runs_and_its_status_is_returned,
        test_bad_config_is_rejected_with_line_and_status_2,
    ]))
