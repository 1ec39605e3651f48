import { defineConfig } from 'tsup';
import { appBundle } from '../../tsup.app';

// The bundle settings both apps share (one self-contained, ASCII-only bundle) live in
// the repository's tsup.app.ts.
export default defineConfig(appBundle);
