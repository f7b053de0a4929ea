// kcat (librdkafka) as a load generator for Kafka-protocol systems: what many users reach for.
// Produce: `kcat -P -l <file>` of newline-separated values (one record per line, recordBytes each),
// with acks and the same linger/batch settings as the perf tools (librdkafka names: linger.ms,
// batch.size). Consume: `kcat -C -o beginning -e -c N` printing one byte per record, counted.
// Wall-clock time of the process (kcat starts in milliseconds, so that is fair enough).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exec } from '../exec.js';
import { PRODUCER_PROPS } from './kafka-perf.js';
import type { LoadGenerator, LoadResult, RunningSystem, SystemId, Workload } from '../types.js';

const TOOL_TIMEOUT_MS = 10 * 60_000;
const KAFKA_PROTOCOL: readonly SystemId[] = ['kafka', 'godel-native', 'godel-ts'];

/** A file of `records` lines of `recordBytes` characters, written once per shape and reused. */
async function recordFile(records: number, recordBytes: number): Promise<string> {
  const file = path.join(os.tmpdir(), `godel-bench-kcat-${records}x${recordBytes}.txt`);
  if (fs.existsSync(file) && fs.statSync(file).size === records * (recordBytes + 1)) return file;
  const line = Buffer.alloc(recordBytes + 1, 'x');
  line[recordBytes] = 0x0a;
  const chunkLines = 4096;
  const chunk = Buffer.concat(Array.from({ length: chunkLines }, () => line));
  const out = fs.createWriteStream(`${file}.tmp`);
  for (let written = 0; written < records; written += chunkLines) {
    const n = Math.min(chunkLines, records - written);
    if (!out.write(n === chunkLines ? chunk : chunk.subarray(0, n * line.length))) {
      await new Promise<void>((r) => out.once('drain', () => r()));
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  await fs.promises.rename(`${file}.tmp`, file);
  return file;
}

function result(records: number, recordBytes: number, seconds: number): LoadResult {
  const bytes = records * recordBytes;
  return { records, bytes, seconds, recordsPerSecond: records / seconds, mbPerSecond: bytes / 1e6 / seconds };
}

export const kcatGenerator: LoadGenerator = {
  id: 'kcat',
  supports: (system, workload) => KAFKA_PROTOCOL.includes(system) && workload.kind !== 'latency',
  async run(system: RunningSystem, workload: Workload, topic: string): Promise<LoadResult> {
    if (workload.kind === 'produce') {
      const file = await recordFile(workload.records, workload.recordBytes);
      const t0 = performance.now();
      const r = await exec('kcat', [
        '-P', '-b', system.address, '-t', topic, '-l', file,
        '-X', `acks=${workload.acks === 'all' ? 'all' : '1'}`, ...PRODUCER_PROPS.flatMap((p) => ['-X', p]),
      ], { timeoutMs: TOOL_TIMEOUT_MS });
      const seconds = (performance.now() - t0) / 1000;
      if (r.code !== 0) throw new Error(`kcat -P failed (${r.code}): ${r.stderr.slice(-1500)}`);
      return result(workload.records, workload.recordBytes, seconds);
    }
    const t0 = performance.now();
    const r = await exec('kcat', [
      '-C', '-b', system.address, '-t', topic, '-o', 'beginning', '-e', '-q', '-c', String(workload.records), '-f', '.',
    ], { timeoutMs: TOOL_TIMEOUT_MS });
    const seconds = (performance.now() - t0) / 1000;
    if (r.code !== 0) throw new Error(`kcat -C failed (${r.code}): ${r.stderr.slice(-1500)}`);
    if (r.stdout.length < workload.records) throw new Error(`kcat -C read ${r.stdout.length} of ${workload.records} records`);
    return result(workload.records, workload.recordBytes, seconds);
  },
};
