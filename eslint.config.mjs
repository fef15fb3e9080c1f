// Lint: typescript-eslint's recommended rules plus Nx module boundaries, which keep the layering of
// docs/architecture.md#layers-and-what-each-may-import: contracts → libs (no gRPC) → services/tools.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Files that are tests or test helpers (the only ones that may import a lib's testing entry).
const TEST_FILES = ['**/*.test.ts', '**/*.test-util.ts', '**/test-*.ts', '**/testing.ts', '**/testing/**', '**/testdata/**'];

export default [
  { ignores: ['**/node_modules', '**/dist', '.nx', 'runs', '.flowprune', 'libs/proto/src/gen/**', 'libs/onnx/src/gen/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Generated contracts depend on nothing of ours.
            { sourceTag: 'type:proto', onlyDependOnLibsWithTags: [] },
            // The small gRPC helper lib: contracts only.
            { sourceTag: 'type:grpc', onlyDependOnLibsWithTags: ['type:proto'] },
            // Logic libs: other logic libs only, no gRPC at all, and no command-line parsing (flags
            // belong to the services and tools that own a command line).
            {
              sourceTag: 'type:lib',
              onlyDependOnLibsWithTags: ['type:lib'],
              bannedExternalImports: ['@grpc/*', 'grpc-health-check', '@bufbuild/*', 'commander', 'yargs', 'yargs-parser'],
            },
            // Layers inside the libs: compute and io at the bottom, models above compute, algorithms on top.
            { sourceTag: 'layer:base', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'layer:compute', onlyDependOnLibsWithTags: ['layer:base'] },
            { sourceTag: 'layer:io', onlyDependOnLibsWithTags: ['layer:base', 'layer:io'] },
            { sourceTag: 'layer:model', onlyDependOnLibsWithTags: ['layer:base', 'layer:compute'] },
            // Other tools' file formats (ONNX): read and write models, so above them.
            { sourceTag: 'layer:interop', onlyDependOnLibsWithTags: ['layer:base', 'layer:compute', 'layer:model', 'layer:io'] },
            {
              sourceTag: 'layer:algorithm',
              onlyDependOnLibsWithTags: ['layer:base', 'layer:compute', 'layer:model', 'layer:io', 'layer:algorithm'],
            },
            // Services and tools are adapters: libs, contracts and the gRPC helper; never each other.
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', 'type:grpc', 'type:proto'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:grpc', 'type:proto'] },
            // The one exception: the CLI (type:cli, a tool otherwise) calls the bench suites of tools/bench
            // (type:bench), which import no tool themselves. No other project may import either.
            { sourceTag: 'type:cli', onlyDependOnLibsWithTags: ['type:lib', 'type:grpc', 'type:proto', 'type:bench'] },
            { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib', 'type:grpc', 'type:proto'] },
          ],
        },
      ],
    },
  },
  {
    // A lib's testing entry (`@flowprune/<lib>/testing`, or its src/testing/ folder) is for tests only:
    // production code may not import it (docs/architecture.md#layers-and-what-each-may-import).
    // typescript-eslint's copy of the rule, so that it adds to the @tensorflow restriction below.
    files: ['**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^@flowprune/[^/]+/testing(/.*)?$|(^|/)testing(/|\\.js$)',
              message: 'test helpers are for tests (*.test.ts, *.test-util.ts, test-*.ts, testing/): production code may not import a testing entry',
            },
          ],
        },
      ],
    },
  },
  {
    // TensorFlow.js is reached only through libs/tensor (one engine, one backend choice).
    files: ['libs/**/*.ts', 'services/**/*.ts', 'tools/**/*.ts'],
    ignores: ['libs/tensor/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@tensorflow/*'], message: "import { tf } from '@flowprune/tensor' instead" }] }],
    },
  },
];
