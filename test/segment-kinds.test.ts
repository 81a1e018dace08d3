import { ZONE_CONTROLS } from '../lib/classification';
import { SEGMENT_KIND_PROFILES, SEGMENT_KINDS } from '../lib/segment-kinds';

// The recipe for adding a kind (CONTRIBUTING.md) is tried by `npm run typecheck`, on the type-checked
// program itself: the compiler must point at the new kind's profile alone.
describe('segment kinds', () => {
  test('a kind gets zone access only from its profile: nothing by default', () => {
    // Written out: which kinds' execution roles each zone admits, and whose endpoints reach it.
    expect(Object.fromEntries(Object.entries(ZONE_CONTROLS).map(([zone, c]) => [zone, c.segments]))).toEqual({
      raw: ['pipeline'],
      curated: ['development', 'training', 'pipeline'],
      models: ['training', 'inference'],
      quarantine: ['pipeline'],
    });
    const kindActors = (actors: readonly string[]) =>
      actors.filter((a) => (SEGMENT_KINDS as readonly string[]).includes(a));
    expect(
      Object.fromEntries(
        Object.entries(ZONE_CONTROLS).map(([zone, c]) => [
          zone,
          {
            read: kindActors(c.readers),
            write: kindActors(c.writers),
            prefix: (c.prefixWriters ?? []).filter((w) => kindActors([w.actor]).length > 0),
          },
        ]),
      ),
    ).toEqual({
      raw: { read: [], write: [], prefix: [] },
      curated: { read: ['development', 'training'], write: [], prefix: [] },
      models: {
        read: ['inference'],
        write: ['training'],
        prefix: [{ actor: 'inference', prefix: 'data-capture/' }],
      },
      quarantine: { read: [], write: [], prefix: [] },
    });
    expect(SEGMENT_KIND_PROFILES.pipeline.sagemaker).toBeUndefined();
  });
});
