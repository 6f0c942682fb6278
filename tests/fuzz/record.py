#!/usr/bin/env python3
"""Record real clients' conversations as seeds for fuzz-wire.

usage: record.py BUILD_DIR OUT_DIR

It starts a headless prism, puts a recording relay in front of VM work's
socket, runs a few real clients through it (weston-simple-shm, foot,
wayland-info, the test client), and writes each connection as one input in
fuzz-wire's format: chunks of u8 direction, u8 fd count, u16 length, bytes.
"""

import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))

CLIENTS = [
    ("simple-shm", ["weston-simple-shm"], 2.0),
    ("foot", ["foot", "--config=/dev/null", "sh", "-c", "sleep 1"], 4.0),
    ("wayland-info", ["wayland-info"], 3.0),
    ("test-client", ["TEST_CLIENT", "--title", "seed", "--popup",
                     "10,10,50x40", "--subsurface", "5,5,20x20,ff0000",
                     "--print-keys"], 2.0),
]


def relay(guest, upstream, out):
    """Forward both ways, fds included, writing each chunk to out."""
    socks = {guest: (upstream, 0), upstream: (guest, 1)}
    while True:
        ready, _, _ = select.select(list(socks), [], [], 5)
        if not ready:
            return
        for s in ready:
            data, anc, _, _ = s.recvmsg(65535, socket.CMSG_SPACE(4 * 28))
            fds = []
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds += list(struct.unpack(f"{len(payload) // 4}i",
                                              payload[:len(payload) // 4 * 4]))
            if not data:
                return
            peer, direction = socks[s]
            out.write(struct.pack("<BBH", direction, len(fds), len(data)) + data)
            if fds:
                peer.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                       struct.pack(f"{len(fds)}i", *fds))])
                for fd in fds:
                    os.close(fd)
            else:
                peer.sendall(data)


def main():
    build, out_dir = sys.argv[1], sys.argv[2]
    os.environ.setdefault("PRISM", f"{build}/compositor/prism")
    os.environ.setdefault("PRISMCTL", f"{build}/compositor/prismctl")
    test_client = f"{build}/tests/prism-test-client"
    os.environ.setdefault("PRISM_TEST_CLIENT", test_client)
    from prismtest import Prism
    os.makedirs(out_dir, exist_ok=True)
    with Prism() as p:
        listen_path = os.path.join(p.runtime, "record.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(listen_path)
        listener.listen(8)
        for name, argv, seconds in CLIENTS:
            argv = [test_client if a == "TEST_CLIENT" else a for a in argv]
            proc = subprocess.Popen(argv, env=p.env(listen_path),
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            threads = []
            deadline = time.monotonic() + seconds
            n = 0
            while time.monotonic() < deadline:
                ready, _, _ = select.select([listener], [], [], 0.1)
                if not ready:
                    continue
                guest, _ = listener.accept()
                upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                upstream.connect(p.vm_socket("work"))
                out = open(os.path.join(out_dir, f"{name}-{n}.bin"), "wb")
                n += 1
                t = threading.Thread(target=relay, args=(guest, upstream, out),
                                     daemon=True)
                t.start()
                threads.append((t, out, guest, upstream))
            proc.terminate()
            proc.wait()
            for t, out, guest, upstream in threads:
                t.join(timeout=5)
                out.close()
                guest.close()
                upstream.close()
            print(f"recorded {name}: {n} connection(s)")


if __name__ == "__main__":
    main()
