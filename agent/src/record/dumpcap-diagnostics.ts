/**
 * Turns what dumpcap says (its stderr, its exit, a failed spawn) into errors that tell the user
 * what to install or which right is missing. Pure functions over text, so every case is tested
 * with dumpcap's real wording without needing an unprivileged user.
 */
import { RecordError } from './errors';

/** What the user runs to get dumpcap on Debian/Ubuntu (tshark pulls in wireshark-common). */
export const INSTALL_DUMPCAP_HINT =
  'install Wireshark\'s capture tool: `sudo apt-get install tshark` (dumpcap comes with the wireshark-common package), or pass the path of dumpcap with --dumpcap PATH';

const GRANT_CAPTURE_HINT =
  'run as root, or give dumpcap the capture capabilities: `sudo setcap cap_net_raw,cap_net_admin=eip /usr/bin/dumpcap`, ' +
  'or on Debian/Ubuntu `sudo dpkg-reconfigure wireshark-common` (answer Yes) and `sudo usermod -a -G wireshark $USER`, then log in again';

/** Lines dumpcap prints on every run; they say nothing about a failure. */
const ROUTINE_LINE = /^(Capturing on |File: |Packets captured: |Packets received\/dropped |Packets: )/;

/** dumpcap's own remedies (dpkg-reconfigure, usermod, …) run long; keep its first lines only. */
const MAX_STDERR_LINES = 6;

/** The lines of dumpcap's stderr worth showing: no routine progress, no blank lines. */
export function meaningfulStderr(stderr: string, maxLines = MAX_STDERR_LINES): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !ROUTINE_LINE.test(line));
  const shown = lines.slice(0, maxLines).join(' | ');
  return lines.length > maxLines ? `${shown} | …` : shown;
}

/**
 * Which capability the kernel refused, judged from dumpcap's wording: opening the packet
 * socket needs CAP_NET_RAW (measured: CAP_NET_RAW alone captures on lo); promiscuous mode and
 * interface flag changes need CAP_NET_ADMIN.
 */
export function missingCapability(stderr: string): 'CAP_NET_RAW' | 'CAP_NET_ADMIN' | 'CAP_NET_RAW and CAP_NET_ADMIN' {
  if (/\bsocket: Operation not permitted/i.test(stderr)) return 'CAP_NET_RAW';
  if (/promiscuous|SIOCSIFFLAGS|PACKET_ADD_MEMBERSHIP|setsockopt.*Operation not permitted/i.test(stderr)) return 'CAP_NET_ADMIN';
  return 'CAP_NET_RAW and CAP_NET_ADMIN';
}

export function isPermissionFailure(stderr: string): boolean {
  return /You (do not|don't) have permission to capture|Operation not permitted|Permission denied/i.test(stderr);
}

/**
 * The error for a dumpcap that exited (or wrote an error) before the recording was done.
 * `exit` is the exit code, or the signal name when it was killed.
 */
export function explainDumpcapFailure(stderr: string, exit: number | string | null, iface: string): RecordError {
  const said = meaningfulStderr(stderr);
  const how = exit === null ? 'stopped' : typeof exit === 'number' ? `exited with code ${exit}` : `was killed by ${exit}`;
  if (isPermissionFailure(stderr)) {
    const capability = missingCapability(stderr);
    // dumpcap's first two lines say what failed; its remedies follow, and ours replace them.
    return new RecordError(
      'RECORD_CAPTURE_PERMISSION',
      `dumpcap may not capture on '${iface}': it lacks ${capability} (dumpcap said: ${meaningfulStderr(stderr, 2)}). To record, ${GRANT_CAPTURE_HINT}`,
    );
  }
  if (/There is no device named|No such device/i.test(stderr)) {
    return new RecordError('RECORD_DUMPCAP_FAILED', `dumpcap found no interface '${iface}' to capture on (dumpcap said: ${said})`);
  }
  if (exit === 0) {
    // A clean exit nobody asked for (an autostop condition, a signal from elsewhere): its
    // routine report is all there is to show.
    const report = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' | ');
    return new RecordError('RECORD_DUMPCAP_FAILED', `dumpcap stopped capturing before the recording was done (exit code 0${report === '' ? '' : `: ${report}`})`);
  }
  return new RecordError('RECORD_DUMPCAP_FAILED', `dumpcap ${how}${said === '' ? ' without a message' : `: ${said}`}`);
}

/** The error for a dumpcap that could not even be started. */
export function explainSpawnFailure(error: NodeJS.ErrnoException, dumpcapPath: string): RecordError {
  if (error.code === 'ENOENT') {
    return new RecordError('RECORD_DUMPCAP_MISSING', `dumpcap not found at '${dumpcapPath}': ${INSTALL_DUMPCAP_HINT}`);
  }
  if (error.code === 'EACCES') {
    // Debian's setuid install makes dumpcap executable by root and the wireshark group only.
    return new RecordError(
      'RECORD_CAPTURE_PERMISSION',
      `cannot run '${dumpcapPath}' (permission denied): when dumpcap is restricted to the wireshark group, add yourself with ` +
        '`sudo usermod -a -G wireshark $USER` and log in again; or run as root',
    );
  }
  return new RecordError('RECORD_DUMPCAP_FAILED', `cannot start '${dumpcapPath}': ${error.message}`);
}

export interface DumpcapStats {
  /** Packets dumpcap wrote (its "Packets captured: N" line). */
  readonly captured: number;
  /** Packets the kernel handed to dumpcap and those it dropped (buffer overrun). */
  readonly received: number;
  readonly dropped: number;
}

/**
 * Reads dumpcap's closing report, e.g.
 *   Packets captured: 51
 *   Packets received/dropped on interface 'Loopback: lo': 51/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)
 * Undefined when the report is absent (dumpcap killed, or run with -q).
 */
export function parseDumpcapStats(stderr: string): DumpcapStats | undefined {
  const captured = /Packets captured: (\d+)/.exec(stderr);
  const counts = /Packets received\/dropped on interface '.*?': (\d+)\/(\d+)/.exec(stderr);
  if (!captured || !counts) return undefined;
  return { captured: Number(captured[1]), received: Number(counts[1]), dropped: Number(counts[2]) };
}
