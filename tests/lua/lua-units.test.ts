// The plugin's pure-Lua parts (JSON decoder, SHA-1/base64 for the WebSocket handshake, WebSocket
// framing over a scripted socket, address bytes, index look-up, sidecar parsing) on every Lua
// version it supports: Wireshark 4.0 on Debian runs Lua 5.2, newer builds 5.3 or 5.4. Needs the
// stand-alone interpreters (apt-get install lua5.2 lua5.3 lua5.4); a missing one is skipped with a
// message, also under CUMMA_REQUIRE_TOOLS=1 (they are extra checks: tshark tests cover the plugin).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { findOnPath } from '../support/tools';
import { PLUGIN } from './support';

const FIXTURES = join(__dirname, 'fixtures');
const VERSIONS = ['lua5.2', 'lua5.3', 'lua5.4'];
const found = VERSIONS.filter((v) => findOnPath(v) !== undefined);
if (found.length < VERSIONS.length) {
  const missing = VERSIONS.filter((v) => !found.includes(v));
  console.warn(`SKIPPED for ${missing.join(', ')}: not installed (apt-get install ${missing.join(' ')})`);
}

describe('Wireshark plugin: pure-Lua parts on each Lua version', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cumma-lua-units-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const lua of VERSIONS) {
    it.skipIf(!found.includes(lua))(`passes its unit tests in ${lua}`, () => {
      // Bounded: a plugin that opened a FIFO would wait there for good (spawnSync blocks the test's timer too).
      const result = spawnSync(lua, [join(FIXTURES, 'units.lua'), join(FIXTURES, 'wireshark-stubs.lua'), PLUGIN, dir], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
      expect(result.error, 'units.lua still running after 30 s').toBeUndefined();
      const failures = result.stdout.split('\n').filter((line) => line.startsWith('not ok'));
      expect(failures, result.stderr).toEqual([]);
      expect(result.stdout).toMatch(/passed \d+ failed 0/);
      expect(result.status, result.stderr).toBe(0);
    });

    it.skipIf(!found.includes(lua))(`registers its Tools ▸ Cumma menu and fills the dialog summary in ${lua}`, () => {
      const sidecar = join(dir, `gui-${lua}.tsv`);
      writeFileSync(
        sidecar,
        [
          'l4\tip_a\tport_a\tip_b\tport_b\tstart_us\tend_us\tusage\tconfidence\tsession\tdialog\tstatus',
          'udp\t10.0.0.1\t5000\t10.0.0.2\t6000\t1705312800123456\t1705312801999999\tvoice_call\t0.9300\t1\t1\tfinal',
          'tcp\t10.0.0.1\t40000\t10.0.0.2\t443\t1705312802000000\t1705312803000000\ttext\t0.5100\t1\t1\tprovisional',
          '',
        ].join('\n'),
      );
      const result = spawnSync(lua, [join(FIXTURES, 'gui.lua'), join(FIXTURES, 'wireshark-stubs.lua'), PLUGIN, sidecar], { encoding: 'utf8' });
      expect(result.stdout + result.stderr).toContain('ok - gui');
      expect(result.status, result.stdout + result.stderr).toBe(0);
    });

    const hasSocket = found.includes(lua) && spawnSync(lua, ['-e', 'require("socket")']).status === 0;
    it.skipIf(!hasSocket)(`keeps the agent connection in the GUI and redissects when a dialog arrives (${lua})`, async () => {
      const dialog = (n: number, usage: string): Record<string, unknown> => ({
        id: `live.pcapng/${n}`, l4: 'tcp', client: { ip: '10.0.0.1', port: 40000 + n }, server: { ip: '10.0.0.2', port: 443 },
        startUs: 1705312800000000 + n * 1e6, endUs: 1705312800500000 + n * 1e6, capture: 'live.pcapng', session: 1, dialog: 1,
        usage, confidence: 0.8, scores: { [usage]: 0.8, other: 0.2 }, status: 'final', outlier: false, model: 'm@1',
      });
      const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((resolve) => server.once('listening', resolve));
      const sockets: import('ws').WebSocket[] = [];
      let authorization: string | undefined;
      server.on('connection', (socket, request) => {
        authorization = request.headers.authorization;
        sockets.push(socket);
        socket.send(JSON.stringify({ v: 1, type: 'hello', agent: 'scripted', protocol: 1, anonymized: false, model: { name: 'm@1', classes: [], gaps: {} }, captures: [] }));
        socket.on('message', () => socket.send(JSON.stringify({ v: 1, type: 'snapshot', captures: [], dialogs: [dialog(1, 'text')] })));
      });
      try {
        const port = (server.address() as AddressInfo).port;
        const child = spawn(lua, [join(FIXTURES, 'gui-agent.lua'), join(FIXTURES, 'wireshark-stubs.lua'), PLUGIN, String(port)]);
        let output = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          output += chunk;
          if (chunk.includes('READY')) {
            // While the GUI sits idle, the agent labels another dialog and pings.
            sockets[0]!.ping('still-there');
            sockets[0]!.send(JSON.stringify({ v: 1, type: 'stats', packetsPerSecond: 1, packets: 2, dialogs: 2, captures: [] }));
            sockets[0]!.send(JSON.stringify({ v: 1, type: 'dialog', dialog: dialog(2, 'photo') }));
          }
          if (chunk.includes('READY2')) {
            // The capture is rewritten in place: the agent reads it again, with one dialog so far.
            const info = { name: 'live.pcapng', path: '/caps/live.pcapng', state: 'reading', sizeBytes: 100, bytesRead: 100, packets: 1, dialogs: 0 };
            sockets[0]!.send(JSON.stringify({ v: 1, type: 'capture', event: 'restarted', capture: info, message: '/caps/live.pcapng: rewritten in place (its first bytes changed); reading it again from the start' }));
            sockets[0]!.send(JSON.stringify({ v: 1, type: 'dialog', dialog: dialog(3, 'video_call') }));
          }
        });
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(output).toContain('ok - gui agent');
        expect(status, output).toBe(0);
        expect(authorization).toBe('Bearer gui-token');
        expect(sockets.length).toBe(1);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});
