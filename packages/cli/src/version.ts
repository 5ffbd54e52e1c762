export { VERSION } from '@teamchat/server';
