import { describe, expect, it } from 'vitest';
import { DialogPacketLog } from '../../agent/src/features/dialog-packet-log';
import { extractFeatures } from '../../agent/src/features/extract-features';
import { BURST_IDLE_GAP_US, CONTEXT_FEATURES, CONTEXT_OFFSET, FEATURE_DIRECTIONS, FEATURE_SCHEMA_VERSION, FEATURES, OWN_FEATURE_COUNT } from '../../agent/src/features/feature-schema';

const NAME = /^(up|down|all|other)_[a-z0-9]+(_[a-z0-9]+)*_(count|bytes|s|ms|per_s|fraction|flag|ratio)$/;

describe('feature schema', () => {
  it('has a version string', () => {
    expect(FEATURE_SCHEMA_VERSION).toMatch(/^\d+$/);
  });

  it('names every feature once (no duplicated column), and the vector has one value per feature', () => {
    const names = FEATURES.map((spec) => spec.name);
    expect(new Set(names).size).toBe(names.length);
    expect(extractFeatures(new DialogPacketLog()).length).toBe(FEATURES.length);
    expect(OWN_FEATURE_COUNT).toBe(106); // 3 directions × 31 + 2 up shares + 10 first packets + transport
    expect(FEATURES.length).toBe(118); // + 12 context features, last
    expect(CONTEXT_OFFSET).toBe(OWN_FEATURE_COUNT);
    expect(FEATURES.slice(CONTEXT_OFFSET).map((spec) => spec.name)).toEqual(CONTEXT_FEATURES.map((spec) => spec.name));
    expect(FEATURES.slice(CONTEXT_OFFSET).every((spec) => spec.name.startsWith('other_'))).toBe(true);
  });

  it('names features direction_statistic_quantity_unit and documents each with a unit', () => {
    for (const spec of FEATURES) {
      expect(spec.name, spec.name).toMatch(NAME);
      expect(spec.unit.length, spec.name).toBeGreaterThan(0);
      expect(spec.description.length, spec.name).toBeGreaterThan(10);
    }
  });

  it('gives each direction the same features in the same order', () => {
    const perDirection = FEATURE_DIRECTIONS.map((direction) =>
      FEATURES.filter((spec) => spec.name.startsWith(`${direction}_`) && !spec.name.startsWith('up_share_') && !/^all_packet\d/.test(spec.name) && spec.name !== 'all_is_tcp_flag').map((spec) => spec.name.slice(direction.length + 1)),
    );
    expect(perDirection[0]).toHaveLength(31);
    expect(perDirection[1]).toEqual(perDirection[0]);
    expect(perDirection[2]).toEqual(perDirection[0]);
  });

  it('exports the burst idle gap (0.5 s) and cannot be modified', () => {
    expect(BURST_IDLE_GAP_US).toBe(500_000);
    expect(Object.isFrozen(FEATURES)).toBe(true);
    expect(Object.isFrozen(FEATURES[0])).toBe(true);
    expect(Object.isFrozen(FEATURES[FEATURES.length - 1])).toBe(true);
  });
});
