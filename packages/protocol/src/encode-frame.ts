/**
 * The one serializer of frames: every NDJSON writer (client-core's transports, the stress tool,
 * the tests' clients and fake servers, the benchmarks) builds a typed frame object and encodes
 * it here, so no tool writes protocol JSON by hand and a renamed field is a type error everywhere.
 * Over TCP a frame is one line; over WebSocket one text message (the same text, no newline).
 *
 * Plain `JSON.stringify` is the whole job, and fast enough for the stress tool's hot path (tens
 * of thousands of frames a second): JSON escapes every control character, so the text never
 * holds a raw newline and one frame is always exactly one line.
 *
 * @example
 * socket.write(encodeFrame({ type: 'msg', room: 'general', text: 'hi', ref: 'r1' }));
 * ws.send(encodeFrame(frame).slice(0, -1));
 */
import type { ClientFrame, ServerFrame } from './frames.js';

/** Serializes a frame as one NDJSON line, newline included. */
export function encodeFrame(frame: ClientFrame | ServerFrame): string {
  return JSON.stringify(frame) + '\n';
}
