/**
 * Pasted text in the input line: what a paste does to the line being edited, and which lines it
 * sends. A paste is typed text: it goes in at the cursor, every line end sends the whole line
 * (as Enter does), the text after the last line end stays in the input line. Above `PASTE_VERIFY_LINES` lines the UI asks first (like irssi's
 * `paste_verify_line_count`).
 *
 * @example
 * applyPaste({ line: 'say: ', cursor: 5 }, 'one\rtwo\rthr')
 * // { send: ['say: one', 'two'], editor: { line: 'thr', cursor: 3 } }
 * applyPaste({ line: 'hi !', cursor: 3 }, 'bob\r')
 * // { send: ['hi bob!'], editor: { line: '', cursor: 0 } }
 */

/** Pastes of more lines than this ask "Paste N lines? (y/n)" first. */
export const PASTE_VERIFY_LINES = 5;

export interface EditorState {
  line: string;
  cursor: number;
}

export interface PasteResult {
  /** Lines to send, in order (blank lines are left out: they would send nothing). */
  send: string[];
  /** The input line afterwards. */
  editor: EditorState;
}

/** Line ends as terminals send them: CR (Enter, most pastes), LF or CRLF. */
const LINE_END = /\r\n|\r|\n/;

/** Whether a chunk of typed input holds a line end. */
export function hasLineEnd(text: string): boolean {
  return LINE_END.test(text);
}

/** Control characters a line may not hold; a tab becomes spaces. */
export function cleanText(text: string): string {
  return text.replace(/\t/g, '    ').replace(/[\x00-\x1f\x7f]/g, '');
}

/** Inserts `text` at the cursor; each line end sends the whole line, as Enter would. */
export function applyPaste(editor: EditorState, text: string): PasteResult {
  const before = editor.line.slice(0, editor.cursor);
  const after = editor.line.slice(editor.cursor);
  const parts = text.split(LINE_END).map(cleanText);
  if (parts.length === 1) {
    return { send: [], editor: { line: before + parts[0] + after, cursor: before.length + parts[0].length } };
  }
  parts[0] = before + parts[0] + after;
  const last = parts.pop()!;
  return {
    send: parts.filter((l) => l.trim() !== ''),
    editor: { line: last, cursor: last.length },
  };
}

/**
 * Control characters other than line ends and tabs: a chunk holding one is typing that arrived
 * in one read (Ctrl+U then a word, say, on a slow link), not a paste, and each key counts.
 */
const TYPED_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

export function isTypedChunk(text: string): boolean {
  return text.length > 1 && TYPED_CONTROL.test(text);
}

/** Splits typed input into runs of text and single control characters (line ends included). */
export function splitKeys(text: string): string[] {
  return text.match(/[\x00-\x1f\x7f]|[^\x00-\x1f\x7f]+/g) ?? [];
}
