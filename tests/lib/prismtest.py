"""Harness for Prism's integration tests.

Each test runs a private, headless Prism (wlroots headless backend, pixman
renderer) in its own XDG_RUNTIME_DIR (mode 0700), drives it with prismctl and
real or test clients, and checks what it shows with screenshots. A test file
calls main() with its test functions; meson runs each function as its own
test, by name. Exit status 77 means skipped, as meson expects.
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zlib

SKIP_STATUS = 77

PRISM = os.environ.get("PRISM", "prism")
PRISMCTL = os.environ.get("PRISMCTL", "prismctl")
TEST_CLIENT = os.environ.get("PRISM_TEST_CLIENT", "prism-test-client")
DATA_DIR = os.environ.get("PRISM_DATA_DIR",
                          os.path.join(os.path.dirname(__file__), "..", "..", "data"))

BORDER = 4
DEFAULT_VMS = (
    ("work", "Work", "#cc3333"),
    ("personal", "Personal", "#33aa55"),
)
HOST_COLOUR = "#8a8a8a"
BACKGROUND = "#1d1f21"
UNFOCUSED_BRIGHTNESS = 0.55


class Skip(Exception):
    pass


class Failure(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def require_tool(name):
    path = shutil.which(name)
    if path is None:
        raise Skip(f"{name} is not installed")
    return path


def rgb(colour):
    """'#rrggbb' to an (r, g, b) tuple."""
    v = int(colour.lstrip("#"), 16)
    return ((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)


def dimmed(colour):
    """The frame colour of an unfocused window: same hue, darker."""
    return tuple(int(round(c * UNFOCUSED_BRIGHTNESS)) for c in rgb(colour))


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Image:
    def __init__(self, width, height, rows):
        self.width = width
        self.height = height
        self.rows = rows  # list of bytes, 3 per pixel

    def px(self, x, y):
        check(0 <= x < self.width and 0 <= y < self.height,
              f"pixel ({x}, {y}) is outside the {self.width}x{self.height} image")
        row = self.rows[y]
        return (row[3 * x], row[3 * x + 1], row[3 * x + 2])

    def count(self, box, colour):
        x0, y0, w, h = box
        n = 0
        for y in range(max(y0, 0), min(y0 + h, self.height)):
            for x in range(max(x0, 0), min(x0 + w, self.width)):
                if self.px(x, y) == colour:
                    n += 1
        return n


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(path):
    """A minimal reader for the 8-bit RGB PNGs prismctl writes."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG file")
    pos = 8
    idat = b""
    width = height = None
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if ctype == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = \
                struct.unpack(">IIBBBBB", chunk)
            check(depth == 8 and colour_type == 2 and interlace == 0,
                  "only 8-bit RGB non-interlaced PNGs are supported")
        elif ctype == b"IDAT":
            idat += chunk
        elif ctype == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * 3
    rows = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if ftype == 1:
            for i in range(3, stride):
                line[i] = (line[i] + line[i - 3]) & 0xff
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xff
        elif ftype == 3:
            for i in range(stride):
                left = line[i - 3] if i >= 3 else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif ftype == 4:
            for i in range(stride):
                left = line[i - 3] if i >= 3 else 0
                up_left = prev[i - 3] if i >= 3 else 0
                line[i] = (line[i] + _paeth(left, prev[i], up_left)) & 0xff
        rows.append(bytes(line))
        prev = line
    return Image(width, height, rows)


