import { SIMULATE_USAGE, runSimulate } from '../../simulate/simulate-command';
import { CommandModule } from './command-module';

export const command: CommandModule = { usage: SIMULATE_USAGE, run: runSimulate };
