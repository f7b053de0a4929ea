// Gödel as a system under test, with the native engine (godel-native) or the TypeScript fallback
// engine (godel-ts, GODEL_ENGINE=ts). The broker runs compiled, as `godel serve` does after
// `npm install`: the suite compiles the current source tree once per run into .cache/bench-dist
// (tsc -p tsconfig.build.json --outDir …), so start-up time is not tsx compiling TypeScript, and
// dist/ is left alone. The addon is the repo's build/Release (GODEL_NATIVE_PATH). Defaults apart
// from group.initial.rebalance.delay.ms=0 (as bench/client.ts) — no: Kafka keeps its default 3 s,
// and the perf tools report fetch time without the rebalance, so Gödel keeps its default too.
// Durable mode: log.flush.interval.messages=1 (the broker-wide flush.messages=1).
// Port from the "broker started" log line; ready at the first ApiVersions answer.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../exec.js';
import type { RunningSystem, SystemDefinition, SystemId, SystemStartOptions } from '../types.js';
import { apiVersionsOk, createKafkaTopic, deleteKafkaTopic } from './kafka-protocol.js';
import { ServerProcess } from './server-process.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ADDON = path.join(REPO_ROOT, 'build', 'Release', 'godel_native.node');
/** Two levels below the repo root, like dist/, so relative lookups (package.json) still work. */
const BENCH_DIST = path.join(REPO_ROOT, '.cache', 'bench-dist');
const START_DEADLINE_MS = 60_000;

let compiled: Promise<string> | undefined;

/** Compiles ts/ into .cache/bench-dist once per suite run; resolves with the CLI's main module. */
export function compileBroker(log: (line: string) => void): Promise<string> {
  compiled ??= (async () => {
    log('compiling the broker (tsc -p tsconfig.build.json --outDir .cache/bench-dist)');
    const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await exec(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', BENCH_DIST], { cwd: REPO_ROOT, timeoutMs: 300_000 });
    const main = path.join(BENCH_DIST, 'cli', 'main.js');
    // tsc emits despite type errors elsewhere in the tree; only a missing output is fatal.
    if (!fs.existsSync(main)) throw new Error(`tsc produced no ${main}:\n${r.stdout}${r.stderr}`);
    return main;
  })();
  return compiled;
}

function godelSystem(id: SystemId, engine: 'native' | 'ts', label: string): SystemDefinition {
  return {
    id,
    label,
    async unavailable(opts: SystemStartOptions): Promise<string | null> {
      if (engine === 'native' && !fs.existsSync(ADDON)) return `no native addon at ${ADDON} (npm run build:native)`;
      try {
        await compileBroker(opts.log);
        return null;
      } catch (err) {
        return err instanceof Error ? err.message.split('\n')[0]! : String(err);
      }
    },
    async start(opts: SystemStartOptions): Promise<RunningSystem> {
      const main = await compileBroker(opts.log);
      const launcher = `import(${JSON.stringify(`file://${main}`)}).then((m) => m.main(process.argv))`;
      const args = ['--input-type=module', '-e', launcher, 'godel', 'serve', '--listen', '127.0.0.1:0', '--data-dir', opts.dataDir, '--log-level', 'info'];
      if (opts.durable) args.push('--set', 'log.flush.interval.messages=1');
      for (const setting of opts.settings ?? []) args.push('--set', setting);
      const t0 = performance.now();
      const server = ServerProcess.spawn(id, process.execPath, args, {
        cwd: REPO_ROOT,
        env: { ...process.env, GODEL_ENGINE: engine, GODEL_NATIVE_PATH: ADDON },
      });
      let address = '';
      server.onLine((line) => {
        if (address !== '' || !line.includes('"broker started"')) return;
        try {
          const listen = (JSON.parse(line) as { listen?: unknown }).listen;
          if (typeof listen === 'string') address = listen;
        } catch {
          // not a log line
        }
      });
      await server.waitReady(async () => address !== '' && apiVersionsOk(address), START_DEADLINE_MS, id, 10);
      const startupMs = performance.now() - t0;
      return {
        id, address, pid: server.pid, startupMs,
        createTopic: (name, partitions) => createKafkaTopic(address, name, partitions),
      deleteTopic: (name) => deleteKafkaTopic(address, name),
        stop: () => server.stop(),
      };
    },
  };
}

export const godelNativeSystem = godelSystem('godel-native', 'native', 'Gödel (native engine)');
export const godelTsSystem = godelSystem('godel-ts', 'ts', 'Gödel (TypeScript engine)');
