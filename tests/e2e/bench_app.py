"""The desktop app's figures with real tenants: TENANTS demo servers of SESSIONS sessions
each (`vigil demo serve`, living populations), added with `vigil tenant add` (secrets in
the Secret Service), then the app in a real webview (WebKitGTK under Xvfb, driven by
WebKitWebDriver). Past SHARED_FROM tenants one demo server stands behind all of them (a
thousand demo processes would measure the demo, not Vigil); the last FAILING tenants are
given a wrong token, so they fail as a revoked credential does.

Measures start to first rendered rows and to every session counted, the app's resident
size (and the web content process's), the CPU the app and its web processes use while
idle between two polls, and the window with that many tenants: opening the Tenants filter
and finding one in it (click or input to the next paint), and what the status bar shows.
Figures go to ARTIFACT_DIR/app-bench.json. Fails when the window never shows every
working tenant's sessions, when the status bar does not name every failing tenant, or when
idle CPU exceeds IDLE_CPU_LIMIT percent of one core (app and web processes together).

usage: bench_app.py VIGIL_APP VIGIL_CLI ARTIFACT_DIR [TENANTS] [SESSIONS] [FAILING]
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
FAILING = int(sys.argv[6]) if len(sys.argv) > 6 else 0
SHARED_FROM = 50
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
    for i in range(1 if TENANTS >= SHARED_FROM else TENANTS):
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
    return servers, urls * (TENANTS if TENANTS >= SHARED_FROM else 1)


def measure_click(s, css, ready):
    """Milliseconds from a click on CSS to the next paint after READY (a selector) appears."""
    return s.execute_async("""
        const [css, ready, done] = arguments;
        let t0 = 0;
        const check = () => document.querySelector(ready) !== null;
        const obs = new MutationObserver(() => {
            if (check()) {
                obs.disconnect();
                requestAnimationFrame(() => done(performance.now() - t0));
            }
        });
        obs.observe(document.body, { childList: true, subtree: true });
        setTimeout(() => {
            t0 = performance.now();
            document.querySelector(css).click();
        }, 0);
        setTimeout(() => { obs.disconnect(); done(-1); }, 5000);
    """, css, ready)


def measure_find(s, css, text, option_css, expect):
    """Milliseconds from the input event that sets CSS to TEXT to the next paint after
    exactly EXPECT elements match OPTION_CSS."""
    return s.execute_async("""
        const [css, text, optionCss, expect, done] = arguments;
        const input = document.querySelector(css);
        let t0 = 0;
        const check = () => document.querySelectorAll(optionCss).length === expect;
        const obs = new MutationObserver(() => {
            if (check()) {
                obs.disconnect();
                requestAnimationFrame(() => done(performance.now() - t0));
            }
        });
        obs.observe(document.body, { childList: true, subtree: true, attributes: true });
        setTimeout(() => {
            t0 = performance.now();
            Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, text);
            input.dispatchEvent(new Event('input', { bubbles: true }));
        }, 0);
        setTimeout(() => { obs.disconnect(); done(-1); }, 5000);
    """, css, text, option_css, expect)


def measure_window(s, figures):
    """The tenant filter and the status bar with every tenant added."""
    if not s.find_all("[data-testid=filter-panel]"):
        s.click(s.find("[data-testid=toggle-filters]"))
        s.wait("the filter panel", lambda: s.find_all("[data-testid=filter-panel]"))
    opened = measure_click(s, "[data-testid=filter-tenants]", "[data-testid=filter-tenants-option]")
    if opened < 0:
        raise RuntimeError("the Tenants filter never opened")
    shown = len(s.find_all("[data-testid=filter-tenants-option]"))
    figures["tenant_filter_open_ms"] = round(opened, 1)
    figures["tenant_filter_options_shown"] = shown
    if TENANTS > 20:
        # tenant99 and tenant990…999: the name narrows a thousand to a few.
        want = sum(1 for i in range(TENANTS) if f"tenant{i}".startswith("tenant99"))
        found = measure_find(s, "[data-testid=filter-tenants-find]", "tenant99",
                             "[data-testid=filter-tenants-option]", want)
        figures["tenant_filter_find_ms"] = round(found, 1)
        if found < 0:
            raise RuntimeError("finding a tenant in the Tenants filter never showed its matches")
    s.click(s.find("[data-testid=filter-tenants]"))
    statuses = s.execute("return [...document.querySelectorAll('[data-testid=tenant-status]')]"
                         ".map(b => b.dataset.tenant)")
    figures["status_bar_tenants_listed"] = len(statuses)
    failing = [f"tenant{i}" for i in range(TENANTS - FAILING, TENANTS)]
    missing = [t for t in failing if t not in statuses]
    if missing:
        raise RuntimeError(f"the status bar does not show failing tenants {missing[:5]}")
    summary = s.execute("return document.querySelector('[data-testid=tenant-status-summary]')"
                        "?.textContent ?? ''")
    figures["status_bar_summary"] = summary


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
            token = TOKEN if i < TENANTS - FAILING else "revoked-" + TOKEN
            subprocess.run([CLI, "tenant", "add", f"tenant{i}", "--kind", "vigil", "--url", url,
                            "--poll-interval", str(POLL_SECONDS), "--secret-stdin"],
                           input=token, text=True, env=env, check=True, stdout=log, stderr=log)
        driver, port = webdriver.start_driver(env, log)
        started = time.monotonic()
        s = webdriver.app_session(port, APP)
        s.wait("the first rows", lambda: rows(s) > 5, timeout=240)
        figures["start_to_first_rows_s"] = round(time.monotonic() - started, 2)
        figures.update(webdriver.startup_marks(s, started))
        total = (TENANTS - FAILING) * SESSIONS
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
        # Resident = the process's own memory (anonymous) + pages of mapped files (the
        # WebKitGTK, GTK and ICU libraries every webview app maps, shared with others).
        figures["app_anon_mib"] = round(status(app, "RssAnon"))
        figures["app_file_mib"] = round(status(app, "RssFile"))
        figures["web_anon_mib"] = round(sum(status(p, "RssAnon") for p in web))
        measure_window(s, figures)
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
