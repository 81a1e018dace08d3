import {
  codeExecution,
  importKey,
  invalidPath,
  parseImportKey,
  recordKey,
  sameRequester,
} from '../../../lib/airlock';

const ALICE = 'AROAEXAMPLEIMPORTER1:alice';

describe('the airlock contract', () => {
  test('an import key names its uploader, kind and path, and reads back to its target', () => {
    const key = importKey(ALICE, 'dataset', 'clinical/patients/2026-11.csv');
    expect(key).toBe('incoming/AROAEXAMPLEIMPORTER1:alice/dataset/clinical/patients/2026-11.csv');
    expect(parseImportKey(key)).toEqual({
      uploaderId: ALICE,
      uploaderRoleId: 'AROAEXAMPLEIMPORTER1',
      uploaderSession: 'alice',
      kind: 'dataset',
      path: 'clinical/patients/2026-11.csv',
      targetZone: 'raw',
      targetKey: 'clinical/patients/2026-11.csv',
    });
    // Models land under imported/, never in place of what training wrote.
    expect(parseImportKey(importKey(ALICE, 'model', 'llm/model.safetensors'))).toMatchObject({
      targetZone: 'models',
      targetKey: 'imported/llm/model.safetensors',
    });
  });

  test.each([
    ['incoming/alice/dataset/x.csv', 'names no role session'],
    ['incoming/AROAEXAMPLEIMPORTER1:alice/script/x.sh', 'names kind script'],
    ['incoming/AROAEXAMPLEIMPORTER1:alice/dataset/../curated/x.csv', 'is not a path'],
    ['incoming/AROAEXAMPLEIMPORTER1:alice/dataset', 'is not incoming/'],
    ['elsewhere/AROAEXAMPLEIMPORTER1:alice/dataset/x.csv', 'is not incoming/'],
  ])('a key outside the layout is held with the reason: %s', (key, why) => {
    const parsed = parseImportKey(key);
    expect('error' in parsed && parsed.error).toContain(why);
  });

  test('paths are parts of safe characters', () => {
    expect(invalidPath('clinical/patients/a.csv')).toBeUndefined();
    for (const bad of ['', '/abs', 'a//b', '.hidden', 'a/../b', 'a b', 'x'.repeat(701)]) {
      expect(invalidPath(bad)).toContain('is not a path the airlock takes');
    }
  });

  test('formats that run code when loaded are told by name and by content', () => {
    const none = new Uint8Array();
    for (const name of ['pytorch_model.bin', 'model.PT', 'weights.pth', 'clf.pkl', 'm.joblib', 'k.h5']) {
      expect(codeExecution(name, none)).toContain('a format that runs code when loaded');
    }
    // Formats that hold only data, told by their first bytes.
    const header = new TextEncoder().encode('{"__metadata__":{}}');
    const safetensors = Uint8Array.from([...Buffer.from([header.length, 0, 0, 0, 0, 0, 0, 0]), ...header]);
    const data: [string, Uint8Array][] = [
      ['model.safetensors', safetensors],
      ['model.gguf', new TextEncoder().encode('GGUF\u0003\u0000')],
      ['model.onnx', Uint8Array.from([0x08, 0x07, 0x12])],
      ['tokenizer.model', Uint8Array.from([0x0a, 0x0b])],
      ['data.parquet', new TextEncoder().encode('PAR1....')],
      ['config.json', new TextEncoder().encode('{"model_type":"llama"}')],
      ['cohort.csv', new TextEncoder().encode('patient_id,name\n1,Zoë\n')],
      ['empty.csv', new Uint8Array()],
    ];
    for (const [name, head] of data) expect([name, codeExecution(name, head)]).toEqual([name, undefined]);
    // A pickle renamed .safetensors, and PyTorch's zip holding data.pkl, are still caught.
    expect(codeExecution('model.safetensors', Uint8Array.from([0x80, 0x04, 0x95]))).toContain(
      'Python pickle',
    );
    const zip = new TextEncoder().encode('PK\u0003\u0004....archive/data.pkl....');
    expect(codeExecution('model.safetensors', zip)).toContain('zip archive holding a pickle');
    // Fails closed: what is not known to hold only data may run code. A protocol 0 pickle, a
    // compressed pickle, a zip whose pickle lies past the first bytes, binary named .csv, a NumPy
    // array (object arrays unpickle), a safetensors name on other bytes.
    const unknown: [string, Uint8Array][] = [
      ['model.safetensors', new TextEncoder().encode("(dp0\nS'a'\np1\n")],
      ['weights.gz', Uint8Array.from([0x1f, 0x8b, 0x08])],
      ['data.zip', new TextEncoder().encode('PK\u0003\u0004....a.csv')],
      ['data.csv', Uint8Array.from([0x00, 0x01, 0x02])],
      ['arr.npy', new TextEncoder().encode('\u0093NUMPY')],
      ['model.onnx', Uint8Array.from([0x80, 0x02])],
    ];
    for (const [name, head] of unknown)
      expect([name, codeExecution(name, head)]).toEqual([
        name,
        expect.stringMatching(/runs code|may run code|pickle/),
      ]);
  });

  test('the same principal may not request and approve, by role or by session', () => {
    expect(sameRequester(ALICE, 'AROAEXAMPLEIMPORTER1:bob')).toContain('role that requested');
    expect(sameRequester(ALICE, 'AROAEXAMPLEREVIEWER1:Alice')).toContain('same person');
    expect(sameRequester(ALICE, 'AROAEXAMPLEREVIEWER1:bob')).toBeUndefined();
  });

  test('decision records are keyed by day, request and time', () => {
    expect(recordKey('req-1', 'approved', '2026-12-01T10:00:00.000Z')).toBe(
      'decisions/2026/12/01/req-1/2026-12-01T10:00:00.000Z-approved.json',
    );
  });
});
