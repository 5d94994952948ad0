// Builds the GUI to dist/: static files with hashed names under assets/, everything bundled (no
// CDN), which `jobmon server` serves at / (packages/server/src/web.ts).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1000 },
});
