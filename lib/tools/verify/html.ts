import { readFileSync } from 'node:fs';
import { Marked } from 'marked';

/** The report as one HTML file: no request leaves it, the diagram renders, every table sorts. */
export function renderHtml(markdown: string): string {
  const marked = new Marked({
    gfm: true,
    renderer: {
      // Mermaid renders the diagram from its source, in the page.
      code({ text, lang }) {
        return lang === 'mermaid' ? `<pre class="mermaid">${escapeHtml(text)}</pre>\n` : false;
      },
    },
  });
  const body = marked.parse(markdown, { async: false });
  const mermaid = readFileSync(require.resolve('mermaid/dist/mermaid.min.js'), 'utf8');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>Compliance evidence: AI segmentation blueprint</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 80rem; padding: 0 1rem; color: #1b1f24; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
code { font-size: 12px; word-break: break-all; }
pre.mermaid { background: #fff; }
</style>
</head>
<body>
${body}
<script>${mermaid.replace(/<\/script/gi, '<\\/script')}</script>
<script>
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
mermaid.run({ querySelector: 'pre.mermaid' }).then(() => document.body.setAttribute('data-diagram', 'rendered'),
  (error) => document.body.setAttribute('data-diagram', 'failed: ' + error));
for (const table of document.querySelectorAll('table')) {
  table.querySelectorAll('th').forEach((th, column) => th.addEventListener('click', () => {
    const ascending = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach((other) => other.removeAttribute('aria-sort'));
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    const body = table.tBodies[0];
    const rows = [...body.rows].sort((a, b) => a.cells[column].textContent.localeCompare(b.cells[column].textContent, undefined, { numeric: true }));
    if (!ascending) rows.reverse();
    body.append(...rows);
  }));
}
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}
