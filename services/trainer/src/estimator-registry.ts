// Resolves a measure name to the estimator service that offers it (configuration + ListMeasures).
import { idempotentCall, makeClient, notFound, type TlsMaterial } from '@flowprune/grpc';
import { ImportanceEstimatorServiceClient, type MeasureInfo } from '@flowprune/proto';

export interface ResolvedEstimator {
  address: string;
  estimator: string;
  client: ImportanceEstimatorServiceClient;
  info: MeasureInfo;
}

export class EstimatorRegistry {
  private byMeasure?: Map<string, ResolvedEstimator>;

  constructor(
    private readonly addresses: string[],
    /** TLS for the estimator channels (null: plaintext; absent: the FLOWPRUNE_TLS_* variables). */
    private readonly tls?: TlsMaterial | null,
  ) {}

  /** Asks every configured estimator for its measures; the first address to offer a name wins. */
  async refresh(): Promise<Map<string, ResolvedEstimator>> {
    const map = new Map<string, ResolvedEstimator>();
    for (const address of this.addresses) {
      const client = makeClient(ImportanceEstimatorServiceClient, address, this.tls);
      const res = await idempotentCall(client, client.listMeasures, {}, { name: 'importance-estimator' });
      for (const info of res.measures) if (!map.has(info.name)) map.set(info.name, { address, estimator: res.estimator, client, info });
    }
    this.byMeasure = map;
    return map;
  }

  async resolve(measure: string): Promise<ResolvedEstimator> {
    let found = (this.byMeasure ?? (await this.refresh())).get(measure);
    if (!found) found = (await this.refresh()).get(measure);
    if (!found)
      throw notFound(`measure "${measure}" is offered by no configured estimator (${this.addresses.join(', ') || 'none'}); known: ${[...(this.byMeasure?.keys() ?? [])].join(', ')}`);
    return found;
  }
}
