// The generated codecs are committed: regenerating them from the specs must reproduce them byte for
// byte (deterministic output, no hand edits), and they must cover exactly our advertised ranges.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BANNER, DEFAULT_SPEC_DIR, generateProtocol, stripJsonComments } from '../../../scripts/generate-protocol.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';
import { API_TABLE, GENERATED_API_TABLE, HAND_WRITTEN_API_KEYS } from '../../../ts/protocol/api-keys.js';
import { API_CODECS, apiCodec } from '../../../ts/protocol/generated/index.js';
import { MESSAGE_SCHEMAS } from '../../../ts/protocol/generated/schemas.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const GENERATED = path.join(REPO, 'ts/protocol/generated');
const specsPresent = fs.existsSync(DEFAULT_SPEC_DIR);

describe('generate-protocol', () => {
  // Skipped only without the specs: they live outside the repository (../shared/kafka-protocol),
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
    expect(Object.keys(API_CODECS).map(Number).sort((a, b) => a - b)).toEqual(GENERATED_API_TABLE.map((e) => e.apiKey).sort((a, b) => a - b));
    expect(API_TABLE.length).toBe(GENERATED_API_TABLE.length + HAND_WRITTEN_API_KEYS.length);
    for (const e of GENERATED_API_TABLE) {
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

describe('spec features our spec files do not use yet', () => {
  // commonStructs, a field without "versions" (taken from taggedVersions), a tagged struct, and a
  // field-level flexibleVersions override ("none": an int16 string even in flexible versions).
  const request = {
    apiKey: 999, type: 'request', name: 'TestThingRequest', validVersions: '0-3', flexibleVersions: '2+',
    fields: [
      { name: 'Items', type: '[]Item', versions: '0+' },
      { name: 'Extra', type: 'Item', taggedVersions: '2+', tag: 0 },
      { name: 'Label', type: 'string', versions: '0+', flexibleVersions: 'none' },
    ],
    commonStructs: [
      { name: 'Item', versions: '0+', fields: [
        { name: 'Id', type: 'int32', versions: '0+' },
        { name: 'Note', type: 'string', versions: '3+', nullableVersions: '3+', default: 'null' },
      ] },
    ],
  };
  const response = { apiKey: 999, type: 'response', name: 'TestThingResponse', validVersions: '0-3', flexibleVersions: '2+', fields: [] };

  it('generates working codecs for them', async () => {
    const specs = fs.mkdtempSync(path.join(os.tmpdir(), 'godel-specs-'));
    try {
      fs.writeFileSync(path.join(specs, 'TestThingRequest.json'), `// comment\n${JSON.stringify(request)}`);
      fs.writeFileSync(path.join(specs, 'TestThingResponse.json'), JSON.stringify(response));
      const source = generateProtocol(specs).get('test-thing-request.ts')!;
      expect(source).toContain('export interface TestThingRequestItem {');
      const file = path.join(specs, 'test-thing-request.ts');
      fs.writeFileSync(file, source.replaceAll("'../", `'${REPO}/ts/protocol/`));
      const mod = (await import(file)) as {
        encodeTestThingRequest(w: Writer, v: unknown, version: number): void;
        decodeTestThingRequest(r: Reader, version: number): unknown;
      };
      const value = { items: [{ id: 5, note: null }], extra: { id: 7, note: null }, label: 'x' };
      const at = (version: number, v: unknown): string => {
        const w = new Writer();
        mod.encodeTestThingRequest(w, v, version);
        return w.finish().toString('hex');
      };
      // v0: int32 count, item id, int16 label. Extra does not exist before v2 and is left default.
      expect(at(0, { ...value, extra: { id: 0, note: null } })).toBe('00000001' + '00000005' + '0001' + '78');
      // v2: compact count, item (id, empty tagged section), label still int16, tagged Extra (tag 0, size 5).
      const v2 = '02' + '00000005' + '00' + '0001' + '78' + '01' + '00' + '05' + '00000007' + '00';
      expect(at(2, value)).toBe(v2);
      expect(mod.decodeTestThingRequest(new Reader(Buffer.from(v2, 'hex')), 2)).toEqual(value);
      // v3: the common struct gains its nullable Note.
      const v3value = { items: [{ id: 5, note: 'n' }], extra: { id: 0, note: null }, label: '' };
      expect(at(3, v3value)).toBe('02' + '00000005' + '026e' + '00' + '0000' + '00');
      expect(mod.decodeTestThingRequest(new Reader(Buffer.from(at(3, v3value), 'hex')), 3)).toEqual(v3value);
    } finally {
      fs.rmSync(specs, { recursive: true, force: true });
    }
  });

  it('fails loudly on what it does not support', () => {
    const specs = fs.mkdtempSync(path.join(os.tmpdir(), 'godel-specs-'));
    try {
      const bad = { ...request, fields: [{ name: 'S', type: 'Item', versions: '0+', nullableVersions: '0+' }] };
      fs.writeFileSync(path.join(specs, 'TestThingRequest.json'), JSON.stringify(bad));
      fs.writeFileSync(path.join(specs, 'TestThingResponse.json'), JSON.stringify(response));
      expect(() => generateProtocol(specs)).toThrowError(/nullable structs are not supported/);
    } finally {
      fs.rmSync(specs, { recursive: true, force: true });
    }
  });
});
