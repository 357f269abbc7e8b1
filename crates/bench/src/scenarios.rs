//! End-to-end scenarios: real demo servers over HTTP on loopback, the real connector, the
//! real store. Servers run on their own runtime so that client work does not slow them.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use futures::StreamExt;
use serde::Serialize;
use vigil_core::SecretString;
use vigil_core::alerts::AlertSettings;
use vigil_core::connector::vigil::VigilConnector;
use vigil_core::connector::{Connector, PollUpdate};
use vigil_core::model::{ConnectorKind, TenantSpec};
use vigil_core::store::{
    SessionFilter, SessionQuery, SessionStore, SortColumn, UserQuery, UserSortColumn,
};
use vigil_demo::server::RequestLog;

pub const TOKEN: &str = "bench-token-not-a-secret";

/// One measured figure.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Figure {
    pub id: String,
    pub what: String,
    pub value: f64,
    pub unit: String,
    /// The target, as text (`≤ 1.2×`).
    pub target: Option<String>,
    /// Whether the target is met (none: no target).
    pub met: Option<bool>,
    /// A ratio the regression guard compares with the baseline (lower is better).
    pub guard: Option<f64>,
    /// The lowest and highest of the runs whose median is `value`, in its unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<(f64, f64)>,
}

impl Figure {
    pub fn new(id: &str, what: impl Into<String>, value: f64, unit: &str) -> Self {
        Self {
            id: id.to_owned(),
            what: what.into(),
            value,
            unit: unit.to_owned(),
            target: None,
            met: None,
            guard: None,
            spread: None,
        }
    }

    /// A time in ms: the median of `sample`, with its range as the spread.
    pub fn timed(id: &str, what: impl Into<String>, sample: &Sample) -> Self {
        let mut f = Self::new(id, what, ms(sample.median), "ms");
        f.spread = Some((ms(sample.min), ms(sample.max)));
        f
    }

    /// A target of at most `max`.
    pub fn at_most(mut self, max: f64, text: &str) -> Self {
        self.target = Some(text.to_owned());
        self.met = Some(self.value <= max);
        self
    }

    pub fn guarded(mut self) -> Self {
        self.guard = Some(self.value);
        self
    }
}

/// Demo servers on a runtime of their own.
pub struct Servers {
    rt: tokio::runtime::Runtime,
    running: Vec<vigil_demo::RunningDemo>,
    pub logs: Vec<RequestLog>,
}

impl Servers {
    /// `count` demo tenants of `sessions` each, on 127.0.0.1, 127.0.0.2 … 127.0.1.1 …
    /// (one host each),
    /// adding `latency` to every request; the population does not move on its own.
    pub fn start(count: usize, sessions: usize, latency: Duration) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let mut running = Vec::with_capacity(count);
        let mut logs = Vec::with_capacity(count);
        for i in 0..count {
            let log: RequestLog = Arc::new(Mutex::new(Vec::new()));
            let high = u8::try_from(i / 254).context("at most 65,024 servers")?;
            let low = u8::try_from(i % 254 + 1).context("a host number")?;
            let addr: SocketAddr = ([127, 0, high, low], 0).into();
            let config = vigil_demo::DemoConfig {
                sessions,
                seed: 7 + i as u64,
                token: TOKEN.into(),
                tick: Duration::from_secs(24 * 3600),
                latency,
                name: format!("bench{i}"),
                request_log: Some(Arc::clone(&log)),
                ..Default::default()
            };
            running.push(rt.block_on(vigil_demo::start(addr, config))?);
            logs.push(log);
        }
        Ok(Self { rt, running, logs })
    }

    pub fn url(&self, i: usize) -> String {
        self.running[i].url()
    }

    pub fn clear_logs(&self) {
        for l in &self.logs {
            l.lock().map(|mut l| l.clear()).ok();
        }
    }

    fn requests(&self, i: usize) -> Vec<(SocketAddr, String)> {
        self.logs[i].lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn stop(self) {
        let Self { rt, running, .. } = self;
        rt.block_on(async {
            for r in running {
                let _ = r.stop().await;
            }
        });
    }
}

pub fn connector(name: &str, url: &str) -> Result<VigilConnector> {
    let spec = TenantSpec::new(name, ConnectorKind::Vigil, url)?;
    Ok(VigilConnector::new(&spec, SecretString::new(TOKEN))?)
}

