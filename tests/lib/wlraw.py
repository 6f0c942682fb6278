"""A raw Wayland wire client for hostile tests.

It speaks the wire format byte by byte, so a test can send exactly the
malformed message it means to: wrong sizes, bad strings, missing or extra
fds, ids out of range. Nothing here validates anything.
"""

import array
import os
import select
import socket
import struct
import time

DISPLAY_ID = 1


def u32(v):
    return struct.pack("=I", v & 0xffffffff)


def i32(v):
    return struct.pack("=i", v)


def string(s, nul=True, length=None):
    """A wire string: length (NUL included), bytes, padding to 4."""
    data = s.encode() + (b"\0" if nul else b"")
    n = len(data) if length is None else length
    return u32(n) + data + b"\0" * (-len(data) % 4)


def header(obj, opcode, size):
    return struct.pack("=II", obj, (size << 16) | opcode)


def message(obj, opcode, payload=b""):
    return header(obj, opcode, 8 + len(payload)) + payload


class Disconnected(Exception):
    pass


class RawClient:
    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.timeout = timeout
        self.next_id = 2
        self.buf = b""
        self.fds = []
        self.error = None  # (object, code, message) once received
        self.closed = False
        self.globals = {}  # interface -> (name, version)

    def new_id(self):
        i = self.next_id
        self.next_id += 1
        return i

    def send(self, data, fds=()):
        """Send; a peer that already hung up (after an error it sent) is
        not an error here: expect_error() tells what happened."""
        try:
            if fds:
                self.sock.sendmsg([data], [(socket.SOL_SOCKET,
                                            socket.SCM_RIGHTS,
                                            array.array("i", fds))])
            else:
                self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def request(self, obj, opcode, payload=b"", fds=()):
        self.send(message(obj, opcode, payload), fds)

    def close(self):
        self.sock.close()
        for fd in self.fds:
            os.close(fd)
        self.fds = []

    def _read(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([self.sock], [], [], remaining)
        if not ready:
            return False
        try:
            data, anc, _, _ = self.sock.recvmsg(65536,
                                                socket.CMSG_SPACE(4 * 28))
        except ConnectionResetError:
            self.closed = True
            return False
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(payload[:len(payload) - len(payload) % 4])
                self.fds.extend(fds)
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def events(self, until=None, timeout=None):
        """Read events until until(event) is true, the peer closes, or the
        timeout passes. Each event is (object, opcode, payload)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out = []
        while True:
            while len(self.buf) >= 8:
                obj, word = struct.unpack("=II", self.buf[:8])
                size, opcode = word >> 16, word & 0xffff
                if size < 8 or len(self.buf) < size:
                    break
                payload = self.buf[8:size]
                self.buf = self.buf[size:]
                event = (obj, opcode, payload)
                out.append(event)
                if obj == DISPLAY_ID and opcode == 0:
                    self.error = parse_error(payload)
                if until is not None and until(event):
                    return out
            if self.closed or not self._read(deadline):
                return out

    def sync(self):
        """wl_display.sync and wait for its done: a round trip."""
        cb = self.new_id()
        self.request(DISPLAY_ID, 0, u32(cb))
        out = self.events(until=lambda e: e[0] == cb and e[1] == 0)
        if not out or out[-1][0] != cb:
            raise Disconnected(self.error)
        return out

    def get_registry(self):
        reg = self.new_id()
        self.request(DISPLAY_ID, 1, u32(reg))
        for obj, opcode, payload in self.sync():
            if obj == reg and opcode == 0:
                name, = struct.unpack("=I", payload[:4])
                n, = struct.unpack("=I", payload[4:8])
                iface = payload[8:8 + n - 1].decode()
                version, = struct.unpack("=I", payload[8 + (n + 3) // 4 * 4:][:4])
                self.globals[iface] = (name, version)
        self.registry = reg
        return reg

    def bind(self, iface, version=None, name=None, as_iface=None):
        gname, gversion = self.globals.get(iface, (name, 1))
        obj = self.new_id()
        self.request(self.registry, 0,
                     u32(gname if name is None else name) +
                     string(as_iface or iface) +
                     u32(gversion if version is None else version) + u32(obj))
        return obj

    def expect_error(self, timeout=None):
        """Wait for wl_display.error and the hang-up after it."""
        self.events(timeout=timeout)
        return self.error, self.closed


def parse_error(payload):
    obj, code, n = struct.unpack("=III", payload[:12])
    return (obj, code, payload[12:12 + max(n - 1, 0)].decode(errors="replace"))


def memfd(size, seal=False):
    flags = os.MFD_CLOEXEC | (os.MFD_ALLOW_SEALING if seal else 0)
    fd = os.memfd_create("wlraw", flags)
    os.ftruncate(fd, size)
    if seal:
        import fcntl
        F_ADD_SEALS = 1033
        F_SEAL_SHRINK = 0x0002
        fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)
    return fd
