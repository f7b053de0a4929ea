#!/usr/bin/env bash
# Installs what `npm run test:interop` needs, on Debian 12 (bookworm), as root or through sudo:
#   - kcat (librdkafka), python3-kafka (kafka-python), python3-confluent-kafka (librdkafka again)
#   - Java 17 and Maven, then pre-fetches the interop Maven project's dependencies for both
#     kafka-clients versions the suite runs (3.9.x and 4.x) into ~/.m2, so the tests can build
#     offline.
#   - Apache Kafka's broker and perf-tool jars for the bench suite's smoke test (bench/suite).
# Usage: bash scripts/install-interop-deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep these two in step with test/interop/java.test.ts.
KAFKA_CLIENTS_VERSIONS=(3.9.2 4.4.0)

# shellcheck source=scripts/apt-install-missing.sh
source scripts/apt-install-missing.sh
# nats-server, redis-server, redis-tools: the bench suite's peers (test/interop/bench-peers.test.ts).
apt_install_missing install-interop-deps kcat python3 python3-kafka python3-confluent-kafka openjdk-17-jdk-headless maven nats-server redis-server redis-tools

# Debian's python modules live under /usr/bin/python3, whatever python3 is first on PATH.
/usr/bin/python3 -c 'import kafka, confluent_kafka; print("kafka-python", kafka.__version__, "confluent-kafka", confluent_kafka.version()[0], "librdkafka", confluent_kafka.libversion()[0])'
kcat_version=$(kcat -V)
grep -m1 'Version' <<<"$kcat_version"

for v in "${KAFKA_CLIENTS_VERSIONS[@]}"; do
  echo "install-interop-deps: fetching kafka-clients $v for test/interop/java"
  # package (not only dependency:go-offline) so every plugin the test's offline build uses is
  # cached; it builds into test/interop/java/target/kafka-$v/ (git-ignored), as the test does.
  mvn -q -B -Dstyle.color=never -f test/interop/java/pom.xml -Dkafka.version="$v" package
done
# The bench suite's smoke test (test/interop/bench-suite.test.ts) runs Kafka's perf tools against
# Gödel: their jars go into the suite's cache (~/.cache/godel-bench, or $GODEL_BENCH_CACHE).
echo "install-interop-deps: fetching Apache Kafka's jars for bench/suite"
node --import tsx bench/suite/fetch-kafka.ts
echo "install-interop-deps: done"
