// Where the e2e browser harness keeps its throwaway data (models, cache, projects, exports).
// DIA_STUDIO_E2E_DATA_DIR lets two Playwright runs on one machine keep apart (with DIA_STUDIO_E2E_PORT).
export const E2E_DATA_DIR = process.env.DIA_STUDIO_E2E_DATA_DIR ?? 'test-results/e2e-data';
/** The clip "Import voice clip" picks in the harness (--voice-clip); e2e writes it before use. */
export const VOICE_CLIP = `${E2E_DATA_DIR}/voice-clip.wav`;
/** The folder "Add CUDA libraries" copies from (--cuda-folder), and where they go (--cuda-library-dir). */
export const CUDA_FOLDER = `${E2E_DATA_DIR}/cuda-source/onnxruntime-gpu`;
export const CUDA_LIBRARY_DIR = `${E2E_DATA_DIR}/ort-binding`;
/** The .diaproj file "Open file…" opens in the harness (--project-file); e2e copies an exported one there. */
export const PROJECT_FILE = `${E2E_DATA_DIR}/opened.diaproj`;
