"""A minimal W3C WebDriver client (standard library only) for driving the Vigil window
through WebKitWebDriver."""

import base64
import json
import os
import socket
import subprocess
import time
import traceback
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(RuntimeError):
    pass


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_driver(env, log):
    """WebKitWebDriver on a free port, with `env` (the app it starts inherits it) and its
    output (the app's too) in `log`. Returns (process, port) once it listens."""
    port = free_port()
    proc = subprocess.Popen(["WebKitWebDriver", f"--port={port}"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.2)


def run_test(s, test, args, artifacts):
    """Runs one end-to-end test, prints ok or FAILED with its traceback, and keeps a
    screenshot of the window when it fails. Returns whether it passed."""
    started = time.monotonic()
    try:
        test(*args)
        print(f"e2e {test.__name__} ... ok ({time.monotonic() - started:.1f}s)", flush=True)
        return True
    except Exception:
        print(f"e2e {test.__name__} ... FAILED", flush=True)
        traceback.print_exc()
        try:
            s.screenshot(os.path.join(artifacts, f"failed-{test.__name__}.png"))
        except Exception:
            pass
        return False


def app_session(port, binary):
    """A session that starts the app. The app loads its own page; "normal" page loading
    would make script commands wait on a navigation WebKitWebDriver never sees finish."""
    return Session(f"http://127.0.0.1:{port}", {"alwaysMatch": {
        "pageLoadStrategy": "none",
        "webkitgtk:browserOptions": {"binary": binary, "args": []},
    }})


def startup_marks(s, started):
    """Where start-up time goes, from the page's own clock: seconds from the app's launch
    (`started`, monotonic) to the page's navigation start (the app and its web process
    up) and to its first contentful paint (the window's shell drawn, before any data)."""
    marks = s.execute("""
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        return { origin: performance.timeOrigin, fcp: fcp ? fcp.startTime : null };
    """)
    launched = time.time() - (time.monotonic() - started)
    out = {"page_start_s": round(marks["origin"] / 1000 - launched, 2)}
    if marks.get("fcp") is not None:
        out["first_paint_s"] = round((marks["origin"] + marks["fcp"]) / 1000 - launched, 2)
    return out


class Session:
    def __init__(self, url, capabilities, timeout=60):
        self.url = url.rstrip("/")
        value = self._call("POST", "/session", {"capabilities": capabilities}, timeout=timeout)
        self.id = value["sessionId"]

    def _call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                payload = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise WebDriverError(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}") from None
        return payload.get("value")

    def cmd(self, method, path, body=None):
        return self._call(method, f"/session/{self.id}{path}", body)

    def quit(self):
        try:
            self._call("DELETE", f"/session/{self.id}", timeout=10)
        except Exception:  # the app may already be gone
            pass

    def find_all(self, css):
        found = self.cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [e[ELEMENT] for e in found]

    def find(self, css):
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def text(self, el):
        return self.cmd("GET", f"/element/{el}/text")

    def attr(self, el, name):
        return self.cmd("GET", f"/element/{el}/attribute/{name}")

    def click(self, el):
        self.cmd("POST", f"/element/{el}/click", {})

    def type(self, el, text):
        self.cmd("POST", f"/element/{el}/value", {"text": text})

    def execute(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path):
        png = base64.b64decode(self.cmd("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def wait(self, what, predicate, timeout=30, interval=0.2):
        deadline = time.monotonic() + timeout
        last_err = None
        while time.monotonic() < deadline:
            try:
                value = predicate()
                if value:
                    return value
            except WebDriverError as e:
                last_err = e
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" ({last_err})" if last_err else ""))

    def clear(self, el):
        self.cmd("POST", f"/element/{el}/clear", {})

    def execute_async(self, script, *args):
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)})
