/**
 * Colour on or off for the whole UI (off with NO_COLOR or --no-color). Components ask
 * `useTheme().color(name)`: it returns undefined when colour is off, so only bold, dim,
 * italic and inverse remain.
 *
 * @example
 * const { color } = useTheme();
 * <Text color={color('red')}>error</Text>
 */
import { createContext, useContext } from 'react';

export interface Theme {
  noColor: boolean;
  color: (name: string | undefined) => string | undefined;
}

export function makeTheme(noColor: boolean): Theme {
  return { noColor, color: (name) => (noColor ? undefined : name) };
}

export const ThemeContext = createContext<Theme>(makeTheme(false));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
