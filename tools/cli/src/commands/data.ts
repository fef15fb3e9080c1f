import { Argument, Option, type Command } from 'commander';
import {
  fetchCifar,
  fetchIdx,
  generateSyntheticCifar10,
  IDX_SYSTEM_DIRS,
  IDX_VARIANT_NAMES,
  type CifarArchiveFormat,
  type FetchResult,
  type IdxVariant,
  type SyntheticFormat,
} from '@flowprune/data';
import { downloadBar } from '../download-bar.js';

interface FetchFlags {
  dir: string;
  format: CifarArchiveFormat;
  url?: string;
  md5?: string;
  from?: string;
  retries: number;
  keepArchive: boolean;
}

const CIFAR = ['cifar10', 'cifar100'] as const;
type FetchDataset = (typeof CIFAR)[number] | IdxVariant;
const isIdx = (d: FetchDataset): d is IdxVariant => (IDX_VARIANT_NAMES as readonly string[]).includes(d);
const installed = Object.entries(IDX_SYSTEM_DIRS).map(([d, dir]) => `--from ${dir} (${d})`).join(', ');

interface SynthFlags {
  dir: string;
  format: SyntheticFormat;
  trainPerClass: number;
  testPerClass: number;
  seed: number;
}

export function registerData(program: Command): void {
  const data = program.command('data').description('datasets: download CIFAR-10/100 and the MNIST family, generate a synthetic stand-in');

  data
    .command('fetch')
    .description(
      'download a dataset from its official URLs with MD5 verification; resumable; installed atomically as <dir>/<archive folder> ' +
        '(CIFAR) or <dir>/<dataset> (MNIST family, idx files); or link an installed copy into place with --from',
    )
    .addArgument(new Argument('<dataset>', 'which dataset').choices([...CIFAR, ...IDX_VARIANT_NAMES]))
    .requiredOption('--dir <dir>', 'parent folder for the dataset')
    .addOption(new Option('--format <format>', 'which official CIFAR archive').choices(['binary', 'python']).default('binary'))
    .option('--url <url>', 'a mirror: of the CIFAR archive, or the folder URL the four idx .gz files are in (checked against the official MD5s unless --md5)')
    .option('--md5 <hex>', 'CIFAR: expected MD5 of the archive at --url')
    .option('--from <dir>', `MNIST family: an installed copy to use in place (read through once, then linked as <dir>/<dataset>; nothing copied), e.g. ${installed}`)
    .option('--retries <n>', 'resume attempts after a dropped connection', Number, 3)
    .option('--keep-archive', 'keep the CIFAR .tar.gz after unpacking', false)
    .action(async (dataset: FetchDataset, o: FetchFlags) => {
      const bar = downloadBar();
      const common = { dir: o.dir, retries: o.retries, onProgress: bar.update, onStatus: (line: string) => process.stderr.write(`${line}\n`) };
      try {
        let r: FetchResult;
        if (isIdx(dataset)) {
          if (o.md5) throw new Error('--md5 is for CIFAR archives; the MNIST family is checked against the MD5s published for each of its four files');
          r = await fetchIdx({ dataset, ...common, mirrors: o.url ? [o.url.endsWith('/') ? o.url : `${o.url}/`] : undefined, from: o.from });
        } else {
          if (o.from) throw new Error('--from is for the MNIST family (idx files); point the data-loader at a CIFAR folder with --dataset name=dir instead');
          r = await fetchCifar({ dataset, ...common, format: o.format, url: o.url, md5: o.md5, keepArchive: o.keepArchive });
        }
        bar.stop();
        const sizes = r.status === 'present' ? ' (already present)' : `: ${r.trainSize} train / ${r.testSize} test images, ${r.numClasses} classes`;
        console.log(`${dataset} ${r.format} ${r.status === 'linked' ? 'linked' : 'ready'} in ${r.path}${sizes}`);
        console.log(`serve it: node services/data-loader/bin/flowprune-data-loader.mjs --dataset ${dataset}=${r.path}`);
      } finally {
        bar.stop();
      }
    });

  data
    .command('synth')
    .description('write the synthetic CIFAR-10 stand-in (learnable class patterns) in any served layout')
    .requiredOption('--dir <dir>', 'output folder (the dataset root)')
    .addOption(new Option('--format <format>', 'layout').choices(['binary', 'python', 'image-folder']).default('binary'))
    .option('--train-per-class <n>', 'training images per class', Number, 500)
    .option('--test-per-class <n>', 'test images per class', Number, 100)
    .option('--seed <n>', 'seed', Number, 0)
    .action((o: SynthFlags) => {
      const r = generateSyntheticCifar10({ dir: o.dir, format: o.format, trainPerClass: o.trainPerClass, testPerClass: o.testPerClass, seed: o.seed });
      console.log(`synthetic CIFAR-10 (${o.format}) in ${r.dir}: ${r.trainCount} train / ${r.testCount} test images, ${r.files.length} files`);
    });
}
