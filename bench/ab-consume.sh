#!/usr/bin/env bash
# A/B of two broker builds on consuming: starts both (OLD_MAIN and NEW_MAIN, compiled cli/main.js
# files) on ports 19101 and 19102, fills each with the same records by Kafka's ProducerPerformance
# (the suite's producer settings), then alternates ConsumerPerformance runs between them (old
# first in odd rounds, new first in even ones), printing records/s and each broker's CPU seconds
# over the run. Both brokers stay up throughout, so neither run has the machine to itself.
# CONSUMER=fetch-latency runs bench/fetch-latency.ts instead (ROUNDS passes of 300 fetches with
# THINK_MS, default 2, of idle "processing" after each): the brokers' fetch answer times.
#
#   git worktree add /tmp/ab-old <commit> && (cd /tmp/ab-old && ln -s "$PWD/node_modules" . \
#     && npx tsc -p tsconfig.build.json --outDir "$OLDPWD/.cache/ab-old")
#   npx tsc -p tsconfig.build.json
#   bash bench/ab-consume.sh .cache/ab-old/cli/main.js dist/cli/main.js [RECORDS] [ROUNDS]
#   CONSUMER=fetch-latency bash bench/ab-consume.sh .cache/ab-old/cli/main.js dist/cli/main.js
#
# Needs Kafka's jars (node --import tsx bench/suite/fetch-kafka.ts) and free ports 19101-19102.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: bench/ab-consume.sh OLD_MAIN_JS NEW_MAIN_JS [RECORDS] [ROUNDS]" >&2; exit 2; }
OLD=$(realpath "$1"); NEW=$(realpath "$2"); N=${3:-10000000}; ROUNDS=${4:-6}
K=${GODEL_BENCH_CACHE:-$HOME/.cache/godel-bench}/kafka-4.1.1
DATA=$(mktemp -d /tmp/godel-ab-consume-XXXXXX)
java_tool() { java -Xmx512M -cp "$K/jars/*" -Dlog4j2.configurationFile="$K/log4j2.properties" "$@" 2>/dev/null; }
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA"' EXIT
start() { # name main port
  mkdir -p "$DATA/$1"
  GODEL_NATIVE_PATH=$PWD/build/Release/godel_native.node \
    node --input-type=module -e "import('file://$2').then((m) => m.main(process.argv))" \
    godel serve --listen 127.0.0.1:"$3" --data-dir "$DATA/$1" --log-level warn > "$DATA/$1.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$1=$!"
  for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/"$3") 2>/dev/null && break; sleep 0.2; done
  node bin/godel.js topics create data --partitions 1 -b 127.0.0.1:"$3" > /dev/null
  java_tool org.apache.kafka.tools.ProducerPerformance --topic data --num-records "$N" --record-size 100 --throughput -1 \
    --producer-props bootstrap.servers=127.0.0.1:"$3" acks=1 linger.ms=5 batch.size=262144 | tail -1 | sed "s/^/$1 filled: /"
}
start old "$OLD" 19101
start new "$NEW" 19102
if [ "${CONSUMER:-perf}" = fetch-latency ]; then
  echo "old = 127.0.0.1:19101, new = 127.0.0.1:19102"
  node --import tsx bench/fetch-latency.ts --address 127.0.0.1:19101,127.0.0.1:19102 --topic data \
    --passes "$ROUNDS" --think-ms "${THINK_MS:-2}"
  exit 0
fi
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' /proc/"$1"/stat; }
for round in $(seq "$ROUNDS"); do
  order="old new"; [ $((round % 2)) = 0 ] && order="new old"
  for name in $order; do
    port=19101; pid=$PID_old
    [ "$name" = new ] && { port=19102; pid=$PID_new; }
    c0=$(cpu "$pid")
    line=$(java_tool org.apache.kafka.tools.ConsumerPerformance --bootstrap-server 127.0.0.1:$port --topic data \
      --messages "$N" --group "ab-$round-$name" --timeout 20000 | tail -1)
    c1=$(cpu "$pid")
    # fetch.nMsg.sec is the 10th field: records over the fetch time (rebalance excluded).
    echo "round $round $name: $(echo "$line" | awk -F', ' '{printf "%.2f M records/s", $10 / 1e6}'), broker $(echo "$c1 - $c0" | bc) CPU s"
  done
done
