import { TRAIN_USAGE, runTrain } from '../train-command';
import { CommandModule } from './command-module';

export const command: CommandModule = { usage: TRAIN_USAGE, run: runTrain };
