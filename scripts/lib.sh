# Shared by scripts/run and scripts/test: idempotent set-up of everything Vigil needs.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

# Debian/Ubuntu packages: build tools, WebKitGTK, the keychain (Secret Service), Xvfb and
# the WebDriver for end-to-end tests, a notification daemon, and the test servers'
# PostgreSQL and rsyslog (with its TLS driver) plus openssl for their test certificates.
APT_PACKAGES=(build-essential pkg-config file curl libwebkit2gtk-4.1-dev libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev xvfb xauth webkit2gtk-driver dbus
  gnome-keyring libsecret-tools dunst imagemagick python3 python3-pip python3-venv time unzip maven
  x11-utils procps postgresql rsyslog rsyslog-gnutls openssl)

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root for: $* (install sudo or run as root)"; fi
}

ensure_system_packages() {
  if [ "$(uname -s)" != Linux ]; then
    echo "Not Linux: install the prerequisites listed in README.md (Rust, Node.js >= 20.19) yourself."
    return 0
  fi
  command -v dpkg-query >/dev/null || die "this script installs packages with apt (Debian/Ubuntu); see README.md for other systems"
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "apt: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null; then
    [ -x "$HOME/.cargo/bin/cargo" ] || {
      step "rustup: installing the Rust toolchain"
      curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
    }
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}

ensure_node() {
  command -v node >/dev/null || die "Node.js >= 20.19 is needed (https://nodejs.org or your package manager)"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node.js >= 20.19 is needed, found $(node --version)"
  # Install only when the lock file changed since the last install. `npm install` rather
  # than `npm ci`: the lock records only this platform's optional packages (Biome's
  # per-platform binaries), which `npm ci` rejects as out of sync.
  local stamp="$ROOT/ui/node_modules/.vigil-lock-stamp"
  local want; want=$(sha256sum "$ROOT/ui/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    step "npm install (ui)"
    (cd "$ROOT/ui" && npm install --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}

ensure_python_test_packages() {
  local venv="$HOME/.cache/vigil/venv"
  local stamp="$venv/.vigil-req-stamp"
  local want; want=$(sha256sum "$ROOT/tests/requirements.txt" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    step "pip: test packages"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/tests/requirements.txt"
    echo "$want" > "$stamp"
  fi
  PYTHON="$venv/bin/python"
}

build_ui() {
  step "ui: build"
  (cd "$ROOT/ui" && npm run --silent build)
}

# The Tauri CLI, for bundling only, kept outside ui/ (its per-platform binaries would
# otherwise have to be in ui's lock file). Its minor version follows the tauri crate's.
TAURI_CLI_VERSION=2.11.5
ensure_tauri_cli() {
  local dir="$HOME/.cache/vigil/tauri-cli-$TAURI_CLI_VERSION"
  if [ ! -x "$dir/node_modules/.bin/tauri" ]; then
    step "npm: @tauri-apps/cli@$TAURI_CLI_VERSION"
    mkdir -p "$dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --no-save "@tauri-apps/cli@$TAURI_CLI_VERSION" >/dev/null)
  fi
  TAURI_CLI="$dir/node_modules/.bin/tauri"
}
