import { RECORD_USAGE, runRecord } from '../../record/record-command';
import { APP_NAMES, AppName } from '../../simulate/app-profiles';
import { buildTrafficScript } from '../../simulate/usage-script';
import { CommandModule } from './command-module';

export const command: CommandModule = {
  usage: RECORD_USAGE,
  run: (args, io) =>
    runRecord(args, io, {
      apps: APP_NAMES,
      // The recorder replays the simulator's usage models: one description of each usage.
      buildScript: (request) =>
        buildTrafficScript({
          plan: { kind: 'usage', usage: request.usage },
          app: request.app as AppName,
          seed: request.seed,
          durationS: request.durationS,
          background: false,
        }),
    }),
};
