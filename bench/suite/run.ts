// The end-to-end benchmark suite (issue 7): Gödel (native and TypeScript engines), Apache Kafka,
// NATS JetStream and Redis Streams, each started by the suite on 127.0.0.1, driven by Kafka's perf
// tools, kcat, Gödel's client and the peers' own clients; a table, JSON and SVG charts in --out.
//
//   npm run bench                                  # full run, ~19 minutes on 2 cores
//   npm run bench -- --quick                       # a few minutes
//   npm run bench -- --smoke --out /tmp/x          # seconds per system: proves the parts work
//   npm run bench -- --only godel-native,kafka --workloads produce-100B,latency --repeat 5
//
// Needs: bash scripts/install-bench-deps.sh (Java, Maven, kcat, nats-server, redis-server). Kafka's
// jars are fetched once into $GODEL_BENCH_CACHE (default ~/.cache/godel-bench).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { KAFKA_VERSION } from './kafka-dist.js';
import { PRODUCER_PROPS } from './generators/kafka-perf.js';
import { GENERATORS, SYSTEMS } from './registry.js';
import { writeReport } from './report.js';
import { runSuite } from './runner.js';
import { REPO_ROOT } from './systems/godel.js';
import { plan as makePlan, type Mode } from './workloads.js';

function usage(message: string): never {
  console.error(`bench: ${message}\nusage: npm run bench -- [--quick | --smoke] [--only system,...] [--workloads substring,...] [--repeat N] [--out DIR]`);
  process.exit(2);
}

/** The commit measured, and whether the broker's sources differed from it (other work in progress). */
function sourceState(): { commit: string; uncommittedBrokerFiles: string[] } {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'ts', 'native').split('\n').filter(Boolean).map((l) => l.slice(3));
    return { commit: git('rev-parse', 'HEAD'), uncommittedBrokerFiles: dirty };
  } catch {
    return { commit: 'unknown', uncommittedBrokerFiles: [] };
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let mode: Mode = 'full';
  let only: string[] | undefined;
  let workloadFilters: string[] | undefined;
  let repeat: number | undefined;
  let outDir = path.join(REPO_ROOT, 'bench', 'results');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => argv[++i] ?? usage(`${arg} needs a value`);
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--smoke') mode = 'smoke';
    else if (arg === '--only') only = value().split(',').filter(Boolean);
    else if (arg === '--workloads') workloadFilters = value().split(',').filter(Boolean);
    else if (arg === '--repeat') repeat = Number(value());
    else if (arg === '--out') outDir = path.resolve(value());
    else usage(`unknown argument ${arg}`);
  }
  if (repeat !== undefined && !(Number.isInteger(repeat) && repeat >= 1)) usage('--repeat must be a positive integer');
  const known = SYSTEMS.map((s) => s.id as string);
  for (const id of only ?? []) if (!known.includes(id)) usage(`unknown system ${id} (known: ${known.join(', ')})`);
  const plan = makePlan(mode);
  if (repeat !== undefined) plan.repeat = repeat;
  const systems = SYSTEMS.filter((s) => only === undefined || only.includes(s.id));
  const cacheDir = process.env.GODEL_BENCH_CACHE ?? path.join(os.homedir(), '.cache', 'godel-bench');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const loadBefore = os.loadavg();
  const source = sourceState();
  const started = new Date();
  const log = (line: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  log(`godel bench (${mode}): node ${process.version}, ${os.cpus().length} x ${cpu}, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}; `
    + `systems ${systems.map((s) => s.id).join(', ')}; ${plan.repeat} run(s) each; at ${source.commit.slice(0, 7)}`
    + `${source.uncommittedBrokerFiles.length > 0 ? ` with ${source.uncommittedBrokerFiles.length} uncommitted file(s) in ts/ or native/` : ''}`);
  const results = await runSuite({ plan, systems: [...systems], generators: [...GENERATORS], workloadFilters, cacheDir, log });
  const loadAfter = os.loadavg();
  const subtitle = `${mode} run ${started.toISOString().slice(0, 16)}Z, ${os.cpus().length} x ${cpu}, load ${loadBefore[0]!.toFixed(1)} → ${loadAfter[0]!.toFixed(1)}`;
  const meta = {
    mode, startedAt: started.toISOString(), ...source, node: process.version, cpus: os.cpus().length, cpu,
    loadavgBefore: loadBefore, loadavgAfter: loadAfter, repeat: plan.repeat, kafkaVersion: KAFKA_VERSION,
    producerProps: PRODUCER_PROPS, workloads: plan.workloads,
  };
  const report = await writeReport(outDir, results, meta, subtitle);
  console.log(`\n${report.text}`);
  console.log(`${results.rows.length} results in ${results.seconds.toFixed(0)} s, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} → ${loadAfter.map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`wrote ${path.relative(process.cwd(), report.json)}, ${path.relative(process.cwd(), report.markdown)} and ${report.svgs.length} SVG chart(s) in ${path.relative(process.cwd(), outDir) || '.'}`);
  const failed = results.systems.some((s) => s.errors.length > 0);
  if (results.rows.length === 0) {
    console.error('bench: nothing was measured');
    process.exitCode = 1;
  } else if (failed) {
    console.error('bench: some measurements failed (see the notes column)');
  }
}

// Ctrl-C / SIGTERM: exit through process.exit, so the servers the suite started are killed too.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
