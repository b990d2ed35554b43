#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine: MariaDB server binaries (the tests and
# the playground start their own servers from them; no system service is used), etcd, the
# percona-toolkit, Chromium (the dashboard's browser tests), tcpdump (the TLS capture test), optionally sysbench and
# mydumper for the benchmarks, and the npm dependencies.
#   bash scripts/setup.sh           # for tests and the playground
#   bash scripts/setup.sh --bench   # also sysbench, for npm run bench
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root to run: $*" >&2; exit 1
  fi
}

need_apt=()
if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then need_apt+=(mariadb-server mariadb-client); fi
# dm-master keeps the cluster in etcd: each master runs a member (Debian's etcd-server)
if ! command -v etcd >/dev/null; then need_apt+=(etcd-server); fi
# the online-ddl tests run the real pt-online-schema-change
if ! command -v pt-online-schema-change >/dev/null; then need_apt+=(percona-toolkit); fi
# the dashboard's browser tests drive Debian's Chromium (puppeteer-core)
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then need_apt+=(chromium); fi
# the TLS test captures the loopback traffic to show nothing is in clear
if ! command -v tcpdump >/dev/null && [ ! -x /usr/sbin/tcpdump ] && [ ! -x /usr/bin/tcpdump ]; then need_apt+=(tcpdump); fi
if [ "${1:-}" = "--bench" ] && ! command -v sysbench >/dev/null; then need_apt+=(sysbench); fi
# bench:full measures mydumper + myloader beside this project
if [ "${1:-}" = "--bench" ] && ! command -v myloader >/dev/null; then need_apt+=(mydumper); fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

if ! command -v node >/dev/null; then
  echo "setup: Node.js 20 or newer is required (apt-get install nodejs npm, or from nodejs.org)" >&2
  exit 1
fi
node -e 'if (+process.versions.node.split(".")[0] < 20) { console.error("setup: Node.js >= 20 required, found " + process.version); process.exit(1) }'

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
