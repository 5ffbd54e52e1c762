/** @jsxRuntime automatic @jsxImportSource react */
/**
 * The input line: editing (arrows, Home/End, Ctrl+A/E/W/U/K, Backspace/Delete), Tab completion
 * of commands and nicks (repeat Tab to cycle), Up/Down to recall earlier lines, Enter submits.
 * Keeps its own state, so a keystroke re-renders only this line.
 *
 * @example
 * <InputLine prompt="[#general] " width={80} nicks={['bob']} commands={['join']} onSubmit={run} />
 */
import { Box, Text, useInput } from 'ink';
import { useRef, useState } from 'react';
import { applyCompletion, completions } from '../input/complete.js';
import { InputHistory } from '../input/input-history.js';

export interface InputLineProps {
  prompt: string;
  width: number;
  nicks: readonly string[];
  commands: readonly string[];
  onSubmit: (line: string) => void;
  /** Set false to ignore keys (e.g. while another input is shown). */
  active?: boolean;
}

interface Editor {
  line: string;
  cursor: number;
}

export function InputLine({ prompt, width, nicks, commands, onSubmit, active = true }: InputLineProps) {
  const [ed, setEdState] = useState<Editor>({ line: '', cursor: 0 });
  // The latest editor state, read by the key handler: keys can arrive faster than React re-renders.
  const edRef = useRef(ed);
  const setEd = (next: Editor | ((e: Editor) => Editor)) => {
    edRef.current = typeof next === 'function' ? next(edRef.current) : next;
    setEdState(edRef.current);
  };
  const history = useRef(InputHistory.empty());
  const cycle = useRef<{ matches: string[]; index: number; base: Editor } | null>(null);

  useInput(
    (input, key) => {
      const ed = edRef.current;
      if (key.tab) {
        let c = cycle.current;
        if (!c) {
          const matches = completions(ed.line, ed.cursor, { commands, nicks });
          if (matches.length === 0) return;
          c = cycle.current = { matches, index: -1, base: ed };
        }
        c.index = (c.index + 1) % c.matches.length;
        setEd(applyCompletion(c.base.line, c.base.cursor, c.matches[c.index]!));
        return;
      }
      cycle.current = null;
      if (key.return) {
        const line = ed.line;
        history.current = history.current.push(line);
        setEd({ line: '', cursor: 0 });
        onSubmit(line);
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
        return setEd((e) => (e.cursor === 0 ? e : { line: e.line.slice(0, e.cursor - 1) + e.line.slice(e.cursor), cursor: e.cursor - 1 }));
      }
      if (key.ctrl || key.meta || key.escape || key.pageUp || key.pageDown || key.upArrow || key.downArrow) return;
      if (input === '') return;
      const text = input.replace(/[\r\n]+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '');
      if (text === '') return;
      setEd((e) => ({ line: e.line.slice(0, e.cursor) + text + e.line.slice(e.cursor), cursor: e.cursor + text.length }));
    },
    { isActive: active },
  );

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
