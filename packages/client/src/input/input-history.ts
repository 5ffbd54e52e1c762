/**
 * Recall of lines typed before (Up/Down), like a shell. Pure value object.
 *
 * @example
 * let h = InputHistory.empty().push('hello');
 * const r = h.up('draft'); // { history, line: 'hello' }
 */
export class InputHistory {
  private constructor(
    readonly entries: readonly string[],
    /** entries.length when not browsing. */
    readonly index: number,
    /** What was being typed before browsing started. */
    readonly draft: string,
    readonly max: number,
  ) {}

  static empty(max = 200): InputHistory {
    return new InputHistory([], 0, '', max);
  }

  /** Records a submitted line (not blank, not a repeat of the last one) and stops browsing. */
  push(line: string): InputHistory {
    let entries = this.entries;
    if (line.trim() !== '' && entries.at(-1) !== line) entries = [...entries, line].slice(-this.max);
    return new InputHistory(entries, entries.length, '', this.max);
  }

  /** One entry back; `current` is the line as it is now (kept as the draft). */
  up(current: string): { history: InputHistory; line: string } {
    if (this.index === 0) return { history: this, line: current };
    const draft = this.index === this.entries.length ? current : this.draft;
    const index = this.index - 1;
    return { history: new InputHistory(this.entries, index, draft, this.max), line: this.entries[index] };
  }

  /** One entry forward; past the newest, back to the draft. */
  down(current: string): { history: InputHistory; line: string } {
    if (this.index >= this.entries.length) return { history: this, line: current };
    const index = this.index + 1;
    const line = index === this.entries.length ? this.draft : this.entries[index];
    return { history: new InputHistory(this.entries, index, this.draft, this.max), line };
  }
}
