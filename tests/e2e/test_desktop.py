"""End-to-end test of Vigil as a desktop citizen: the tray icon (registered on D-Bus as a
StatusNotifierItem, its menu and its open-alert count), closing the window into the
tray, a second launch bringing the window back, and the log files. The real binary,
under Xvfb and a private D-Bus session (run by scripts/test through headless.sh).

This file plays the desktop's part: it owns org.kde.StatusNotifierWatcher (as a panel
would), reads the tray item and its menu over D-Bus, clicks menu entries through
com.canonical.dbusmenu, and closes the window the way a window manager does
(WM_DELETE_WINDOW).

usage: test_desktop.py APP_BINARY ARTIFACT_DIR
"""

import asyncio
import glob
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

from dbus_next import Variant
from dbus_next.aio import MessageBus
from dbus_next.constants import MessageType
from dbus_next.service import PropertyAccess, ServiceInterface, dbus_property, method, signal
from Xlib import X, display, protocol

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdriver  # noqa: E402

APP, ARTIFACTS = sys.argv[1], sys.argv[2]
os.makedirs(ARTIFACTS, exist_ok=True)
LOG_DIR = os.path.join(ARTIFACTS, "desktop-logs")
TENANT = "tray-e2e"
EXTERNAL = {}


# ---- the desktop's side of the tray: a StatusNotifierWatcher --------------------------

class Watcher(ServiceInterface):
    def __init__(self):
        super().__init__("org.kde.StatusNotifierWatcher")
        self.items = []

    @method()
    def RegisterStatusNotifierItem(self, service: "s"):  # noqa: F821
        pass  # the sender is recorded by the message handler below

    @method()
    def RegisterStatusNotifierHost(self, service: "s"):  # noqa: F821
        pass

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> "as":  # noqa: F821
        return [f"{s}{p}" for s, p in self.items]

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> "b":  # noqa: F821
        return True

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> "i":  # noqa: F821
        return 0

    @signal()
    def StatusNotifierItemRegistered(self, item) -> "s":  # noqa: F821
        return item

    @signal()
    def StatusNotifierHostRegistered(self):
        return None


class Notifications(ServiceInterface):
    """The desktop's notification server: records Notify calls; can click one."""

    def __init__(self):
        super().__init__("org.freedesktop.Notifications")
        self.shown = []  # (id, summary, body, actions)

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",  # noqa: F821
               actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":  # noqa: F821
        nid = len(self.shown) + 1
        self.shown.append((nid, summary, body, list(actions)))
        return nid

    @method()
    def GetCapabilities(self) -> "as":  # noqa: F821
        return ["actions", "body"]

    @method()
    def GetServerInformation(self) -> "ssss":  # noqa: F821
        return ["vigil-test", "vigil", "1", "1.2"]

    @method()
    def CloseNotification(self, nid: "u"):  # noqa: F821
        self.NotificationClosed(nid, 3)

    @signal()
    def ActionInvoked(self, nid, action) -> "us":  # noqa: F821
        return [nid, action]

    @signal()
    def NotificationClosed(self, nid, reason) -> "uu":  # noqa: F821
        return [nid, reason]


