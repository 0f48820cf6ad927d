// network.js: the network settings form (DHCP or static address, host name, DNS, NTP), used by
// the wizard and the settings page.

import { field, h, radios, replace } from './dom.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * Whether `name` is a host name, short (rmsc01) or with its domain (rmsc01.contoso.com): the
 * appliance accepts both and proposes its configured name, which may be qualified. An
 * all-digit last label would be read as an IPv4 address.
 */
export function isHostName(name) {
  const labels = String(name).replace(/\.$/, '').split('.');
  return name.length <= 253 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]);
}

/** Splits "a, b c" into ["a", "b", "c"]. */
export function splitList(text) {
  return text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
}

/** Checks the values a person typed; returns [fieldName, message] or null. */
export function checkNetwork(s) {
  if (!isHostName(s.hostname)) return ['hostname', 'Enter a host name of letters, digits and hyphens, such as rmsc01 or rmsc01.contoso.com.'];
  if (s.mode === 'static') {
    if (!IPV4.test(s.address)) return ['address', 'Enter the IPv4 address, such as 192.0.2.10.'];
    if (!(Number.isInteger(s.prefix) && s.prefix >= 1 && s.prefix <= 32)) return ['prefix', 'Enter the prefix length, 1 to 32 (24 for 255.255.255.0).'];
    if (s.gateway && !IPV4.test(s.gateway)) return ['gateway', 'Enter the gateway as an IPv4 address.'];
    if (s.dns.length === 0) return ['dns', 'Enter at least one DNS server for a static address.'];
  }
  const badDns = s.dns.find((d) => !IPV4.test(d) && !d.includes(':'));
  if (badDns) return ['dns', `${badDns} is not an IP address.`];
  return null;
}

/**
 * Renders the form into `container`. Returns {save()} which validates, saves and resolves to
 * the saved settings (or throws an Error with the message to show).
 */
export function networkForm(ctx, container) {
  const mode = radios('Address', 'net-mode', [
    ['dhcp', 'Automatic (DHCP)', 'The appliance keeps asking for an address until it gets one.'],
    ['static', 'Static address'],
  ], 'dhcp');
  const address = field('IP address', { name: 'address', inputmode: 'decimal', autocomplete: 'off' });
  const prefix = field('Prefix length', { name: 'prefix', type: 'number', min: '1', max: '32', value: '24' }, '24 means 255.255.255.0.');
  const gateway = field('Default gateway', { name: 'gateway', inputmode: 'decimal', autocomplete: 'off' });
  const hostname = field('Host name', { name: 'hostname', autocomplete: 'off', spellcheck: 'false' },
    'This appliance\'s own name, shown in the tenant\'s list of appliances. Not the connector name.');
  const dns = field('DNS servers', { name: 'dns', autocomplete: 'off' }, 'Separated by commas. Leave empty with DHCP to use the servers it provides.');
  const ntp = field('Time servers (NTP)', { name: 'ntp', autocomplete: 'off' },
    'Separated by commas. Kerberos fails when the clock is more than five minutes off.');
  const staticGroup = h('div', { class: 'static-fields' }, address.row, prefix.row, gateway.row);
  const inputs = { address, prefix, gateway, hostname, dns, ntp };
  const sync = () => { staticGroup.hidden = mode.value() !== 'static'; };
  mode.inputs.forEach((i) => i.addEventListener('change', sync));
  sync();
  replace(container, mode.fieldset, staticGroup, hostname.row, dns.row, ntp.row);

  const loaded = ctx.api.get('/api/v1/settings/network').then((s) => {
    if (!s) return;
    mode.inputs.forEach((i) => { i.checked = i.value === (s.mode || 'dhcp'); });
    address.input.value = s.address || '';
    if (s.prefix) prefix.input.value = String(s.prefix);
    gateway.input.value = s.gateway || '';
    hostname.input.value = s.hostname || '';
    dns.input.value = (s.dns || []).join(', ');
    ntp.input.value = (s.ntp || []).join(', ');
    sync();
  });

  function mark(name, message) {
    const target = inputs[name];
    if (target) {
      target.input.setAttribute('aria-invalid', 'true');
      target.input.focus();
    }
    throw new Error(message);
  }

  async function save() {
    await loaded.catch(() => {});
    Object.values(inputs).forEach((f) => f.input.removeAttribute('aria-invalid'));
    const settings = {
      mode: mode.value(),
      address: address.input.value.trim(),
      prefix: Number.parseInt(prefix.input.value, 10),
      gateway: gateway.input.value.trim(),
      dns: splitList(dns.input.value),
      hostname: hostname.input.value.trim(),
      ntp: splitList(ntp.input.value),
    };
    const problem = checkNetwork(settings);
    if (problem) mark(problem[0], problem[1]);
    if (settings.mode === 'dhcp') {
      settings.address = '';
      settings.gateway = '';
    }
    try {
      return await ctx.api.put('/api/v1/settings/network', settings);
    } catch (error) {
      if (error.body && error.body.field) mark(error.body.field, error.message);
      throw error;
    }
  }
  return { save, loaded };
}

/** Wizard step 2. */
export function networkStep(ctx, body, wiz) {
  const container = h('div', {});
  const form = h('form', { class: 'narrow', novalidate: true }, container,
    h('button', { type: 'submit', hidden: true, tabindex: '-1' }, 'Save'));
  wiz.bindForm(form);
  replace(body, h('p', {}, 'How the appliance joins your network. If you change its address, browse to the new address afterwards.'), form);
  const net = networkForm(ctx, container);
  net.loaded.catch((error) => wiz.status.error(error.message));
  return {
    nextLabel: 'Save and continue',
    async next() {
      await net.save();
      ctx.announce('Network settings saved.');
      return true;
    },
  };
}
