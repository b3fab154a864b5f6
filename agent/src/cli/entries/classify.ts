import { CLASSIFY_USAGE, runClassify } from '../classify-command';
import { CommandModule } from './command-module';

export const command: CommandModule = { usage: CLASSIFY_USAGE, run: runClassify };
