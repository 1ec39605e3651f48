import type { Options } from 'tsup';

/**
 * How both apps are bundled (apps/<app>/tsup.config.ts use this; one place for it).
 *
 * Each app ships as one self-contained bundle: the image copies dist/ alone, with no
 * node_modules, so every dependency is bundled in.
 */
export const appBundle: Options = {
  entry: ['src/main.ts'],
  format: ['esm'],
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  noExternal: [/.*/],
  // V8 keeps the whole bundle source in memory as one string, two bytes per character if a
  // single character is not ASCII (measured: +2.3 MB of heap for the gateway's bundle).
  // `charset: 'ascii'` escapes strings and identifiers, but esbuild leaves regular
  // expression literals alone (write `\u00b5` there, infra/test/bundles.test.ts checks) and
  // only minification drops the comments. Identifiers are kept, so stack traces stay
  // readable without the source map.
  minifyWhitespace: true,
  minifySyntax: true,
  esbuildOptions(options) {
    options.charset = 'ascii';
    // client-node's node-fetch 2 -> whatwg-url 5 -> tr46 requires Node's built-in
    // `punycode`, deprecated since Node 21: every start on Node 24 (the images) printed
    // DEP0040. The userland package of the same name is the drop-in its warning names.
    options.alias = { ...options.alias, punycode: 'punycode/' };
  },
  banner: {
    js: "import { createRequire as __mdnsCreateRequire } from 'node:module'; const require = __mdnsCreateRequire(import.meta.url);",
  },
};
