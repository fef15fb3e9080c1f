import { Argument, Option, type Command } from 'commander';
import { fetchCifar, generateSyntheticCifar10, type CifarArchiveFormat, type SyntheticFormat } from '@flowprune/data';
import { downloadBar } from '../download-bar.js';

interface FetchFlags {
  dir: string;
  format: CifarArchiveFormat;
  url?: string;
  md5?: string;
  retries: number;
  keepArchive: boolean;
}

interface SynthFlags {
  dir: string;
  format: SyntheticFormat;
  trainPerClass: number;
  testPerClass: number;
  seed: number;
}

export function registerData(program: Command): void {
  const data = program.command('data').description('datasets: download CIFAR-10/100, generate a synthetic stand-in');

  data
    .command('fetch')
    .description('download CIFAR from the official URL with MD5 verification; resumable; installed atomically as <dir>/<archive folder>')
    .addArgument(new Argument('<dataset>', 'which dataset').choices(['cifar10', 'cifar100']))
    .requiredOption('--dir <dir>', 'parent folder for the dataset')
    .addOption(new Option('--format <format>', 'which official archive').choices(['binary', 'python']).default('binary'))
    .option('--url <url>', "a mirror of the official archive (checked against the official MD5 unless --md5)")
    .option('--md5 <hex>', 'expected MD5 of the archive at --url')
    .option('--retries <n>', 'resume attempts after a dropped connection', Number, 3)
    .option('--keep-archive', 'keep the .tar.gz after unpacking', false)
    .action(async (dataset: 'cifar10' | 'cifar100', o: FetchFlags) => {
      const bar = downloadBar();
      try {
        const r = await fetchCifar({
          dataset,
          format: o.format,
          dir: o.dir,
          url: o.url,
          md5: o.md5,
          retries: o.retries,
          keepArchive: o.keepArchive,
          onProgress: (p) => bar.update(p),
          onStatus: (line) => process.stderr.write(`${line}\n`),
        });
        bar.stop();
        const sizes = r.status === 'fetched' ? `: ${r.trainSize} train / ${r.testSize} test images, ${r.numClasses} classes` : ' (already present)';
        console.log(`${dataset} ${r.format} ready in ${r.path}${sizes}`);
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