class Desktop:
    """An asyncio loop in a thread holding the watcher; `call` runs a coroutine on it."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.watcher = Watcher()
        self.notifications = Notifications()
        self.bus = None
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        if not ready.wait(10):
            raise RuntimeError("the test's D-Bus watcher did not start")

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        ready.set()
        self.loop.run_forever()

    async def _start(self):
        self.bus = await MessageBus().connect()

        def on_message(msg):
            if msg.message_type == MessageType.METHOD_CALL and msg.member == "RegisterStatusNotifierItem":
                path = msg.body[0]
                service, obj = (msg.sender, path) if path.startswith("/") else (path, "/StatusNotifierItem")
                self.watcher.items.append((service, obj))
            return None

        self.bus.add_message_handler(on_message)
        self.bus.export("/StatusNotifierWatcher", self.watcher)
        await self.bus.request_name("org.kde.StatusNotifierWatcher")
        self.bus.export("/org/freedesktop/Notifications", self.notifications)
        await self.bus.request_name("org.freedesktop.Notifications")

    def click_notification(self, nid):
        async def send():
            self.notifications.ActionInvoked(nid, "default")
        self.call(send())

    def call(self, coro, timeout=15):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _proxy(self, service, path, iface):
        intro = await self.bus.introspect(service, path)
        return self.bus.get_proxy_object(service, path, intro).get_interface(iface)

    def item_props(self):
        service, path = self.watcher.items[-1]

        async def get():
            props = await self._proxy(service, path, "org.freedesktop.DBus.Properties")
            got = await props.call_get_all("org.kde.StatusNotifierItem")
            return {k: v.value for k, v in got.items()}
        return self.call(get())

    def menu(self):
        """[(id, label, toggle_state)] of the tray menu."""
        service, _ = self.watcher.items[-1]
        menu_path = self.item_props()["Menu"]

        async def get():
            menu = await self._proxy(service, menu_path, "com.canonical.dbusmenu")
            _, layout = await menu.call_get_layout(0, -1, [])
            out = []
            for child in layout[2]:
                cid, props, _ = child.value
                out.append((cid, props.get("label", Variant("s", "")).value,
                            props.get("toggle-state", Variant("i", -1)).value))
            return out
        return self.call(get())

    def click(self, label):
        service, _ = self.watcher.items[-1]
        menu_path = self.item_props()["Menu"]
        entry = next(cid for cid, text, _ in self.menu() if text.replace("_", "") == label)

        async def send():
            menu = await self._proxy(service, menu_path, "com.canonical.dbusmenu")
            await menu.call_event(entry, "clicked", Variant("s", ""), int(time.time()))
        self.call(send())


DESKTOP = None


# ---- the window, as the X server sees it --------------------------------------------

def vigil_windows(d):
    """(area, window) of every X window titled "Vigil"."""
    found = []

    def walk(w):
        try:
            name = w.get_wm_name()
            geo = w.get_geometry()
            children = w.query_tree().children
        except Exception:
            return
        if name == "Vigil":
            found.append((geo.width * geo.height, w))
        for child in children:
            walk(child)
    walk(d.screen().root)
    return found


def vigil_window():
    d = display.Display()
    found = vigil_windows(d)
    if not found:
        return d, None
    return d, max(found, key=lambda f: f[0])[1]


def describe_windows():
    d = display.Display()
    try:
        return [(hex(w.id), area, w.get_attributes().map_state) for area, w in vigil_windows(d)]
    finally:
        d.close()


def window_viewable():
    d, w = vigil_window()
    try:
        return w is not None and w.get_attributes().map_state == X.IsViewable
    finally:
        d.close()


def close_window_like_a_window_manager():
    d, w = vigil_window()
    assert w is not None, "no Vigil window on the X server"
    protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
    event = protocol.event.ClientMessage(window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
    w.send_event(event, event_mask=X.NoEventMask)
    d.flush()
    d.close()


def close_until_hidden(s):
    """Clicks the close button as a person would: again if the first click did nothing
    (GTK drops a close request while a grab is held, e.g. just after a menu)."""
    for _ in range(3):
        close_window_like_a_window_manager()
        try:
            s.wait("the window hidden", lambda: not window_viewable(), timeout=4)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the window stayed after three closes; windows titled Vigil (id, area, map state): "
                         f"{describe_windows()}")


# ---- helpers ----------------------------------------------------------------------

def invoke(s, cmd, args=None):
    script = """
        const done = arguments[arguments.length - 1];
        window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1] || {})
            .then(v => done({ok: v}), e => done({err: e}));
    """
    out = s.execute_async(script, cmd, args or {})
    if "err" in out:
        raise AssertionError(f"{cmd} failed: {out['err']}")
    return out.get("ok")


def app_pids():
    out = subprocess.run(["pgrep", "-f", f"^{APP}"], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def start_external_tenant():
    vigil = os.path.join(os.path.dirname(APP), "vigil")
    token = "tray-" + os.urandom(12).hex()
    proc = subprocess.Popen([vigil, "demo", "serve", "--addr", "127.0.0.1:0", "--sessions", "40",
                             "--tick", "0", "--token", token], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on http://"), line
    EXTERNAL.update(url=line.removeprefix("listening on "), token=token, proc=proc)


def sign_in_admin():
    req = urllib.request.Request(f"{EXTERNAL['url']}/demo/v1/sign-ins", method="POST", data=json.dumps(
        {"username": "admin", "ip": "198.51.100.9", "user_agent": "curl/8.5.0"}).encode(), headers={
        "Authorization": f"Bearer {EXTERNAL['token']}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


def open_alert_ids(s):
    return [a["id"] for a in invoke(s, "list_alerts", {"filter": {"open_only": True, "tenant": None,
                                                                  "search": None, "limit": 1000}})]


# ---- tests --------------------------------------------------------------------------

def test_the_tray_icon_and_its_menu(s):
    s.wait("the tray item registered with the watcher", lambda: DESKTOP.watcher.items, timeout=30)
    props = DESKTOP.item_props()
    assert props.get("Status") in ("Active", "active"), props
    labels = [text.replace("_", "") for _, text, _ in DESKTOP.menu()]
    assert labels[:2] == ["Show Vigil", "Pause polling"] and labels[-1] == "Quit Vigil", labels


def test_the_tray_counts_open_alerts(s):
    invoke(s, "save_tenant", {"tenant": {
        "name": TENANT, "kind": "vigil", "url": EXTERNAL["url"], "options": {}, "timezone": "UTC",
        "hours": None, "holidays": [], "poll_interval_secs": 2, "tags": []},
        "secret": EXTERNAL["token"], "previousName": None})
    s.wait("the tenant's first poll", lambda: any(
        t["health"]["tenant"] == TENANT and t["health"]["last_poll_at"] for t in invoke(s, "summary")["tenants"]),
        timeout=20)
    ids = open_alert_ids(s)
    if ids:
        invoke(s, "acknowledge_alerts", {"ids": ids})
    s.wait("no count on the tray", lambda: DESKTOP.item_props().get("XAyatanaLabel", "") == "", timeout=10)
    sign_in_admin()
    s.wait("an open alert", lambda: open_alert_ids(s), timeout=20)

    def label_matches():
        n = len(open_alert_ids(s))
        return DESKTOP.item_props().get("XAyatanaLabel") == str(n)
    s.wait("the tray label showing the open count", label_matches, timeout=15)
    invoke(s, "acknowledge_alerts", {"ids": open_alert_ids(s)})
    s.wait("the count gone once acknowledged", lambda: DESKTOP.item_props().get("XAyatanaLabel", "") == "",
           timeout=15)


def test_pause_and_resume_from_the_tray_menu(s):
    assert invoke(s, "app_status")["paused"] is False
    DESKTOP.click("Pause polling")
    s.wait("polling paused", lambda: invoke(s, "app_status")["paused"] is True, timeout=10)
    state = {text.replace("_", ""): toggle for _, text, toggle in DESKTOP.menu()}
    assert state["Pause polling"] == 1, state
    DESKTOP.click("Pause polling")
    s.wait("polling resumed", lambda: invoke(s, "app_status")["paused"] is False, timeout=10)
    # Pausing from the window keeps the tray's check mark in step.
    invoke(s, "set_paused", {"paused": True})
    s.wait("the tray's check mark", lambda: {t.replace("_", ""): v for _, t, v in DESKTOP.menu()}[
        "Pause polling"] == 1, timeout=10)
    invoke(s, "set_paused", {"paused": False})


def test_closing_the_window_keeps_vigil_in_the_tray(s):
    assert window_viewable(), "the window should be on screen before closing it"
    pids = app_pids()
    close_until_hidden(s)
    time.sleep(1)
    assert app_pids() == pids, "closing the window ended the app"
    # Still polling: the tenant's last poll moves on while the window is hidden.
    def last_poll():
        return next(t["health"]["last_poll_at"] for t in invoke(s, "summary")["tenants"]
                    if t["health"]["tenant"] == TENANT)
    before = last_poll()
    s.wait("a poll while hidden", lambda: last_poll() != before, timeout=15)


def test_clicking_a_notification_shows_its_session(s):
    # The window is in the tray (previous test). A SuperUser signs in: one notification
    # with a default action; clicking it brings the window back on that session.
    assert not window_viewable()
    before = len(DESKTOP.notifications.shown)
    sign_in_admin()
    title = f"{TENANT}: admin"
    s.wait("the notification", lambda: any(n[1] == title for n in DESKTOP.notifications.shown[before:]),
           timeout=20)
    nid, _, body, actions = next(n for n in DESKTOP.notifications.shown[before:] if n[1] == title)
    assert "a SuperUser signed in" in body and "default" in actions, (body, actions)
    alert = next(a["alert"] for a in invoke(s, "list_alerts", {"filter": {
        "open_only": True, "tenant": TENANT, "search": None, "limit": 10}}) if a["alert"]["username"] == "admin")
    DESKTOP.click_notification(nid)
    s.wait("the window back on screen", window_viewable, timeout=10)
    s.wait("the console on that session", lambda: f"sid={alert['session_id']}" in s.execute(
        "return window.location.hash"), timeout=10)
    s.wait("its row", lambda: alert["session_id"] in s.execute(
        "return [...document.querySelectorAll('[data-testid=session-row]')].map(r => r.dataset.sessionId)"),
        timeout=10)
    s.screenshot(os.path.join(ARTIFACTS, "desktop-notification-click.png"))


def test_a_second_launch_shows_the_first_window(s):
    close_until_hidden(s)
    pids = app_pids()
    env = {k: v for k, v in os.environ.items() if k != "TAURI_WEBVIEW_AUTOMATION"}
    env["VIGIL_LOG_DIR"] = LOG_DIR
    second = subprocess.run([APP], env=env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr[-2000:]
    s.wait("the first window back on screen", window_viewable, timeout=10)
    assert app_pids() == pids, "a second Vigil kept running"


def test_start_at_login_writes_and_removes_the_autostart_entry(s):
    entry = os.path.join(os.environ["HOME"], ".config", "autostart", "Vigil.desktop")
    settings = invoke(s, "get_settings")
    assert settings["start_at_login"] is False and not os.path.exists(entry)
    invoke(s, "save_settings", {"settings": dict(settings, start_at_login=True)})
    with open(entry) as f:
        text = f.read()
    exec_line = next(line for line in text.splitlines() if line.startswith("Exec="))
    assert "vigil-app" in exec_line and "--hidden" in exec_line, text
    assert invoke(s, "get_settings")["start_at_login"] is True
    invoke(s, "save_settings", {"settings": dict(settings, start_at_login=False)})
    assert not os.path.exists(entry), "the autostart entry stayed after turning it off"


def test_logs_go_to_daily_files_without_secrets(s):
    files = glob.glob(os.path.join(LOG_DIR, "vigil.*.log"))
    assert files, f"no log file in {LOG_DIR}"
    text = "".join(open(f, encoding="utf-8", errors="replace").read() for f in files)
    assert "Vigil starting" in text and TENANT in text, text[-2000:]
    assert EXTERNAL["token"] not in text, "a secret reached the log"
    diagnostics = invoke(s, "diagnostics")
    assert "Vigil " in diagnostics and "tenants:" in diagnostics and "vigil" in diagnostics, diagnostics
    for private in (EXTERNAL["token"], EXTERNAL["url"], TENANT):
        assert private not in diagnostics, f"diagnostics show {private!r}"
    with open(os.path.join(ARTIFACTS, "diagnostics.txt"), "w") as f:
        f.write(diagnostics)


def main():
    global DESKTOP
    DESKTOP = Desktop()
    # No built-in demo tenant: its own sign-ins would raise alerts at any time and make
    # the counts below a race. The tenant this test adds signs in only when told.
    config_dir = os.path.join(ARTIFACTS, "desktop-config")
    os.makedirs(config_dir, exist_ok=True)
    with open(os.path.join(config_dir, "config.toml"), "w") as f:
        f.write("[app]\ndemo_tenant = false\n")
    env = dict(os.environ, TAURI_WEBVIEW_AUTOMATION="true", VIGIL_CONFIG_DIR=config_dir,
               VIGIL_LOG_DIR=LOG_DIR)
    app_log = open(os.path.join(ARTIFACTS, "desktop-app.log"), "w")
    driver, port = webdriver.start_driver(env, app_log)
    passed = failed = 0
    s = None
    try:
        start_external_tenant()
        s = webdriver.app_session(port, APP)
        s.wait("the window", lambda: s.find_all("[data-testid=nav-sessions]"), timeout=60)
        for test in (test_the_tray_icon_and_its_menu, test_the_tray_counts_open_alerts,
                     test_pause_and_resume_from_the_tray_menu, test_closing_the_window_keeps_vigil_in_the_tray,
                     test_clicking_a_notification_shows_its_session, test_a_second_launch_shows_the_first_window,
                     test_start_at_login_writes_and_removes_the_autostart_entry, test_logs_go_to_daily_files_without_secrets):
            if webdriver.run_test(s, test, (s,), ARTIFACTS):
                passed += 1
            else:
                failed += 1
    finally:
        if s is not None:
            try:
                s.quit()
            except Exception:
                pass
        driver.terminate()
        if "proc" in EXTERNAL:
            EXTERNAL["proc"].kill()
        try:
            driver.wait(10)
        except subprocess.TimeoutExpired:
            driver.kill()
        for pid in app_pids():
            subprocess.run(["kill", str(pid)])
    print(f"e2e desktop: {passed} passed, {failed} failed", flush=True)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
