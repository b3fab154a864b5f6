/**
 * A dialog's identity: the same for its provisional and final records, across agent restarts
 * and re-reads of the file, and across anonymisation (it is a digest, so it leaks no address).
 * A dialog is fixed by its capture, its flow's 5-tuple in client/server order and the time of
 * its first packet.
 */
import { createHash } from 'node:crypto';
import { DialogRecord } from '../pipeline/dialog-record';

export function dialogId(capture: string, record: Pick<DialogRecord, 'l4' | 'client' | 'server' | 'startUs'>): string {
  const key = `${capture}\u0000${record.l4}\u0000${record.client.ip}\u0000${record.client.port}\u0000${record.server.ip}\u0000${record.server.port}\u0000${record.startUs}`;
  return createHash('sha256').update(key).digest('hex').slice(0, 20);
}
