/**
 * Where the server reports connections, refusals and misbehaving clients. The sink receives
 * finished text only; callers never put the token (or a URL's query string, which may carry it)
 * into a message.
 */

export type LogLevel = 'info' | 'warn' | 'error';

export type ServerLog = (level: LogLevel, message: string) => void;

export const silentLog: ServerLog = () => undefined;
