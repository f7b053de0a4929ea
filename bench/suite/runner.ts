// Runs a plan: every system in turn (started fresh, on 127.0.0.1, data in a fresh directory under
// one parent on the same disk), every workload, every generator the plan pairs with it, `repeat`
// times, interleaving generators between repetitions so that slow phases of a loaded machine
// spread over all of them. Around each measurement the broker's CPU seconds and peak RSS are taken
// from /proc. Durable workloads run on a second start of the system with fsync-before-ack on.
// Consume workloads read a topic filled once per (workload, system) by the first generator that
// can produce to it. Failures are recorded and the suite goes on: a report with holes beats none.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSampling } from './process-stats.js';
import type { LoadGenerator, LoadResult, ResultRow, RunningSystem, SystemDefinition, SystemId, SystemStartOptions, Workload } from './types.js';
import type { Plan } from './workloads.js';

const KAFKA_PROTOCOL: readonly SystemId[] = ['kafka', 'godel-native', 'godel-ts'];

export interface SystemSummary {
  id: SystemId;
  label: string;
  /** Why it was not run, if it was not. */
  unavailable?: string;
  /** Every start's time to the first answered request, ms. */
  startupMs: number[];
  errors: string[];
}

export interface SuiteResults {
  rows: ResultRow[];
  systems: SystemSummary[];
  seconds: number;
}

