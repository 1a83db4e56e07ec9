import { BlockList, isIP } from 'node:net';

/**
 * A partner's MLLP allow-list: addresses and CIDR ranges (`10.20.0.0/16`, `2001:db8::/32`). MLLP has
 * no tokens, so with authentication required a partner is heard only from its own networks.
 */
export function parseAllowList(entries: readonly string[]): { list: BlockList; problems: string[] } {
  const list = new BlockList();
  const problems: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      problems.push(`/inbound/mllpAllowFrom/${i} "${entry}" is not an IP address or CIDR range`);
      continue;
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return { list, problems };
}

/** Whether a peer address is on the list (IPv4 peers seen as `::ffff:a.b.c.d` count as IPv4). */
export function isAllowed(list: BlockList, address: string): boolean {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  return v4 ? list.check(v4, 'ipv4') : list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}
