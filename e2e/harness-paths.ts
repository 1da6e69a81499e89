// Where the e2e browser harness keeps its throwaway data (models, cache, projects, exports).
export const E2E_DATA_DIR = 'test-results/e2e-data';
