import type { CommandIo } from '../flows-command';

/**
 * What each command bundle (dist/commands/NAME.js) exports. Commands are separate bundles so
 * that `cumma flows` loads neither the recorder nor the simulator, and so that each bundle's
 * modules are evaluated eagerly (esbuild wraps modules that are require()d lazily, which turns
 * their constants into variables and slows the per-packet code).
 */
export interface CommandModule {
  readonly usage: string;
  run(args: readonly string[], io: CommandIo): Promise<number>;
}
