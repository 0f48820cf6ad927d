# shellcheck shell=bash
# The pair's network: four namespaces of our own and one veth into the host namespace.
#
#   host (callers, Samba lab veth)  rp<hash> 10.236.K.1/30
#        |  veth
#   <ns>-lb  uplink 10.236.K.2/30 = the virtual address (VIP) of rmsconnector.contoso.test
#            br0    10.237.K.1/24  (bridge; HAProxy; forwards host <-> fabric for direct calls)
#        |-- <ns>-a      eth0 10.237.K.11  appliance A
#        |-- <ns>-b      eth0 10.237.K.12  appliance B
#        `-- <ns>-cloud  eth0 10.237.K.20  cloud stand-in
#
# Only the host end of one veth and one route (to 10.237.K.0/24, on that veth) touch the host
# namespace; both vanish with the LB namespace. Nothing changes a real interface, the host's
# forwarding or its firewall.

# pair_names STATE_DIR: sets PAIR_HASH, the namespace names and the host veth name.
pair_names() {
    PAIR_HASH="$(printf '%s' "$1" | sha256sum | cut -c1-8)"
    NS_LB="rmscpair-${PAIR_HASH}-lb"
    NS_A="rmscpair-${PAIR_HASH}-a"
    NS_B="rmscpair-${PAIR_HASH}-b"
    NS_CLOUD="rmscpair-${PAIR_HASH}-cloud"
    HOST_IF="rp${PAIR_HASH}"
}

# True when the host already has an address or route inside 10.236.K.0/30 or 10.237.K.0/24.
subnet_taken() {
    local k="$1"
    ip -4 -o addr show | awk '{print $4}' | grep -Eq "^10\.23[67]\.${k}\." && return 0
    ip -4 route show | awk '{print $1}' | grep -Eq "^10\.23[67]\.${k}\." && return 0
    return 1
}

# pair_pick_subnet: K from the hash, moved on while the host uses it.
pair_pick_subnet() {
    local k=$((16#${PAIR_HASH:0:2} % 250 + 2)) tries
    for ((tries = 0; tries < 250; tries++)); do
        if ! subnet_taken "$k"; then
            break
        fi
        k=$((k % 250 + 2))
    done
    subnet_taken "$k" && die "no free 10.236.K.0/30 + 10.237.K.0/24 pair on this host"
    HOST_ADDR="10.236.${k}.1"
    VIP="10.236.${k}.2"
    FABRIC="10.237.${k}.0/24"
    LB_FABRIC_ADDR="10.237.${k}.1"
    ADDR_A="10.237.${k}.11"
    ADDR_B="10.237.${k}.12"
    ADDR_CLOUD="10.237.${k}.20"
}

ns_exists() {
    ip netns list | awk '{print $1}' | grep -qxF "$1"
}

# join_fabric NS PORT ADDR: a veth from the LB bridge into NS, with ADDR and a default route
# back through the LB (so the host can reach the appliances directly for the checks).
join_fabric() {
    local ns="$1" port="$2" addr="$3"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$NS_LB" link add "$port" type veth peer name eth0 netns "$ns"
    ip -n "$NS_LB" link set "$port" master br0
    ip -n "$NS_LB" link set "$port" up
    ip -n "$ns" addr add "${addr}/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via "$LB_FABRIC_ADDR"
}

pair_net_up() {
    ip netns add "$NS_LB"
    ip -n "$NS_LB" link set lo up
    ip -n "$NS_LB" link add br0 type bridge
    ip -n "$NS_LB" addr add "${LB_FABRIC_ADDR}/24" dev br0
    ip -n "$NS_LB" link set br0 up
    # Forwarding inside the LB namespace only (a per-namespace sysctl): lets the host reach
    # A and B directly, which the propagation check and the readiness polls need.
    ip netns exec "$NS_LB" sysctl -qw net.ipv4.ip_forward=1
    join_fabric "$NS_A" p-a "$ADDR_A"
    join_fabric "$NS_B" p-b "$ADDR_B"
    join_fabric "$NS_CLOUD" p-cloud "$ADDR_CLOUD"
    ip link add "$HOST_IF" type veth peer name uplink netns "$NS_LB"
    ip addr add "${HOST_ADDR}/30" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    ip -n "$NS_LB" addr add "${VIP}/30" dev uplink
    ip -n "$NS_LB" link set uplink up
    ip route add "$FABRIC" via "$VIP" dev "$HOST_IF"
}

# Removes everything pair_net_up made; safe to call on a partial setup.
pair_net_down() {
    local ns
    if ip link show "$HOST_IF" >/dev/null 2>&1; then
        ip link del "$HOST_IF" 2>/dev/null || true
    fi
    for ns in "$NS_A" "$NS_B" "$NS_CLOUD" "$NS_LB"; do
        if ns_exists "$ns"; then
            ip netns del "$ns" 2>/dev/null || true
        fi
    done
}

# The cloud outage of check 5: the cloud's bridge port goes down, so A and B see their
# connections time out exactly as with a lost internet link; setting it up again heals it.
cloud_link() { # up|down
    ip -n "$NS_LB" link set p-cloud "$1"
}
