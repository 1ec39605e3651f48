// Tiny flag parser shared by the scripts: --name value, --flag (true).
export function parseArgs(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else {
      out[key] = typeof defaults[key] === 'number' ? Number(next) : next;
      i++;
    }
  }
  return out;
}

export const stamp = () => new Date().toISOString().slice(11, 19);

/**
 * Stops the servers a script started when it is interrupted (Ctrl-C, SIGTERM): without
 * this the app processes would outlive the script.
 */
export function stopOnSignal(stop) {
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, async () => {
      console.log(`${sig}: stopping`);
      await stop();
      process.exit(130);
    });
  }
}
