import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module shared with the demo
import { repoRoot } from '../demo/topology.mjs';

// Every relative Markdown link in the repository's documents points at a file that exists:
// a document retired or moved takes its links with it.
const documents: string[] = execFileSync('git', ['ls-files', '*.md'], {
  cwd: repoRoot,
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean);

/** Relative link targets of a Markdown text, code blocks left out (`[a](b)` there is code). */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^(?:[a-z]+:|#)/i.test(target));
}

describe('links between documents', () => {
  it('finds the documents', () => {
    expect(documents).toContain('README.md');
  });

  it.each(documents)('%s: every relative link resolves', (document) => {
    const text = readFileSync(join(repoRoot, document), 'utf8');
    const broken = relativeLinks(text).filter(
      (target) => !existsSync(join(repoRoot, dirname(document), target.split('#')[0])),
    );
    expect(broken).toEqual([]);
  });
});
