#!/bin/sh
# Network acceptance test (issue 3): boot the default guest with user
# networking and a hostfwd rule, then
#   1. run busybox httpd in the guest and fetch a page from the host through
#      hostfwd on 127.0.0.1;
#   2. run a web server on the host's loopback and fetch a page from it in
#      the guest through slirp (10.0.2.2 is the host).
# Only loopback addresses are used on the host.
#
# Environment:
#   GLASSBOX         engine binary (default ./glassbox)
#   NET_HOSTFWD_EMU  "qemu" to run the same test on qemu-system-riscv64 (a
#                    check of the test itself)
#   NET_HOSTFWD_IMAGES  image directory (default: tools/images/build-guest)
#   NET_HOSTFWD_TIMEOUT seconds to wait for the guest banner (default 300)
# Exit: 0 pass, 1 fail, 77 skip (no --net in the engine, no images, no
# emulator; the reason is printed).
top=$(cd "$(dirname "$0")/.." && pwd)
gb=${GLASSBOX:-./glassbox}
emu=${NET_HOSTFWD_EMU:-glassbox}

if [ "$emu" = glassbox ]; then
    if [ ! -x "$gb" ]; then
        echo "ERROR: glassbox binary '$gb' not found or not executable (build it, or set GLASSBOX)"
        exit 99
    fi
    if ! "$gb" run --help 2>&1 | grep -q -- '--net'; then
        echo "SKIP: '$gb run' has no --net option yet (virtio-net is not wired into the machine)"
        exit 77
    fi
fi
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }

exec python3 - "$top" "$gb" "$emu" <<'EOF'
import http.server
import importlib.machinery
import importlib.util
import os
import re
import secrets
import shutil
import socket
import sys
import threading
import time
import urllib.request

top, gb, emu = sys.argv[1:4]
loader = importlib.machinery.SourceFileLoader(
    "boot_check", os.path.join(top, "tests", "images", "boot-check"))
spec = importlib.util.spec_from_loader("boot_check", loader)
bc = importlib.util.module_from_spec(spec)
loader.exec_module(bc)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


images = os.environ.get("NET_HOSTFWD_IMAGES") or bc.build_images()
kernel = os.path.join(images, "Image")
initrd = os.path.join(images, "initramfs.cpio.gz")
for f in (kernel, initrd):
    if not os.path.isfile(f):
        bc.skip("%s is missing" % f)

fwd_port = free_port()
if emu == "qemu":
    if shutil.which("qemu-system-riscv64") is None:
        bc.skip("qemu-system-riscv64 not found")
    argv = ["qemu-system-riscv64", "-M", "virt", "-m", "256M", "-nographic",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0",
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:80" % fwd_port,
            "-device", "virtio-net-device,netdev=n0"]
else:
    argv = [gb, "run", "--memory", "256M", "--kernel", kernel,
            "--initrd", initrd, "--append", "console=ttyS0",
            "--net", "user,hostfwd=tcp::%d-:80" % fwd_port]

# The host side: a page on loopback only, with a token the guest must see.
host_token = "host-page-" + secrets.token_hex(8)
guest_token = "guest-page-" + secrets.token_hex(8)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (host_token + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
srv_port = srv.server_address[1]

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%s %d - %s%s" % ("ok" if ok else "not ok", len(results), name,
                            (": " + detail) if detail else ""), flush=True)
    return ok


print("net-hostfwd: " + " ".join(argv), flush=True)
g = bc.Guest(argv, verbose=bool(os.environ.get("NET_HOSTFWD_VERBOSE")))
try:
    g.boot()
    g.expect(re.escape(bc.BANNER),
             float(os.environ.get("NET_HOSTFWD_TIMEOUT", "300")))
    g.wait_prompt(60)
    out, st = g.run("ip -4 addr show eth0")
    check("eth0 has a DHCP address", st == 0 and "10.0.2.15" in out,
          re.sub(r"\s+", " ", out.strip())[:120])

    out, st = g.run("mkdir -p /tmp/www && echo %s > /tmp/www/index.html && "
                    "httpd -p 80 -h /tmp/www" % guest_token)
    check("httpd starts in the guest", st == 0, out.strip())

    # Host to guest through hostfwd on 127.0.0.1.
    got, err, deadline = "", "", time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/index.html" % fwd_port,
                    timeout=10) as r:
                got = r.read().decode(errors="replace")
            break
        except OSError as e:
            err = str(e)
            time.sleep(0.5)
    check("host fetches the guest's page via hostfwd", guest_token in got,
          repr(got.strip()) if got else err)

    # Guest to host through slirp (10.0.2.2 is the host's loopback).
    out, st = g.run("wget -q -T 20 -O - http://10.0.2.2:%d/page.txt"
                    % srv_port, 60)
    check("guest fetches a page from the host's loopback",
          st == 0 and host_token in out, repr(out.strip()[:200]))

    try:
        g.poweroff("poweroff -f", 60)
    except bc.Timeout as e:
        check("poweroff", False, str(e))
except bc.Timeout as e:
    check("guest session", False, str(e))
finally:
    g.kill()
    srv.shutdown()

failed = results.count(False)
if failed:
    sys.stderr.write("net-hostfwd: console output follows\n" +
                     g.console()[-6000:] + "\n")
print("%d passed, %d failed" % (len(results) - failed, failed))
sys.exit(1 if failed else 0)
EOF
