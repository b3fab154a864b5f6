/**
 * Labels a capture without the agent: the project's own classifier (agent/src/pipeline, the
 * same calls `cumma classify` makes) with the shipped model, bundled into the extension. Runs
 * in the worker thread.
 */
import { basename } from 'node:path';
import { captureDialogs } from '../../../agent/src/pipeline/capture-dialogs';
import { DialogRecord } from '../../../agent/src/pipeline/dialog-record';
import { UsageModel } from '../../../agent/src/pipeline/usage-model';

export interface LocalClassification {
  readonly model: string;
  readonly records: readonly (DialogRecord & { readonly id: string })[];
  /** Set when the file could only be read up to a fault. */
  readonly error?: string;
  /** Packets read before the end or the fault: 0 with an error is a file that could not be read at all. */
  readonly packetsRead?: number;
  /**
   * What the reader could not use, once per kind (packets of a link type Cumma does not decode,
   * IP tunnels): without it a capture of such packets looks like one with nothing to label.
   */
  readonly warnings?: readonly string[];
}

let cached: { path: string; model: UsageModel } | undefined;

export function classifyLocally(capturePath: string, modelPath: string): LocalClassification {
  if (cached?.path !== modelPath) cached = { path: modelPath, model: UsageModel.load(modelPath) };
  const model = cached.model;
  const warnings: string[] = [];
  let partial: ReturnType<typeof captureDialogs> | undefined;
  let error: string | undefined;
  let dialogs: ReturnType<typeof captureDialogs>;
  let packetsRead = 0;
  try {
    dialogs = captureDialogs(capturePath, { onProgress: () => packetsRead++, gaps: model.gaps, truth: false, onPartial: (read) => (partial = read), onWarning: (message) => warnings.push(withoutPath(message, capturePath)) });
  } catch (caught) {
    if (partial === undefined) throw caught;
    dialogs = partial;
    error = caught instanceof Error ? caught.message : String(caught);
  }
  const records = model.classify(dialogs).map((record, index) => ({ ...record, id: `local:${dialogs[index]!.flowId}:${record.dialog}` }));
  return {
    model: `${model.name} (${basename(modelPath)})`,
    records,
    packetsRead,
    ...(error !== undefined ? { error } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** The pipeline's messages start with the capture's path; the editor already shows which file. */
function withoutPath(message: string, capturePath: string): string {
  return message.startsWith(`${capturePath}: `) ? message.slice(capturePath.length + 2) : message;
}