class Client:
    """A client process started by the harness."""

    def __init__(self, proc, name):
        self.proc = proc
        self.name = name
        self.history = []  # every line it printed so far
        self._pending = b""  # read from its stdout, not yet a whole line

    def wait_mapped(self, timeout=10.0):
        self.read_until(lambda l: l == "mapped", timeout)
        return self

    def alive(self):
        return self.proc.poll() is None

    def tell(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def _next_line(self, timeout):
        # Read the pipe ourselves: a buffered readline() would swallow the
        # lines after the first, where select() can no longer see them.
        import select as _select
        import time as _time
        deadline = _time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._pending:
            remaining = deadline - _time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = _select.select([fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._pending += chunk
        raw, self._pending = self._pending.split(b"\n", 1)
        line = raw.decode(errors="replace")
        self.history.append(line)
        return line

    def read_until(self, predicate, timeout=10.0):
        """New lines the client prints, until one satisfies predicate."""
        import time as _time
        deadline = _time.monotonic() + timeout
        seen = []
        while _time.monotonic() < deadline:
            line = self._next_line(deadline - _time.monotonic())
            if line is None:
                break
            seen.append(line)
            if predicate(line):
                return line, seen
        raise Failure(f"{self.name} never printed the expected line; "
                      f"it printed {seen} (status {self.proc.poll()})")

    def wait_line(self, predicate, timeout=10.0):
        """A line, printed already or to come, that satisfies predicate."""
        for line in self.history:
            if predicate(line):
                return line
        return self.read_until(predicate, timeout)[0]

    def lines_now(self, wait=0.3):
        """Whatever the client printed within wait seconds."""
        out = []
        while True:
            line = self._next_line(wait)
            if line is None:
                return out
            out.append(line)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Prism:
    """A private headless Prism for one test."""

    def __init__(self, vms=DEFAULT_VMS, general="", vm_extra=None,
                 config_text=None, outputs=1, allowlist_dir=None,
                 renderer="pixman"):
        self.tmp = tempfile.mkdtemp(prefix="prism-test-")
        self.runtime = os.path.join(self.tmp, "runtime")
        os.mkdir(self.runtime, 0o700)
        self.config_path = os.path.join(self.tmp, "prism.ini")
        if config_text is None:
            config_text = self.make_config(vms, general, vm_extra or {},
                                           allowlist_dir)
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.vms = {name: (label, colour) for name, label, colour in vms}
        self.clients = []
        self.log_path = os.path.join(self.tmp, "prism.log")
        self.proc = None
        self.outputs = outputs
        # pixman everywhere but in the GPU tests, which ask for gles2.
        self.renderer = renderer

    @staticmethod
    def make_config(vms, general, vm_extra, allowlist_dir=None):
        allowlist_dir = allowlist_dir or \
            os.path.abspath(os.path.join(DATA_DIR, "allowlist"))
        lines = ["[general]", f"border-width = {BORDER}",
                 f"allowlist-dir = {allowlist_dir}",
                 f"background = {BACKGROUND}", f"host-colour = {HOST_COLOUR}",
                 general, ""]
        for name, label, colour in vms:
            lines += [f"[vm:{name}]", f"label = {label}", f"colour = {colour}",
                      vm_extra.get(name, ""), ""]
        return "\n".join(lines)

    def env(self, wayland_display=None):
        env = dict(os.environ)
        for var in ("WAYLAND_DISPLAY", "DISPLAY", "WAYLAND_SOCKET"):
            env.pop(var, None)
        env.update({
            "XDG_RUNTIME_DIR": self.runtime,
            "WLR_BACKENDS": "headless",
            "WLR_RENDERER": self.renderer,
            "WLR_LIBINPUT_NO_DEVICES": "1",
            "WLR_HEADLESS_OUTPUTS": str(self.outputs),
        })
        if wayland_display is not None:
            env["WAYLAND_DISPLAY"] = wayland_display
        return env

    def start(self, args=()):
        self.log = open(self.log_path, "w")
        # Its own process group, so that nothing it started (proxies,
        # clients of a command) survives a test that dies.
        self.proc = subprocess.Popen([PRISM, "--config", self.config_path,
                                      *args], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env(),
                                     start_new_session=True)
        socket_path = os.path.join(self.runtime, "wayland-0")

        def ready():
            if self.proc.poll() is not None:
                raise Failure(f"prism exited with {self.proc.returncode} "
                              f"during start-up:\n{self.read_log()}")
            return os.path.exists(socket_path) and \
                self.ctl("vms", check_status=False).returncode == 0
        wait_for(ready, timeout=20, what="prism to start")
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop(expect_clean=exc_type is None)
        return False

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, expect_clean=True):
        for c in self.clients:
            c.kill()
        status = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            status = self.proc.returncode
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.log.close()
        if expect_clean:
            log = self.read_log()
            check(status == 0, f"prism did not exit cleanly (status {status}):"
                  f"\n{log[-4000:]}")
            # Sanitizer builds: a report from prism or any of its proxies
            # (they share this log) fails the test.
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                           "runtime error:"):
                at = log.find(marker)
                check(at < 0, f"sanitizer report in the log:\n"
                      f"{log[max(at - 200, 0):][:4000]}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        return status

    def vm_socket(self, vm):
        return os.path.join(self.runtime, "prism", f"vm-{vm}.sock")

    def display_for(self, vm):
        return self.vm_socket(vm) if vm else "wayland-0"

    def ctl(self, *args, check_status=True):
        res = subprocess.run([PRISMCTL, *args], capture_output=True, text=True,
                             env=self.env("wayland-0"), timeout=20)
        if check_status:
            check(res.returncode == 0, f"prismctl {' '.join(args)} failed "
                  f"({res.returncode}): {res.stderr}")
        return res

    def windows(self):
        return json.loads(self.ctl("windows", "--json").stdout)

    def vm_list(self):
        return json.loads(self.ctl("vms", "--json").stdout)

    def wait_windows(self, n, timeout=10.0):
        return wait_for(lambda: len(self.windows()) == n and self.windows(),
                        timeout=timeout, what=f"{n} windows")

    def screenshot(self):
        path = os.path.join(self.tmp, f"shot-{time.monotonic_ns()}.png")
        self.ctl("screenshot", path)
        return read_png(path)

    def key(self, combo):
        self.ctl("key", combo)

    def spawn(self, argv, vm=None, extra_env=None, name=None, stdin=False):
        env = self.env(self.display_for(vm))
        env.update(extra_env or {})
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env,
                                stdin=subprocess.PIPE if stdin else
                                subprocess.DEVNULL)
        client = Client(proc, name or os.path.basename(argv[0]))
        self.clients.append(client)
        return client

    def test_client(self, vm=None, title="test", colour="#3366cc",
                    size=(160, 120), extra=(), wait=True):
        argv = [TEST_CLIENT, "--title", title, "--colour", colour,
                "--size", f"{size[0]}x{size[1]}", *extra]
        client = self.spawn(argv, vm=vm, name=f"test-client({vm or 'host'})",
                            stdin=True)
        if wait:
            client.wait_mapped()
        return client

    def globals_seen(self, vm=None):
        res = subprocess.run([TEST_CLIENT, "--globals"], capture_output=True,
                             text=True, env=self.env(self.display_for(vm)),
                             timeout=20)
        check(res.returncode == 0, f"listing globals failed: {res.stderr}")
        return dict((line.split()[0], int(line.split()[1]))
                    for line in res.stdout.splitlines() if line.strip())

    def raw_connect(self, vm=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = self.vm_socket(vm) if vm else os.path.join(self.runtime,
                                                          "wayland-0")
        s.connect(path)
        return s


def frame_colour(prism, window):
    """Expected frame colour of a window from prismctl's description."""
    colour = prism.vms[window["vm"]][1] if window["vm"] else HOST_COLOUR
    return rgb(colour) if window["focused"] else dimmed(colour)


def wl_message(obj, opcode, payload=b""):
    """One Wayland wire message: object id, size<<16 | opcode, payload."""
    size = 8 + len(payload)
    return struct.pack("=II", obj, (size << 16) | opcode) + payload


def exclusive(test):
    """Mark a test that measures time: meson runs it alone."""
    test.exclusive = True
    return test


def main(tests):
    """Run the test named on the command line (or all of them)."""
    if sys.argv[1:] == ["--list"]:
        # "name:exclusive" for tests that measure time and must not share
        # the machine with other tests.
        print("\n".join(t.__name__ + (":exclusive" if getattr(
            t, "exclusive", False) else "") for t in tests))
        return 0
    names = sys.argv[1:] or [t.__name__ for t in tests]
    by_name = {t.__name__: t for t in tests}
    status = 0
    for name in names:
        test = by_name.get(name)
        if test is None:
            print(f"no test named {name}")
            return 1
        try:
            test()
            print(f"PASS: {name}")
        except Skip as e:
            print(f"SKIP: {name}: {e}")
            status = status or SKIP_STATUS
        except Exception:
            traceback.print_exc()
            print(f"FAIL: {name}")
            status = 1
    return status
