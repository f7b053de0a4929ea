#!/usr/bin/env bash
# Installs what `npm run bench` (bench/suite) needs, on Debian 12 (bookworm), as root or through
# sudo; idempotent:
#   - Java 17 and Maven (Apache Kafka and its perf tools; the jars themselves are fetched by the
#     suite from Maven Central into ~/.cache/godel-bench on first use)
#   - kcat (librdkafka), nats-server (JetStream), redis-server and redis-tools (Redis Streams)
# Usage: bash scripts/install-bench-deps.sh
set -euo pipefail

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

PKGS=(kcat nats-server redis-server redis-tools default-jdk-headless maven)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# A JDK (17 or newer) and Maven installed some other way are fine too.
if command -v java >/dev/null && command -v mvn >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in default-jdk-headless|maven) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "install-bench-deps: needs apt-get (Debian 12); install ${missing[*]} by other means" >&2
    exit 1
  fi
  echo "install-bench-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The suite starts its own servers; Debian's packaged services are not needed (and would hold
# the default ports), so they are stopped where a service manager runs them.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now redis-server nats-server >/dev/null 2>&1 || true
fi
# Captured first: head/grep closing the pipe early must not fail the script (pipefail).
java_version=$(java -version 2>&1); echo "${java_version%%$'\n'*}"
mvn_version=$(mvn -v 2>/dev/null); echo "${mvn_version%%$'\n'*}"
kcat_version=$(kcat -V); grep -m1 'Version' <<<"$kcat_version"
nats-server --version
redis-server --version
echo "install-bench-deps: done"
