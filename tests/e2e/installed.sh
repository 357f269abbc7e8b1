#!/usr/bin/env bash
# The Linux package as a user gets it: installs the .deb with apt (its dependencies
# resolved by apt), then, in a fresh headless desktop session, starts the installed
# /usr/bin/vigil-app as the menu entry would and checks its window appears and the demo
# tenant is polled; also runs the packaged CLI. usage: installed.sh PACKAGE.deb ARTIFACT_DIR
set -euo pipefail
deb=$(realpath "$1"); artifacts=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../scripts/lib.sh"

step "apt install $(basename "$deb")"
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall "$deb" >/dev/null
for f in /usr/bin/vigil-app /usr/bin/vigil /usr/share/applications/Vigil.desktop; do
  [ -e "$f" ] || die "the package did not install $f"
done
exec_line=$(grep '^Exec=' /usr/share/applications/Vigil.desktop)
[ "$exec_line" = "Exec=vigil-app" ] || die "unexpected menu entry: $exec_line"
/usr/bin/vigil --version

step "the installed app starts in a fresh desktop session"
mkdir -p "$artifacts"
timeout 120 "$here/headless.sh" bash -c '
  set -euo pipefail
  logs="$1"; rm -rf "$logs"; mkdir -p "$logs"
  VIGIL_LOG_DIR="$logs" VIGIL_DEMO_SESSIONS=300 vigil-app >"$logs/stdout.log" 2>&1 &
  app=$!
  for _ in $(seq 1 60); do
    if xwininfo -root -tree | grep -q "\"Vigil\"" && grep -qs "demo tenant started" "$logs"/vigil.*.log; then
      sleep 2
      kill -0 "$app" || { echo "the app exited"; exit 1; }
      import -window root "$logs/../installed-app.png"
      # It must end because of this SIGTERM (exit 143), not of its own failure.
      kill "$app"; status=0; wait "$app" || status=$?
      [ "$status" -eq 143 ] || [ "$status" -eq 0 ] || { echo "the app exited with $status"; exit 1; }
      echo "installed app: window shown, demo tenant polled"
      exit 0
    fi
    sleep 1
  done
  echo "the installed app did not show its window within 60 s"; tail -20 "$logs/stdout.log"; exit 1
' bash "$artifacts/installed-logs"
