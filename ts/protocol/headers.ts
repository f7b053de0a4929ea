// Request and response headers, and which header version each api/version uses.
//
// Request header: v0 = api_key int16, api_version int16, correlation_id int32 (only ControlledShutdown
// v0 uses it); v1 adds client_id, an int16-length nullable string (never compact, so any broker can
// read the header of any ApiVersions request); v2 adds a tagged section. Response header: v0 =
// correlation_id; v1 adds a tagged section. A flexible version of a message (the spec's
// flexibleVersions, KIP-482) uses request header v2 / response header v1, except that an
// ApiVersions response always uses header v0 (KIP-511), so a client that does not yet know which
// versions we speak can always read it.

import { PROTOCOL_CODECS, protocolCodec, type ProtocolMessages } from './codecs.js';
import { Reader } from './reader.js';
import type { Writer } from './writer.js';

const API_VERSIONS_KEY = 18;
const CONTROLLED_SHUTDOWN_KEY = 7;

export type RequestHeaderVersion = 0 | 1 | 2;
export type ResponseHeaderVersion = 0 | 1;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Null when the client sent -1, and in header v0. */
  clientId: string | null;
}

export interface ResponseHeader {
  correlationId: number;
}

/**
 * The request header version for an api/version, from the spec's flexibleVersions. The rule holds
 * for versions above the ones we advertise too (flexibleVersions are open-ended), which matters for
 * ApiVersions requests newer than ours. For an api we have no spec for, v1 is assumed: the broker
 * cannot answer such a request anyway.
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): RequestHeaderVersion {
  if (apiKey === CONTROLLED_SHUTDOWN_KEY && apiVersion === 0) return 0;
  const flexibleFrom = protocolCodec(apiKey)?.request.flexibleFrom ?? null;
  return flexibleFrom !== null && apiVersion >= flexibleFrom ? 2 : 1;
}

/** The response header version for an api/version; ApiVersions responses always use v0. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): ResponseHeaderVersion {
  if (apiKey === API_VERSIONS_KEY) return 0;
  const flexibleFrom = protocolCodec(apiKey)?.response.flexibleFrom ?? null;
  return flexibleFrom !== null && apiVersion >= flexibleFrom ? 1 : 0;
}

/**
 * Decodes a request header, choosing its version from the api key and version it starts with.
 * A malformed header throws GodelError('PROTOCOL_ERROR'); the reader is left at the body.
 */
export function decodeRequestHeader(r: Reader): RequestHeader & { headerVersion: RequestHeaderVersion } {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const clientId = headerVersion >= 1 ? r.nullableString() : null;
  if (headerVersion >= 2) r.skipTaggedFields();
  r.check(`request header v${headerVersion}`);
  return { apiKey, apiVersion, correlationId, clientId, headerVersion };
}

export function encodeRequestHeader(
  w: Writer,
  header: RequestHeader,
  headerVersion: RequestHeaderVersion = requestHeaderVersion(header.apiKey, header.apiVersion),
): void {
  w.int16(header.apiKey);
  w.int16(header.apiVersion);
  w.int32(header.correlationId);
  if (headerVersion >= 1) w.nullableString(header.clientId);
  if (headerVersion >= 2) w.uvarint(0);
}

export function decodeResponseHeader(r: Reader, headerVersion: ResponseHeaderVersion): ResponseHeader {
  const correlationId = r.int32();
  if (headerVersion >= 1) r.skipTaggedFields();
  r.check(`response header v${headerVersion}`);
  return { correlationId };
}

export function encodeResponseHeader(w: Writer, correlationId: number, headerVersion: ResponseHeaderVersion): void {
  w.int32(correlationId);
  if (headerVersion >= 1) w.uvarint(0);
}

// ---- whole frames (int32 size, header, body) ------------------------------------------------------

export type ApiKeyWithCodec = keyof ProtocolMessages;

/** Encodes a complete request frame: int32 size, header, body. Returns a Buffer the caller owns. */
export function encodeRequestFrame<K extends ApiKeyWithCodec>(
  w: Writer,
  header: RequestHeader & { apiKey: K },
  body: ProtocolMessages[K]['request'],
): Buffer {
  w.reset();
  const sizeAt = w.reserveInt32();
  encodeRequestHeader(w, header);
  PROTOCOL_CODECS[header.apiKey].request.encode(w, body, header.apiVersion);
  w.int32At(sizeAt, w.length - 4);
  return w.finish();
}

/** Encodes a complete response frame: int32 size, header, body. Returns a Buffer the caller owns. */
export function encodeResponseFrame<K extends ApiKeyWithCodec>(
  w: Writer,
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ProtocolMessages[K]['response'],
): Buffer {
  w.reset();
  const sizeAt = w.reserveInt32();
  encodeResponseHeader(w, correlationId, responseHeaderVersion(apiKey, apiVersion));
  PROTOCOL_CODECS[apiKey].response.encode(w, body, apiVersion);
  w.int32At(sizeAt, w.length - 4);
  return w.finish();
}

/**
 * Decodes a response frame without its int32 size prefix (the client knows which request it
 * answers, so it passes the api key and version). Throws GodelError('PROTOCOL_ERROR') when malformed.
 */
export function decodeResponseFrame<K extends ApiKeyWithCodec>(
  frame: Buffer,
  apiKey: K,
  apiVersion: number,
): { header: ResponseHeader; body: ProtocolMessages[K]['response'] } {
  const r = new Reader(frame);
  const header = decodeResponseHeader(r, responseHeaderVersion(apiKey, apiVersion));
  const body = PROTOCOL_CODECS[apiKey].response.decode(r, apiVersion) as ProtocolMessages[K]['response'];
  return { header, body };
}
