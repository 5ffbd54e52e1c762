/**
 * Colours for a dark or a light terminal background. No React and no Ink in here: the CLI and
 * the boot screen use it before the UI is loaded.
 *
 * Every colour is a 256-colour cube entry (`ansi256(n)`), whose RGB value is the same in nearly
 * every terminal, so its contrast can be checked: each colour of a palette has a contrast of at
 * least 4.5:1 (WCAG AA) with its own background (black for `dark`, white for `light`) and of at
 * least 3:1 with the other one, so a wrong guess of the background stays readable. No bright
 * yellow, no white: your own nick is bold in the terminal's default colour instead.
 *
 * Nicks hash to one of eight hue slots (green, teal, blue, purple, magenta, pink, orange, gold);
 * both palettes keep the slot order, so a nick keeps its hue in either theme.
 *
 * @example
 * const name = resolveThemeName(flags.theme, process.env); // 'dark' unless told or COLORFGBG says light
 * PALETTES[name].nicks[nickSlot('bob')] // 'ansi256(170)' on a dark background
 */
export type ThemeName = 'dark' | 'light';

export const THEME_NAMES: readonly ThemeName[] = ['dark', 'light'];

export interface Palette {
  /** One colour per nick slot (see `nickSlot`). */
  nicks: readonly string[];
  /** Connected. */
  ok: string;
  /** Connecting, reconnecting; unread counts. */
  warn: string;
  /** Errors, offline, mention marks. */
  error: string;
  /** Private conversations in the sidebar. */
  pm: string;
}

export const PALETTES: Readonly<Record<ThemeName, Palette>> = {
  dark: {
    //      green         teal          blue          purple         magenta        pink           orange         gold
    nicks: [
      'ansi256(64)',
      'ansi256(30)',
      'ansi256(33)',
      'ansi256(135)',
      'ansi256(170)',
      'ansi256(168)',
      'ansi256(166)',
      'ansi256(136)',
    ],
    ok: 'ansi256(64)',
    warn: 'ansi256(136)',
    error: 'ansi256(167)',
    pm: 'ansi256(30)',
  },
  light: {
    nicks: [
      'ansi256(28)',
      'ansi256(29)',
      'ansi256(27)',
      'ansi256(93)',
      'ansi256(127)',
      'ansi256(161)',
      'ansi256(130)',
      'ansi256(94)',
    ],
    ok: 'ansi256(28)',
    warn: 'ansi256(94)',
    error: 'ansi256(160)',
    pm: 'ansi256(29)',
  },
};

/**
 * The background `COLORFGBG` describes (`"15;0"`: white on black): its last field is the
 * background colour index, 0-6 or 8 dark, 7 or 15 light. Null when unset or not understood.
 *
 * @example
 * themeFromColorFgBg('0;15') // 'light'
 */
export function themeFromColorFgBg(value: string | undefined): ThemeName | null {
  if (value === undefined || value.trim() === '') return null;
  const last = value.trim().split(';').at(-1)!;
  if (!/^\d+$/.test(last)) return null;
  const bg = Number(last);
  if ((bg >= 0 && bg <= 6) || bg === 8) return 'dark';
  if (bg === 7 || bg === 15) return 'light';
  return null;
}

/** The theme to use: the one asked for (`--theme`), else what `COLORFGBG` says, else `dark`. */
export function resolveThemeName(asked: string | undefined, env: NodeJS.ProcessEnv = process.env): ThemeName {
  if (asked === 'dark' || asked === 'light') return asked;
  return themeFromColorFgBg(env.COLORFGBG) ?? 'dark';
}
