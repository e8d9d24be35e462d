import { defineConfig } from 'vite';

// Tauri loads `dist/` (tauri.conf.json `frontendDist`) or this dev server.
export default defineConfig({
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
  test: { include: ['src/**/*.test.ts'] },
});
