// Gödel's TypeScript client as a load generator, against any Kafka-protocol system. Each run is a
// fresh process (godel-client-child.ts, started through tsx), which prints one JSON LoadResult.
//   produce: like bench/client.ts — `batch` records per send(), up to 8 send() calls in flight,
//            lingerMs 0, batchSize sized to one call's records; time from first send to last ack.
//   consume: a consumer group reading from the beginning; time from the first record delivered
//            to the last; every value's length is read.
//   latency: a producer at a fixed rate and a consumer, each in a process of its own
//            (kafka-latency.ts through peer-latency.ts's runLatency, as the NATS and Redis
//            generators): end-to-end latency from the producer's send() call to the consumer's
//            handler, clock: hrtime in ns stamped into each value's first 8 bytes. The latency
//            basis for Gödel and Kafka alike.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadGenerator, LoadResult, RunningSystem, SystemId, Workload } from '../types.js';
import { runLatency } from './peer-latency.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'godel-client-child.ts');
const LATENCY_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kafka-latency.ts');
const KAFKA_PROTOCOL: readonly SystemId[] = ['kafka', 'godel-native', 'godel-ts'];
const CHILD_TIMEOUT_MS = 10 * 60_000;

export function runChild(args: readonly string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err = (err + s).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      // The child's error (its first line is enough for the table's notes; the run's log has it whole).
      const why = err.split('\n').find((line) => line.startsWith('Error')) ?? err.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`godel-client exited with ${code ?? signal}: ${why}`));
      else resolve(JSON.parse(last) as LoadResult);
    });
  });
}

export const godelClientGenerator: LoadGenerator = {
  id: 'godel-client',
  supports: (system) => KAFKA_PROTOCOL.includes(system),
  run(system: RunningSystem, workload: Workload, topic: string): Promise<LoadResult> {
    if (workload.kind === 'latency') return runLatency(LATENCY_SCRIPT, system.address, topic, workload);
    return runChild([JSON.stringify({ address: system.address, topic, workload })]);
  },
};
