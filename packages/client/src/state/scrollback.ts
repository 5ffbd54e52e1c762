/**
 * The lines of one window, capped in memory, ordered by `seq` (message id; notices get a seq just
 * after the line before them). Appending in order is O(1) amortized; out-of-order lines (older
 * pages, resumed gaps) are merged by binary search. A message id is stored at most once.
 *
 * The scrollback is mutable and owned by the chat state; `rev` changes on every change so the
 * UI knows when to redraw.
 *
 * @example
 * const sb = new Scrollback(5_000);
 * sb.add({ seq: 42, id: 42, ts: Date.now(), kind: 'message', nick: 'bob', text: 'hi' });
 */
export type LineKind = 'message' | 'action' | 'notice' | 'error' | 'marker' | 'hit';

/** Where a result line (search hit, mention) points: a message in a room or a private conversation. */
export interface LineTarget {
  id: number;
  /** The room; null for a private message. */
  room: string | null;
  /** The other end of a private message. */
  peer?: string;
}

export interface Line {
  /** Sort key: the message id, or for notices the seq of the line before plus a small step. */
  seq: number;
  /** Message id, when the line is a stored message. */
  id?: number;
  ts: number;
  kind: LineKind;
  nick?: string;
  text: string;
  /** The text mentions you. */
  mention?: boolean;
  /** The text was edited (shown with "(edited)"). */
  edited?: boolean;
  /** The message was deleted: a tombstone. */
  deleted?: boolean;
  /** Reactions: emoji -> nicks, in order. */
  reactions?: Record<string, string[]>;
  /** The id of the message this one replies to. */
  replyTo?: number;
  /** The parent of a reply, as last seen (null: not held here). */
  quote?: { nick: string; text: string; deleted?: boolean } | null;
  /** A result line (`hit`): its number in the list, where it is, what it points to, matched ranges of `text`. */
  index?: number;
  where?: string;
  target?: LineTarget;
  highlights?: ReadonlyArray<readonly [number, number]>;
  /**
   * A notice that stands for messages not held between the message before it and the one after
   * it (left by a jump into older history); scrolling to it fetches them (state/history-gaps.ts).
   */
  gap?: true;
}

/** Lines kept per window by default; older ones are dropped and refetched on demand. */
export const SCROLLBACK_CAP = 5_000;

const NOTICE_STEP = 1e-6;

export class Scrollback {
  #lines: Line[] = [];
  readonly #ids = new Set<number>();
  #rev = 0;
  /** Lines were dropped from the front because of the cap. */
  #trimmed = false;

  constructor(readonly cap = SCROLLBACK_CAP) {}

  get lines(): readonly Line[] {
    return this.#lines;
  }

  get length(): number {
    return this.#lines.length;
  }

  /** Changes on every modification. */
  get rev(): number {
    return this.#rev;
  }

  /** Whether lines were dropped because of the cap. */
  get trimmed(): boolean {
    return this.#trimmed;
  }

  has(id: number): boolean {
    return this.#ids.has(id);
  }

