// Picks the storage engine: the native addon when it loads, else the pure-TypeScript twin.
// GODEL_ENGINE=native|ts forces one; forcing native where it cannot load is an error, never a
// silent fallback. The reason the addon did not load is kept so `godel --version` can show it.
import { createTsEngine } from './fallback.js';
import { loadNativeEngine } from './native.js';
import type { EngineName, LogEngine } from './types.js';

export interface EngineChoice {
  engine: LogEngine;
  /** Why the native engine is not in use, when it is not. */
  fallbackReason?: string;
}

let cached: EngineChoice | undefined;

export function chooseEngine(env: NodeJS.ProcessEnv = process.env): EngineChoice {
  const forced = env.GODEL_ENGINE;
  if (forced !== undefined && forced !== '' && forced !== 'native' && forced !== 'ts') {
    throw new Error(`GODEL_ENGINE must be "native" or "ts", got "${forced}"`);
  }
  if (forced === 'ts') return { engine: createTsEngine(), fallbackReason: 'GODEL_ENGINE=ts' };
  const native = loadNativeEngine();
  if (native.engine) return { engine: native.engine };
  if (forced === 'native') throw new Error(`GODEL_ENGINE=native but the native addon cannot be loaded: ${native.error}`);
  return { engine: createTsEngine(), fallbackReason: `native addon unavailable: ${native.error}` };
}

/** The process-wide engine, chosen once. */
export function engineChoice(): EngineChoice {
  cached ??= chooseEngine();
  return cached;
}

export function defaultEngine(): LogEngine {
  return engineChoice().engine;
}

/** Both engines where the addon loads (for parity tests and benchmarks); never silently one. */
export function allEngines(): Record<EngineName, LogEngine | undefined> {
  return { native: loadNativeEngine().engine, ts: createTsEngine() };
}
