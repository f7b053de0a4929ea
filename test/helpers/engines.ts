// The engines a parity test runs over, for `describe.each(testEngines)`. Both engines, always,
// unless GODEL_ENGINE=ts asks for the TypeScript engine alone (a machine without a compiler). When
// the native addon cannot load and nobody asked for that, importing this module throws, so the
// test files fail loudly instead of quietly testing half of what they claim to.
import { createTsEngine } from '../../ts/engine/fallback.js';
import { loadNativeEngine } from '../../ts/engine/native.js';
import type { EngineName, LogEngine } from '../../ts/engine/types.js';

export interface EngineCase {
  name: EngineName;
  engine: LogEngine;
}

/** True when the run was asked to test the TypeScript engine only. */
export function tsOnly(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GODEL_ENGINE === 'ts';
}

export function listTestEngines(env: NodeJS.ProcessEnv = process.env): EngineCase[] {
  const ts: EngineCase = { name: 'ts', engine: createTsEngine() };
  if (tsOnly(env)) return [ts];
  const native = loadNativeEngine();
  if (!native.engine) {
    throw new Error(
      `the native engine cannot be loaded (${native.error ?? 'no reason given'}), so the parity tests ` +
        'cannot run over both engines. Build it with `npm run build:native`, or set GODEL_ENGINE=ts ' +
        'to test the TypeScript engine alone.',
    );
  }
  return [{ name: 'native', engine: native.engine }, ts];
}

/** Every engine under test, native first. */
export const testEngines: readonly EngineCase[] = listTestEngines();

/** The TypeScript engine, which the others are compared with. */
export const referenceEngine: LogEngine = createTsEngine();
