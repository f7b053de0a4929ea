// Kafka's own perf tools (org.apache.kafka:kafka-tools) as the load generator, against Apache Kafka
// and Gödel alike: ProducerPerformance for produce, ConsumerPerformance for consume. Numbers are
// the tools' own (their summary line / CSV), so JVM start-up and group joining are not counted:
// produce = records / (records ÷ the reported records/sec), consume = the reported fetch time
// (total time minus the rebalance). The same producer settings for every system:
//   acks=<workload> linger.ms=5 batch.size=262144 (Kafka's defaults otherwise, no compression),
// ConsumerPerformance with its defaults (fetch size 1 MiB) and a fresh group per run.
// Tool JVMs get -Xmx512M, as kafka-producer-perf-test.sh gives them.
import { exec, type ExecResult } from '../exec.js';
import { kafkaDist } from '../kafka-dist.js';
import type { LoadGenerator, LoadResult, RunningSystem, SystemId, SystemStartOptions, Workload } from '../types.js';

const TOOL_TIMEOUT_MS = 10 * 60_000;
/**
 * A producer tuned for throughput as Kafka's documentation advises (larger batches, a few ms of
 * linger): with 64 KB batches and 5 requests in flight the tool's own request rate, not the broker,
 * was the limit for 100-byte records (Gödel 0.69 M, Kafka 0.43 M records/s; 256 KB: 1.24 M / 0.70 M).
 */
export const PRODUCER_PROPS = ['linger.ms=5', 'batch.size=262144'];
const KAFKA_PROTOCOL: readonly SystemId[] = ['kafka', 'godel-native', 'godel-ts'];
/** ConsumerPerformance commits its offsets: every run reads the topic with a group of its own. */
let runs = 0;

function result(records: number, recordBytes: number, seconds: number): LoadResult {
  const bytes = records * recordBytes;
  return { records, bytes, seconds, recordsPerSecond: records / seconds, mbPerSecond: bytes / 1e6 / seconds };
}

/** ConsumerPerformance's arguments (after the JVM's): read `records` records of `topic` in group `group`. */
function consumerPerformanceArgs(address: string, topic: string, records: number, group: string): string[] {
  return [
    'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', address, '--topic', topic,
    '--messages', String(records), '--group', group, '--timeout', '20000',
  ];
}

/** Records read and the fetch time (total minus the rebalance) from ConsumerPerformance's CSV line. */
function parseConsumerPerformance(r: ExecResult): { records: number; fetchMs: number } {
  // header: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
  //         rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const lines = r.stdout.trim().split('\n');
  const header = lines.findIndex((l) => l.startsWith('start.time'));
  const fields = header >= 0 ? lines[header + 1]?.split(',').map((f) => f.trim()) : undefined;
  if (r.code !== 0 || fields === undefined || fields.length < 10) {
    throw new Error(`ConsumerPerformance failed (${r.code}): ${(r.stdout + r.stderr).slice(-1500)}`);
  }
  return { records: Number(fields[4]), fetchMs: Number(fields[7]) };
}

export const kafkaPerfGenerator: LoadGenerator = {
  id: 'kafka-perf',
  supports: (system, workload) => KAFKA_PROTOCOL.includes(system) && workload.kind !== 'latency',
  async run(system: RunningSystem, workload: Workload, topic: string, opts: SystemStartOptions): Promise<LoadResult> {
    const dist = await kafkaDist(opts.cacheDir, opts.log);
    const java = ['-Xmx512M', '-cp', dist.classpath, ...dist.jvmOptions];
    if (workload.kind === 'produce') {
      const r = await exec('java', [
        ...java, 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic,
        '--num-records', String(workload.records), '--record-size', String(workload.recordBytes), '--throughput', '-1',
        '--producer-props', `bootstrap.servers=${system.address}`, `acks=${workload.acks === 'all' ? 'all' : '1'}`, ...PRODUCER_PROPS,
      ], { timeoutMs: TOOL_TIMEOUT_MS });
      // "N records sent, R records/sec (M MB/sec), … ms avg latency, …"
      const m = /^(\d+) records sent, ([\d.]+) records\/sec .*99\.9th\.?$/m.exec(r.stdout);
      if (r.code !== 0 || m === null) throw new Error(`ProducerPerformance failed (${r.code}): ${(r.stdout + r.stderr).slice(-1500)}`);
      const records = Number(m[1]);
      if (records !== workload.records) throw new Error(`ProducerPerformance sent ${records} of ${workload.records} records`);
      return result(records, workload.recordBytes, records / Number(m[2]));
    }
    const r = await exec('java', [...java, ...consumerPerformanceArgs(system.address, topic, workload.records, `perf-${topic}-${++runs}`)], { timeoutMs: TOOL_TIMEOUT_MS });
    const { records, fetchMs } = parseConsumerPerformance(r);
    if (records < workload.records) throw new Error(`ConsumerPerformance read ${records} of ${workload.records} records`);
    return result(records, workload.recordBytes, fetchMs / 1000);
  },
};
