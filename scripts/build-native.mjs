#!/usr/bin/env node
// Builds the native storage addon with node-gyp. Install must succeed without a compiler, so a
// failed build prints one warning and exits 0 (Gödel then runs on the pure-TypeScript engine),
// unless --strict is given (CI and `npm run build:native` want to know).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const strict = process.argv.includes('--strict') || process.env.GODEL_NATIVE_STRICT === '1';
const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

if (process.env.GODEL_SKIP_NATIVE === '1') {
  console.warn('godel: GODEL_SKIP_NATIVE=1, not building the native addon (the TypeScript engine will be used)');
  process.exit(0);
}

const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--release'];
// Use the headers installed beside this Node when present: node-gyp would otherwise download them,
// and a machine that reaches only package registries cannot.
const prefix = path.dirname(path.dirname(process.execPath));
if (existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (result.status === 0) process.exit(0);
const why = result.error ? result.error.message : `node-gyp exited with ${result.status}`;
if (strict) {
  console.error(`godel: native addon build failed (${why})`);
  process.exit(1);
}
console.warn(`godel: native addon not built (${why}); Gödel will run on the pure-TypeScript engine`);
process.exit(0);
