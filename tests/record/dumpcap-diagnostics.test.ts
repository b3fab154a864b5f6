// The messages a user sees when dumpcap is missing, may not capture, or fails, built from
// dumpcap 4.0.17's real stderr (recorded as root and as `nobody` via setpriv on Debian 12), so
// the permission path is checked without needing an unprivileged account.

import { describe, expect, it } from 'vitest';
import {
  explainDumpcapFailure,
  explainSpawnFailure,
  meaningfulStderr,
  missingCapability,
  parseDumpcapStats,
} from '../../agent/src/record/dumpcap-diagnostics';
import { RecordError } from '../../agent/src/record/errors';

/** `setpriv --reuid=65534 … dumpcap -i lo -p -w -` (no capabilities). */
const NO_PERMISSION = `Capturing on 'Loopback: lo'
dumpcap: You do not have permission to capture on device "lo".
(socket: Operation not permitted)
Please check to make sure you have sufficient permissions.

On Debian and Debian derivatives such as Ubuntu, if you have installed Wireshark from a package, try running

    sudo dpkg-reconfigure wireshark-common

selecting "<Yes>" in response to the question

    Should non-superusers be able to capture packets?

adding yourself to the "wireshark" group by running

    sudo usermod -a -G wireshark {your username}

and then logging out and logging back in again.
`;

const NO_DEVICE = `Capturing on 'nonexist'
dumpcap: There is no device named "nonexist".
(No such device exists)
`;

const BAD_FILTER = `Capturing on 'Loopback: lo'
dumpcap: Invalid capture filter "tcp port abc" for interface 'lo'.

That string isn't a valid capture filter (unknown port 'abc').
See the User's Guide for a description of the capture filter syntax.
`;

const CLEAN_STOP = `Capturing on 'Loopback: lo'
File: -
Packets: 49 Packets: 51 Packets captured: 51
Packets received/dropped on interface 'Loopback: lo': 51/3 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)
`;

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('explainDumpcapFailure', () => {
  it('names CAP_NET_RAW and the setcap / wireshark-group remedies when dumpcap may not open the packet socket', () => {
    const error = explainDumpcapFailure(NO_PERMISSION, 1, 'lo');
    expect(error).toBeInstanceOf(RecordError);
    expect(error.code).toBe('RECORD_CAPTURE_PERMISSION');
    expect(error.message).toContain("dumpcap may not capture on 'lo': it lacks CAP_NET_RAW");
    expect(error.message).toContain('sudo setcap cap_net_raw,cap_net_admin=eip /usr/bin/dumpcap');
    expect(error.message).toContain('sudo usermod -a -G wireshark $USER');
    expect(error.message).toContain('(dumpcap said: dumpcap: You do not have permission to capture on device "lo". | (socket: Operation not permitted) | …)');
    // Routine lines are not evidence of anything.
    expect(error.message).not.toContain('Capturing on');
  });

  it('names CAP_NET_ADMIN when the kernel refuses an interface setting rather than the socket', () => {
    const stderr = 'dumpcap: You don\'t have permission to capture on that device\n(setsockopt (PACKET_ADD_MEMBERSHIP): Operation not permitted)\n';
    expect(missingCapability(stderr)).toBe('CAP_NET_ADMIN');
    expect(explainDumpcapFailure(stderr, 1, 'lo').message).toContain('it lacks CAP_NET_ADMIN');
  });

  it('names both capabilities when dumpcap does not say which call failed', () => {
    expect(missingCapability('dumpcap: You do not have permission to capture on device "lo".')).toBe('CAP_NET_RAW and CAP_NET_ADMIN');
  });

  it('reports a missing interface as such', () => {
    const error = explainDumpcapFailure(NO_DEVICE, 1, 'nonexist');
    expect(error.code).toBe('RECORD_DUMPCAP_FAILED');
    expect(error.message).toBe(
      "dumpcap found no interface 'nonexist' to capture on (dumpcap said: dumpcap: There is no device named \"nonexist\". | (No such device exists)) [RECORD_DUMPCAP_FAILED]",
    );
  });

  it('passes any other failure on with dumpcap\'s own words and its exit', () => {
    const error = explainDumpcapFailure(BAD_FILTER, 1, 'lo');
    expect(error.code).toBe('RECORD_DUMPCAP_FAILED');
    expect(error.message).toMatch(/^dumpcap exited with code 1: dumpcap: Invalid capture filter "tcp port abc"/);
    expect(explainDumpcapFailure('', 'SIGKILL', 'lo').message).toBe('dumpcap was killed by SIGKILL without a message [RECORD_DUMPCAP_FAILED]');
  });

  it('keeps only the first lines of a long stderr', () => {
    const said = meaningfulStderr(NO_PERMISSION);
    expect(said.split(' | ')).toHaveLength(7);
    expect(said.endsWith('| …')).toBe(true);
  });
});

describe('explainSpawnFailure', () => {
  it('says what to install when dumpcap is not found', () => {
    const error = explainSpawnFailure(errnoError('ENOENT', 'spawn /nonexistent/dumpcap ENOENT'), '/nonexistent/dumpcap');
    expect(error.code).toBe('RECORD_DUMPCAP_MISSING');
    expect(error.message).toContain("dumpcap not found at '/nonexistent/dumpcap'");
    expect(error.message).toContain('sudo apt-get install tshark');
    expect(error.message).toContain('wireshark-common');
  });

  it('points at the wireshark group when dumpcap may not be executed', () => {
    const error = explainSpawnFailure(errnoError('EACCES', 'spawn /usr/bin/dumpcap EACCES'), '/usr/bin/dumpcap');
    expect(error.code).toBe('RECORD_CAPTURE_PERMISSION');
    expect(error.message).toContain('sudo usermod -a -G wireshark $USER');
  });
});

describe('parseDumpcapStats', () => {
  it('reads the captured, received and dropped counts of the closing report', () => {
    expect(parseDumpcapStats(CLEAN_STOP)).toEqual({ captured: 51, received: 51, dropped: 3 });
  });

  it('is undefined without a report', () => {
    expect(parseDumpcapStats(NO_PERMISSION)).toBeUndefined();
  });
});
