"""Terraform's IP network functions (cidrhost, cidrnetmask, cidrsubnet, cidrsubnets), on integers.

They follow Terraform's implementation (github.com/apparentlymart/go-cidr): a prefix with host bits
set counts as its network; a negative host number counts back from the end of the range;
cidrsubnets allocates each subnet right after the previous one, aligned to its own size. Errors
are ValueError with Terraform's wording; numbers must be whole.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse(prefix: str) -> Network:
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        raise ValueError(f"invalid CIDR expression {prefix!r}") from None


def whole(number: float | int, what: str) -> int:
    if number != int(number):
        raise ValueError(f"{what} must be a whole number")
    return int(number)


def _address(network: Network, value: int) -> str:
    return str(ipaddress.ip_address(value) if network.version == 6 else ipaddress.IPv4Address(value))


def host(prefix: str, hostnum: int) -> str:
    network = parse(prefix)
    size = network.num_addresses
    if not -size <= hostnum < size:
        raise ValueError(f"prefix of {network.prefixlen} bits cannot accommodate a host numbered {hostnum}")
    start = int(network.network_address)
    return _address(network, start + hostnum if hostnum >= 0 else start + size + hostnum)


def netmask(prefix: str) -> str:
    network = parse(prefix)
    if network.version != 4:
        raise ValueError("only IPv4 networks have a netmask")
    return str(network.netmask)


def subnet(prefix: str, newbits: int, netnum: int) -> str:
    network = parse(prefix)
    length = network.prefixlen + newbits
    if newbits > 32:
        raise ValueError("may not extend prefix by more than 32 bits")
    if newbits < 0 or length > network.max_prefixlen:
        raise ValueError(f"insufficient address space to extend prefix of {network.prefixlen} by {newbits}")
    if not 0 <= netnum < (1 << newbits):
        raise ValueError(f"prefix extension of {newbits} does not accommodate a subnet numbered {netnum}")
    start = int(network.network_address) + (netnum << (network.max_prefixlen - length))
    return f"{_address(network, start)}/{length}"


def subnets(prefix: str, newbits: list[int]) -> list[str]:
    """Consecutive subnets, each the next one of its size after the one before."""
    network = parse(prefix)
    bits = network.max_prefixlen
    top = 1 << bits
    if not newbits:
        return []
    # The subnet of the first size just before the network (go-cidr's PreviousSubnet); a first size
    # that is too long fails in the loop before this is used.
    current_len = min(network.prefixlen + newbits[0], bits)
    current = ((int(network.network_address) - 1) % top) & ~((1 << (bits - current_len)) - 1)
    start, end = int(network.network_address), int(network.broadcast_address)
    out = []
    for n in newbits:
        length = network.prefixlen + n
        if n < 1:
            raise ValueError("must extend prefix by at least one bit")
        if n > 32:  # Terraform's limit, the same on every platform
            raise ValueError("may not extend prefix by more than 32 bits")
        if length > bits:
            raise ValueError(f"would extend prefix to {length} bits, which is too long for an "
                             f"IPv{network.version} address")
        # go-cidr's NextSubnet: the block of this size holding the current one's last address, then the next block.
        last = current + (1 << (bits - current_len)) - 1
        size = 1 << (bits - length)
        following = (last - last % size) + size
        if following >= top or not start <= following <= end:
            after = f"{_address(network, current)}/{current_len}"
            raise ValueError(f"not enough remaining address space for a subnet with a prefix of {length} bits "
                             f"after {after}")
        current, current_len = following, length
        out.append(f"{_address(network, current)}/{current_len}")
    return out
