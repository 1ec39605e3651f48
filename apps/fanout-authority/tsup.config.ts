import { defineConfig } from 'tsup';

// The app ships as one self-contained bundle: the image copies dist/ alone, with no
// node_modules, so every dependency is bundled in.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  noExternal: [/.*/],
  banner: {
    js: "import { createRequire as __mdnsCreateRequire } from 'node:module'; const require = __mdnsCreateRequire(import.meta.url);",
  },
});
