import { describe, expect, it } from 'vitest';
import { barAt, fitFlowLabel, fitText, layoutTimeline, rowAt } from '../../vscode-extension/src/panel/timeline-layout';
import { dialog } from './fixtures';

const options = { width: 1100, rowHeight: 10, labelWidth: 100, maxRows: 10 };

describe('timeline layout', () => {
  it('gives one row per flow (either direction), in order of first appearance, and one bar per dialog', () => {
    const a1 = dialog({ id: 'a1', startUs: 0, endUs: 100 });
    const b = dialog({ id: 'b', startUs: 50, endUs: 60, server: { ip: '8.8.8.8', port: 53 }, l4: 'udp' });
    const a2 = dialog({ id: 'a2', startUs: 900, endUs: 1000, usage: 'photo' });
    const layout = layoutTimeline([b, a2, a1], options);
    expect(layout.rows.map((row) => row.y)).toEqual([0, 10]);
    expect(layout.rows[0]!.label).toContain('157.240.1.1:443');
    expect(layout.startUs).toBe(0);
    expect(layout.endUs).toBe(1000);
    const bar = (id: string) => layout.bars.find((item) => item.dialogId === id)!;
    expect(bar('a1')).toMatchObject({ x: 100, width: 100, y: 2, height: 6, usage: 'text' });
    expect(bar('a2')).toMatchObject({ x: 1000, width: 100, usage: 'photo' });
    expect(bar('b')).toMatchObject({ x: 150, width: 10, y: 12 });
  });

  it('keeps very short dialogs visible, and hit-tests bars', () => {
    const layout = layoutTimeline([dialog({ id: 'long', startUs: 0, endUs: 1_000_000 }), dialog({ id: 'blip', startUs: 500_000, endUs: 500_001, server: { ip: '1.1.1.1', port: 53 } })], options);
    const blip = layout.bars.find((bar) => bar.dialogId === 'blip')!;
    expect(blip.width).toBe(2);
    expect(barAt(layout, blip.x + 1, blip.y + 1)?.dialogId).toBe('blip');
    expect(barAt(layout, 50, 5)).toBeUndefined();
  });

  it('draws at most maxRows flows and counts the rest', () => {
    const dialogs = Array.from({ length: 15 }, (_, index) => dialog({ id: `d${index}`, startUs: index, endUs: index + 1, client: { ip: '10.0.0.2', port: 1000 + index } }));
    const layout = layoutTimeline(dialogs, options);
    expect(layout.rows).toHaveLength(10);
    expect(layout.hiddenFlows).toBe(5);
    expect(layout.bars).toHaveLength(10);
    expect(layout.height).toBe(100);
  });

  it('is empty for no dialogs', () => {
    expect(layoutTimeline([], options)).toMatchObject({ rows: [], bars: [], height: 0 });
  });

  it('gives each row its flow label in two ends, and finds the row under a height', () => {
    const layout = layoutTimeline([dialog({ id: 'a' }), dialog({ id: 'b', server: { ip: '2001:db8::1', port: 443 }, l4: 'udp' })], options);
    expect(layout.rows[1]).toMatchObject({ label: '10.0.0.2:50000 → [2001:db8::1]:443 udp', client: '10.0.0.2:50000', server: '[2001:db8::1]:443 udp' });
    expect(layout.labelWidth).toBe(100);
    expect(rowAt(layout, 14, 10)?.key).toBe(layout.rows[1]!.key);
    expect(rowAt(layout, 25, 10)).toBeUndefined();
    expect(rowAt(layout, -1, 10)).toBeUndefined();
  });
});

describe('timeline labels that fit', () => {
  // A monospace stand-in for the canvas's measureText: 7 px a character.
  const measure = (text: string): number => text.length * 7;
  const client = '10.58.111.12:54456';
  const server = '185.60.216.105:443 tcp';
  const whole = `${client} → ${server}`;

  it('keeps a label that fits, and elides the client end first, keeping the server whole', () => {
    expect(fitFlowLabel(client, server, whole.length * 7, measure)).toBe(whole);
    const fitted = fitFlowLabel(client, server, 240, measure);
    expect(fitted).toBe(`10.58.11… → ${server}`);
    expect(measure(fitted)).toBeLessThanOrEqual(240);
    // Not even the server end fits: the whole label is elided at its end.
    const tight = fitFlowLabel(client, server, 100, measure);
    expect(tight).toBe('10.58.111.12:…');
    expect(measure(tight)).toBeLessThanOrEqual(100);
  });

  it('never returns a text wider than the room, down to nothing at all', () => {
    for (let room = 0; room <= whole.length * 7 + 7; room += 3) {
      const fitted = fitFlowLabel(client, server, room, measure);
      expect(measure(fitted)).toBeLessThanOrEqual(room);
      expect(measure(fitText(whole, room, measure))).toBeLessThanOrEqual(room);
    }
    expect(fitText(whole, 6, measure)).toBe('');
    expect(fitText(whole, 7, measure)).toBe('…');
    expect(fitText('abc def', 35, measure)).toBe('abc…');
  });
});
