// From the protocol package, not the server: --version and every command start without loading the server.
export { VERSION } from '@teamchat/protocol';
