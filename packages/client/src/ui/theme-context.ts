/**
 * The theme of the whole UI: colour on or off (off with NO_COLOR or --no-color) and the palette
 * for a dark or light background (ui/theme.ts). Components ask `useTheme().color(token)`: a
 * token is a palette role (`ok`, `warn`, `error`, `pm`), a nick slot (`nick:3`) or an Ink colour
 * name; it returns undefined when colour is off, so only bold, dim, italic and inverse remain.
 *
 * @example
 * const { color } = useTheme();
 * <Text color={color('error')}>error</Text>
 */
import { createContext, useContext } from 'react';
import { PALETTES, type Palette, type ThemeName } from './theme.js';

export interface Theme {
  noColor: boolean;
  name: ThemeName;
  palette: Palette;
  color: (token: string | null | undefined) => string | undefined;
}

const ROLES = new Set(['ok', 'warn', 'error', 'pm']);

/** Resolves a colour token against a palette (without looking at noColor). */
export function resolveColor(palette: Palette, token: string): string {
  if (token.startsWith('nick:')) return palette.nicks[Number(token.slice(5)) % palette.nicks.length];
  if (ROLES.has(token)) return palette[token as 'ok' | 'warn' | 'error' | 'pm'];
  return token;
}

export function makeTheme(noColor: boolean, name: ThemeName = 'dark'): Theme {
  const palette = PALETTES[name];
  return { noColor, name, palette, color: (token) => (noColor || !token ? undefined : resolveColor(palette, token)) };
}

export const ThemeContext = createContext<Theme>(makeTheme(false));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
