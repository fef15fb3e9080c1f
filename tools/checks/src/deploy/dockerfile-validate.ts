// Dockerfiles: the Dockerfile language checks of dockerfile-utils (the linter behind the Docker
// language server: instructions, arguments, flags, ports, image references), and the facts our
// images rely on, read with its parser: base images, pinned tags, a non-root user.
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

export function dockerfileLintErrors(text: string, file: string): string[] {
  return validate(text).map((d) => `${file}:${d.range.start.line + 1}: ${d.message}`);
}

export interface DockerfileFacts {
  /** Base image of each stage, as written (`name:tag`), in order; stage names resolved away. */
  bases: string[];
  /** The final stage's base. */
  finalBase: string;
  /** The final stage's last USER, if any. */
  finalUser?: string;
  /** Every RUN command, joined. */
  runs: string;
  /** `FROM` images without an explicit tag (or with `latest`). */
  unpinned: string[];
}

export function dockerfileFacts(text: string): DockerfileFacts {
  const df = DockerfileParser.parse(text);
  const stages = new Set<string>();
  const bases: string[] = [];
  const unpinned: string[] = [];
  let finalUser: string | undefined;
  for (const instr of df.getInstructions()) {
    const kw = instr.getKeyword();
    if (kw === 'FROM') {
      const from = df.getFROMs().find((f) => f.getRange().start.line === instr.getRange().start.line)!;
      const image = from.getImageName() ?? '';
      const tag = from.getImageTag();
      bases.push(stages.has(image) ? `stage:${image}` : `${image}:${tag ?? ''}`);
      if (image && !stages.has(image) && (!tag || tag === 'latest')) unpinned.push(image);
      const stage = from.getBuildStage();
      if (stage) stages.add(stage);
      finalUser = undefined;
    } else if (kw === 'USER') finalUser = instr.getArgumentsContent() ?? undefined;
  }
  const runs = df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'RUN')
    .map((i) => i.getArgumentsContent() ?? '')
    .join('\n');
  return { bases, finalBase: bases.at(-1) ?? '', finalUser, runs, unpinned };
}
