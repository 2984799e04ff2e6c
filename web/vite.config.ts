import { defineConfig } from 'vite';

// JSX goes through Vite's built-in esbuild transform with Preact's automatic runtime: no plugin needed.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One small app: a single chunk keeps the first load to two requests (index.js, index.css).
    chunkSizeWarningLimit: 400,
  },
});
