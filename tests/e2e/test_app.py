"""End-to-end test of the Vigil desktop app: the real binary in a real webview (WebKitGTK
under Xvfb), driven through WebKitWebDriver. Run by scripts/test (inside xvfb-run and
dbus-run-session).

usage: test_app.py APP_BINARY ARTIFACT_DIR
"""

import os
import socket
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdriver  # noqa: E402

APP, ARTIFACTS = sys.argv[1], sys.argv[2]
os.makedirs(ARTIFACTS, exist_ok=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def card_value(s, name):
    el = s.find(f"[data-testid=card-{name}] [data-testid=card-value]")
    return int(s.text(el).replace(",", "").replace("\u202f", "").replace(" ", "") or "0")


def set_search(s, text):
    # WebKitWebDriver's synthesized key events stall under a bare Xvfb, so the value is
    # set the way React observes it, from a task of its own: an input event dispatched
    # inside the WebDriver script itself never lets the script return.
    s.execute("""
        const el = document.querySelector('[data-testid=search]');
        const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        const text = arguments[0];
        setTimeout(() => {
            set.call(el, text);
            el.dispatchEvent(new Event('input', { bubbles: true }));
        }, 0);
    """, text)


def click(s, el, **modifiers):
    """Clicks like a mouse (down, up, click) from a task of its own, for the same reason
    as set_search: WebKitWebDriver's own click never returns once the handler runs."""
    s.execute("""
        const [el, mods] = arguments;
        setTimeout(() => {
            for (const type of ['mousedown', 'mouseup', 'click']) {
                el.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, button: 0, ...mods }));
            }
        }, 0);
    """, {webdriver.ELEMENT: el}, modifiers)


def snap(s, name):
    """Saves a screenshot. WebKitGTK under Xvfb hands back the frame before the latest
    paint, so wait a little and take the second of two."""
    time.sleep(0.5)
    path = os.path.join(ARTIFACTS, name)
    s.screenshot(path)
    time.sleep(0.3)
    s.screenshot(path)


def rows(s):
    return s.find_all("[data-testid=session-row]")


def test_demo_sessions_appear(s):
    s.wait("the first rows", lambda: len(rows(s)) > 5, timeout=60)
    s.wait("the cards", lambda: card_value(s, "active-sessions") > 1000)
    sessions = card_value(s, "active-sessions")
    users = card_value(s, "active-users")
    assert 0 < users <= sessions, (users, sessions)
    assert card_value(s, "superusers") > 0
    count = s.text(s.find("[data-testid=row-count]"))
    assert "session" in count, count
    status = s.find("[data-testid=tenant-status][data-tenant=demo]")
    assert "demo" in s.text(status)
    first = rows(s)[0]
    assert s.attr(first, "data-tenant") == "demo"
    assert s.attr(first, "data-session-id")
    snap(s, "vigil-main.png")


def test_end_a_session_and_it_is_gone(s):
    target = s.attr(rows(s)[3], "data-session-id")
    set_search(s, target)
    s.wait("the search to narrow to one row",
           lambda: [s.attr(r, "data-session-id") for r in rows(s)] == [target])
    click(s, rows(s)[0])
    s.wait("the row to be selected", lambda: s.attr(rows(s)[0], "aria-selected") == "true")
    button = s.find("[data-testid=end-sessions]")
    click(s, button)
    dialog = s.wait("the confirmation dialog", lambda: s.find_all("[data-testid=confirm-dialog]"))[0]
    assert "End" in s.text(dialog), s.text(dialog)
    snap(s, "vigil-confirm.png")
    click(s, s.find("[data-testid=confirm-end]"))
    result = s.wait("the action result", lambda: s.find_all("[data-testid=action-result]"))[0]
    assert "1" in s.text(result), s.text(result)
    s.wait("the ended session to disappear", lambda: not rows(s) and s.find_all("[data-testid=empty-state]"), timeout=20)
    snap(s, "vigil-ended.png")
    set_search(s, "")
    s.wait("the table to come back", lambda: len(rows(s)) > 5)
    ids = {s.attr(r, "data-session-id") for r in rows(s)}
    assert target not in ids


def test_the_window_cannot_call_what_it_was_not_granted(s):
    script = """
        const done = arguments[arguments.length - 1];
        const inv = window.__TAURI_INTERNALS__.invoke;
        Promise.allSettled([
            inv('summary'),
            inv('plugin:app|version'),
            inv('plugin:window|close', { label: 'main' }),
        ]).then(r => done(r.map(x => x.status)));
    """
    assert s.execute_async(script) == ["fulfilled", "rejected", "rejected"]


def main():
    port = free_port()
    env = dict(os.environ, TAURI_WEBVIEW_AUTOMATION="true",
               VIGIL_DEMO_SESSIONS="3000", VIGIL_POLL_INTERVAL_MS="1000")
    driver = subprocess.Popen(["WebKitWebDriver", f"--port={port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    passed = failed = 0
    s = None
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        s = webdriver.Session(f"http://127.0.0.1:{port}", {
            "alwaysMatch": {
                # The app loads its own page; "normal" makes script commands wait on
                # a navigation WebKitWebDriver never sees finish.
                "pageLoadStrategy": "none",
                "webkitgtk:browserOptions": {"binary": APP, "args": []},
            }
        })
        for test in (test_demo_sessions_appear, test_end_a_session_and_it_is_gone,
                     test_the_window_cannot_call_what_it_was_not_granted):
            started = time.monotonic()
            try:
                test(s)
                passed += 1
                print(f"e2e {test.__name__} ... ok ({time.monotonic() - started:.1f}s)", flush=True)
            except Exception:
                failed += 1
                print(f"e2e {test.__name__} ... FAILED", flush=True)
                traceback.print_exc()
                try:
                    s.screenshot(os.path.join(ARTIFACTS, f"failed-{test.__name__}.png"))
                except Exception:
                    pass
    finally:
        if s is not None:
            s.quit()
        driver.terminate()
        try:
            driver.wait(10)
        except subprocess.TimeoutExpired:
            driver.kill()
    print(f"e2e: {passed} passed, {failed} failed", flush=True)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
