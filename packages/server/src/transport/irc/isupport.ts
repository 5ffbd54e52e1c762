/**
 * What the gateway tells IRC clients about itself: the ISUPPORT (005) tokens and the IRCv3
 * capabilities. Honest: every token describes what teamchat enforces (nick and room rules from
 * @teamchat/protocol), and only capabilities the gateway implements are offered.
 */
import {
  HISTORY_MAX,
  MASK_LIST_MAX,
  MAX_ROOMS_PER_CONNECTION,
  MODE_CHANGES_MAX,
  NICK_MAX_LENGTH,
  REASON_MAX_LENGTH,
  ROOM_MAX_LENGTH,
  TOPIC_MAX_LENGTH,
} from '@teamchat/protocol';
import { IRC_LINE_BYTES } from './irc-message.js';

export interface IsupportOptions {
  network: string;
  maxRooms?: number;
}

/** ISUPPORT tokens, in the order they are sent. */
export function isupportTokens(options: IsupportOptions): string[] {
  return [
    'AWAYLEN=' + REASON_MAX_LENGTH,
    // teamchat nicks are ASCII and compared lower-cased; rooms are stored lower-case.
    'CASEMAPPING=ascii',
    `CHANLIMIT=#:${options.maxRooms ?? MAX_ROOMS_PER_CONNECTION}`,
    // Lists (ban, exception, invite exception); +k always takes a parameter; +l when set; flags.
    'CHANMODES=beI,k,l,imnst',
    // `#` plus a room name (ROOM_PATTERN).
    `CHANNELLEN=${ROOM_MAX_LENGTH + 1}`,
    'CHANTYPES=#',
    `CHATHISTORY=${HISTORY_MAX}`,
    // LIST filters: masks (M), negated masks (N), member counts (U).
    'ELIST=MNU',
    'EXCEPTS=e',
    'INVEX=I',
    'KICKLEN=' + REASON_MAX_LENGTH,
    `LINELEN=${IRC_LINE_BYTES}`,
    `MAXLIST=beI:${MASK_LIST_MAX}`,
    'MAXTARGETS=4',
    `MODES=${MODE_CHANGES_MAX}`,
    'MSGREFTYPES=msgid,timestamp',
    `NETWORK=${options.network}`,
    `NICKLEN=${NICK_MAX_LENGTH}`,
    'PREFIX=(ov)@+',
    'TARGMAX=JOIN:,PART:,PRIVMSG:4,NOTICE:4,NAMES:1,WHOIS:1,KICK:4,LIST:',
    `TOPICLEN=${TOPIC_MAX_LENGTH}`,
    'UTF8ONLY',
    'WHOX',
  ];
}

/** Capabilities offered by `CAP LS` (values shown to CAP LS 302 clients). */
export function capabilities(): Map<string, string> {
  return new Map([
    ['away-notify', ''],
    ['batch', ''],
    ['cap-notify', ''],
    ['draft/account-registration', 'before-connect'],
    ['draft/chathistory', ''],
    ['draft/message-redaction', ''],
    ['draft/read-marker', ''],
    ['echo-message', ''],
    ['labeled-response', ''],
    ['message-tags', ''],
    ['multi-prefix', ''],
    ['sasl', 'PLAIN'],
    ['server-time', ''],
    ['userhost-in-names', ''],
  ]);
}
