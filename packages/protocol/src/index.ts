export * from './limits.js';
export * from './errors.js';
export type * from './frames.js';
export * from './decode.js';
export * from './encode-frame.js';
export * from './line-framer.js';
export * from './plain-text.js';
export * from './version.js';
