// Request headers v0-v2, response headers v0-v1, and which version each api/version uses.

import { describe, expect, it } from 'vitest';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../ts/protocol/headers.js';
import { GENERATED_API_TABLE } from '../../../ts/protocol/api-keys.js';
import { API_CODECS } from '../../../ts/protocol/generated/index.js';
import { Reader } from '../../../ts/protocol/reader.js';
import { Writer } from '../../../ts/protocol/writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('request header', () => {
  it('v1: client_id is an int16-length string', () => {
    // Metadata v1: api 3, version 1, correlation 0x01020304, client_id "abc", then the body.
    const r = new Reader(hex('0003 0001 01020304 0003 616263 ffffffff'));
    expect(decodeRequestHeader(r)).toEqual({ apiKey: 3, apiVersion: 1, correlationId: 0x01020304, clientId: 'abc', headerVersion: 1 });
    expect(r.offset).toBe(13);
  });

  it('v1: client_id -1 is null', () => {
    const r = new Reader(hex('0003 0001 00000009 ffff'));
    expect(decodeRequestHeader(r)).toMatchObject({ clientId: null, headerVersion: 1 });
    expect(r.remaining).toBe(0);
  });

  it('v2: client_id is still an int16-length nullable string, then a tagged section', () => {
    // Metadata v9 (flexible): client_id "go", tagged section with one unknown field (tag 5, 2 bytes).
    const r = new Reader(hex('0003 0009 00000001 0002 676f 01 05 02 aaaa 00'));
    expect(decodeRequestHeader(r)).toEqual({ apiKey: 3, apiVersion: 9, correlationId: 1, clientId: 'go', headerVersion: 2 });
    expect(r.remaining).toBe(1); // the body's first byte
    const nullId = new Reader(hex('0003 0009 00000001 ffff 00'));
    expect(decodeRequestHeader(nullId)).toMatchObject({ clientId: null, headerVersion: 2 });
  });

  it('v2 for an ApiVersions request newer than any we advertise', () => {
    // ApiVersions v4: a newer client; the header is still parseable so we can answer with error 35.
    const r = new Reader(hex('0012 0004 00000001 0001 78 00'));
    expect(decodeRequestHeader(r)).toMatchObject({ apiKey: 18, apiVersion: 4, clientId: 'x', headerVersion: 2 });
  });

  it('a malformed header is one PROTOCOL_ERROR', () => {
    for (const bad of ['0003', '0003 0001 000000', '0003 0001 00000001 0005 6162', '0003 0009 00000001 ffff 03 01']) {
      expect(() => decodeRequestHeader(new Reader(hex(bad))), bad).toThrowError(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
    }
  });

  it('encodes each version', () => {
    const header = { apiKey: 3, apiVersion: 9, correlationId: 1, clientId: 'go' };
    const w = new Writer();
    encodeRequestHeader(w, header, 0);
    expect(w.finish()).toEqual(hex('0003 0009 00000001'));
    encodeRequestHeader(w.reset(), header, 1);
    expect(w.finish()).toEqual(hex('0003 0009 00000001 0002 676f'));
    encodeRequestHeader(w.reset(), { ...header, clientId: null }, 2);
    expect(w.finish()).toEqual(hex('0003 0009 00000001 ffff 00'));
    encodeRequestHeader(w.reset(), header); // version from the rule: Metadata v9 is flexible
    expect(w.finish()).toEqual(hex('0003 0009 00000001 0002 676f 00'));
  });

  it('v0 is used by ControlledShutdown v0 only (no client_id)', () => {
    expect(requestHeaderVersion(7, 0)).toBe(0);
    const r = new Reader(hex('0007 0000 0000002a'));
    expect(decodeRequestHeader(r)).toEqual({ apiKey: 7, apiVersion: 0, correlationId: 42, clientId: null, headerVersion: 0 });
  });
});

describe('header version rules', () => {
  it('follow each message spec\'s flexibleVersions', () => {
    expect(requestHeaderVersion(0, 8)).toBe(1);
    expect(requestHeaderVersion(0, 9)).toBe(2);
    expect(requestHeaderVersion(1, 11)).toBe(1);
    expect(requestHeaderVersion(1, 12)).toBe(2);
    expect(requestHeaderVersion(18, 2)).toBe(1);
    expect(requestHeaderVersion(18, 3)).toBe(2);
    expect(requestHeaderVersion(60, 0)).toBe(2); // DescribeCluster is flexible from v0
    expect(responseHeaderVersion(3, 8)).toBe(0);
    expect(responseHeaderVersion(3, 9)).toBe(1);
    expect(responseHeaderVersion(60, 0)).toBe(1);
  });

  it('ApiVersions responses always use header v0', () => {
    for (let v = 0; v <= 4; v++) expect(responseHeaderVersion(18, v)).toBe(0);
  });

  it('agree with the generated flexibleFrom for every advertised api and version', () => {
    for (const api of GENERATED_API_TABLE) {
      const codec = API_CODECS[api.apiKey];
      for (let v = api.minVersion; v <= api.maxVersion; v++) {
        const flexible = codec.request.flexibleFrom !== null && v >= codec.request.flexibleFrom;
        expect(requestHeaderVersion(api.apiKey, v), `${api.name} v${v}`).toBe(flexible ? 2 : 1);
        if (api.apiKey !== 18) expect(responseHeaderVersion(api.apiKey, v), `${api.name} v${v}`).toBe(flexible ? 1 : 0);
      }
    }
  });

  it('an api without a generated codec (OffsetDelete, hand-written and never flexible) gets header v1 / v0', () => {
    expect(requestHeaderVersion(47, 0)).toBe(1);
    expect(responseHeaderVersion(47, 0)).toBe(0);
  });
});

describe('response header', () => {
  it('v0 is the correlation id; v1 adds a tagged section (unknown tags skipped)', () => {
    const w = new Writer();
    encodeResponseHeader(w, 7, 0);
    expect(w.finish()).toEqual(hex('00000007'));
    encodeResponseHeader(w.reset(), 7, 1);
    expect(w.finish()).toEqual(hex('00000007 00'));
    expect(decodeResponseHeader(new Reader(hex('00000007')), 0)).toEqual({ correlationId: 7 });
    const r = new Reader(hex('00000007 01 02 01 ff'));
    expect(decodeResponseHeader(r, 1)).toEqual({ correlationId: 7 });
    expect(r.remaining).toBe(0);
    expect(() => decodeResponseHeader(new Reader(hex('000000')), 0)).toThrowError(/response header v0/);
  });
});
