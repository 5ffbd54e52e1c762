/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The input line: editing (arrows, Home/End, Ctrl+A/E/W/U/K, Backspace/Delete), Tab completion
 * of commands and nicks (repeat Tab to cycle), Up/Down to recall earlier lines, Enter submits.
 * Keeps its own state, so a keystroke re-renders only this line.
 *
 * Pastes: Ink hands a chunk of input to `useInput` whole, so `hello\r` (text and Enter in one
 * read, as a fast paste or `tmux send-keys hello Enter` delivers it) arrives as one string:
 * its line ends are honoured, each one submits the line. A bracketed paste (the terminal wraps
 * it in ESC[200~ ... ESC[201~ once run-tui turned the mode on) is collected until its end (or
 * `BRACKETED_PASTE_IDLE_MS` without input, should the end marker be lost); an
 * unbracketed one (several lines in one chunk) is collected until input pauses for
 * `PASTE_GATHER_MS`, since a big paste comes in several chunks. More than `PASTE_VERIFY_LINES`
 * lines ask first: "Paste 12 lines? (y/n)".
 *
 * @example
 * <InputLine prompt="[#general] " width={80} nicks={['bob']} commands={['join']} onSubmit={run} />
 */
import { Box, Text, useInput, type Key } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { applyCompletion, completions } from '../input/complete.js';
import { InputHistory } from '../input/input-history.js';
import {
  applyPaste,
  cleanText,
  hasLineEnd,
  isTypedChunk,
  PASTE_VERIFY_LINES,
  splitKeys,
  type EditorState,
  type PasteResult,
} from '../input/paste.js';

export interface InputLineProps {
  prompt: string;
  width: number;
  nicks: readonly string[];
  commands: readonly string[];
  onSubmit: (line: string) => void;
  /** Set false to ignore keys (e.g. while another input is shown). */
  active?: boolean;
  /** Text already in the line when it appears (a suggested nick, say). */
  initial?: string;
  /** Up, Down or Enter on an empty line: return true to take the key (a results window selects and opens results). */
  onEmptyKey?: (key: 'up' | 'down' | 'enter') => boolean;
}

/** An unbracketed paste ends when no input came for this long. */
export const PASTE_GATHER_MS = 40;

/**
 * A bracketed paste whose end marker never arrived ends after this long without input, so a
 * lost marker cannot swallow what is typed next.
 */
export const BRACKETED_PASTE_IDLE_MS = 1_000;

/** Bracketed paste markers, as Ink passes them on (it strips the leading ESC). */
const PASTE_START = '[200~';
const PASTE_END = '[201~';

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** One character of typed input as Ink would report it on its own (Ctrl+U: `u` with ctrl). */
function singleKey(piece: string): [string, Key] {
  const code = piece.charCodeAt(0);
  if (piece.length > 1 || code > 0x7f || (code >= 0x20 && code < 0x7f)) return [piece, NO_KEY];
  if (piece === '\r' || piece === '\n') return ['', { ...NO_KEY, return: true }];
  if (piece === '\t') return ['', { ...NO_KEY, tab: true }];
  if (piece === '\x7f' || piece === '\b') return ['', { ...NO_KEY, delete: true }];
  if (code >= 1 && code <= 26) return [String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }];
  return ['', NO_KEY];
}

interface Gathering {
  text: string;
  bracketed: boolean;
  timer: NodeJS.Timeout | null;
}

interface Confirm {
  result: PasteResult;
  /** The line as it was before the paste (restored on "n"). */
  before: EditorState;
}

export function InputLine({
  prompt,
  width,
  nicks,
  commands,
  onSubmit,
  active = true,
  initial = '',
  onEmptyKey,
}: InputLineProps) {
  const [ed, setEdState] = useState<EditorState>({ line: initial, cursor: initial.length });
  // The latest editor state, read by the key handler: keys can arrive faster than React re-renders.
  const edRef = useRef(ed);
  const setEd = (next: EditorState | ((e: EditorState) => EditorState)) => {
    edRef.current = typeof next === 'function' ? next(edRef.current) : next;
    setEdState(edRef.current);
  };
  const history = useRef(InputHistory.empty());
  const cycle = useRef<{ matches: string[]; index: number; base: EditorState } | null>(null);
  const gathering = useRef<Gathering | null>(null);
  const [confirm, setConfirmState] = useState<Confirm | null>(null);
  const confirmRef = useRef<Confirm | null>(null);
  const setConfirm = (c: Confirm | null) => {
    confirmRef.current = c;
    setConfirmState(c);
  };
  // The handler of the latest render (for the gather timer, which fires between renders).
  const submitRef = useRef(onSubmit);
  submitRef.current = onSubmit;
  const emptyKeyRef = useRef(onEmptyKey);
  emptyKeyRef.current = onEmptyKey;

  useEffect(() => () => void (gathering.current?.timer && clearTimeout(gathering.current.timer)), []);

  const submit = (line: string) => {
    history.current = history.current.push(line);
    submitRef.current(line);
  };

  const sendPaste = (result: PasteResult) => {
    setEd(result.editor);
    for (const line of result.send) submit(line);
  };

  const finishPaste = () => {
    const g = gathering.current;
    gathering.current = null;
    if (!g) return;
    if (g.timer) clearTimeout(g.timer);
    const before = edRef.current;
    const result = applyPaste(before, g.text);
    if (result.send.length > PASTE_VERIFY_LINES) setConfirm({ result, before });
    else sendPaste(result);
  };

  const gather = (text: string, bracketed: boolean) => {
    const g = (gathering.current ??= { text: '', bracketed, timer: null });
    const searchFrom = Math.max(0, g.text.length - (PASTE_END.length - 1));
    g.text += text;
    if (g.timer) clearTimeout(g.timer);
    g.timer = null;
    if (g.bracketed) {
      // The end marker is looked for in the text gathered, not only as one key: a read that cuts
      // ESC[201~ in two reaches us as "[201" (Ink flushes the pending ESC) and then "~". Only the
      // new text and the marker's width before it are searched, so a long paste is scanned once.
      const end = g.text.indexOf(PASTE_END, searchFrom);
      if (end >= 0) {
        const rest = g.text.slice(end + PASTE_END.length);
        g.text = g.text.slice(0, end);
        finishPaste();
        if (rest !== '') onKey(rest, NO_KEY);
        return;
      }
    }
    g.timer = setTimeout(finishPaste, g.bracketed ? BRACKETED_PASTE_IDLE_MS : PASTE_GATHER_MS);
  };

  const onKey = (input: string, key: Key): void => {
    // A paste waiting for "y" or "n".
    if (confirmRef.current) {
      const c = confirmRef.current;
      if (input === 'y' || input === 'Y') {
        setConfirm(null);
        sendPaste(c.result);
      } else if (input === 'n' || input === 'N' || key.escape) {
        setConfirm(null);
        setEd(c.before);
      }
      return;
    }
    if (input === PASTE_START) return gather('', true);
    const g = gathering.current;
    if (g?.bracketed) return gather(key.return ? '\r' : key.tab ? '\t' : input, true);
    if (g) {
      // More of an unbracketed paste: text and line ends only; any other key ends it first.
      if (key.return) return gather('\r', false);
      if (input !== '' && !key.ctrl && !key.meta && !key.escape) return gather(input, false);
      finishPaste();
    }
    if (isTypedChunk(input)) {
      // Keys typed faster than they were read (Ctrl+U, a word, Enter): one at a time.
      for (const piece of splitKeys(input)) onKey(...singleKey(piece));
      return;
    }
    if (!key.return && input.length > 1 && hasLineEnd(input)) {
      // Text and a line end in one chunk: typed text then Enter, or the start of a paste.
      if (/^[^\r\n]*(\r\n|\r|\n)$/.test(input)) {
        // One line: the same as typing it and pressing Enter.
        cycle.current = null;
        sendPaste(applyPaste(edRef.current, input));
        return;
      }
      return gather(input, false);
    }

    const ed = edRef.current;
    if (key.tab) {
      let c = cycle.current;
      if (!c) {
        const matches = completions(ed.line, ed.cursor, { commands, nicks });
        if (matches.length === 0) return;
        c = cycle.current = { matches, index: -1, base: ed };
      }
      c.index = (c.index + 1) % c.matches.length;
      setEd(applyCompletion(c.base.line, c.base.cursor, c.matches[c.index]));
      return;
    }
    cycle.current = null;
    if (ed.line === '' && !key.meta && emptyKeyRef.current) {
      const which = key.return ? 'enter' : key.upArrow ? 'up' : key.downArrow ? 'down' : null;
      if (which && emptyKeyRef.current(which)) return;
    }
    if (key.return) {
      setEd({ line: '', cursor: 0 });
      submit(ed.line);
      return;
    }
    if (key.upArrow && !key.meta) {
      const r = history.current.up(ed.line);
      history.current = r.history;
      setEd({ line: r.line, cursor: r.line.length });
      return;
    }
    if (key.downArrow && !key.meta) {
      const r = history.current.down(ed.line);
      history.current = r.history;
      setEd({ line: r.line, cursor: r.line.length });
      return;
    }
    if (key.leftArrow) return setEd((e) => ({ ...e, cursor: Math.max(0, e.cursor - 1) }));
    if (key.rightArrow) return setEd((e) => ({ ...e, cursor: Math.min(e.line.length, e.cursor + 1) }));
    if (key.home || (key.ctrl && input === 'a')) return setEd((e) => ({ ...e, cursor: 0 }));
    if (key.end || (key.ctrl && input === 'e')) return setEd((e) => ({ ...e, cursor: e.line.length }));
    if (key.ctrl && input === 'u') return setEd((e) => ({ line: e.line.slice(e.cursor), cursor: 0 }));
    if (key.ctrl && input === 'k') return setEd((e) => ({ ...e, line: e.line.slice(0, e.cursor) }));
    if (key.ctrl && input === 'w') {
      return setEd((e) => {
        let s = e.cursor;
        while (s > 0 && e.line[s - 1] === ' ') s--;
        while (s > 0 && e.line[s - 1] !== ' ') s--;
        return { line: e.line.slice(0, s) + e.line.slice(e.cursor), cursor: s };
      });
    }
    if (key.backspace || (key.delete && !key.ctrl && input === '')) {
      // Most terminals send DEL (0x7f) for Backspace, which ink reports as `delete`.
      return setEd((e) =>
        e.cursor === 0 ? e : { line: e.line.slice(0, e.cursor - 1) + e.line.slice(e.cursor), cursor: e.cursor - 1 },
      );
    }
    if (key.ctrl || key.meta || key.escape || key.pageUp || key.pageDown || key.upArrow || key.downArrow) return;
    if (input === '') return;
    const text = cleanText(input);
    if (text === '') return;
    setEd((e) => ({ line: e.line.slice(0, e.cursor) + text + e.line.slice(e.cursor), cursor: e.cursor + text.length }));
  };

  useInput(onKey, { isActive: active });

  if (confirm) {
    const first = confirm.result.send[0] ?? '';
    const ask = `Paste ${confirm.result.send.length} lines? (y/n)`;
    return (
      <Box width={width} height={1}>
        <Text wrap="truncate">
          <Text bold inverse>
            {ask}
          </Text>
          <Text dimColor>{` ${first}`}</Text>
        </Text>
      </Box>
    );
  }

  const room = Math.max(1, width - prompt.length - 1);
  const start = Math.max(0, ed.cursor - room + 1);
  const visible = ed.line.slice(start, start + room);
  const at = ed.cursor - start;
  return (
    <Box width={width} height={1}>
      <Text wrap="truncate">
        <Text bold>{prompt}</Text>
        {visible.slice(0, at)}
        <Text inverse>{visible[at] ?? ' '}</Text>
        {visible.slice(at + 1)}
      </Text>
    </Box>
  );
}
