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

/** One object in the state: the resolved configuration it was applied with, and its attributes. */
interface StateObject {
  config: string;
  attributes: Record<string, string>;
  /** Its creation failed after it existed (e.g. never healthy): the next apply replaces it. */
  tainted?: boolean;
}

/**
 * Applies a synthesized selfmx-local (cdk.tf.json) to the Docker engine the way `terraform
 * apply` with the docker provider would, for the attributes the stack uses: network, volume,
 * images (pulled ones must exist: no registry here; built ones with `docker build`), random ids,
 * containers with env, networks and aliases, ports, volumes, tmpfs, upload, user, restart policy,
 * labels, read_only, healthcheck + `wait`, `removed` blocks, `attach` + `logs` +
 * `must_run = false`, and the `self.exit_code == 0` postcondition.
 * Terraform's order for a replacement is kept:
 * - create_before_destroy, which Terraform also forces on everything such a resource depends on:
 *   the replacement is created first (in dependency order); the old object becomes deposed and
 *   is destroyed (dependents first) only once every creation succeeded. A failed apply leaves
 *   the deposed objects in place; a later apply that succeeds destroys them.
 * - otherwise destroy first: the old object is destroyed, then the new one created.
 * A container that was created but never became healthy is kept as tainted, as the provider
 * leaves it. Terraform and the provider are the only parts simulated here.
 */
