"""The desktop app's figures with real tenants: TENANTS demo servers of SESSIONS sessions
each (`vigil demo serve`, living populations), added with `vigil tenant add` (secrets in
the Secret Service), then the app in a real webview (WebKitGTK under Xvfb, driven by
WebKitWebDriver).

Measures start to first rendered rows and to every session counted, the app's resident
size (and the web content process's), and the CPU the app and its web processes use while
idle between two polls. Figures go to ARTIFACT_DIR/app-bench.json. Fails when the window
never shows every tenant's sessions, or when idle CPU exceeds IDLE_CPU_LIMIT percent of
one core (app and web processes together).

usage: bench_app.py VIGIL_APP VIGIL_CLI ARTIFACT_DIR [TENANTS] [SESSIONS]
"""

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdriver  # noqa: E402

APP, CLI, ARTIFACTS = sys.argv[1], sys.argv[2], sys.argv[3]
TENANTS = int(sys.argv[4]) if len(sys.argv) > 4 else 10
SESSIONS = int(sys.argv[5]) if len(sys.argv) > 5 else 10_000
TOKEN = "bench-app-token-not-a-secret"
# Long enough that a quiet stretch between two polls can be measured.
POLL_SECONDS = 60
IDLE_SECONDS = 20
# Idle means no work: a generous bound that a timer repainting the window (18% of a core
# when the table's countdown was composited in software) or a render loop would break.
IDLE_CPU_LIMIT = 10.0
TICK = os.sysconf("SC_CLK_TCK")


def count(s):
    text = s.execute("return document.querySelector('[data-testid=row-count]')?.textContent ?? ''")
    digits = re.sub(r"[,\u202f\u00a0.]", "", text).split()
    return int(digits[0]) if digits and digits[0].isdigit() else 0


def rows(s):
    return s.execute("return document.querySelectorAll('[data-testid=session-row]').length")


def pids_of(name):
    """Processes whose command name is NAME (as the kernel keeps it: 15 characters)."""
    out = subprocess.run(["pgrep", "-x", name[:15]], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def status(pid, field):
    """A /proc/PID/status field in MiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    """User + system CPU of every thread of PID so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def die_with_parent():
    """In a server about to start: end it when this script ends, however it ends."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_servers(log):
    servers, urls = [], []
    for i in range(TENANTS):
        proc = subprocess.Popen(
            [CLI, "demo", "serve", "--addr", "127.0.0.1:0", "--sessions", str(SESSIONS),
             "--seed", str(100 + i), "--token", TOKEN, "--tick", "1"],
            stdout=subprocess.PIPE, stderr=log, text=True, preexec_fn=die_with_parent)
        servers.append(proc)
        line = proc.stdout.readline()
        m = re.search(r"listening on (http://\S+)", line)
        if not m:
            raise RuntimeError(f"demo server {i} did not start: {line!r}")
        urls.append(m.group(1))
    return servers, urls


def main():
    # A timeout's SIGTERM still runs the clean-up below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    os.makedirs(ARTIFACTS, exist_ok=True)
    config_dir = os.path.join(os.environ["HOME"], "vigil-config")
    env = dict(os.environ, VIGIL_CONFIG_DIR=config_dir, VIGIL_DATA_DIR=os.path.join(os.environ["HOME"], "vigil-data"),
               TAURI_WEBVIEW_AUTOMATION="true")
    log = open(os.path.join(ARTIFACTS, "bench-app.log"), "w")
    servers, urls = start_servers(log)
    figures = {"tenants": TENANTS, "sessions_per_tenant": SESSIONS}
    driver = s = None
    try:
        for i, url in enumerate(urls):
            subprocess.run([CLI, "tenant", "add", f"tenant{i}", "--kind", "vigil", "--url", url,
                            "--poll-interval", str(POLL_SECONDS), "--secret-stdin"],
                           input=TOKEN, text=True, env=env, check=True, stdout=log, stderr=log)
        driver, port = webdriver.start_driver(env, log)
        started = time.monotonic()
        s = webdriver.app_session(port, APP)
        s.wait("the first rows", lambda: rows(s) > 5, timeout=240)
        figures["start_to_first_rows_s"] = round(time.monotonic() - started, 2)
        total = TENANTS * SESSIONS
        s.wait("every tenant's sessions", lambda: count(s) > total * 0.9, timeout=240)
        figures["start_to_all_rows_s"] = round(time.monotonic() - started, 2)
        figures["sessions_shown"] = count(s)
        polled = time.monotonic()

        app = pids_of(os.path.basename(APP))
        web = pids_of("WebKitWebProcess")
        if len(app) != 1:
            raise RuntimeError(f"expected one app process, found {app}")
        app = app[0]
        # Settle (the first poll's history writes, the table's first paints), then measure
        # a stretch with no poll in it.
        time.sleep(5)
        before = {p: cpu_seconds(p) for p in [app, *web]}
        t0 = time.monotonic()
        time.sleep(IDLE_SECONDS)
        after = {p: cpu_seconds(p) for p in [app, *web]}
        wall = time.monotonic() - t0
        if time.monotonic() - polled >= POLL_SECONDS:
            raise RuntimeError("a poll fell inside the idle measurement")
        figures["idle_cpu_app_percent"] = round(100 * (after[app] - before[app]) / wall, 2)
        figures["idle_cpu_web_percent"] = round(100 * sum(after[p] - before[p] for p in web) / wall, 2)
        figures["app_rss_mib"] = round(status(app, "VmRSS"))
        figures["app_peak_rss_mib"] = round(status(app, "VmHWM"))
        figures["web_rss_mib"] = round(sum(status(p, "VmRSS") for p in web))
    finally:
        if s is not None:
            s.quit()
        if driver is not None:
            driver.terminate()
            try:
                driver.wait(10)
            except subprocess.TimeoutExpired:
                driver.kill()
        for p in servers:
            p.terminate()
            p.wait(10)
    with open(os.path.join(ARTIFACTS, "app-bench.json"), "w") as f:
        json.dump(figures, f, indent=2)
    print("app figures:", json.dumps(figures), flush=True)
    idle = figures["idle_cpu_app_percent"] + figures["idle_cpu_web_percent"]
    if idle > IDLE_CPU_LIMIT:
        print(f"FAILED: idle CPU {idle:.1f}% of a core exceeds {IDLE_CPU_LIMIT}%", flush=True)
        return 1
    print(f"bench_app: ok (idle CPU {idle:.1f}% of a core, {figures['sessions_shown']} sessions shown)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
