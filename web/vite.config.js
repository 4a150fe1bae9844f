// Vite builds the map into web/dist, which `civmap serve --web web/dist` serves at "/".
// `npm run dev` serves the sources with hot reload and forwards the API to a running civmap
// (CIVMAP_URL, default http://127.0.0.1:8090).
import { defineConfig } from 'vite';

const api = process.env.CIVMAP_URL || 'http://127.0.0.1:8090';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // MapLibre GL JS alone is ~1 MB minified; it is one chunk on purpose.
    chunkSizeWarningLimit: 1600,
  },
  server: {
    proxy: {
      '/api': api,
      '/glyphs': api,
      '/health': api,
    },
  },
});