/// CPU time of this whole process so far (Linux; none elsewhere).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses: utime and stime are the
    // 12th and 13th, in USER_HZ (100 per second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn cpu_since(before: Option<Duration>) -> Option<Duration> {
    Some(process_cpu()?.saturating_sub(before?))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Several runs of one measurement. On a shared machine one run can be off by a third;
/// the median is the figure and the range says how far the runs spread.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
}

impl Sample {
    /// `a / b` of the medians.
    pub fn over(&self, b: &Sample) -> f64 {
        self.median.as_secs_f64() / b.median.as_secs_f64()
    }
}

fn sample<F: FnMut() -> Result<Duration>>(runs: usize, mut f: F) -> Result<Sample> {
    let mut all = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        all.push(f()?);
    }
    all.sort();
    Ok(Sample {
        median: all[all.len() / 2],
        min: all[0],
        max: all[all.len() - 1],
    })
}

/// 1 and 2: a full listing against the raw transfer of the same pages, then change-feed
/// polls at 0.1% and 1% churn.
pub fn fetch_and_feed(rt: &tokio::runtime::Runtime, n: usize, runs: usize) -> Result<Vec<Figure>> {
    let servers = Servers::start(1, n, Duration::ZERO)?;
    let url = servers.url(0);
    let conn = connector("bench", &url)?;
    // Warm both sides once.
    rt.block_on(conn.poll())?;
    // Process CPU (Vigil's and the in-process server's) from request to applied diff.
    let spent = std::cell::Cell::new(Some(Duration::ZERO));
    let full = sample(runs, || {
        servers.clear_logs();
        rt.block_on(async {
            conn.reset().await;
            let cpu_before = process_cpu();
            let started = Instant::now();
            let update = conn.poll().await?;
            let polled = started.elapsed();
            let store = SessionStore::new();
            let tenant: Arc<str> = Arc::from("bench");
            store.register_tenant(&tenant, ConnectorKind::Vigil);
            let diff = store.apply("bench", update, Duration::ZERO)?;
            let took = started.elapsed();
            spent.set(spent.get().zip(cpu_since(cpu_before)).map(|(a, b)| a + b));
            if std::env::var_os("VIGIL_BENCH_SPLIT").is_some() {
                eprintln!(
                    "    poll {:.0} ms, apply {:.0} ms",
                    ms(polled),
                    ms(took - polled)
                );
            }
            if diff.started.len() != n {
                bail!("expected {n} sessions, listed {}", diff.started.len());
            }
            Ok(took)
        })
    })?;
    let vigil_and_server_cpu = spent.get().map(|d| d / runs as u32);
    let pages: Vec<String> = servers.requests(0).into_iter().map(|(_, p)| p).collect();
    // curl runs in its own process: this process's CPU meanwhile is the server's.
    let cpu_before = process_cpu();
    let curl = sample(runs, || raw_transfer(&url, &pages))?;
    let server_cpu = cpu_since(cpu_before).map(|d| d / runs as u32);
    let mut figures = vec![
        Figure::timed(
            "fetch_vigil",
            format!(
                "Fetch + normalise + diff {n} sessions ({} pages)",
                pages.len()
            ),
            &full,
        ),
        Figure::timed(
            "fetch_curl",
            "Raw transfer of the same pages (curl to /dev/null)",
            &curl,
        ),
        Figure::new(
            "fetch_overhead",
            "Vigil's time over the raw transfer",
            full.over(&curl),
            "×",
        )
        .at_most(1.2, "≤ 1.2×")
        .guarded(),
    ];
    if let (Some(both), Some(server)) = (vigil_and_server_cpu, server_cpu) {
        figures.push(Figure::new(
            "fetch_server_cpu",
            "CPU the demo server spends serving the listing (the same for curl and Vigil)",
            ms(server),
            "ms",
        ));
        figures.push(Figure::new(
            "fetch_vigil_cpu",
            "CPU Vigil spends on the listing: decode, normalise, diff (all threads)",
            ms(both.saturating_sub(server)),
            "ms",
        ));
    }

    // Change feed: a store that holds the full listing, then polls after churn.
    let store = SessionStore::new();
    let tenant: Arc<str> = Arc::from("bench");
    store.register_tenant(&tenant, ConnectorKind::Vigil);
    rt.block_on(async {
        conn.reset().await;
        let update = conn.poll().await?;
        store.apply("bench", update, Duration::ZERO)?;
        anyhow::Ok(())
    })?;
    let http = reqwest::Client::new();
    let mut per_change = Vec::new();
    for (label, k) in [("0.1%", n / 1000), ("1%", n / 100)] {
        let k = k.max(1);
        let took = sample(runs, || {
            rt.block_on(make_churn(&http, &url, &store, k))?;
            rt.block_on(async {
                let started = Instant::now();
                let update = conn.poll().await?;
                let changes = match &update {
                    PollUpdate::Delta {
                        upserted, ended, ..
                    } => upserted.len() + ended.len(),
                    PollUpdate::Full(_) | PollUpdate::Partial { .. } => {
                        bail!("a steady-state poll listed everything")
                    }
                };
                store.apply("bench", update, Duration::ZERO)?;
                if changes < 2 * k {
                    bail!(
                        "the change feed returned {changes} changes, expected {}",
                        2 * k
                    );
                }
                Ok(started.elapsed())
            })
        })?;
        per_change.push((label, k, took));
    }
    for (label, k, took) in &per_change {
        figures.push(Figure::timed(
            &format!("feed_{}", label.replace(['.', '%'], "")),
            format!("Change-feed poll at {label} churn ({} changes)", 2 * k),
            took,
        ));
    }
    if let Some((_, _, one)) = per_change.last() {
        figures.push(
            Figure::new(
                "feed_vs_full",
                "Poll at 1% churn over a full listing",
                one.over(&full),
                "×",
            )
            .at_most(0.1, "≪ 1 (∝ changes)")
            .guarded(),
        );
    }
    servers.stop();
    Ok(figures)
}

