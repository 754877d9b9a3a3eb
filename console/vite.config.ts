import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// The build lands in dist/app, embedded by the Go package beside it
// (dist/README.md stays, so that a tree without a build still compiles).
export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: true,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
})
