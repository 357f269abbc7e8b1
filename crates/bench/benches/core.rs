//! The core's hot paths on 100,000 sessions: `cargo bench -p vigil-bench`.

use std::hint::black_box;

use chrono::Utc;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use vigil_bench::{apply_and_evaluate, churn, store_with, synthetic};
use vigil_core::alerts::AlertSettings;
use vigil_core::connector::PollUpdate;
use vigil_core::store::{SessionFilter, SessionQuery, SortColumn, UserQuery};

const N: usize = 100_000;

fn store_queries(c: &mut Criterion) {
    let now = Utc::now();
    let store = store_with(synthetic("t", N, now));
    let mut g = c.benchmark_group("query_100k");
    g.bench_function("newest_200", |b| {
        let q = SessionQuery {
            limit: 200,
            ..SessionQuery::default()
        };
        b.iter(|| black_box(store.query(&q)))
    });
    g.bench_function("search_by_user_200", |b| {
        let q = SessionQuery {
            filter: SessionFilter {
                search: Some("anna".into()),
                ..Default::default()
            },
            sort: SortColumn::Username,
            limit: 200,
            ..SessionQuery::default()
        };
        b.iter(|| black_box(store.query(&q)))
    });
    g.bench_function("cidr_by_ip_200", |b| {
        let q = SessionQuery {
            filter: SessionFilter {
                ip: Some("10.0.0.0/8".into()),
                ..Default::default()
            },
            sort: SortColumn::Ip,
            limit: 200,
            ..SessionQuery::default()
        };
        b.iter(|| black_box(store.query(&q)))
    });
    g.bench_function("users_200", |b| {
        let q = UserQuery {
            limit: 200,
            ..UserQuery::default()
        };
        b.iter(|| black_box(store.query_users(&q)))
    });
    g.finish();
}

fn diff_and_rules(c: &mut Criterion) {
    let now = Utc::now();
    let settings = AlertSettings::default();
    let mut g = c.benchmark_group("poll_100k_1pct");
    g.sample_size(20);
    let k = N / 200;
    g.bench_function("apply_full", |b| {
        b.iter_batched(
            || {
                let store = store_with(synthetic("t", N, now));
                let (mut next, ended) = churn("t", N, k, 0, now);
                next.extend(
                    synthetic("t", N, now)
                        .into_iter()
                        .filter(|s| !ended.iter().any(|e| **e == *s.id)),
                );
                (store, next)
            },
            |(store, next)| {
                black_box(store.apply("t", PollUpdate::Full(next), std::time::Duration::ZERO))
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("apply_delta_and_rules", |b| {
        b.iter_batched(
            || {
                let store = store_with(synthetic("t", N, now));
                let (upserted, ended) = churn("t", N, k, 0, now);
                (
                    store,
                    PollUpdate::Delta {
                        upserted,
                        ended,
                        users: Vec::new(),
                    },
                )
            },
            |(store, update)| {
                black_box(apply_and_evaluate(
                    &store, "t", update, &settings, None, now, false,
                ))
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, store_queries, diff_and_rules);
criterion_main!(benches);
