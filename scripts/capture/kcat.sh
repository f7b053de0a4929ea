#!/usr/bin/env bash
# Capture driver for kcat (librdkafka): metadata, an idempotent producer with and without zstd, a
# simple consumer, an offsets query and a balanced consumer group that commits and leaves. Run
# through scripts/capture-frames.ts (see test/fixtures/frames/README.md), which sets
# GODEL_CAPTURE_BOOTSTRAP.
set -euo pipefail
b="${GODEL_CAPTURE_BOOTSTRAP:?GODEL_CAPTURE_BOOTSTRAP is not set}"
t=capture-kcat
x=(-X client.id=capture-kcat)

kcat -b "$b" "${x[@]}" -L -t "$t" >/dev/null
printf 'k:v\n' | kcat -b "$b" "${x[@]}" -X enable.idempotence=true -P -t "$t" -p 0 -K : -H h=1
# zstd, not gzip: librdkafka before 2.11.1 compresses with gzip, snappy or lz4 only if the broker
# speaks Produce v0 (rdkafka_msgset_writer.c checks the range 0..0; librdkafka #4948, fixed by #5130),
# and Godel starts at v3, so those batches go out uncompressed. zstd checks 0..7, which overlaps.
# A long, repetitive value, since librdkafka also sends a batch that would not shrink uncompressed.
printf 'kz:%s\n' "$(printf 'zstd%.0s' {1..40})" | kcat -b "$b" "${x[@]}" -X enable.idempotence=true -X compression.codec=zstd \
  -P -t "$t" -p 0 -K :
kcat -b "$b" "${x[@]}" -C -t "$t" -o beginning -e -q >/dev/null
kcat -b "$b" "${x[@]}" -Q -t "$t:0:-1" >/dev/null
# The group member stays a few seconds (heartbeats, an interval commit); SIGINT makes kcat close
# the consumer cleanly: a final commit and LeaveGroup.
status=0
timeout -s INT 5 kcat -b "$b" "${x[@]}" -X heartbeat.interval.ms=300 -X auto.commit.interval.ms=500 \
  -X auto.offset.reset=earliest -G capture-kcat-group -q "$t" >/dev/null || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 124 ]; then exit "$status"; fi
