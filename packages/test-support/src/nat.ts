import { execFileSync } from 'node:child_process';

/**
 * A NAT for the tests, made of three network namespaces (`ip netns`): `agent` (a private
 * network, 10.<n>.1.2), `router` (10.<n>.1.1 inside, 10.<n>.2.1 outside, masquerading what leaves
 * outside with nftables and letting in only what answers it), and `pub` (the outside,
 * 10.<n>.2.2, where servers and peers run). The agent's own address is unreachable from outside,
 * as behind a home router. Nothing reaches the machine's own interfaces. Made and removed by the
 * test (root is needed, as for `ip netns`).
 */
export class NatTopology {
  readonly agent: string;
  readonly router: string;
  readonly pub: string;
  /** The agent's private address. */
  readonly agentAddress: string;
  /** The router's outside address: what the outside sees the agent as. */
  readonly publicAddress: string;
  /** The outside host's address. */
  readonly pubAddress: string;

  private constructor(prefix: string, subnet: number) {
    this.agent = `${prefix}-agent`;
    this.router = `${prefix}-router`;
    this.pub = `${prefix}-pub`;
    this.agentAddress = `10.${subnet}.1.2`;
    this.publicAddress = `10.${subnet}.2.1`;
    this.pubAddress = `10.${subnet}.2.2`;
  }

  /** Makes the namespaces (removing leftovers of the same name first). `tag` keeps runs apart: up to 6 letters or digits. */
  static create(tag: string): NatTopology {
    if (!/^[a-z0-9]{1,6}$/.test(tag)) throw new Error(`NatTopology tag "${tag}": 1 to 6 lower-case letters or digits`);
    const subnet = 200 + (Number.parseInt(tag.replace(/\D/g, '') || '0', 10) % 50);
    const topology = new NatTopology(`sep${tag}`, subnet);
    topology.remove();
    const p = `sep${tag}`;
    const ip = (...args: string[]): void => {
      execFileSync('ip', args, { stdio: 'pipe' });
    };
    try {
      for (const ns of [topology.agent, topology.router, topology.pub]) {
        ip('netns', 'add', ns);
        ip('-n', ns, 'link', 'set', 'lo', 'up');
      }
      // Interface names stay within 15 characters.
      ip('link', 'add', `${p}a`, 'type', 'veth', 'peer', 'name', `${p}ra`);
      ip('link', 'add', `${p}p`, 'type', 'veth', 'peer', 'name', `${p}rp`);
      ip('link', 'set', `${p}a`, 'netns', topology.agent);
      ip('link', 'set', `${p}ra`, 'netns', topology.router);
      ip('link', 'set', `${p}p`, 'netns', topology.pub);
      ip('link', 'set', `${p}rp`, 'netns', topology.router);
      ip('-n', topology.agent, 'addr', 'add', `${topology.agentAddress}/24`, 'dev', `${p}a`);
      ip('-n', topology.agent, 'link', 'set', `${p}a`, 'up');
      ip('-n', topology.agent, 'route', 'add', 'default', 'via', `10.${subnet}.1.1`);
      ip('-n', topology.router, 'addr', 'add', `10.${subnet}.1.1/24`, 'dev', `${p}ra`);
      ip('-n', topology.router, 'addr', 'add', `${topology.publicAddress}/24`, 'dev', `${p}rp`);
      ip('-n', topology.router, 'link', 'set', `${p}ra`, 'up');
      ip('-n', topology.router, 'link', 'set', `${p}rp`, 'up');
      ip('-n', topology.pub, 'addr', 'add', `${topology.pubAddress}/24`, 'dev', `${p}p`);
      ip('-n', topology.pub, 'link', 'set', `${p}p`, 'up');
      execFileSync('ip', ['netns', 'exec', topology.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], { stdio: 'pipe' });
      const rules = [
        'table ip nat {',
        `  chain postrouting { type nat hook postrouting priority srcnat; oifname "${p}rp" masquerade; }`,
        '}',
        'table ip filter {',
        `  chain forward { type filter hook forward priority 0; policy drop; ct state established,related accept; iifname "${p}ra" accept; }`,
        // What comes from outside for the router itself is dropped before its connection is
        // confirmed, as a home router does: a peer's packet arriving before ours went out leaves
        // no entry that would make the NAT pick another port for our flow.
        `  chain input { type filter hook input priority 0; policy drop; ct state established,related accept; iifname "lo" accept; iifname "${p}ra" accept; }`,
        '}',
        '',
      ].join('\n');
      execFileSync('ip', ['netns', 'exec', topology.router, 'nft', '-f', '-'], { input: rules, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      topology.remove();
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`cannot make the NAT namespaces (root, iproute2 and nftables are needed): ${(error as Error).message} ${stderr}`);
    }
    return topology;
  }

  /**
   * Lets only these out from the agent's side (nft rule bodies such as `tcp dport 3478`), instead
   * of everything: a network where, say, only TCP to the TURN server gets through.
   */
  restrictOutbound(allowed: readonly string[]): void {
    const p = this.agent.slice(0, -'-agent'.length);
    const rules = ['flush chain ip filter forward', 'add rule ip filter forward ct state established,related accept', ...allowed.map((rule) => `add rule ip filter forward iifname "${p}ra" ${rule} accept`), ''].join('\n');
    execFileSync('ip', ['netns', 'exec', this.router, 'nft', '-f', '-'], { input: rules, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** Lets everything out from the agent's side again. */
  openOutbound(): void {
    this.restrictOutbound(['']);
  }

  /** The command line that runs `command` inside namespace `ns`. */
  exec(ns: string, command: string, args: readonly string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', ns, command, ...args]];
  }

  /** Removes the namespaces (and with them their interfaces and rules). Harmless when they are gone. */
  remove(): void {
    for (const ns of [this.agent, this.router, this.pub]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // not there
      }
    }
  }
}
