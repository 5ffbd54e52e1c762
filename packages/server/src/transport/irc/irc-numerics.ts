/**
 * The IRC numerics the gateway sends (RFC 1459/2812, modern.ircdocs.horse, IRCv3), and how
 * teamchat's coded errors (TC_ERR_*) read as numerics.
 */
import type { ErrorCode } from '@teamchat/protocol';

export const RPL = {
  WELCOME: '001',
  YOURHOST: '002',
  CREATED: '003',
  MYINFO: '004',
  ISUPPORT: '005',
  UMODEIS: '221',
  LUSERCLIENT: '251',
  LUSERME: '255',
  AWAY: '301',
  USERHOST: '302',
  ISON: '303',
  UNAWAY: '305',
  NOWAWAY: '306',
  WHOISUSER: '311',
  WHOISSERVER: '312',
  WHOISOPERATOR: '313',
  ENDOFWHO: '315',
  WHOISIDLE: '317',
  ENDOFWHOIS: '318',
  WHOISCHANNELS: '319',
  LISTSTART: '321',
  LIST: '322',
  LISTEND: '323',
  CHANNELMODEIS: '324',
  CREATIONTIME: '329',
  WHOISACCOUNT: '330',
  NOTOPIC: '331',
  TOPIC: '332',
  TOPICWHOTIME: '333',
  WHOISACTUALLY: '338',
  INVITING: '341',
  INVITELIST: '346',
  ENDOFINVITELIST: '347',
  EXCEPTLIST: '348',
  ENDOFEXCEPTLIST: '349',
  VERSION: '351',
  WHOREPLY: '352',
  NAMREPLY: '353',
  WHOSPCRPL: '354',
  ENDOFNAMES: '366',
  BANLIST: '367',
  ENDOFBANLIST: '368',
  INFO: '371',
  MOTD: '372',
  ENDOFINFO: '374',
  MOTDSTART: '375',
  ENDOFMOTD: '376',
  WHOISHOST: '378',
  WHOISMODES: '379',
  YOUREOPER: '381',
  TIME: '391',
  LOGGEDIN: '900',
  LOGGEDOUT: '901',
  SASLSUCCESS: '903',
  SASLMECHS: '908',
} as const;

export const ERR = {
  NOSUCHNICK: '401',
  NOSUCHSERVER: '402',
  NOSUCHCHANNEL: '403',
  CANNOTSENDTOCHAN: '404',
  TOOMANYCHANNELS: '405',
  WASNOSUCHNICK: '406',
  NOORIGIN: '409',
  INVALIDCAPCMD: '410',
  NORECIPIENT: '411',
  NOTEXTTOSEND: '412',
  INPUTTOOLONG: '417',
  UNKNOWNCOMMAND: '421',
  NOMOTD: '422',
  NONICKNAMEGIVEN: '431',
  ERRONEUSNICKNAME: '432',
  NICKNAMEINUSE: '433',
  USERNOTINCHANNEL: '441',
  NOTONCHANNEL: '442',
  USERONCHANNEL: '443',
  NOTREGISTERED: '451',
  NEEDMOREPARAMS: '461',
  ALREADYREGISTERED: '462',
  PASSWDMISMATCH: '464',
  CHANNELISFULL: '471',
  UNKNOWNMODE: '472',
  INVITEONLYCHAN: '473',
  BANNEDFROMCHAN: '474',
  BADCHANNELKEY: '475',
  BADCHANMASK: '476',
  NOPRIVILEGES: '481',
  CHANOPRIVSNEEDED: '482',
  NOOPERHOST: '491',
  UMODEUNKNOWNFLAG: '501',
  USERSDONTMATCH: '502',
  NICKLOCKED: '902',
  SASLFAIL: '904',
  SASLTOOLONG: '905',
  SASLABORTED: '906',
  SASLALREADY: '907',
  INVALIDMODEPARAM: '696',
} as const;

/** What the IRC command was about, for numerics whose meaning depends on it. */
export type ErrorContext =
  | 'join'
  | 'part'
  | 'privmsg'
  | 'notice'
  | 'topic'
  | 'mode'
  | 'invite'
  | 'names'
  | 'who'
  | 'nick'
  | 'register'
  | 'login'
  | 'kick'
  | 'other';

/**
 * The numeric for a coded error, or null when it reads best as a NOTICE or FAIL (store errors,
 * rate limits): those have no standard numeric.
 */
export function numericForError(code: string, context: ErrorContext): string | null {
  switch (code as ErrorCode) {
    case 'TC_ERR_NOT_REGISTERED':
      return ERR.NOTREGISTERED;
    case 'TC_ERR_ALREADY_REGISTERED':
      return ERR.ALREADYREGISTERED;
    case 'TC_ERR_BAD_NICK':
      return context === 'privmsg' || context === 'notice' || context === 'invite'
        ? ERR.NOSUCHNICK
        : ERR.ERRONEUSNICKNAME;
    case 'TC_ERR_NICK_IN_USE':
      return ERR.NICKNAMEINUSE;
    case 'TC_ERR_BAD_ROOM':
      return context === 'join' ? ERR.BADCHANMASK : ERR.NOSUCHCHANNEL;
    case 'TC_ERR_NO_SUCH_ROOM':
      return ERR.NOSUCHCHANNEL;
    case 'TC_ERR_NOT_IN_ROOM':
      return context === 'privmsg' || context === 'notice' ? ERR.CANNOTSENDTOCHAN : ERR.NOTONCHANNEL;
    case 'TC_ERR_NO_SUCH_USER':
      return ERR.NOSUCHNICK;
    case 'TC_ERR_EMPTY_TEXT':
      return ERR.NOTEXTTOSEND;
    case 'TC_ERR_LINE_TOO_LONG':
      return ERR.INPUTTOOLONG;
    case 'TC_ERR_AUTH_REQUIRED':
    case 'TC_ERR_BAD_PASSWORD':
    case 'TC_ERR_LOCKED_OUT':
      return context === 'nick' ? ERR.NICKNAMEINUSE : ERR.PASSWDMISMATCH;
    case 'TC_ERR_NOT_ROOM_CREATOR':
    case 'TC_ERR_NOT_REGISTERED_NICK':
    case 'TC_ERR_NOT_OPERATOR':
      return ERR.CHANOPRIVSNEEDED;
    case 'TC_ERR_USER_NOT_IN_ROOM':
      return ERR.USERNOTINCHANNEL;
    case 'TC_ERR_BANNED':
      return ERR.BANNEDFROMCHAN;
    case 'TC_ERR_ROOM_FULL':
      return ERR.CHANNELISFULL;
    case 'TC_ERR_MODERATED':
      return ERR.CANNOTSENDTOCHAN;
    case 'TC_ERR_BAD_MODE':
      return ERR.UNKNOWNMODE;
    case 'TC_ERR_BAD_KEY':
      return ERR.BADCHANNELKEY;
    case 'TC_ERR_INVITE_ONLY':
      return ERR.INVITEONLYCHAN;
    case 'TC_ERR_TOO_MANY_ROOMS':
      return ERR.TOOMANYCHANNELS;
    case 'TC_ERR_UNKNOWN_COMMAND':
      return ERR.UNKNOWNCOMMAND;
    default:
      return null;
  }
}