/// Ends `k` sessions and signs `k` new ones in through the demo API.
async fn make_churn(
    http: &reqwest::Client,
    url: &str,
    store: &SessionStore,
    k: usize,
) -> Result<()> {
    let page = store.query(&SessionQuery {
        limit: k,
        sort: SortColumn::Id,
        ..SessionQuery::default()
    })?;
    let ends = page.rows.iter().map(|s| {
        let u = format!("{url}/v1/sessions/{}", s.id);
        async move { http.delete(u).bearer_auth(TOKEN).send().await }
    });
    let users: Vec<String> = page.rows.iter().map(|s| s.username.to_string()).collect();
    let signins = users.into_iter().map(|name| {
        let u = format!("{url}/demo/v1/sign-ins");
        async move {
            http.post(u)
                .bearer_auth(TOKEN)
                .json(&serde_json::json!({ "username": name }))
                .send()
                .await
        }
    });
    let results: Vec<_> = futures::stream::iter(ends)
        .buffer_unordered(16)
        .chain(futures::stream::iter(signins).buffer_unordered(16))
        .collect()
        .await;
    for r in results {
        let r = r?;
        if !r.status().is_success() {
            bail!("churn request failed: HTTP {}", r.status());
        }
    }
    Ok(())
}

/// `curl` fetching `pages` of `base` to /dev/null over one kept-alive connection.
fn raw_transfer(base: &str, pages: &[String]) -> Result<Duration> {
    let dir = std::env::temp_dir().join(format!("vigil-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let cfg = dir.join("curl.cfg");
    let mut text = format!("header = \"Authorization: Bearer {TOKEN}\"\nsilent\nfail\n");
    for p in pages {
        text.push_str(&format!("url = \"{base}{p}\"\noutput = \"/dev/null\"\n"));
    }
    std::fs::write(&cfg, text)?;
    let started = Instant::now();
    let status = std::process::Command::new("curl")
        .arg("-K")
        .arg(&cfg)
        .status()
        .context("running curl")?;
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    if !status.success() {
        bail!("curl failed: {status}");
    }
    Ok(took)
}

/// 3: apply a 1% churn delta to 100k sessions and evaluate the alert rules.
pub fn rules(n: usize, runs: usize) -> Result<Vec<Figure>> {
    let now = Utc::now();
    let store = crate::store_with(crate::synthetic("t", n, now));
    let settings = AlertSettings::default();
    let calendar = vigil_core::calendar::WorkingCalendar::from_parts(
        Some("Europe/Berlin"),
        Some("mon-fri 08:00-18:00"),
        &[],
    )?;
    let k = (n / 200).max(1); // k ended + k started = 1% of the population
    let mut figures = Vec::new();
    for (round_base, age_scan) in [(0, false), (runs, true)] {
        let mut fired = 0;
        let mut round = round_base;
        let took = sample(runs, || {
            let (upserted, ended) = crate::churn("t", n, k, round, now);
            round += 1;
            let update = PollUpdate::Delta {
                upserted,
                ended,
                users: Vec::new(),
            };
            let started = Instant::now();
            let (diff, f) = crate::apply_and_evaluate(
                &store,
                "t",
                update,
                &settings,
                calendar.as_ref(),
                now,
                age_scan,
            );
            let took = started.elapsed();
            if diff.started.len() != k || diff.ended.len() != k {
                bail!("the churn did not apply: {diff:?}");
            }
            fired = f;
            Ok(took)
        })?;
        figures.push(if age_scan {
            Figure::timed(
                "rules_age_scan",
                format!("… with the long-session scan (once a minute), {n} sessions"),
                &took,
            )
        } else {
            Figure::timed(
                "rules",
                format!(
                    "Diff + alert evaluation per poll, {n} sessions, 1% churn ({fired} alerts)"
                ),
                &took,
            )
            .at_most(20.0, "≤ 20 ms")
        });
    }
    Ok(figures)
}

/// What [`many_tenants`] measures: how many tenants of how many sessions each, the
/// latency added to every request, the prefix of its figures' ids and the cycle's
/// target over one tenant's poll.
pub struct Fleet {
    pub id: &'static str,
    pub tenants: usize,
    pub sessions: usize,
    pub latency: Duration,
    pub target: f64,
}

/// 4: `fleet.tenants` tenants, each on its own host with `latency` added, polled at once.
pub fn many_tenants(
    rt: &tokio::runtime::Runtime,
    fleet: &Fleet,
    runs: usize,
) -> Result<Vec<Figure>> {
    let Fleet {
        id,
        tenants: count,
        sessions,
        latency,
        target,
    } = *fleet;
    let servers = Servers::start(count, sessions, latency)?;
    let conns: Vec<VigilConnector> = (0..count)
        .map(|i| connector(&format!("t{i}"), &servers.url(i)))
        .collect::<Result<_>>()?;
    // First cycle: full listings (also opens the connections).
    rt.block_on(futures::future::try_join_all(
        conns.iter().map(|c| c.poll()),
    ))?;
    servers.clear_logs();
    let single = sample(runs, || {
        rt.block_on(async {
            let started = Instant::now();
            conns[0].poll().await?;
            Ok(started.elapsed())
        })
    })?;
    let cycle = sample(runs, || {
        rt.block_on(async {
            let started = Instant::now();
            futures::future::try_join_all(conns.iter().map(|c| c.poll())).await?;
            Ok(started.elapsed())
        })
    })?;
    let mut max_conns = 0;
    let mut requests = 0;
    for i in 0..count {
        let reqs = servers.requests(i);
        requests += reqs.len();
        let peers: HashSet<SocketAddr> = reqs.iter().map(|(p, _)| *p).collect();
        max_conns = max_conns.max(peers.len());
    }
    servers.stop();
    Ok(vec![
        Figure::timed(
            &format!("{id}_single"),
            format!(
                "One tenant's steady-state poll ({sessions} sessions), {} ms added latency",
                latency.as_millis()
            ),
            &single,
        ),
        Figure::timed(
            &format!("{id}_cycle"),
            format!("{count} tenants polled at once ({requests} requests)"),
            &cycle,
        ),
        Figure::new(
            &format!("{id}_ratio"),
            format!("{count}-tenant cycle over one tenant's poll"),
            cycle.over(&single),
            "×",
        )
        .at_most(target, &format!("≤ {target}×"))
        .guarded(),
        Figure::new(
            &format!("{id}_connections"),
            "Most connections any one host saw over all measured polls",
            max_conns as f64,
            "",
        )
        .at_most(8.0, "≤ 8, the pool's per-host limit"),
    ])
}

/// 5: filter + sort + window of 200 rows, and the per-user view, on `n` sessions.
pub fn queries(n: usize, runs: usize) -> Result<Vec<Figure>> {
    let now = Utc::now();
    // Ten tenants of n/10 each, as the app would hold them.
    let mut all = Vec::with_capacity(n);
    for t in 0..10 {
        all.extend(crate::synthetic(&format!("tenant{t}"), n / 10, now));
    }
    let store = crate::store_with(all);
    let window = |filter: SessionFilter, sort: SortColumn| SessionQuery {
        filter,
        sort,
        descending: false,
        offset: 0,
        limit: 200,
    };
    let cases: Vec<(&str, SessionQuery)> = vec![
        (
            "newest first",
            SessionQuery {
                limit: 200,
                ..SessionQuery::default()
            },
        ),
        (
            "search \"anna\", by user",
            window(
                SessionFilter {
                    search: Some("anna".into()),
                    ..Default::default()
                },
                SortColumn::Username,
            ),
        ),
        (
            "CIDR 10.0.0.0/8, by IP",
            window(
                SessionFilter {
                    ip: Some("10.0.0.0/8".into()),
                    ..Default::default()
                },
                SortColumn::Ip,
            ),
        ),
        (
            "by user agent",
            window(SessionFilter::default(), SortColumn::UserAgent),
        ),
    ];
    let mut worst: Option<(String, Sample)> = None;
    for (name, q) in &cases {
        let took = sample(runs, || {
            let started = Instant::now();
            let page = store.query(q)?;
            let took = started.elapsed();
            if page.rows.is_empty() {
                bail!("query {name} matched nothing");
            }
            Ok(took)
        })?;
        eprintln!("    query {name:<28} {:>8.2} ms", ms(took.median));
        if worst.as_ref().is_none_or(|(_, w)| took.median > w.median) {
            worst = Some(((*name).to_owned(), took));
        }
    }
    let users = sample(runs, || {
        let started = Instant::now();
        store.query_users(&UserQuery {
            sort: UserSortColumn::Sessions,
            limit: 200,
            ..UserQuery::default()
        })?;
        Ok(started.elapsed())
    })?;
    let (worst_name, worst) = worst.context("no queries")?;
    Ok(vec![
        Figure::timed(
            "query",
            format!("Session store query, {n} sessions, window of 200 (slowest: {worst_name})"),
            &worst,
        )
        .at_most(10.0, "≤ 10 ms"),
        Figure::timed(
            "query_users",
            format!("Per-user view of {n} sessions, window of 200"),
            &users,
        ),
    ])
}

/// 6: `vigil sessions --json` listing one tenant of `n` sessions, each run a fresh
/// process: its wall time against curl fetching the same pages (users and sessions, one
/// kept-alive connection), and its peak resident size per session.
pub fn cli(n: usize, runs: usize) -> Result<Vec<Figure>> {
    let exe = std::env::current_exe()?;
    let vigil = exe.with_file_name(if cfg!(windows) { "vigil.exe" } else { "vigil" });
    if !vigil.exists() {
        bail!("{} not built (cargo build --bin vigil)", vigil.display());
    }
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        bail!("/usr/bin/time is not installed (apt install time)");
    }
    let servers = Servers::start(1, n, Duration::ZERO)?;
    let url = servers.url(0);
    let mut peaks_kib = Vec::new();
    let wall = sample(runs, || {
        servers.clear_logs();
        let started = Instant::now();
        let out = std::process::Command::new(time)
            .args(["-f", "%M"])
            .arg(&vigil)
            .args(["sessions", "--json", "--url", &url])
            .env("VIGIL_SECRET", TOKEN)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()?;
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            bail!("vigil sessions failed: {stderr}");
        }
        let kib: f64 = stderr
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .parse()
            .context("reading /usr/bin/time")?;
        peaks_kib.push(kib);
        Ok(took)
    })?;
    let pages: Vec<String> = servers.requests(0).into_iter().map(|(_, p)| p).collect();
    let curl = sample(runs, || raw_transfer(&url, &pages))?;
    servers.stop();
    peaks_kib.sort_by(f64::total_cmp);
    let peak = peaks_kib[peaks_kib.len() / 2];
    Ok(vec![
        Figure::timed(
            "cli_time",
            format!("`vigil sessions --json`, one tenant of {n} sessions, wall time"),
            &wall,
        ),
        Figure::timed(
            "cli_curl",
            format!("curl fetching the same {} pages", pages.len()),
            &curl,
        ),
        Figure::new(
            "cli_ratio",
            "`vigil sessions --json` over curl",
            wall.over(&curl),
            "×",
        )
        .at_most(1.5, "≤ 1.5×")
        .guarded(),
        Figure::new(
            "cli_rss",
            format!("Peak resident size of `vigil sessions --json`, {n} sessions"),
            peak / 1024.0,
            "MiB",
        ),
        Figure::new(
            "cli_rss_per_session",
            "… per session",
            peak / n as f64,
            "KiB",
        )
        .at_most(1.5, "≤ 1.5 KiB")
        .guarded(),
    ])
}