export interface RunnerOptions {
  plan: Plan;
  systems: SystemDefinition[];
  generators: LoadGenerator[];
  /** Only workloads whose name contains one of these. */
  workloadFilters?: string[];
  cacheDir: string;
  log: (line: string) => void;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The run in the middle by the workload's own measure (throughput, or p99 for latency). */
function middleRun(runs: LoadResult[], kind: Workload['kind']): LoadResult {
  const key = (r: LoadResult): number => (kind === 'latency' ? r.latency?.p99Ms ?? Infinity : r.recordsPerSecond);
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1]!;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function describe(r: LoadResult): string {
  if (r.latency) return `p50 ${r.latency.p50Ms.toFixed(2)} ms, p99 ${r.latency.p99Ms.toFixed(2)} ms, p99.9 ${r.latency.p999Ms.toFixed(2)} ms (${fmt(r.records)} records)`;
  return `${fmt(r.recordsPerSecond)} records/s, ${r.mbPerSecond.toFixed(1)} MB/s`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message.split('\n').slice(0, 3).join(' | ') : String(err);
}

export async function runSuite(opts: RunnerOptions): Promise<SuiteResults> {
  const { plan, log } = opts;
  const t0 = performance.now();
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'godel-bench-'));
  const rows: ResultRow[] = [];
  const summaries: SystemSummary[] = [];
  const workloads = plan.workloads.filter((w) => !opts.workloadFilters || opts.workloadFilters.some((f) => w.name.includes(f)));
  let starts = 0;
  try {
    for (const def of opts.systems) {
      const summary: SystemSummary = { id: def.id, label: def.label, startupMs: [], errors: [] };
      summaries.push(summary);
      const base: SystemStartOptions = { dataDir: path.join(parent, 'probe'), durable: false, cacheDir: opts.cacheDir, log };
      const why = await def.unavailable(base).catch((err: unknown) => errorText(err));
      if (why !== null) {
        summary.unavailable = why;
        log(`${def.label}: not run (${why})`);
        continue;
      }
      for (let i = 0; i < plan.startupRuns; i++) {
        const dataDir = path.join(parent, `${def.id}-${starts++}`);
        await fs.mkdir(dataDir, { recursive: true });
        try {
          const system = await def.start({ ...base, dataDir });
          summary.startupMs.push(system.startupMs);
          await system.stop();
        } catch (err) {
          summary.errors.push(`start: ${errorText(err)}`);
        }
        await fs.rm(dataDir, { recursive: true, force: true });
      }
      if (summary.startupMs.length > 0) log(`${def.label}: start-up ${summary.startupMs.map((v) => Math.round(v)).join(', ')} ms (empty data directory)`);
      for (const durable of [false, true]) {
        const group = workloads.filter((w) => w.durable === durable && (!durable || KAFKA_PROTOCOL.includes(def.id))
          && opts.generators.some((g) => g.supports(def.id, w) && plan.includes(w, def.id, g.id)));
        if (group.length === 0) continue;
        const start: SystemStartOptions = { ...base, durable, dataDir: path.join(parent, `${def.id}-${starts++}`) };
        await fs.mkdir(start.dataDir, { recursive: true });
        let system: RunningSystem;
        try {
          system = await def.start(start);
        } catch (err) {
          summary.errors.push(`start${durable ? ' (durable)' : ''}: ${errorText(err)}`);
          log(`${def.label}: failed to start: ${errorText(err)}`);
          continue;
        }
        summary.startupMs.push(system.startupMs);
        log(`${def.label}${durable ? ' (durable: fsync before ack)' : ''}: started in ${system.startupMs.toFixed(0)} ms at ${system.address}, pid ${system.pid}`);
        try {
          for (const w of group) await runWorkload(opts, system, start, w, summary, rows);
        } finally {
          await system.stop().catch((err: unknown) => summary.errors.push(`stop: ${errorText(err)}`));
          await fs.rm(start.dataDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await fs.rm(parent, { recursive: true, force: true });
  }
  return { rows, systems: summaries, seconds: (performance.now() - t0) / 1000 };
}

async function runWorkload(opts: RunnerOptions, system: RunningSystem, start: SystemStartOptions, workload: Workload, summary: SystemSummary, rows: ResultRow[]): Promise<void> {
  const { plan, log } = opts;
  const w = plan.sized(workload, system.id);
  const generators = opts.generators.filter((g) => g.supports(system.id, w) && plan.includes(w, system.id, g.id));
  if (generators.length === 0) return;
  const topicName = (suffix: string): string => `${w.name}-${suffix}`.replace(/[^A-Za-z0-9._-]/g, '_');
  let consumeTopic: string | undefined;
  if (w.kind === 'consume') {
    // Filled once; every generator and repetition reads it from the beginning with its own group.
    const fill: Workload = { ...w, kind: 'produce', name: `${w.name}-fill` };
    const filler = opts.generators.find((g) => g.supports(system.id, fill));
    if (filler === undefined) return;
    consumeTopic = topicName('data');
    try {
      await system.createTopic(consumeTopic, w.partitions);
      await filler.run(system, fill, consumeTopic, start);
    } catch (err) {
      summary.errors.push(`${w.name}: filling with ${filler.id}: ${errorText(err)}`);
      log(`  ${w.name}: filling with ${filler.id} failed: ${errorText(err)}`);
      return;
    }
  }
  const runs = new Map<string, Array<LoadResult & { cpu: number; rss: number }>>();
  for (let rep = 0; rep < plan.repeat; rep++) {
    const order = rep % 2 === 0 ? generators : [...generators].reverse();
    for (const g of order) {
      const topic = consumeTopic ?? topicName(`${g.id}-${rep}`);
      try {
        if (consumeTopic === undefined) await system.createTopic(topic, w.partitions);
        const sampling = await startSampling(system.pid);
        const outcome = await g.run(system, w, topic, start).then((r) => ({ r }), (e: unknown) => ({ e }));
        const usage = await sampling.stop();
        if ('e' in outcome) throw outcome.e;
        const result = outcome.r;
        if (!(result.recordsPerSecond > 0) && w.kind !== 'latency') throw new Error(`no throughput: ${JSON.stringify(result)}`);
        const list = runs.get(g.id) ?? [];
        list.push({ ...result, cpu: usage.cpuSeconds, rss: usage.peakRssBytes });
        runs.set(g.id, list);
        log(`  ${w.name} ${system.id} ${g.id} #${rep + 1}: ${describe(result)}; broker ${usage.cpuSeconds.toFixed(1)} CPU s, peak RSS ${(usage.peakRssBytes / 2 ** 20).toFixed(0)} MiB, load ${os.loadavg()[0]!.toFixed(1)}`);
      } catch (err) {
        summary.errors.push(`${w.name} ${g.id} #${rep + 1}: ${errorText(err)}`);
        log(`  ${w.name} ${system.id} ${g.id} #${rep + 1}: FAILED ${errorText(err)}`);
      } finally {
        if (consumeTopic === undefined) await system.deleteTopic?.(topic).catch(() => undefined);
      }
    }
  }
  if (consumeTopic !== undefined) await system.deleteTopic?.(consumeTopic).catch(() => undefined);
  for (const [generator, list] of runs) {
    const results: LoadResult[] = list.map(({ cpu: _cpu, rss: _rss, ...r }) => r);
    const rates = results.map((r) => r.recordsPerSecond);
    const row: ResultRow = {
      workload: w.name, system: system.id, generator, runs: results,
      median: middleRun(results, w.kind),
      spread: { min: Math.min(...rates), max: Math.max(...rates) },
      brokerPeakRssBytes: Math.max(...list.map((r) => r.rss)),
      brokerCpuSeconds: median(list.map((r) => r.cpu)),
    };
    if (w.kind === 'latency') {
      const p99s = results.map((r) => r.latency?.p99Ms ?? NaN);
      row.p99Spread = { min: Math.min(...p99s), max: Math.max(...p99s) };
    }
    rows.push(row);
  }
}
