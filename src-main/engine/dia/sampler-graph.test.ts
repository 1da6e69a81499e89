// The in-graph sampler must pick exactly what the JS TokenSampler picks, for every order and
// parameter mix, with ties, masked specials, EOS-led channels and per-line parameters in one batch.
// Real ONNX Runtime sessions over a graph holding only the sampler (testing/sampler-harness.ts).
import { samplerAgreementSuite } from './testing/sampler-harness.ts';

samplerAgreementSuite('in-graph sampler, exact numerics', { numerics: 'exact', providers: ['cpu'], runs: [150, 40], seed: 20261206 });

// 'device' numerics (float32 weights, int32 counts: the unrolled graph's, for WebGPU) could in
// principle move a draw where float32 rounding crosses the uniform's threshold or top-p's cut; in
// these runs (and 20 000 draws more, checked once) they pick what the JS sampler picks.
samplerAgreementSuite('in-graph sampler, device numerics', { numerics: 'device', providers: ['cpu'], runs: [150, 40], seed: 20261206 });
