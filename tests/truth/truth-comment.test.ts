import { describe, expect, it } from 'vitest';
import { USAGE_CLASSES } from '../../agent/src/labels';
import { DialogLabelConflictError, DialogLabels } from '../../agent/src/truth/dialog-labels';
import { TruthCommentError, formatTruthComment, parseTruthComment } from '../../agent/src/truth/truth-comment';

describe('truth comments', () => {
  it('round-trips the simulator form for every label', () => {
    for (const usage of USAGE_CLASSES) {
      const text = formatTruthComment({ usage, session: 3, dialog: 17 });
      expect(text).toBe(`cumma:usage=${usage} session=3 dialog=17`);
      expect(parseTruthComment(text)).toEqual({ usage, session: 3, dialog: 17 });
    }
  });

  it('accepts the analyst form with only a usage, with stray whitespace', () => {
    expect(parseTruthComment('  cumma:usage=photo \n')).toEqual({ usage: 'photo' });
  });

  it('ignores comments that are not for cumma', () => {
    expect(parseTruthComment('retransmission seen here')).toBeUndefined();
    expect(parseTruthComment('usage=photo')).toBeUndefined();
  });

  it('refuses an unknown usage, listing the valid labels', () => {
    expect(() => parseTruthComment('cumma:usage=selfie')).toThrow(TruthCommentError);
    expect(() => parseTruthComment('cumma:usage=selfie')).toThrow(/unknown usage 'selfie'; valid labels: text, photo, voice_note, video_clip, file, location, voice_call, video_call, streaming, other/);
  });

  it.each([
    ['cumma:session=1', /has no usage/],
    ['cumma:usage=text dialog=x', /dialog must be a non-negative integer, got 'x'/],
    ['cumma:usage=text junk', /'junk' is not key=value/],
  ])('refuses the malformed comment %s', (comment, message) => {
    expect(() => parseTruthComment(comment)).toThrow(message);
  });
});

describe('dialog labels from comments', () => {
  it('labels a dialog from a single analyst comment among unlabelled packets', () => {
    const labels = new DialogLabels();
    labels.add(1, []);
    labels.add(2, ['cumma:usage=voice_note']);
    labels.add(3, ['an unrelated note']);
    expect(labels.usage(() => 'dialog 1')).toBe('voice_note');
  });

  it('gives no label when no packet carries one', () => {
    const labels = new DialogLabels();
    labels.add(1, ['just a note']);
    expect(labels.labelled).toBe(false);
    expect(labels.usage(() => 'dialog 1')).toBeUndefined();
  });

  it('reports conflicting labels with the frames that carry each', () => {
    const labels = new DialogLabels();
    labels.add(4, ['cumma:usage=text session=1 dialog=2']);
    labels.add(5, ['cumma:usage=text session=1 dialog=2']);
    labels.add(9, ['cumma:usage=photo']);
    let caught: unknown;
    try {
      labels.usage(() => 'capture.pcapng: dialog 2');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DialogLabelConflictError);
    expect((caught as DialogLabelConflictError).code).toBe('TRUTH_LABEL_CONFLICT');
    expect((caught as Error).message).toBe('capture.pcapng: dialog 2 carries conflicting labels: text (frames 4, 5); photo (frames 9)');
    expect(labels.majority()).toBe('text');
  });
});
