import { WATCH_USAGE, runWatch } from '../watch-command';
import { CommandModule } from './command-module';

export const command: CommandModule = { usage: WATCH_USAGE, run: runWatch };
