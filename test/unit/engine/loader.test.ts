// Engine choice as a user sees it: the native addon by default where it loads, GODEL_ENGINE=ts or
// =native to force one, and an error (never a silent fallback) when the forced choice cannot be
// had. Each case runs in a child process, since the addon is loaded once per process and
// GODEL_NATIVE_PATH is read when it loads.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chooseEngine } from '../../../ts/engine/loader.js';
import { tsOnly } from '../../helpers/engines.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MISSING_ADDON = path.join(root, 'build', 'no-such-dir', 'godel_native.node');

/** What chooseEngine() and allEngines() gave in a fresh process with `env`. */
interface ChildChoice {
  ok: boolean;
  name?: string;
  fallbackReason?: string | null;
  available?: string[];
  message?: string;
}

const CHILD_SCRIPT = `
import { allEngines, chooseEngine } from './ts/engine/loader.js';
let out;
try {
  const choice = chooseEngine();
  const available = Object.entries(allEngines()).filter(([, e]) => e !== undefined).map(([n]) => n);
  out = { ok: true, name: choice.engine.name, fallbackReason: choice.fallbackReason ?? null, available };
} catch (err) {
  out = { ok: false, message: err instanceof Error ? err.message : String(err) };
}
process.stdout.write(JSON.stringify(out));
`;

function chooseInChild(overrides: Record<string, string>): Promise<ChildChoice> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.GODEL_ENGINE;
  delete env.GODEL_NATIVE_PATH;
  Object.assign(env, overrides);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHILD_SCRIPT],
      { cwd: root, env, timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as ChildChoice);
      },
    );
  });
}

describe('engine choice (fresh processes)', () => {
  // Under GODEL_ENGINE=ts (the suite run with the TypeScript engine forced) the default is ts by
  // definition, so the cases that expect the addon by default do not apply; the forced-ts cases run.
  it.skipIf(tsOnly())('picks the native engine by default when the addon loads', async () => {
    const choice = await chooseInChild({});
    expect(choice).toMatchObject({ ok: true, name: 'native', fallbackReason: null });
    expect(choice.available).toEqual(['native', 'ts']);
  });

  it.skipIf(tsOnly())('treats an empty GODEL_ENGINE as the default', async () => {
    expect(await chooseInChild({ GODEL_ENGINE: '' })).toMatchObject({ ok: true, name: 'native' });
  });

  it('gives the TypeScript engine for GODEL_ENGINE=ts, and says why', async () => {
    const choice = await chooseInChild({ GODEL_ENGINE: 'ts' });
    expect(choice).toMatchObject({ ok: true, name: 'ts' });
    expect(choice.fallbackReason).toMatch(/GODEL_ENGINE=ts/);
  });

  it.skipIf(tsOnly())('gives the native engine for GODEL_ENGINE=native when the addon loads', async () => {
    expect(await chooseInChild({ GODEL_ENGINE: 'native' })).toMatchObject({ ok: true, name: 'native', fallbackReason: null });
  });

  it('fails for GODEL_ENGINE=native when GODEL_NATIVE_PATH names a missing addon', async () => {
    const choice = await chooseInChild({ GODEL_ENGINE: 'native', GODEL_NATIVE_PATH: MISSING_ADDON });
    expect(choice.ok).toBe(false);
    expect(choice.message).toMatch(/GODEL_ENGINE=native/);
    expect(choice.message).toContain(MISSING_ADDON);
  });

  it('falls back to ts by default when GODEL_NATIVE_PATH names a missing addon, keeping the reason', async () => {
    const choice = await chooseInChild({ GODEL_NATIVE_PATH: MISSING_ADDON });
    expect(choice).toMatchObject({ ok: true, name: 'ts', available: ['ts'] });
    expect(choice.fallbackReason).toContain(MISSING_ADDON);
  });

  it('fails for an unknown GODEL_ENGINE', async () => {
    const choice = await chooseInChild({ GODEL_ENGINE: 'bogus' });
    expect(choice.ok).toBe(false);
    expect(choice.message).toMatch(/GODEL_ENGINE must be "native" or "ts", got "bogus"/);
  });
});

describe('chooseEngine(env) in this process', () => {
  it('rejects unknown names, whatever their case', () => {
    expect(() => chooseEngine({ GODEL_ENGINE: 'bogus' })).toThrow(/GODEL_ENGINE/);
    expect(() => chooseEngine({ GODEL_ENGINE: 'TS' })).toThrow(/GODEL_ENGINE/);
    expect(() => chooseEngine({ GODEL_ENGINE: 'auto' })).toThrow(/GODEL_ENGINE/);
  });

  it('gives ts for GODEL_ENGINE=ts without touching the addon', () => {
    const choice = chooseEngine({ GODEL_ENGINE: 'ts' });
    expect(choice.engine.name).toBe('ts');
    expect(choice.fallbackReason).toBe('GODEL_ENGINE=ts');
  });

  // Under GODEL_ENGINE=ts the default is ts by definition (see the fresh-process cases above).
  it.skipIf(tsOnly())('gives native for an empty environment when the addon loads', () => {
    const choice = chooseEngine({});
    expect(choice.engine.name).toBe('native');
    expect(choice.fallbackReason).toBeUndefined();
  });
});
