import { FLOWS_USAGE, runFlows } from '../flows-command';
import { CommandModule } from './command-module';

export const command: CommandModule = { usage: FLOWS_USAGE, run: runFlows };
