/** Starts the real server on 127.0.0.1 with an ephemeral port, recording its log. */
import { AgentServer, AgentServerOptions, startAgentServer } from '../../../agent/src/serve/server';
import { LogLevel } from '../../../agent/src/serve/server-log';
import { MemoryFeed } from './memory-feed';

export const TEST_TOKEN = 'c0ffee'.repeat(10) + 'beef';

export interface TestServer {
  readonly server: AgentServer;
  readonly feed: MemoryFeed;
  readonly logLines: string[];
  /** http://127.0.0.1:PORT/ */
  readonly base: string;
}

export async function startTestServer(options: Partial<AgentServerOptions> & { feed?: MemoryFeed } = {}): Promise<TestServer> {
  const feed = options.feed ?? new MemoryFeed();
  const logLines: string[] = [];
  const server = await startAgentServer({
    token: TEST_TOKEN,
    host: '127.0.0.1',
    port: 0,
    agentVersion: 'cumma-test 0.0.0',
    ...options,
    feed,
    log: (level: LogLevel, message: string) => logLines.push(`${level} ${message}`),
  });
  return { server, feed, logLines, base: server.httpUrl };
}
