/** The agent's network service: what the CLI (`cumma watch`) needs to run it. */
export { startAgentServer } from './server';
export type { AgentServer, AgentServerOptions } from './server';
export type { ServerDebugStats } from './feed-hub';
export { DEFAULT_LIMITS } from './limits';
export type { ServerLimits } from './limits';
export type { LogLevel, ServerLog } from './server-log';
export { loadOrCreateToken, resolveConfigDir, TokenFileError } from './token';
export type { AgentToken } from './token';
export * from './protocol';
