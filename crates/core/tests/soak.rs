//! Soak: 50 tenants polled every 200 ms, ten of them cycling through every fault of the
//! demo server's fault mode. After a warm-up that covers a whole fault cycle, the run
//! must keep its task count and memory flat and the healthy tenants' polls on schedule.
//! The test command runs 20 s after warm-up (about 100 polls per tenant: a working day
//! at a 5-minute interval); longer: `VIGIL_SOAK_SECS=600 cargo test -p vigil-core --test
//! soak --release -- --nocapture`. Figures go to `$VIGIL_SOAK_REPORT` when set.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vigil_core::connector::vigil::VigilConnector;
use vigil_core::model::{ConnectorKind, TenantSpec};
use vigil_core::{Engine, SecretString};
use vigil_demo::faults::{Fault, FaultSwitch};
use vigil_demo::server::RequestLog;
use vigil_demo::{DemoConfig, RunningDemo};

const TOKEN: &str = "soak-token";
const INTERVAL: Duration = Duration::from_millis(200);
const HEALTHY: usize = 40;
const FAULTY: usize = 10;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

async fn demo(faults: Option<FaultSwitch>, log: RequestLog) -> RunningDemo {
    vigil_demo::start(
        ([127, 0, 0, 1], 0).into(),
        DemoConfig {
            sessions: 200,
            token: TOKEN.into(),
            tick: Duration::from_secs(2),
            request_log: Some(log),
            faults,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_tenants_with_ten_misbehaving_keep_memory_tasks_and_cadence_flat() {
    let secs: u64 = std::env::var("VIGIL_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let engine = Engine::new(tokio::runtime::Handle::current());
    let mut healthy_logs = Vec::new();
    let mut switches = Vec::new();
    let mut demos = Vec::new();
    for i in 0..HEALTHY + FAULTY {
        let log: RequestLog = Arc::new(Mutex::new(Vec::new()));
        let switch = (i >= HEALTHY).then(|| Arc::new(Mutex::new(None)) as FaultSwitch);
        let d = demo(switch.clone(), Arc::clone(&log)).await;
        let mut spec = TenantSpec::new(&format!("t{i}"), ConnectorKind::Vigil, &d.url()).unwrap();
        spec.request_timeout = Duration::from_secs(1);
        engine
            .add_tenant(
                Arc::new(VigilConnector::new(&spec, SecretString::new(TOKEN)).unwrap()),
                INTERVAL,
            )
            .unwrap();
        match switch {
            Some(s) => switches.push(s),
            None => healthy_logs.push(log),
        }
        demos.push(d);
    }
    // The faulty ones walk through every fault, each its own phase, 0.5 s per fault.
    let cycle = {
        let switches = switches.clone();
        tokio::spawn(async move {
            let mut step = 0usize;
            loop {
                for (i, s) in switches.iter().enumerate() {
                    let fault = Fault::ALL[(step + i) % Fault::ALL.len()];
                    *s.lock().unwrap() = Some(fault);
                }
                step += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let count = |logs: &[RequestLog]| -> Vec<usize> {
        logs.iter().map(|l| l.lock().unwrap().len()).collect()
    };
    // Warm-up: a whole fault cycle, so every buffer has been needed once.
    tokio::time::sleep(
        Duration::from_millis(500) * Fault::ALL.len() as u32 + Duration::from_secs(2),
    )
    .await;
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_start = metrics.num_alive_tasks();
    let rss_start = rss_kib();
    let polls_start = count(&healthy_logs);
    let started = Instant::now();
    let mut rss_max = rss_start;
    let mut tasks_max = tasks_start;
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss_max = rss_max.max(rss_kib());
        tasks_max = tasks_max.max(metrics.num_alive_tasks());
    }
    let elapsed = started.elapsed();
    let tasks_end = metrics.num_alive_tasks();
    let rss_end = rss_kib();
    let polls: Vec<usize> = count(&healthy_logs)
        .iter()
        .zip(&polls_start)
        .map(|(a, b)| (a - b) / 2) // a poll of a healthy tenant is two requests
        .collect();
    let expected = elapsed.as_secs_f64() / INTERVAL.as_secs_f64();
    let worst = *polls.iter().min().unwrap();
    let report = format!(
        "soak: {} tenants ({FAULTY} cycling through {} faults), {:.0} s after warm-up\n\
         tasks alive: {tasks_start} at start, {tasks_max} at most, {tasks_end} at the end\n\
         RSS: {} MiB at start, {} MiB at most, {} MiB at the end\n\
         healthy polls per tenant: expected {expected:.0}, fewest {worst}, most {}",
        HEALTHY + FAULTY,
        Fault::ALL.len(),
        elapsed.as_secs_f64(),
        rss_start / 1024,
        rss_max / 1024,
        rss_end / 1024,
        polls.iter().max().unwrap(),
    );
    println!("{report}");
    if let Some(path) = std::env::var_os("VIGIL_SOAK_REPORT") {
        std::fs::write(path, format!("{report}\n")).unwrap();
    }
    cycle.abort();
    engine.shutdown();
    // No task leak: a poll in flight may come and go, nothing piles up.
    assert!(
        tasks_end <= tasks_start + tasks_start / 10 + 10,
        "tasks grew from {tasks_start} to {tasks_end}"
    );
    // Memory flat: allowing for allocator slack, no growth with the number of polls.
    assert!(
        rss_end <= rss_start + rss_start / 4 + 64 * 1024,
        "RSS grew from {rss_start} KiB to {rss_end} KiB"
    );
    // No missed polls: every healthy tenant kept at least half its schedule.
    assert!(
        worst as f64 >= expected * 0.5,
        "a healthy tenant polled {worst} times where {expected:.0} were due"
    );
}
