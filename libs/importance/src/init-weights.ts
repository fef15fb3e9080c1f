// θ₀ for the *_init measures: the filter layers' conv weights at initialisation, read from a
// safetensors file that may hold only those tensors (fixtures' init.safetensors) or a whole
// checkpoint; `module.` prefixes (DataParallel) are stripped.
import { parseSafeTensors, type Model } from '@flowprune/models';
import { MeasureError } from './measure.js';

export function initWeightsFromSafeTensors(bytes: Uint8Array, model: Model, field = 'init_model'): Map<string, Float32Array> {
  let tensors;
  try {
    tensors = parseSafeTensors(bytes, field).tensors;
  } catch (e) {
    throw new MeasureError((e as Error).message, field);
  }
  const byName = new Map([...tensors].map(([k, v]) => [k.startsWith('module.') ? k.slice(7) : k, v]));
  const specs = new Map(model.net.params.map((p) => [p.name, p]));
  const out = new Map<string, Float32Array>();
  for (const layer of model.net.filterLayers) {
    const t = byName.get(layer.conv);
    const shape = specs.get(layer.conv)!.shape;
    if (!t) throw new MeasureError(`${field}: has no tensor ${layer.conv}; θ₀ needs every filter layer's conv weight`, field);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new MeasureError(`${field}: ${layer.conv} has shape [${t.shape}] but the model needs [${shape}]`, field);
    if (t.dtype !== 'F32' && t.dtype !== 'F64') throw new MeasureError(`${field}: ${layer.conv} must be F32 or F64, got ${t.dtype}`, field);
    out.set(layer.conv, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as Float64Array));
  }
  return out;
}
