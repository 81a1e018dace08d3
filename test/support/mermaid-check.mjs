// Parses a Mermaid flowchart with Mermaid itself (in jsdom) and prints what it understood: each
// subgraph with its title and nodes, each vertex with its label, each edge. Reads the diagram on
// standard input; exits 1 with the parser's message when Mermaid refuses it. Run by the verifier's
// report tests in a child process, because Mermaid is an ES module that jest's CommonJS cannot load.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

const text = readFileSync(0, 'utf8');
try {
  await mermaid.parse(text);
  const { db } = await mermaid.mermaidAPI.getDiagramFromText(text);
  const vertices = [...db.getVertices().values()].map((v) => ({ id: v.id, label: v.text }));
  const subgraphs = db.getSubGraphs().map((s) => ({ id: s.id, title: s.title, nodes: s.nodes }));
  const edges = db.getEdges().map((e) => ({ from: e.start, to: e.end }));
  process.stdout.write(JSON.stringify({ vertices, subgraphs, edges }));
} catch (error) {
  process.stderr.write(String(error?.message ?? error));
  process.exitCode = 1;
}
