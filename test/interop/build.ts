// Compiles ts/ into dist/ (what bin/godel.js runs). Kept apart from helpers.ts, which imports
// vitest's expect and so cannot be loaded by the global setup.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function buildBroker(): Promise<void> {
  const tsc = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    // tsc still emits on type errors; go on if there is something to run, but say so.
    if (fs.existsSync(path.join(REPO_ROOT, 'dist/cli/main.js')) && !r.error) {
      process.stderr.write(`interop: tsc reported errors, running the emitted dist/ anyway:\n${r.stdout}${r.stderr}\n`);
    } else {
      throw new Error(`building the broker failed: ${r.error?.message ?? ''}\n${r.stdout}${r.stderr}`);
    }
  }
}