export class TerraformDockerApply {
  /** Terraform state: address -> the current object. */
  private readonly state = new Map<string, StateObject>();
  /** Deposed objects: replaced create-before-destroy, not destroyed yet. */
  private deposed: { address: string; object: StateObject }[] = [];

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
    const createFirst = createBeforeDestroyAddresses(json, order);
    const replaced = new Set<string>();
    for (const address of order) {
      const item = this.item(json, address);
      const previous = this.state.get(address);
      const config = this.configOf(json, address);
      const triggered = (item.lifecycle?.replace_triggered_by ?? []).some((t: string) =>
        replaced.has(t),
      );
      if (previous !== undefined && !previous.tainted && !triggered && previous.config === config) {
        this.checkPostconditions(json, address, previous.attributes);
        continue;
      }
      if (previous !== undefined) {
        if (createFirst.has(address)) this.deposed.push({ address, object: previous });
        else await this.destroyObject(json, address, previous);
        this.state.delete(address);
      }
      await this.create(json, address, config);
      replaced.add(address);
    }
    // Dependents' old objects first.
    const position = (address: string) => order.indexOf(address);
    const deposed = [...this.deposed].sort((a, b) => position(b.address) - position(a.address));
    for (const { address, object } of deposed) {
      await this.destroyObject(json, address, object);
      this.deposed = this.deposed.filter((entry) => entry.object !== object);
    }
  }

  /** `terraform destroy`: containers, then images not kept locally, volumes, the network. */
  async destroy(json: TerraformJson): Promise<void> {
    const order = dependencyOrder(json);
    for (const { address, object } of this.deposed) await this.destroyObject(json, address, object);
    this.deposed = [];
    for (const address of order.reverse()) {
      const object = this.state.get(address);
      if (object === undefined) continue;
      await this.destroyObject(json, address, object);
      this.state.delete(address);
    }
  }

  private async destroyObject(json: TerraformJson, address: string, object: StateObject) {
    const [type] = address.split('.');
    const { attributes } = object;
    if (type === 'docker_container') {
      if (attributes.id === undefined) return;
      // The provider stops a container with destroy_grace_seconds first (SIGTERM, then SIGKILL).
      const grace = JSON.parse(object.config).destroy_grace_seconds;
      if (grace !== undefined)
        await engineApi(
          'POST',
          `/containers/${attributes.id}/stop?t=${grace}`,
          undefined,
          [204, 304, 404],
        );
      // remove_volumes defaults to true: the container's anonymous volumes go with it.
      await engineApi(
        'DELETE',
        `/containers/${attributes.id}?force=true&v=true`,
        undefined,
        [204, 404],
      );
    } else if (type === 'docker_image' && !this.item(json, address).keep_locally)
      await docker(['image', 'rm', attributes.name ?? '']);
    else if (type === 'docker_volume') await engineApi('DELETE', `/volumes/${attributes.name}`);
    else if (type === 'docker_network') await engineApi('DELETE', `/networks/${attributes.name}`);
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

  /** Creates the object; a container that exists but failed its wait is kept, tainted. */
  private async create(json: TerraformJson, address: string, config: string): Promise<void> {
    const [type = ''] = address.split('.');
    const spec = JSON.parse(config);
    let attributes: Record<string, string>;
    try {
      attributes = await this.createObject(type, address, spec);
    } catch (error) {
      const created = (error as { created?: Record<string, string> }).created;
      if (created !== undefined)
        this.state.set(address, { config, attributes: created, tainted: true });
      throw error;
    }
    this.state.set(address, { config, attributes });
    this.checkPostconditions(json, address, attributes);
  }

  /** Terraform checks postconditions after apply, and again at every plan. */
  private checkPostconditions(
    json: TerraformJson,
    address: string,
    attributes: Record<string, string>,
  ): void {
    for (const check of this.item(json, address).lifecycle?.postcondition ?? []) {
      // The one condition the stack uses; anything else must be taught here first.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Terraform expression
      if (check.condition !== '${self.exit_code == 0}') {
        throw new Error(`${address}: cannot evaluate the postcondition ${check.condition}`);
      }
      if (attributes.exit_code !== '0') {
        const message = String(check.error_message).replace(
          /\$\{self\.([a-z_]+)\}/g,
          (_m, name: string) => attributes[name] ?? '',
        );
        throw new Error(
          `Error: Resource postcondition failed on ${address}: ${message}\n${attributes.logs ?? ''}`,
        );
      }
    }
  }

  private async createObject(
    type: string,
    address: string,
    spec: any,
  ): Promise<Record<string, string>> {
    const labels = Object.fromEntries(
      (spec.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value]),
    );
    switch (type) {
      case 'random_password':
        return { result: randomBytes(spec.length).toString('hex').slice(0, spec.length) };
      case 'random_id':
        return { hex: randomBytes(spec.byte_length).toString('hex') };
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
    const network = spec.networks_advanced?.[0];
    const ports = spec.ports ?? [];
    const body = {
      Image: spec.image,
      Cmd: spec.command,
      User: spec.user,
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
        NetworkMode: network?.name,
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
      NetworkingConfig: network && {
        EndpointsConfig: { [network.name]: { Aliases: network.aliases ?? [] } },
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
      try {
        await this.waitHealthy(address, created.Id, (spec.wait_timeout ?? 60) * 1000);
      } catch (error) {
        throw Object.assign(error as Error, { created: attributes });
      }
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
      const exited = !state?.Running || state.Restarting || state.RestartCount > 0;
      if (health === 'unhealthy' || exited || Date.now() > deadline) {
        const logs = await docker(['logs', '--tail', '50', id]);
        throw new Error(
          `${address}: container is ${health ?? state?.Status} (wanted healthy)\n${logs.stdout}${logs.stderr}`,
        );
      }
      await new Promise((done) => setTimeout(done, 500));
    }
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

/**
 * The resources replaced create-before-destroy: those with `create_before_destroy = true` and,
 * as Terraform forces it, everything they depend on, directly or not.
 */
function createBeforeDestroyAddresses(json: TerraformJson, order: string[]): Set<string> {
  const result = new Set<string>();
  const mark = (address: string) => {
    if (result.has(address)) return;
    result.add(address);
    const [type = '', name = ''] = address.split('.');
    for (const dependency of dependenciesOf(resource(json, type, name))) mark(dependency);
  };
  for (const address of order) {
    const [type = '', name = ''] = address.split('.');
    if (resource(json, type, name).lifecycle?.create_before_destroy === true) mark(address);
  }
  return result;
}
