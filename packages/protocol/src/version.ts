/** The release of teamchat, shared by the server (welcome, /healthz) and the CLI (--version): from the light protocol package, so printing it loads no server code. */
export const VERSION = '0.1.0';
