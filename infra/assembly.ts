/**
 * Reads a synthesized cloud assembly (a `cdk synth` output folder) into the template documents the deploy
 * rules check (infra/deploy-rules.ts): every top-level stack's template and, recursively, its nested stacks'
 * templates, each nested one linked to the template and AWS::CloudFormation::Stack resource that holds it
 * (CDK records the nested template's file in the resource's `aws:asset:path` metadata).
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnTemplate, TemplateDoc } from './deploy-rules.ts';

interface ManifestArtifact {
  type: string;
  properties?: { templateFile?: string };
}

export function assemblyTemplates(dir: string): TemplateDoc[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, ManifestArtifact>;
  };
  const docs: TemplateDoc[] = [];
  const load = (file: string, parent?: string, parentResource?: string) => {
    const path = join(dir, file);
    const template = JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
    docs.push({ name: file, template, bytes: statSync(path).size, parent, parentResource });
    for (const [id, r] of Object.entries(template.Resources ?? {})) {
      if (r.Type !== 'AWS::CloudFormation::Stack') continue;
      const nested = (r.Metadata as Record<string, unknown> | undefined)?.['aws:asset:path'];
      if (typeof nested !== 'string') throw new Error(`${file}: nested stack ${id} has no aws:asset:path metadata`);
      load(nested, file, id);
    }
  };
  for (const artifact of Object.values(manifest.artifacts)) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) load(artifact.properties.templateFile);
  }
  return docs;
}
