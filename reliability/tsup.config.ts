import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // The workspace packages resolve from node_modules at run time (their own dist/), so the
  // scripts run exactly the code the apps run; bundling their CJS dependencies breaks ESM.
  external: [/^@mdns\//],
});
