// biome-ignore-all lint/suspicious/noExplicitAny: Terraform JSON and Engine API answers are untyped
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve as resolvePath } from 'node:path';
import {
  dependenciesOf,
  resolveInterpolations,
  resource,
  resourceAddresses,
  type TerraformJson,
} from '../support/synth.js';
import { docker, dockerOk, inspect } from './docker-cli.js';
import { engineApi } from './engine-api.js';

/**
 * Applies a synthesized selfmx-local (cdk.tf.json) to the Docker engine the way `terraform
 * apply` with the docker provider would, for the attributes the stack uses: network, volume,
 * images (pulled ones must exist: no registry here; built ones with `docker build`), containers
 * with env, networks, ports, volumes, tmpfs, upload, restart policy, labels, read_only,
 * healthcheck + `wait`, `removed` blocks,
 * `attach` + `logs` + `must_run = false`, and the `self.exit_code == 0` postcondition.
 * Terraform's own order for a replacement is kept: containers to replace are destroyed first
 * (dependents before what they depend on), then everything is created in dependency order.
 * Terraform and the provider are the only parts simulated here.
 */
export class TerraformDockerApply {
  /** Terraform state: address -> the resolved configuration it was applied with + attributes. */
  private readonly state = new Map<
    string,
    { config: string; attributes: Record<string, string> }
  >();

  /** @param stackDirectory where cdk.tf.json lies: Terraform's working directory. */
  constructor(private readonly stackDirectory: string) {}

  attribute(address: string, name: string): string {
    const value = this.state.get(address)?.attributes[name];
    if (value === undefined) throw new Error(`${address}.${name} is not in the state`);
    return value;
  }

  async apply(json: TerraformJson): Promise<void> {
    // `removed { lifecycle { destroy = false } }`: Terraform forgets the object, leaving it be.
    for (const removed of json.removed ?? []) {
      if (removed.lifecycle?.destroy !== false) throw new Error(`cannot apply removed ${removed}`);
      this.state.delete(removed.from);
    }
    const order = dependencyOrder(json);
    const replaced = new Set<string>();
    for (const address of order.filter((a) => !a.startsWith('docker_container.'))) {
      if (await this.applyOne(json, address)) replaced.add(address);
    }
    const containers = order.filter((a) => a.startsWith('docker_container.'));
    const toReplace = containers.filter((address) => {
      const item = this.item(json, address);
      const triggered = (item.lifecycle?.replace_triggered_by ?? []).some((t: string) =>
        replaced.has(t),
      );
      const previous = this.state.get(address);
      return (
        previous !== undefined && (triggered || previous.config !== this.configOf(json, address))
      );
    });
    for (const address of [...toReplace].reverse()) await this.destroyContainer(address);
    for (const address of containers) await this.applyOne(json, address);
  }

  /** `terraform destroy`: containers, then images not kept locally, volumes, the network. */
  async destroy(json: TerraformJson): Promise<void> {
    for (const address of dependencyOrder(json).reverse()) {
      const [type] = address.split('.');
      const state = this.state.get(address);
      if (state === undefined) continue;
      if (type === 'docker_container') await this.destroyContainer(address);
      else if (type === 'docker_image' && !this.item(json, address).keep_locally)
        await docker(['image', 'rm', state.attributes.name ?? '']);
      else if (type === 'docker_volume')
        await engineApi('DELETE', `/volumes/${state.attributes.name}`);
      else if (type === 'docker_network')
        await engineApi('DELETE', `/networks/${state.attributes.name}`);
      this.state.delete(address);
    }
  }

  private item(json: TerraformJson, address: string): TerraformJson {
    const [type = '', name = ''] = address.split('.');
    return resource(json, type, name);
  }

  private lookup = (address: string): string => {
    const [type = '', name = '', attribute = ''] = address.split('.');
    return this.attribute(`${type}.${name}`, attribute);
  };

  private configOf(json: TerraformJson, address: string): string {
    const { '//': _metadata, depends_on: _d, lifecycle: _l, ...config } = this.item(json, address);
    // abspath() is resolved against Terraform's working directory, as Terraform does.
    const text = JSON.stringify(config).replace(/\$\{abspath\(\\"(.*?)\\"\)\}/g, (_m, path) =>
      resolvePath(this.stackDirectory, path),
    );
    return resolveInterpolations(text, this.lookup);
  }

  /** Creates the resource when it is new or its configuration changed; true when it did. */
  private async applyOne(json: TerraformJson, address: string): Promise<boolean> {
    const [type] = address.split('.');
    const config = this.configOf(json, address);
    if (this.state.get(address)?.config === config) return false;
    const spec = JSON.parse(config);
    const attributes = await this.create(type ?? '', address, spec);
    this.state.set(address, { config, attributes });
    if (type === 'docker_container') {
      for (const check of this.item(json, address).lifecycle?.postcondition ?? []) {
        // The one condition the stack uses; anything else must be taught here first.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform expression
        if (check.condition !== '${self.exit_code == 0}') {
          throw new Error(`${address}: cannot evaluate the postcondition ${check.condition}`);
        }
        const holds = String(attributes.exit_code === '0');
        if (holds !== 'true') {
          throw new Error(
            `Error: Resource postcondition failed on ${address}: ${check.error_message}\n${attributes.logs ?? ''}`,
          );
        }
      }
    }
    return true;
  }

