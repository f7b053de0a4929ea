// The contract between the end-to-end benchmark suite's parts (bench/suite/): systems under test,
// load generators and the runner that pairs them over workloads and writes the report.
// A system is a server process the suite starts and stops on 127.0.0.1 with its data under one
// directory on the same disk as every other system's; a load generator is a separate process
// (Kafka's perf tools, kcat, Gödel's client, a peer's own client) driven against a running system.

/** The systems of the comparison. */
export type SystemId = 'godel-native' | 'godel-ts' | 'kafka' | 'nats' | 'redis';

/** What a load generator is asked to do. */
export type WorkloadKind = 'produce' | 'consume' | 'latency';

export interface Workload {
  /** Stable name used in the table, the JSON and the SVG file name, e.g. "produce-100B-p1-acks1". */
  name: string;
  kind: WorkloadKind;
  /** Value bytes per record (100 or 1024); keys are not used. */
  recordBytes: number;
  /** Partitions of the topic (Kafka, Gödel); peers use one stream / subject. */
  partitions: number;
  /** Producer acknowledgement: '1' (leader) or 'all'. Peers map it to their nearest equivalent. */
  acks: '1' | 'all';
  /** fsync before acknowledgement (Kafka flush.messages=1, Gödel durable mode). Only Kafka and Gödel. */
  durable: boolean;
  /** Records to produce (produce) or to read back (consume). */
  records: number;
  /** latency only: the fixed offered load in MB/s of value bytes, and how long to hold it. */
  rateMBps?: number;
  durationSeconds?: number;
}

/** The options a system is started with for one workload group. */
export interface SystemStartOptions {
  /** A fresh, empty directory for this system's data (removed by the runner afterwards). */
  dataDir: string;
  /** fsync before acknowledgement. */
  durable: boolean;
  /** Where downloaded artifacts (Kafka jars, Maven repository) are cached between runs. */
  cacheDir: string;
  /** Lines of progress for the terminal. */
  log: (line: string) => void;
  /** Extra broker settings (Gödel's `--set key=value`), for tools outside the suite. */
  settings?: readonly string[];
}

export interface RunningSystem {
  id: SystemId;
  /** host:port clients connect to (always 127.0.0.1). */
  address: string;
  /** The server's process id: the runner samples its CPU time and RSS from /proc. */
  pid: number;
  /** From spawn to the first successful request, in milliseconds. */
  startupMs: number;
  /** Creates a topic / stream with this many partitions, ready for the workload. */
  createTopic(name: string, partitions: number): Promise<void>;
  /** Removes a topic / stream after its measurement (optional: keeps disk and page cache small). */
  deleteTopic?(name: string): Promise<void>;
  /** Stops the server and waits for its exit. */
  stop(): Promise<void>;
}

export interface SystemDefinition {
  id: SystemId;
  /** For the table: "Gödel (native)", "Apache Kafka 4.1.1 (KRaft)", … */
  label: string;
  /** null when the system can run here, else why not (missing package, jar download failed …). */
  unavailable(opts: SystemStartOptions): Promise<string | null>;
  start(opts: SystemStartOptions): Promise<RunningSystem>;
}

export interface LatencyPercentiles {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

/** One measurement of one load generator against one system for one workload. */
export interface LoadResult {
  records: number;
  /** Value bytes moved. */
  bytes: number;
  seconds: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  /** End-to-end (produce call to consumer delivery) for latency workloads. */
  latency?: LatencyPercentiles;
}

export interface LoadGenerator {
  /** "kafka-perf", "kcat", "godel-client", "nats-bench", "redis-benchmark", … */
  id: string;
  /** Whether this generator can drive this system for this workload kind. */
  supports(system: SystemId, workload: Workload): boolean;
  /**
   * Runs one measurement; the topic already exists (and for consume, holds the records: the runner
   * fills it once per workload and system with the first generator in registry.ts that supports
   * the matching produce workload there, then every generator reads it, each repetition again).
   */
  run(system: RunningSystem, workload: Workload, topic: string, opts: SystemStartOptions): Promise<LoadResult>;
}

/** What the runner records per (workload, system, generator): every repetition and its median. */
export interface ResultRow {
  workload: string;
  system: SystemId;
  generator: string;
  runs: LoadResult[];
  median: LoadResult;
  /** min and max of recordsPerSecond over the runs: the spread shown next to the median. */
  spread: { min: number; max: number };
  /** The broker's peak RSS (VmHWM) and CPU seconds over the measurement. */
  brokerPeakRssBytes: number;
  brokerCpuSeconds: number;
  /** latency only: min and max of p99 over the runs. */
  p99Spread?: { min: number; max: number };
}
