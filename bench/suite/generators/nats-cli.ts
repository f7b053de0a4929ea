// The official NATS CLI (natscli), whose `nats bench` is NATS's own fastest benchmark client (Go,
// nats.go). Built once with `go install github.com/nats-io/natscli/nats@<version>` through the Go
// module proxy into <cacheDir>/natscli-<version>/nats, and reused from there. v0.2.4 builds with
// Go 1.23.9+. Where the checksum database cannot be reached (some sandboxes answer 404), the build
// is retried with GOSUMDB=off, said in the log: the modules then come unverified from the proxy.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { exec, hasCommand } from '../exec.js';

export const NATSCLI_VERSION = 'v0.2.4';
const BUILD_TIMEOUT_MS = 20 * 60_000;

let goOnPath: boolean | undefined;

/** Whether natscli can be built here at all (a Go toolchain on PATH), asked once. */
export function canBuildNatsCli(): boolean {
  goOnPath ??= spawnSync('go', ['version'], { timeout: 10_000 }).status === 0;
  return goOnPath;
}

const builds = new Map<string, Promise<string>>();

function binaryPath(cacheDir: string): string {
  return path.join(cacheDir, `natscli-${NATSCLI_VERSION}`, 'nats');
}

/** The nats binary, built on first use; rejects with the reason when it cannot be built. */
export function natsCli(cacheDir: string, log: (line: string) => void): Promise<string> {
  const binary = binaryPath(cacheDir);
  let build = builds.get(binary);
  if (build === undefined) {
    build = buildNatsCli(binary, log);
    builds.set(binary, build);
    build.catch(() => builds.delete(binary));
  }
  return build;
}

async function buildNatsCli(binary: string, log: (line: string) => void): Promise<string> {
  if (fs.existsSync(binary)) return binary;
  if (!(await hasCommand('go'))) throw new Error('natscli: no Go toolchain on PATH to build it');
  const target = `github.com/nats-io/natscli/nats@${NATSCLI_VERSION}`;
  const env = { ...process.env, GOBIN: path.dirname(binary), GOFLAGS: '-buildvcs=false' };
  log(`nats: building the NATS CLI (go install ${target}) into ${path.dirname(binary)}`);
  let r = await exec('go', ['install', target], { env, timeoutMs: BUILD_TIMEOUT_MS });
  if (r.code !== 0 && /sum\.golang\.org|verifying module/.test(r.stderr)) {
    log('nats: the Go checksum database is unreachable; retrying with GOSUMDB=off (modules unverified)');
    r = await exec('go', ['install', target], { env: { ...env, GOSUMDB: 'off' }, timeoutMs: BUILD_TIMEOUT_MS });
  }
  if (r.code !== 0 || !fs.existsSync(binary)) {
    throw new Error(`natscli: go install ${target} failed (${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return binary;
}

/** "Pub stats: 78,299 msgs/sec ~ 7.47 MB/sec" → 78299 (the aggregate line, not per client). */
export function parseBenchRate(output: string, kind: 'Pub' | 'Sub'): number {
  const m = new RegExp(`^${kind} stats: ([\\d,]+) msgs/sec`, 'm').exec(output);
  if (!m) throw new Error(`nats bench printed no "${kind} stats" line:\n${output.slice(-1500)}`);
  return Number(m[1]!.replaceAll(',', ''));
}