  private async create(type: string, address: string, spec: any): Promise<Record<string, string>> {
    const labels = Object.fromEntries(
      (spec.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value]),
    );
    switch (type) {
      case 'random_password':
        return { result: randomBytes(spec.length).toString('hex').slice(0, spec.length) };
      case 'docker_network':
        if ((await inspect('network', spec.name)) === undefined) {
          await engineApi('POST', '/networks/create', {
            Name: spec.name,
            Driver: spec.driver,
            Labels: labels,
            CheckDuplicate: true,
          });
        }
        return { name: spec.name };
      case 'docker_volume':
        await engineApi('POST', '/volumes/create', { Name: spec.name, Labels: labels });
        return { name: spec.name };
      case 'docker_image':
        return this.image(spec);
      case 'docker_container':
        return this.container(address, spec, labels);
      default:
        throw new Error(`${address}: ${type} is not something the docker provider applies here`);
    }
  }

  private async image(spec: any): Promise<Record<string, string>> {
    if (spec.build) {
      const context = resolvePath(this.stackDirectory, spec.build.context);
      const labels = Object.entries(spec.build.label ?? {}).flatMap(([k, v]) => [
        '--label',
        `${k}=${v}`,
      ]);
      await dockerOk(
        ['build', '-q', '-f', spec.build.dockerfile, '-t', spec.name]
          .concat(labels)
          .concat([context]),
      );
    }
    const image = await inspect('image', spec.name);
    if (image === undefined) {
      throw new Error(
        `${spec.name}: not on this engine, and no registry can be reached to pull it`,
      );
    }
    return { name: spec.name, image_id: image.Id };
  }

  private async container(
    address: string,
    spec: any,
    labels: Record<string, string>,
  ): Promise<Record<string, string>> {
    const nanoseconds = (duration?: string) =>
      duration === undefined ? undefined : Number.parseFloat(duration) * 1e9;
    const network = spec.networks_advanced?.[0]?.name;
    const ports = spec.ports ?? [];
    const body = {
      Image: spec.image,
      Cmd: spec.command,
      Env: spec.env ?? [],
      Labels: labels,
      ExposedPorts: Object.fromEntries(ports.map((p: any) => [`${p.internal}/tcp`, {}])),
      Healthcheck: spec.healthcheck && {
        Test: spec.healthcheck.test,
        Interval: nanoseconds(spec.healthcheck.interval),
        Timeout: nanoseconds(spec.healthcheck.timeout),
        Retries: spec.healthcheck.retries,
        StartPeriod: nanoseconds(spec.healthcheck.start_period),
      },
      HostConfig: {
        NetworkMode: network,
        PortBindings: Object.fromEntries(
          ports.map((p: any) => [
            `${p.internal}/tcp`,
            [{ HostIp: p.ip, HostPort: String(p.external) }],
          ]),
        ),
        // The provider passes `volumes` as binds: Docker creates a missing named volume or host
        // directory on first use.
        Binds: (spec.volumes ?? []).map(
          (v: any) => `${v.volume_name ?? v.host_path}:${v.container_path}`,
        ),
        Tmpfs: spec.tmpfs,
        RestartPolicy: { Name: spec.restart ?? 'no' },
        ReadonlyRootfs: spec.read_only ?? false,
      },
    };
    const created = await engineApi<{ Id: string }>(
      'POST',
      `/containers/create?name=${encodeURIComponent(spec.name)}`,
      body,
    );
    for (const upload of spec.upload ?? []) await this.upload(created.Id, upload);
    await engineApi('POST', `/containers/${created.Id}/start`);
    const attributes: Record<string, string> = { id: created.Id, name: spec.name };
    if (spec.attach) {
      const exit = await engineApi<{ StatusCode: number }>(
        'POST',
        `/containers/${created.Id}/wait`,
      );
      attributes.exit_code = String(exit.StatusCode);
      if (spec.logs) {
        const logs = await docker(['logs', created.Id]);
        attributes.logs = logs.stdout + logs.stderr;
      }
    } else if (spec.wait) {
      await this.waitHealthy(address, created.Id, (spec.wait_timeout ?? 60) * 1000);
    }
    return attributes;
  }

  /** `upload`: the provider copies the file into the created container before starting it. */
  private async upload(
    id: string,
    upload: { file: string; content: string; executable?: boolean },
  ): Promise<void> {
    const work = mkdtempSync(join(tmpdir(), 'selfmx-upload-'));
    try {
      const local = join(work, basename(upload.file));
      writeFileSync(local, upload.content, { mode: upload.executable ? 0o755 : 0o644 });
      await dockerOk(['cp', local, `${id}:${upload.file}`]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  private async waitHealthy(address: string, id: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = (await inspect('container', id))?.State;
      const health = state?.Health?.Status;
      if (health === 'healthy') return;
      if (health === 'unhealthy' || !state?.Running || Date.now() > deadline) {
        const logs = await docker(['logs', '--tail', '50', id]);
        throw new Error(
          `${address}: container is ${health ?? state?.Status} (wanted healthy)\n${logs.stdout}${logs.stderr}`,
        );
      }
      await new Promise((done) => setTimeout(done, 500));
    }
  }

  private async destroyContainer(address: string): Promise<void> {
    const id = this.state.get(address)?.attributes.id;
    if (id !== undefined)
      await engineApi('DELETE', `/containers/${id}?force=true`, undefined, [204, 404]);
    this.state.delete(address);
  }
}

/** Every resource address, each after the ones it depends on. */
function dependencyOrder(json: TerraformJson): string[] {
  const order: string[] = [];
  const visit = (address: string) => {
    if (order.includes(address)) return;
    const [type = '', name = ''] = address.split('.');
    for (const dependency of dependenciesOf(resource(json, type, name))) visit(dependency);
    order.push(address);
  };
  for (const address of resourceAddresses(json)) visit(address);
  return order;
}
