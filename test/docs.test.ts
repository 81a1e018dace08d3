import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..');

/** The README's budget: what the project is, how to start, and a map of the pages under docs/. */
const README_MAX_BYTES = 15_000;

/** The hand-written pages, as paths relative to the repository root. */
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((file) => file.endsWith('.md'))
    .sort()
    .map((file) => `docs/${file}`),
];

const read = (page: string) => readFileSync(join(ROOT, page), 'utf8');

/** Markdown without its fenced code blocks (their lines kept, blank, so line numbers hold). */
function withoutFences(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker) {
        fence = marker;
        return '';
      }
      if (fence !== undefined) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
          fence = undefined;
        }
        return '';
      }
      return line;
    })
    .join('\n');
}

/** Code spans (which may run over a line break) replaced by their text with no Markdown in it. */
const withoutCodeSpans = (text: string) => text.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, 'code');

/** The text GitHub renders for a heading: code spans, links, emphasis and HTML reduced to their text. */
const headingText = (heading: string) =>
  heading
    .replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, '$2')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\*+/g, '');

/** GitHub's anchors for a page's headings (github-slugger): duplicates get -1, -2, ... */
function headingAnchors(markdown: string): string[] {
  const occurrences = new Map<string, number>();
  const anchors: string[] = [];
  for (const line of withoutFences(markdown).split('\n')) {
    const heading = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (!heading) continue;
    const base = headingText(heading[1] ?? '')
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    let anchor = base;
    while (occurrences.has(anchor)) {
      const n = (occurrences.get(base) ?? 0) + 1;
      occurrences.set(base, n);
      anchor = `${base}-${n}`;
    }
    occurrences.set(anchor, 0);
    anchors.push(anchor);
  }
  return anchors;
}

/** Every link target of a page (inline links, images, reference definitions), outside code. */
function linkTargets(markdown: string): string[] {
  const text = withoutCodeSpans(withoutFences(markdown));
  const inline = [...text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)];
  const definitions = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm)];
  return [...inline, ...definitions].map((match) => match[1]);
}

/** What is wrong with each relative link of a page: a missing file or an anchor with no heading. */
function brokenLinks(page: string): string[] {
  const problems: string[] = [];
  for (const target of linkTargets(read(page))) {
    if (/^(https?:|mailto:)/i.test(target)) continue;
    const hash = target.indexOf('#');
    const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), path);
    const fromRoot = relative(ROOT, file).split(sep).join(posix.sep);
    if (path === '' && anchor === undefined) {
      problems.push(`${page}: empty link`);
      continue;
    }
    if (fromRoot.startsWith('..')) {
      problems.push(`${page}: ${target} leaves the repository`);
      continue;
    }
    if (!existsSync(file)) {
      problems.push(`${page}: ${target}: ${fromRoot} does not exist`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(file).isDirectory() || !file.endsWith('.md')) {
      problems.push(`${page}: ${target}: an anchor into ${fromRoot}, which is not a Markdown page`);
    } else if (!headingAnchors(readFileSync(file, 'utf8')).includes(anchor)) {
      problems.push(`${page}: ${target}: ${fromRoot} has no heading with anchor #${anchor}`);
    }
  }
  return problems;
}

describe('documentation', () => {
  test('the README stays under its budget', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThan(README_MAX_BYTES);
  });

  test('the pages include the README, CONTRIBUTING and the pages under docs/', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/deploy.md']));
  });

  test.each(PAGES)('%s has exactly one title', (page) => {
    const titles = withoutFences(read(page))
      .split('\n')
      .filter((line) => /^# /.test(line));
    expect(titles).toHaveLength(1);
  });

  test.each(PAGES)("%s: every relative link's file exists and every anchor names a heading", (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  test('every page the README maps is linked from it', () => {
    const targets = new Set(linkTargets(read('README.md')).map((target) => target.split('#')[0]));
    for (const page of PAGES.filter((p) => p.startsWith('docs/'))) expect(targets).toContain(page);
  });
});

describe('the link checker', () => {
  test("anchors follow GitHub's rules: lower case, spaces to hyphens, punctuation dropped, duplicates numbered", () => {
    const markdown = [
      "# Reading the gate's output",
      '## `CT.S3.PR.9` and IDS/IPS rules',
      '```sh',
      '# not a heading',
      '```',
      '## Notes',
      '## Notes',
      '## Notes',
      '## Notes-1',
    ].join('\n');
    expect(headingAnchors(markdown)).toEqual([
      'reading-the-gates-output',
      'cts3pr9-and-idsips-rules',
      'notes',
      'notes-1',
      'notes-2',
      'notes-1-1',
    ]);
  });

  test('finds links and images but not what is inside code', () => {
    const markdown = [
      'See [Cost](cost.md#cost) and [`rules/`](../rules/suricata), ![diagram](img.png).',
      'Not `[a](b.md)`, nor:',
      '```',
      '[c](d.md)',
      '```',
      '[ref]: other.md#top',
    ].join('\n');
    expect(linkTargets(markdown)).toEqual(['cost.md#cost', '../rules/suricata', 'img.png', 'other.md#top']);
  });
});