  /** Lowest message id held, or null. */
  oldestId(): number | null {
    for (const line of this.#lines) if (line.id !== undefined) return line.id;
    return null;
  }

  /** The seq a notice appended now gets. */
  nextNoticeSeq(): number {
    const last = this.#lines.at(-1);
    return last ? last.seq + NOTICE_STEP : 0;
  }

  /** Adds a line; returns false when it is a message already held. */
  add(line: Line): boolean {
    if (line.id !== undefined) {
      if (this.#ids.has(line.id)) return false;
      this.#ids.add(line.id);
    }
    const lines = this.#lines;
    const last = lines.at(-1);
    if (!last || line.seq >= last.seq) {
      lines.push(line);
    } else {
      let lo = 0;
      let hi = lines.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (lines[mid].seq <= line.seq) lo = mid + 1;
        else hi = mid;
      }
      lines.splice(lo, 0, line);
    }
    this.#rev++;
    this.#trim();
    return true;
  }

  /** Adds a notice after the current last line; returns its seq (to `replace` it later). */
  addNotice(kind: 'notice' | 'error', text: string, ts: number): number {
    const seq = this.nextNoticeSeq();
    this.add({ seq, ts, kind, text });
    return seq;
  }

  /**
   * Rewrites the notice at `seq` in place (a status line that is updated rather than repeated);
   * returns false when there is no notice there any more (trimmed away).
   */
  replace(seq: number, kind: 'notice' | 'error', text: string): boolean {
    const i = this.#indexOfSeq(seq);
    const old = i >= 0 ? this.#lines[i] : undefined;
    if (!old || old.seq !== seq || old.id !== undefined) return false;
    // A new object: the UI caches wrapped rows per line object.
    this.#lines[i] = { ...old, kind, text };
    this.#rev++;
    return true;
  }

  /** The message line with this id, if held. */
  get(id: number): Line | undefined {
    if (!this.#ids.has(id)) return undefined;
    const i = this.#indexOfSeq(id);
    const line = i >= 0 ? this.#lines[i] : undefined;
    return line?.id === id ? line : this.#lines.find((l) => l.id === id);
  }

  /** Replaces the message line with this id by `change(line)` (a new object); false when not held. */
  update(id: number, change: (line: Line) => Line): boolean {
    if (!this.#ids.has(id)) return false;
    let i = this.#indexOfSeq(id);
    if (i < 0 || this.#lines[i].id !== id) i = this.#lines.findIndex((l) => l.id === id);
    if (i < 0) return false;
    this.#lines[i] = { ...change(this.#lines[i]), id, seq: this.#lines[i].seq };
    this.#rev++;
    return true;
  }

  /** Replaces every line that passes `test` by `change(line)`; returns how many. */
  updateWhere(test: (line: Line) => boolean, change: (line: Line) => Line): number {
    let n = 0;
    for (let i = 0; i < this.#lines.length; i++) {
      const line = this.#lines[i];
      if (!test(line)) continue;
      this.#lines[i] = { ...change(line), seq: line.seq, ...(line.id !== undefined ? { id: line.id } : {}) };
      n++;
    }
    if (n > 0) this.#rev++;
    return n;
  }

  /** Removes the lines of a kind that holds no message (the read-marker line); returns how many. */
  removeKind(kind: LineKind): number {
    const before = this.#lines.length;
    this.#lines = this.#lines.filter((l) => l.kind !== kind || l.id !== undefined);
    const n = before - this.#lines.length;
    if (n > 0) this.#rev++;
    return n;
  }

  /** Removes the line at `seq` when it holds no message (a gap line, a notice); false when there is none. */
  removeAt(seq: number): boolean {
    const i = this.#indexOfSeq(seq);
    if (i < 0 || this.#lines[i].seq !== seq || this.#lines[i].id !== undefined) return false;
    this.#lines.splice(i, 1);
    this.#rev++;
    return true;
  }

  /** The newest message line that passes `test`, scanning from the end. */
  newest(test: (line: Line) => boolean = () => true): Line | undefined {
    for (let i = this.#lines.length - 1; i >= 0; i--) {
      const line = this.#lines[i];
      if (line.id !== undefined && test(line)) return line;
    }
    return undefined;
  }

  #indexOfSeq(seq: number): number {
    let lo = 0;
    let hi = this.#lines.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#lines[mid].seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.#lines.length ? lo : -1;
  }

  /** Adds many message lines (e.g. an older page); returns how many were new. */
  addMany(lines: Line[]): number {
    let added = 0;
    for (const line of lines) if (this.add(line)) added++;
    return added;
  }

  #trim(): void {
    // Trim in chunks so the cost stays O(1) amortized per line.
    const slack = Math.max(1, Math.floor(this.cap / 10));
    if (this.#lines.length <= this.cap + slack) return;
    const drop = this.#lines.length - this.cap;
    for (let i = 0; i < drop; i++) {
      const id = this.#lines[i].id;
      if (id !== undefined) this.#ids.delete(id);
    }
    this.#lines.splice(0, drop);
    this.#trimmed = true;
  }
}
