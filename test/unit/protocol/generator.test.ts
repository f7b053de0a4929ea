// The generated codecs are committed: regenerating them from the specs must reproduce them byte for
// byte (deterministic output, no hand edits), and they must cover exactly our advertised ranges.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BANNER, DEFAULT_SPEC_DIR, stripJsonComments } from '../../../scripts/generate-protocol.js';
import { API_TABLE } from '../../../ts/protocol/api-keys.js';
import { API_CODECS, apiCodec } from '../../../ts/protocol/generated/index.js';
import { MESSAGE_SCHEMAS } from '../../../ts/protocol/generated/schemas.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const GENERATED = path.join(REPO, 'ts/protocol/generated');
const specsPresent = fs.existsSync(DEFAULT_SPEC_DIR);

describe('generate-protocol', () => {
  // The one conditional skip: the specs live outside the repository (../shared/kafka-protocol),
  // so a checkout without them can still run every other test against the committed codecs.
  it.skipIf(!specsPresent)('regenerates the committed files byte for byte', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'godel-protocol-'));
    try {
      execFileSync(path.join(REPO, 'node_modules/.bin/tsx'), ['scripts/generate-protocol.ts', DEFAULT_SPEC_DIR, out], { cwd: REPO, stdio: 'pipe' });
      const fresh = fs.readdirSync(out).sort();
      const committed = fs.readdirSync(GENERATED).filter((f) => f.endsWith('.ts')).sort();
      expect(fresh).toEqual(committed);
      for (const name of fresh) {
        const a = fs.readFileSync(path.join(out, name));
        const b = fs.readFileSync(path.join(GENERATED, name));
        expect(a.equals(b), `${name} differs from a fresh generation: run npm run generate:protocol`).toBe(true);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('every generated file carries the banner', () => {
    for (const name of fs.readdirSync(GENERATED)) {
      expect(fs.readFileSync(path.join(GENERATED, name), 'utf8').startsWith(`${BANNER}\n`), name).toBe(true);
    }
  });

  it('strips // comments but not // inside strings', () => {
    const text = '{\n  // a comment\n  "about": "see http://kafka.apache.org", // trailing\n  "x": "a\\"//b"\n}';
    expect(JSON.parse(stripJsonComments(text))).toEqual({ about: 'see http://kafka.apache.org', x: 'a"//b' });
  });
});

describe('generated codecs match the advertised table', () => {
  it('one codec pair per api, generated for exactly its advertised range', () => {
    expect(Object.keys(API_CODECS).map(Number).sort((a, b) => a - b)).toEqual(API_TABLE.map((e) => e.apiKey).sort((a, b) => a - b));
    for (const e of API_TABLE) {
      const codec = apiCodec(e.apiKey)!;
      expect(codec, e.name).toMatchObject({ apiKey: e.apiKey, name: e.name, minVersion: e.minVersion, maxVersion: e.maxVersion });
      expect(MESSAGE_SCHEMAS[`${e.name}Request`]).toMatchObject({ minVersion: e.minVersion, maxVersion: e.maxVersion });
      expect(MESSAGE_SCHEMAS[`${e.name}Response`]).toMatchObject({ minVersion: e.minVersion, maxVersion: e.maxVersion });
    }
    expect(apiCodec(47)).toBeUndefined();
  });

  it('the consumer protocol data types are generated for their whole spec range', () => {
    expect(MESSAGE_SCHEMAS.ConsumerProtocolSubscription).toMatchObject({ kind: 'data', minVersion: 0, maxVersion: 3, flexibleFrom: null });
    expect(MESSAGE_SCHEMAS.ConsumerProtocolAssignment).toMatchObject({ kind: 'data', minVersion: 0, maxVersion: 3, flexibleFrom: null });
  });
});
