export { VERSION } from '@teamchat/protocol';
