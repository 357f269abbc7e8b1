#!/usr/bin/env bash
# Runs a command in a throw-away desktop session: Xvfb, a private D-Bus session, an
# unlocked gnome-keyring (Secret Service) and a fresh HOME, so a stale keyring can never
# prompt and hang. Usage: headless.sh COMMAND [ARGS...]
set -euo pipefail
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
tmp_home=$(mktemp -d)
trap 'rm -rf "$tmp_home"' EXIT
export HOME="$tmp_home" XDG_CONFIG_HOME="$tmp_home/.config" XDG_DATA_HOME="$tmp_home/.local/share"
export XDG_RUNTIME_DIR="$tmp_home/run"; mkdir -p "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
  printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
  exec "$@"' bash "$@"
