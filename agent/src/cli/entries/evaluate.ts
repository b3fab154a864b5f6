import { EVALUATE_USAGE, runEvaluate } from '../evaluate-command';
import { CommandModule } from './command-module';

export const command: CommandModule = { usage: EVALUATE_USAGE, run: runEvaluate };
