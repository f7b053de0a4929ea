// The workload matrix and which (system, generator) pairs run each workload, for the three modes:
//   full  (`npm run bench`, ~19 min on 2 quiet cores): every workload on Gödel (native) and Kafka
//         with Kafka's perf tools (6 partitions for 100 B produce only: the pairs that cost the
//         most minutes for the least news are left out); kcat and Gödel's client on the headline
//         workloads only (100 B produce/consume, latency); the fallback engine on what its
//         targets need (1 KiB produce and consume, 100 B produce/consume, latency at 50 MB/s);
//         NATS and Redis on whatever their generators support (durable: Kafka/Gödel only).
//   quick (`-- --quick`, ~3 min on quiet cores, 6.5 on a loaded machine): the headline workloads,
//         fewer records, one repetition.
//   smoke (`-- --smoke`, for the interop test): tiny runs that prove every part still works.
// Record counts are chosen so one measurement takes about a second at the target rates (each perf
// tool run also pays ~2-3 s of JVM start, outside its own numbers); consume workloads read a
// topic filled once per (workload, system), so repetitions and generators read the same records.
import type { SystemId, Workload } from './types.js';

export type Mode = 'full' | 'quick' | 'smoke';

function name(w: Omit<Workload, 'name'>): string {
  const size = w.recordBytes >= 1024 ? `${w.recordBytes / 1024}KiB` : `${w.recordBytes}B`;
  if (w.kind === 'latency') return `latency-${size}-p${w.partitions}-${w.rateMBps}MBps`;
  const acks = w.kind === 'produce' ? `-acks${w.acks}` : '';
  return `${w.kind}-${size}-p${w.partitions}${acks}${w.durable ? '-durable' : ''}`;
}

function workload(w: Omit<Workload, 'name'>): Workload {
  return { name: name(w), ...w };
}

const produce = (recordBytes: number, partitions: number, acks: '1' | 'all', durable: boolean, records: number): Workload =>
  workload({ kind: 'produce', recordBytes, partitions, acks, durable, records });
const consume = (recordBytes: number, partitions: number, records: number): Workload =>
  workload({ kind: 'consume', recordBytes, partitions, acks: '1', durable: false, records });
const latency = (rateMBps: number, durationSeconds: number): Workload =>
  workload({ kind: 'latency', recordBytes: 1024, partitions: 1, acks: '1', durable: false, records: 0, rateMBps, durationSeconds });

export interface Plan {
  mode: Mode;
  workloads: Workload[];
  repeat: number;
  /** Extra start/stop cycles per system on an empty data directory, for the start-up time. */
  startupRuns: number;
  /** Whether this (workload, system, generator) is measured in this mode. */
  includes(workload: Workload, system: SystemId, generator: string): boolean;
  /** The workload as `system` runs it (the same, or with fewer records). */
  sized(workload: Workload, system: SystemId): Workload;
}

/**
 * NATS and Redis run at most PEER_RECORDS_MAX records per workload: at their rates (0.1–0.4 M
 * records/s) that is already a few seconds (their clients need no JIT warm-up), and 10 M would add
 * ten minutes to the suite. (1 M until run 9; halved to bring the suite nearer its 15 minutes.)
 */
const PEER_RECORDS_MAX = 500_000;
const sameSize = (w: Workload): Workload => w;

const HEADLINE = new Set(['produce-100B-p1-acks1', 'consume-100B-p1', 'produce-1KiB-p1-acks1', 'consume-1KiB-p1', 'latency-1KiB-p1-50MBps']);

export function plan(mode: Mode): Plan {
  if (mode === 'smoke') {
    return {
      mode, repeat: 1, startupRuns: 1,
      workloads: [produce(100, 1, '1', false, 50_000), consume(100, 1, 50_000), latency(10, 3)],
      includes: () => true,
      sized: sameSize,
    };
  }
  if (mode === 'quick') {
    return {
      mode, repeat: 1, startupRuns: 1,
      workloads: [
        produce(100, 1, '1', false, 1_000_000), produce(1024, 1, '1', false, 200_000),
        consume(100, 1, 1_000_000), consume(1024, 1, 200_000), latency(50, 5),
      ],
      // One generator per Kafka-protocol system and workload kind: the perf tools, and the client
      // for latency.
      includes: (w, system, generator) =>
        !(['kafka', 'godel-native', 'godel-ts'] as SystemId[]).includes(system) || generator === 'kafka-perf' || (w.kind === 'latency' && generator === 'godel-client'),
      sized: sameSize,
    };
  }
  // Runs of several seconds each: with 1 M records a run of Kafka's perf tools was mostly the JVM
  // warming up (Gödel 0.26 M records/s over 1 M records, 0.69 M over 8 M with the same tool).
  // Durable 100 B as long as its acks=1 counterpart, which it is compared with.
  const workloads = [
    produce(100, 1, '1', false, 10_000_000),
    produce(100, 6, '1', false, 3_000_000),
    produce(100, 1, 'all', false, 3_000_000),
    produce(1024, 1, '1', false, 2_000_000),
    produce(100, 1, '1', true, 10_000_000),
    produce(1024, 1, '1', true, 200_000),
    consume(100, 1, 10_000_000),
    consume(1024, 1, 2_000_000),
    // 6 s measured after 2 s of warm-up: 58 k latencies at 10 MB/s, 290 k at 50 MB/s (8 s until run 9).
    latency(10, 6),
    latency(50, 6),
  ];
  return {
    mode, repeat: 3, startupRuns: 3, workloads,
    includes: (w, system, generator) => {
      if (system === 'nats' || system === 'redis') return true;
      // 1 KiB through Gödel's client as well: the one generator that outpaces both engines, so
      // the native-vs-fallback comparison measures the engines rather than the perf tools.
      const oneKiB = w.name === 'produce-1KiB-p1-acks1' || w.name === 'consume-1KiB-p1';
      if (system === 'godel-ts') {
        return HEADLINE.has(w.name) && (generator === 'kafka-perf' || (generator === 'godel-client' && (w.kind === 'latency' || oneKiB)));
      }
      if (generator === 'kafka-perf') return true;
      if (generator === 'kcat') return w.name === 'produce-100B-p1-acks1' || w.name === 'consume-100B-p1';
      if (generator === 'godel-client') return w.kind === 'latency' || oneKiB || w.name === 'produce-100B-p1-acks1' || w.name === 'consume-100B-p1';
      return false;
    },
    sized: (w, system) => ((system === 'nats' || system === 'redis') && w.records > PEER_RECORDS_MAX ? { ...w, records: PEER_RECORDS_MAX } : w),
  };
}
