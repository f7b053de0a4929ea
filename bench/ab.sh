#!/usr/bin/env bash
# A/B of two broker builds on one produce workload: starts the broker from MAIN (a compiled
# cli/main.js, e.g. dist/ or a build of an older commit under .cache/), creates a topic, runs
# the load, prints records/s and the broker's CPU seconds over the run (utime+stime, and utime
# alone, from /proc/<pid>/stat), then stops the broker and deletes its data. Alternate the builds.
#
#   npx tsc -p tsconfig.build.json --outDir .cache/ab-old     # at the old commit (git stash)
#   bash bench/ab.sh old .cache/ab-old/cli/main.js 2000000 1024 perf
#   bash bench/ab.sh new dist/cli/main.js 2000000 1024 perf
#   TPUT=150000 bash bench/ab.sh ...   # Kafka's perf tool at a fixed rate: the same work per run
#   bash bench/ab.sh new dist/cli/main.js 2000000 1024 client   # Gödel's client (bench suite child)
#
# Needs Kafka's jars for `perf` (node --import tsx bench/suite/fetch-kafka.ts) and a free port 19092.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 4 ] || { echo "usage: bench/ab.sh LABEL MAIN_JS RECORDS RECORD_BYTES [perf|client]" >&2; exit 2; }
LABEL=$1; MAIN=$(realpath "$2"); N=$3; S=$4; GEN=${5:-perf}
PORT=19092
DATA=$(mktemp -d /tmp/godel-ab-XXXXXX)
K=${GODEL_BENCH_CACHE:-$HOME/.cache/godel-bench}/kafka-4.1.1
GODEL_ENGINE=${GODEL_ENGINE:-native} GODEL_NATIVE_PATH=$PWD/build/Release/godel_native.node \
  node --input-type=module -e "import('file://$MAIN').then((m) => m.main(process.argv))" \
  godel serve --listen 127.0.0.1:$PORT --data-dir "$DATA" --log-level warn > "$DATA.log" 2>&1 &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; wait $BROKER 2>/dev/null; rm -rf "$DATA" "$DATA.log"' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
TOPIC=ab-$RANDOM
node bin/godel.js topics create $TOPIC --partitions 1 -b 127.0.0.1:$PORT > /dev/null
cpu() { awk '{print $14 + $15, $14}' /proc/$BROKER/stat; }
read -r C0 U0 < <(cpu)
if [ "$GEN" = perf ]; then
  RATE=$(java -Xmx512M -cp "$K/jars/*" -Dlog4j2.configurationFile="$K/log4j2.properties" org.apache.kafka.tools.ProducerPerformance \
    --topic $TOPIC --num-records "$N" --record-size "$S" --throughput "${TPUT:--1}" \
    --producer-props bootstrap.servers=127.0.0.1:$PORT acks=1 linger.ms=5 batch.size=262144 2>/dev/null | tail -1 | awk '{print $4}')
else
  W="{\"kind\":\"produce\",\"recordBytes\":$S,\"partitions\":1,\"acks\":\"1\",\"durable\":false,\"records\":$N}"
  RATE=$(node --import tsx bench/suite/generators/godel-client-child.ts "{\"address\":\"127.0.0.1:$PORT\",\"topic\":\"$TOPIC\",\"workload\":$W}" \
    | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(Math.round(JSON.parse(s).recordsPerSecond)))')
fi
read -r C1 U1 < <(cpu)
CLK=$(getconf CLK_TCK)
echo "$LABEL $GEN records/s $RATE broker_cpu_s $(awk "BEGIN { printf \"%.2f\", ($C1 - $C0) / $CLK }") user_s $(awk "BEGIN { printf \"%.2f\", ($U1 - $U0) / $CLK }")"
