/**
 * Message text as the server stores and relays it: control characters (which could break a
 * plain-text line or drive another user's terminal, and NUL, which Postgres refuses) become spaces.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

export function sanitizeText(text: string): string {
  return text.replace(CONTROL, ' ');
}
