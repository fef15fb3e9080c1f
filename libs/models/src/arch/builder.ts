import type { CostOp, FilterLayer, ParamSpec } from './types.js';

/** Collects state_dict entries, filter layers and cost ops while an architecture is described. */
export class NetBuilder {
  readonly params: ParamSpec[] = [];
  readonly filterLayers: FilterLayer[] = [];
  readonly costOps: CostOp[] = [];

  /** A bias-free conv (`prefix.weight`) producing an hOut x wOut map. */
  conv(prefix: string, cin: number, cout: number, k: number, stride: number, hOut: number, groups = 1): string {
    const name = `${prefix}.weight`;
    this.params.push({ name, shape: [cout, cin / groups, k, k], kind: 'conv', groups });
    this.costOps.push({ op: 'conv', cin, cout, k, groups, hOut, wOut: hOut });
    return name;
  }

  bn(prefix: string, c: number, hw: number): void {
    this.params.push(
      { name: `${prefix}.weight`, shape: [c], kind: 'bn_weight' },
      { name: `${prefix}.bias`, shape: [c], kind: 'bn_bias' },
      { name: `${prefix}.running_mean`, shape: [c], kind: 'bn_running_mean' },
      { name: `${prefix}.running_var`, shape: [c], kind: 'bn_running_var' },
      { name: `${prefix}.num_batches_tracked`, shape: [], kind: 'bn_num_batches_tracked' },
    );
    this.costOps.push({ op: 'bn', numel: c * hw * hw });
  }

  /** Registers conv + BN as the next filter layer. */
  filterLayer(conv: string, bn: string, cin: number, cout: number, k: number, stride: number, groups = 1): void {
    this.filterLayers.push({
      index: this.filterLayers.length,
      conv,
      bn,
      outChannels: cout,
      inChannels: cin,
      groups,
      kernel: k,
      stride,
      fanIn: (cin / groups) * k * k,
    });
  }

  linear(prefix: string, inFeatures: number, outFeatures: number): void {
    this.params.push(
      { name: `${prefix}.weight`, shape: [outFeatures, inFeatures], kind: 'linear_weight' },
      { name: `${prefix}.bias`, shape: [outFeatures], kind: 'linear_bias' },
    );
    this.costOps.push({ op: 'linear', inFeatures, outFeatures });
  }

  reluModule(numel: number): void {
    this.costOps.push({ op: 'relu', numel });
  }

  maxPool(numelIn: number): void {
    this.costOps.push({ op: 'maxpool', numelIn });
  }
}
