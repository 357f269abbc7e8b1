#!/usr/bin/env bash
# `vigil sessions --json` over N configured tenants of 100 sessions each, their secrets in
# the keychain, one demo server behind all of them; then `vigil watch` over the same
# tenants polled every 15 s: its share of a core over two poll cycles and its peak size.
# Run inside tests/e2e/headless.sh (a private keychain and HOME).
# usage: bench_cli_tenants.sh VIGIL [N] [RUNS]
set -euo pipefail
vigil=$1; n=${2:-1000}; runs=${3:-3}
port=18181
"$vigil" demo serve --addr "127.0.0.1:$port" --sessions 100 --tick 0 --token bench-token \
  >/dev/null 2>&1 &
demo=$!
# Cleanup on exit: the demo may already have ended, which is not an error here.
trap 'if kill -0 "$demo" 2>/dev/null; then kill "$demo"; fi' EXIT
up() { curl -fsS -o /dev/null -H "Authorization: Bearer bench-token" "http://127.0.0.1:$port/v1/info"; }
for _ in $(seq 50); do up 2>/dev/null && break; sleep 0.1; done
up || { echo "bench_cli_tenants: the demo server did not answer on port $port" >&2; exit 1; }
for i in $(seq 1 "$n"); do
  printf bench-token | "$vigil" tenant add "t$i" --kind vigil --url "http://127.0.0.1:$port" \
    --poll-interval 15 --secret-stdin >/dev/null
done
for _ in $(seq 1 "$runs"); do
  /usr/bin/time -f "%e s, %M KiB" "$vigil" sessions --json 2>&1 >/dev/null | tail -n 1
done | sort -n | awk -v n="$n" '{ t[NR] = $1; m[NR] = $3 } END {
  printf "vigil sessions over %d tenants: median %.2f s (%.2f–%.2f), peak %.0f MiB\n", n,
    t[int((NR + 1) / 2)], t[1], t[NR], m[int((NR + 1) / 2)] / 1024 }'
"$vigil" watch >/dev/null 2>"$HOME/watch.log" &
watch=$!
ticks() { awk '{ print $14 + $15 }' "/proc/$watch/stat"; }
sleep 5
kill -0 "$watch" 2>/dev/null || { echo "bench_cli_tenants: vigil watch ended:" >&2; cat "$HOME/watch.log" >&2; exit 1; }
before=$(ticks)
sleep 30
after=$(ticks)
peak=$(awk '/VmHWM/ { print $2 }' "/proc/$watch/status")
kill "$watch"
awk -v n="$n" -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v m="$peak" 'BEGIN {
  printf "vigil watch over %d tenants polled every 15 s: %.1f%% of a core over 30 s, peak %.0f MiB\n",
    n, 100 * t / hz / 30, m / 1024 }'
