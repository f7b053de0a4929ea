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

# shellcheck source=scripts/apt-install-missing.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt-install-missing.sh"
apt_install_missing install-bench-deps kcat nats-server redis-server redis-tools default-jdk-headless maven
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
