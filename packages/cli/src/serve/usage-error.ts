/**
 * A mistake in how a command was called (a flag that cannot work, a file that cannot be read, an
 * unusable database URL): the CLI exits 2 for it, as for commander's own usage errors, and 1 for
 * failures at run time.
 */
export class UsageError extends Error {}
