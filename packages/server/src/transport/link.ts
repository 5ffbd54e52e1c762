/**
 * The byte pipe under a connection: a TCP socket or a WebSocket. Writes are queued by the
 * underlying stream; `buffered` is what the peer has not taken yet, checked against the
 * per-connection bound after every write.
 */
export interface Link {
  /** Queues bytes for the peer (one NDJSON line or plain-text lines). */
  write(data: Buffer): void;
  /** Bytes queued and not yet handed to the kernel. */
  readonly buffered: number;
  /** Flushes what is queued, then closes. */
  end(): void;
  /** Closes now, dropping what is queued. */
  destroy(): void;
  /** Stops reading the peer's input (its writes back up into the kernel, then into the peer). */
  pauseInput(): void;
  /** Reads the peer's input again. */
  resumeInput(): void;
  /** A transport-level heartbeat (WebSocket ping), answered by `Connection.noteAlive`; absent: a `ping` frame is sent. */
  ping?(): void;
}
