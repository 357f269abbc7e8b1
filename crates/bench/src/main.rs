//! `vigil-bench`: measures Vigil end to end and prints the README's performance table.
//!
//!     vigil-bench                      # full sizes (100k sessions, 200 tenants)
//!     vigil-bench --quick --check bench/baseline.json   # the regression guard

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use vigil_bench::scenarios::{self, Figure, Fleet};

#[derive(Parser)]
#[command(about = "Vigil's end-to-end benchmarks")]
struct Args {
    /// Smaller sizes, for the test command's regression guard.
    #[arg(long)]
    quick: bool,
    /// Write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Fail when a guarded ratio exceeds the baseline's by more than --factor.
    #[arg(long)]
    check: Option<PathBuf>,
    #[arg(long, default_value_t = 3.0)]
    factor: f64,
    /// Sessions per tenant in the single-tenant scenarios (default 100,000; quick 20,000).
    #[arg(long)]
    sessions: Option<usize>,
    /// Run only these scenarios (fetch, rules, tenants, tenants1000, query, cli).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("vigil-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<bool> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (n, tenants, runs) = if args.quick {
        (20_000, 50, 3)
    } else {
        (100_000, 200, 5)
    };
    let n = args.sessions.unwrap_or(n);
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let mut figures: Vec<Figure> = Vec::new();
    let mut failures = Vec::new();
    let mut step = |name: &str, r: Result<Vec<Figure>>| match r {
        Ok(f) => {
            for x in &f {
                eprintln!("  {:<22} {:>10.2} {}", x.id, x.value, x.unit);
            }
            figures.extend(f);
        }
        Err(e) => {
            eprintln!("vigil-bench: {name}: {e:#}");
            failures.push(name.to_owned());
        }
    };
    if wanted("fetch") {
        step("fetch", scenarios::fetch_and_feed(&rt, n, runs));
    }
    if wanted("rules") {
        step("rules", scenarios::rules(n, runs.max(5)));
    }
    let latency = Duration::from_millis(50);
    if wanted("tenants") {
        let fleet = Fleet {
            id: "tenants",
            tenants,
            sessions: 200,
            latency,
            target: 2.0,
        };
        step("tenants", scenarios::many_tenants(&rt, &fleet, runs));
    }
    // Multi-tenant support staff run a thousand tenants; not in the quick guard (it
    // starts a thousand demo servers).
    if wanted("tenants1000") && !args.quick {
        let fleet = Fleet {
            id: "tenants1000",
            tenants: 1_000,
            sessions: 100,
            latency,
            target: 3.0,
        };
        step("tenants1000", scenarios::many_tenants(&rt, &fleet, runs));
    }
    if wanted("query") {
        step("query", scenarios::queries(n, 21));
    }
    if wanted("cli") {
        step("cli", scenarios::cli(n, runs));
    }
    print_table(&figures);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&figures)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let mut ok = failures.is_empty();
    if let Some(path) = &args.check {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let baseline: Vec<Figure> = serde_json::from_str(&text)?;
        for b in baseline.iter().filter(|b| b.guard.is_some()) {
            let Some(now) = figures.iter().find(|f| f.id == b.id) else {
                eprintln!("vigil-bench: guarded figure {} was not measured", b.id);
                ok = false;
                continue;
            };
            let (base, cur) = (b.guard.unwrap_or(0.0), now.guard.unwrap_or(now.value));
            let limit = base * args.factor;
            let verdict = if cur <= limit { "ok" } else { "REGRESSED" };
            eprintln!(
                "guard {:<16} {cur:>8.3} (baseline {base:.3}, limit {limit:.3}) {verdict}",
                b.id
            );
            ok &= cur <= limit;
        }
    }
    Ok(ok)
}

fn print_table(figures: &[Figure]) {
    println!("| Figure | Measured | Target |");
    println!("|---|---|---|");
    for f in figures {
        let target = match (&f.target, f.met) {
            (Some(t), Some(true)) => format!("{t} ✔"),
            (Some(t), Some(false)) => format!("{t} ✘"),
            (Some(t), None) => t.clone(),
            (None, _) => String::new(),
        };
        let num = |v: f64| {
            if v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        };
        let spread = f
            .spread
            .map(|(lo, hi)| format!(" ({}–{})", num(lo), num(hi)))
            .unwrap_or_default();
        println!(
            "| {} | {} {}{spread} | {target} |",
            f.what,
            num(f.value),
            f.unit
        );
    }
}
