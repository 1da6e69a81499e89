// Vite bundles a worker/worklet entry and returns its URL (used for the AudioWorklet module).
declare module '*?worker&url' {
  const url: string;
  export default url;
}
